import type { Worker } from "bullmq";
import type { DaemonContext } from "../runtime/context.ts";
import { createStepWorker, type StepHandler } from "../queue/worker.ts";
import type { Step } from "../queue/names.ts";

/** One BullMQ worker per step, on this account's queue prefix, with the context's stall settings. */
export function startStepWorkers(ctx: DaemonContext, handlers: Partial<Record<Step, StepHandler>>): Worker[] {
  return Object.entries(handlers).map(([step, handler]) =>
    createStepWorker({
      step: step as Step,
      connection: ctx.workerConnection(),
      handler: handler!,
      timing: ctx.workerTiming,
      concurrency: ctx.config.queue.concurrency,
      logger: ctx.logger,
      metrics: ctx.metrics,
      prefix: ctx.queuePrefix,
    }),
  );
}

/** Lets running jobs finish (graceful drain), then closes the workers. */
export async function closeWorkers(workers: readonly Worker[]): Promise<void> {
  await Promise.all(workers.map((w) => w.close()));
}
