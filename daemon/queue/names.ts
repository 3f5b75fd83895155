/** The roles' pipeline steps; each has its own queue so that each can be scaled and watched on its own. */
export const STEPS = ["infer", "score", "commit", "reveal", "claim"] as const;
export type Step = (typeof STEPS)[number];

export function queueName(step: Step): string {
  return `poq-${step}`;
}

/**
 * Idempotent job id: the same step for the same task and round is one job, however often the watcher delivers
 * the event (BullMQ ignores an add whose id exists). BullMQ forbids ':' in custom ids, hence '-'.
 */
export function jobIdFor(step: Step, taskId: string | bigint, round: number | bigint): string {
  const task = String(taskId);
  if (!/^[0-9A-Za-z_.x]+$/.test(task)) throw new TypeError(`Task id "${task}" cannot be part of a job id`);
  return `${step}-${task}-${String(round)}`;
}

/** The payload every step job carries; steps add their own fields. */
export interface StepJobData {
  taskId: string;
  round: number;
  [field: string]: unknown;
}

/**
 * BullMQ key prefix of one daemon's queues: derived from its account so that several daemons can share one
 * Redis. Workers of the same account (scaling one validator over several machines) share the prefix and so
 * the queues; different accounts never see each other's jobs.
 */
export function queuePrefixFor(address: string): string {
  if (!/^0x[0-9a-fA-F]{40}$/.test(address)) throw new TypeError(`"${address}" is not an account address`);
  return `poq:${address.toLowerCase()}`;
}
