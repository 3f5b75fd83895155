/** BullMQ stall settings; see docs/OPERATOR.md "Recovery". */
export interface WorkerTiming {
  lockDurationMs: number;
  stalledIntervalMs: number;
  maxStalledCount: number;
}

/**
 * Worst case from a worker's SIGKILL to another worker taking its job over: the lock must expire (up to
 * lockDuration after its last renewal) and a stalled check marks the job on one pass and moves it on the next
 * (up to two stalledIntervals).
 */
export function worstCaseRecoveryMs({ lockDurationMs, stalledIntervalMs }: WorkerTiming): number {
  return lockDurationMs + 2 * stalledIntervalMs;
}

export class WorkerTimingError extends Error {
  override name = "WorkerTimingError";
}

/**
 * Refuses settings under which a crashed worker's commit or reveal job could be recovered only after its
 * window closed (a missed reveal is a slash). `windowMs` is the shortest protocol window the queue serves.
 */
export function assertRecoveryFitsWindow(timing: WorkerTiming, windowMs: number, safetyMs = 0): void {
  const recovery = worstCaseRecoveryMs(timing);
  if (recovery + safetyMs >= windowMs) {
    throw new WorkerTimingError(
      `queue.lockDurationMs + 2 x queue.stalledIntervalMs = ${recovery} ms does not fit the ${windowMs} ms window ` +
        `with ${safetyMs} ms to spare: lower them`,
    );
  }
  if (timing.lockDurationMs < 1_000) {
    throw new WorkerTimingError("queue.lockDurationMs under 1 s risks false stalls while a handler is busy");
  }
}
