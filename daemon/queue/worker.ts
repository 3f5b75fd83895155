import { Worker, type Job } from "bullmq";
import type { Redis } from "ioredis";
import type { Logger } from "../observe/logger.ts";
import type { DaemonMetrics } from "../observe/metrics.ts";
import { isBadInput } from "./errors.ts";
import { queueName, type Step, type StepJobData } from "./names.ts";
import type { WorkerTiming } from "./timing.ts";

/** `token` is the worker's lock token, needed to move the running job back to delayed (job.moveToDelayed). */
/**
 * An error as a small log object: viem errors carry the whole contract ABI and request bodies in their fields
 * and causes, which would make one failed attempt a 100 kB log line.
 */
export function compactError(error: Error): Record<string, unknown> {
  const cause = error.cause instanceof Error ? error.cause : undefined;
  return {
    type: error.name,
    message: error.message.split("\n")[0],
    cause: cause === undefined ? undefined : `${cause.name}: ${cause.message.split("\n").find((l) => l.startsWith("Details:")) ?? cause.message.split("\n")[0]}`,
    stack: error.stack?.split("\n").slice(1, 6).join("\n"),
  };
}

export type StepHandler<R = unknown> = (job: Job<StepJobData>, token?: string) => Promise<R>;

export interface CreateStepWorkerParameters<R> {
  step: Step;
  /** A dedicated connection (BullMQ blocks on it); see createRedisConnection(url, "worker"). */
  connection: Redis;
  /** Must be idempotent: after a crash or a stall the same job runs again. */
  handler: StepHandler<R>;
  timing: WorkerTiming;
  concurrency?: number;
  logger: Logger;
  metrics?: DaemonMetrics;
  /** BullMQ key prefix; must equal the queues' (see queuePrefixFor). */
  prefix?: string;
}

/**
 * A BullMQ worker for one step with stall settings chosen against the protocol windows (BullMQ's defaults
 * recover a SIGKILLed worker's job only after 61-80 s and fail a job that crashed its worker twice). Every
 * final failure is logged with the task id and counted, so nothing is dropped silently.
 */
export function createStepWorker<R>({
  step,
  connection,
  handler,
  timing,
  concurrency = 1,
  logger,
  metrics,
  prefix,
}: CreateStepWorkerParameters<R>): Worker<StepJobData, R> {
  const log = logger.child({ queue: queueName(step) });
  const worker = new Worker<StepJobData, R>(queueName(step), handler, {
    connection,
    prefix,
    concurrency,
    lockDuration: timing.lockDurationMs,
    stalledInterval: timing.stalledIntervalMs,
    maxStalledCount: timing.maxStalledCount,
  });
  worker.on("failed", (job, error) => {
    if (job === undefined) return;
    const fields = { jobId: job.id, taskId: job.data.taskId, round: job.data.round, attemptsMade: job.attemptsMade, err: compactError(error) };
    const final = isBadInput(error) || job.attemptsMade >= (job.opts.attempts ?? 1) || error.message.includes("stalled");
    if (!final) {
      log.warn(fields, "job attempt failed; will retry with backoff");
      return;
    }
    const reason = isBadInput(error) ? "bad-input" : error.message.includes("stalled") ? "stalled" : "attempts-exhausted";
    metrics?.jobsFailed.inc({ queue: queueName(step), reason });
    log.error({ ...fields, reason }, "job failed for good; see the failed-jobs view (poq status)");
  });
  worker.on("stalled", (jobId) => log.warn({ jobId }, "job stalled (its worker died or blocked); it will run again"));
  worker.on("error", (error) => log.error({ err: error }, "worker error"));
  return worker;
}
