import type { Job } from "bullmq";
import type { DaemonContext } from "../../runtime/context.ts";
import type { Step, StepJobData } from "../../queue/names.ts";
import { postpone } from "../../queue/postpone.ts";

/** Without a head (RPC down), a waiting job still looks again after this many poll intervals. */
const FALLBACK_POLLS = 10;

export interface PhaseWake {
  /** Parks `job` (delayed, no attempt spent) until the head reaches `opensAt`; always throws (BullMQ's DelayedError). */
  waitFor(job: Job<StepJobData>, token: string | undefined, opensAt: bigint): Promise<never>;
  stop(): void;
}

/**
 * Runs a waiting step in the block that opens its phase instead of polling for it: a job that is early parks
 * itself (delayed) and the shared head follower promotes it when the head reaches the phase's first block, so a
 * reveal is sent as soon as reveals are accepted and an idle validator costs no job runs per poll interval. The
 * delay is only the fallback for a head that never comes (and for jobs parked before a restart).
 */
export function createPhaseWake(ctx: DaemonContext, step: Step): PhaseWake {
  const parked = new Map<string, bigint>(); // job id -> first block of its phase
  const unsubscribe = ctx.heads.onHead((head) => {
    for (const [jobId, opensAt] of parked) {
      if (head < opensAt) continue;
      void ctx.queues[step].getJob(jobId)
        .then(async (job) => {
          const state = await job?.getState();
          // Still active: it is being parked right now; promote it at the next head.
          if (state === "active") return;
          parked.delete(jobId);
          if (state === "delayed") await job!.promote();
        })
        .catch((error: unknown) => ctx.logger.debug({ jobId, err: error }, "could not promote a parked job; its delay runs it"));
    }
  });
  return {
    waitFor(job, token, opensAt) {
      parked.set(job.id!, opensAt);
      return postpone(job, token, FALLBACK_POLLS * ctx.config.chain.pollIntervalMs);
    },
    stop: unsubscribe,
  };
}
