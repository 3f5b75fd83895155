import { DelayedError, type Job } from "bullmq";

/**
 * Puts the running job back to "delayed" for `delayMs` without spending an attempt: for steps that must wait
 * for a block (a reveal waits for the reveal phase), where the wait is not a failure. Always throws
 * DelayedError, which BullMQ treats as "moved", so call it as `return postpone(...)` / `await postpone(...)`.
 */
export async function postpone(job: Job, token: string | undefined, delayMs: number): Promise<never> {
  if (token === undefined) throw new TypeError("postpone needs the worker's lock token (the handler's second argument)");
  await job.moveToDelayed(Date.now() + Math.max(1, delayMs), token);
  throw new DelayedError();
}
