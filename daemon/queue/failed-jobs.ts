import type { Queue } from "bullmq";
import type { DaemonMetrics } from "../observe/metrics.ts";
import type { StepQueues } from "./queues.ts";
import type { StepJobData } from "./names.ts";

export interface FailedJobView {
  queue: string;
  jobId: string;
  taskId: string;
  round: number;
  reason: string;
  attemptsMade: number;
  failedAt?: string;
}

/** The failed-jobs view: every job that failed for good, newest first, with why. */
export async function listFailedJobs(queues: StepQueues, limit = 100): Promise<FailedJobView[]> {
  const views: FailedJobView[] = [];
  for (const queue of Object.values(queues) as Queue<StepJobData>[]) {
    for (const job of await queue.getFailed(0, limit - 1)) {
      views.push({
        queue: queue.name,
        jobId: job.id ?? "",
        taskId: job.data.taskId,
        round: job.data.round,
        reason: job.failedReason,
        attemptsMade: job.attemptsMade,
        failedAt: job.finishedOn === undefined ? undefined : new Date(job.finishedOn).toISOString(),
      });
    }
  }
  return views.sort((a, b) => (b.failedAt ?? "").localeCompare(a.failedAt ?? "")).slice(0, limit);
}

/** Refreshes the poq_queue_depth gauge; called on a timer and before each /metrics scrape would be ideal. */
export async function updateQueueDepth(queues: StepQueues, metrics: DaemonMetrics): Promise<void> {
  for (const queue of Object.values(queues) as Queue<StepJobData>[]) {
    const counts = await queue.getJobCounts("waiting", "active", "delayed", "failed", "prioritized");
    for (const [state, count] of Object.entries(counts)) metrics.queueDepth.set({ queue: queue.name, state }, count);
  }
}
