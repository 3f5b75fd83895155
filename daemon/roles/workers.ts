import type { Worker } from "bullmq";
import type { DaemonContext } from "../runtime/context.ts";
import { createStepWorker, type StepHandler } from "../queue/worker.ts";
import type { Step } from "../queue/names.ts";

/**
 * Steps that wait on the chain (receipts, phases), not on the CPU: they get `queue.deadlineConcurrency`, so that
 * a low scoring concurrency (one per core) never queues a commit or reveal behind another one's confirmation.
 * One cause of the commits and reveals missed under load (score-workers.test.ts): with concurrency 1 for every
 * step, each commit waited for the previous one's receipt and confirmations, and a busy machine stretched that
 * line past the commit window.
 */
const DEADLINE_STEPS: ReadonlySet<Step> = new Set(["commit", "reveal", "claim"]);

/** One BullMQ worker per step, on this account's queue prefix, with the context's stall settings. */
export function startStepWorkers(ctx: DaemonContext, handlers: Partial<Record<Step, StepHandler>>): Worker[] {
  return Object.entries(handlers).map(([step, handler]) =>
    createStepWorker({
      step: step as Step,
      connection: ctx.workerConnection(),
      handler: handler!,
      timing: ctx.workerTiming,
      concurrency: DEADLINE_STEPS.has(step as Step) ? ctx.config.queue.deadlineConcurrency : ctx.config.queue.concurrency,
      logger: ctx.logger,
      metrics: ctx.metrics,
      prefix: ctx.queuePrefix,
    }),
  );
}

/**
 * Waits for `stopping` (workers or keeper duties finishing what they started), but ends the sender's waits for
 * receipts and confirmations once `sender.drainMs` has passed: a chain that stopped producing blocks would
 * otherwise hold the stop forever (a send with confirmations > 0 needs one more block). Safe because every step
 * reads the chain before it sends, and the interrupted transaction stays journaled.
 */
export async function drainWithin(ctx: Pick<DaemonContext, "sender" | "config" | "logger">, stopping: Promise<unknown>): Promise<void> {
  const timer = setTimeout(() => {
    ctx.logger.warn({ drainMs: ctx.config.sender.drainMs }, "stop: sends still waiting for the chain after the drain period; interrupting them");
    ctx.sender.interruptWaits();
  }, ctx.config.sender.drainMs);
  try {
    await stopping;
  } finally {
    clearTimeout(timer);
  }
}

/** Lets running jobs finish (graceful drain, bounded by drainWithin), then closes the workers. */
export async function closeWorkers(ctx: Pick<DaemonContext, "sender" | "config" | "logger">, workers: readonly Worker[]): Promise<void> {
  await drainWithin(ctx, Promise.all(workers.map((w) => w.close())));
}
