import type { Queue } from "bullmq";
import type { StepJobData } from "./names.ts";

/**
 * Moves every job left "active" in `queues` back to waiting, lock or not. Only for queues this process alone
 * consumes (the key holder's commit, reveal and claim steps: one process sends per key, see the sender) and only
 * before its workers start: then an active job can only be the orphan of a previous run that crashed. Without
 * this, a restarted validator waits for the dead run's lock to expire (lockDuration, then up to two stalled checks)
 * before it can reveal, which is why crash recovery used to need a short lock, and a short lock turns every pause
 * of a loaded machine into a false stall. Returns how many jobs were reclaimed.
 */
export async function reclaimOrphanedJobs(queues: readonly Queue<StepJobData>[]): Promise<number> {
  let reclaimed = 0;
  for (const queue of queues) {
    for (const job of await queue.getJobs(["active"])) {
      // Token "0": BullMQ's moveJobFromActiveToWait skips the lock check (the lock's owner is gone).
      await job.moveToWait("0");
      reclaimed++;
    }
  }
  return reclaimed;
}
