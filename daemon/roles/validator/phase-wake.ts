import type { Job } from "bullmq";
import type { DaemonContext } from "../../runtime/context.ts";
import type { Step, StepJobData } from "../../queue/names.ts";
import { postpone } from "../../queue/postpone.ts";

/** Without a head (RPC down), a waiting job still looks again after this many poll intervals. */
const FALLBACK_POLLS = 10;

export interface PhaseWake {
  /**
   * Parks `job` (delayed, no attempt spent) until the head reaches `opensAt`, or, with `missingCommits`, until that
   * many more commits of its round were seen (`committed`); always throws (BullMQ's DelayedError).
   */
  waitFor(job: Job<StepJobData>, token: string | undefined, opensAt: bigint, missingCommits?: number): Promise<never>;
  /** `seats` members of the round of parked job `jobId` committed (a ScoreCommitted log: 1; a CommitReported:
   * its seats): the last one wakes the job. */
  committed(jobId: string, seats?: number): void;
  stop(): void;
}

/**
 * Runs a waiting step in the block that opens its phase instead of polling for it: a job that is early parks
 * itself (delayed) and the shared head follower promotes it when the head reaches the phase's first block, so a
 * reveal is sent as soon as reveals are accepted and an idle validator costs no job runs per poll interval. A
 * reveal also opens as soon as every member of its round committed: the job then wakes on the round's last
 * ScoreCommitted log, long before the commit window ends. The delay is only the fallback for a head or log that
 * never comes (and for jobs parked before a restart); a job woken early reads the chain again and parks again.
 */
export function createPhaseWake(ctx: DaemonContext, step: Step): PhaseWake {
  const parked = new Map<string, { opensAt: bigint; missingCommits?: number }>(); // job id -> when its phase opens
  const promote = (jobId: string) =>
    void ctx.queues[step].getJob(jobId)
      .then(async (job) => {
        const state = await job?.getState();
        // Still active: it is being parked right now; promote it at the next head.
        if (state === "active") return;
        parked.delete(jobId);
        if (state === "delayed") await job!.promote();
      })
      .catch((error: unknown) => ctx.logger.debug({ jobId, err: error }, "could not promote a parked job; its delay runs it"));
  const unsubscribe = ctx.heads.onHead((head) => {
    for (const [jobId, wait] of parked) {
      if (head >= wait.opensAt || (wait.missingCommits !== undefined && wait.missingCommits <= 0)) promote(jobId);
    }
  });
  return {
    waitFor(job, token, opensAt, missingCommits) {
      parked.set(job.id!, { opensAt, missingCommits });
      return postpone(job, token, FALLBACK_POLLS * ctx.config.chain.pollIntervalMs);
    },
    committed(jobId, seats = 1) {
      const wait = parked.get(jobId);
      if (wait?.missingCommits === undefined) return;
      wait.missingCommits -= seats;
      if (wait.missingCommits <= 0) promote(jobId);
    },
    stop: unsubscribe,
  };
}
