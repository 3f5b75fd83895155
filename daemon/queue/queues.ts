import { Queue, type JobsOptions } from "bullmq";
import type { Redis } from "ioredis";
import type { Logger } from "../observe/logger.ts";
import { STEPS, jobIdFor, queueName, type Step, type StepJobData } from "./names.ts";

export interface RetryPolicy {
  /** Attempts for transient faults before the job fails for good. */
  attempts: number;
  /** First retry delay in ms; doubles each attempt (BullMQ adds no jitter: jobs are few, RPC storms come from loops). */
  backoffMs: number;
}

export type StepQueues = Record<Step, Queue<StepJobData>>;

/**
 * One BullMQ queue per step, with retry defaults; failed jobs are kept (never silently dropped). `prefix`
 * (see queuePrefixFor) keeps daemons that share a Redis apart; BullMQ's default "bull" when omitted.
 */
export function createStepQueues(connection: Redis, retry: RetryPolicy, logger?: Logger, prefix?: string): StepQueues {
  const defaultJobOptions: JobsOptions = {
    attempts: retry.attempts,
    backoff: { type: "exponential", delay: retry.backoffMs },
    removeOnComplete: { age: 24 * 3600, count: 10_000 }, // a day of history for operators
    removeOnFail: false,
  };
  const entries = STEPS.map((step) => {
    const queue = new Queue<StepJobData>(queueName(step), { connection, defaultJobOptions, prefix });
    // Connection faults surface here too; the connection itself logs them, and callers see failed adds.
    queue.on("error", (error) => logger?.debug({ err: error, queue: queue.name }, "queue error"));
    return [step, queue];
  });
  return Object.fromEntries(entries) as StepQueues;
}

export interface EnqueueStepParameters {
  step: Step;
  data: StepJobData;
  /** Run no earlier than this time (ms since epoch), e.g. when the reveal phase opens. */
  runAtMs?: number;
  /** Higher runs first among waiting jobs (1 is highest in BullMQ); reveals should outrank new scoring work. */
  priority?: number;
}

/**
 * Adds the step's job for (taskId, round) with its idempotent id; a second add for the same id is a no-op,
 * which is what makes duplicate event deliveries harmless. Returns the job id.
 */
export async function enqueueStep(queues: StepQueues, { step, data, runAtMs, priority }: EnqueueStepParameters): Promise<string> {
  const jobId = jobIdFor(step, data.taskId, data.round);
  const delay = runAtMs === undefined ? undefined : Math.max(0, runAtMs - Date.now());
  await queues[step].add(step, data, { jobId, delay, priority });
  return jobId;
}

export async function closeStepQueues(queues: StepQueues): Promise<void> {
  await Promise.all(Object.values(queues).map((q) => q.close()));
}

/**
 * Like enqueueStep, but a job that already finished (completed or failed) runs again with `data`: for events
 * re-delivered after a chain reorg, whose earlier handling may rest on blocks that left the chain. Handlers
 * are idempotent and read the chain, so a re-run does only what is still missing.
 */
export async function enqueueOrRerunStep(queues: StepQueues, params: EnqueueStepParameters): Promise<string> {
  const jobId = await enqueueStep(queues, params);
  const job = await queues[params.step].getJob(jobId);
  const state = await job?.getState();
  if (job !== undefined && (state === "completed" || state === "failed")) {
    await job.updateData(params.data);
    await job.retry(state);
  }
  return jobId;
}
