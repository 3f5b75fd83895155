/**
 * Typed errors of the auditor. Each is something the person running `poq audit` can act on, so each message is
 * one line without a stack trace (the CLI prints `poq: <message>` and exits 1). The base class lets the CLI tell
 * them apart from bugs.
 */
export class AuditError extends Error {
  override name = "AuditError";
}

/** Neither a flag nor an environment variable names the deployment manifest or the RPC URL. */
export class AuditConfigError extends AuditError {
  override name = "AuditConfigError";
}

/** The RPC endpoint did not answer (down, wrong port, timeout). */
export class RpcUnreachableError extends AuditError {
  override name = "RpcUnreachableError";
  constructor(
    readonly url: string,
    reason: string,
    options?: ErrorOptions,
  ) {
    super(`cannot reach the RPC endpoint ${url}: ${reason}`, options);
  }
}

/** The RPC serves a chain without the manifest's contracts (wrong chain id or no code at the market address). */
export class DeploymentMismatchError extends AuditError {
  override name = "DeploymentMismatchError";
}

/** The task id is 0 or above the market's task count. */
export class TaskNotFoundError extends AuditError {
  override name = "TaskNotFoundError";
  constructor(
    readonly taskId: bigint,
    readonly taskCount: bigint,
  ) {
    super(`task ${taskId} does not exist (the market has ${taskCount} task${taskCount === 1n ? "" : "s"})`);
  }
}

/** The address never staked in the asked role and appears in no task of the scanned range. */
export class UnknownAddressError extends AuditError {
  override name = "UnknownAddressError";
}

/** `--rescore` with a manifest whose id is not the task's evaluator id: its scores would not be comparable. */
export class EvaluatorMismatchError extends AuditError {
  override name = "EvaluatorMismatchError";
  constructor(
    readonly manifestId: string,
    readonly taskEvaluatorId: string,
  ) {
    super(`the evaluator in --evaluator-dir has id ${manifestId}, but the task was scored with ${taskEvaluatorId}: refusing to re-score`);
  }
}

/** The task cannot be re-scored (no answer yet, or the answer is only a URI). */
export class RescoreUnavailableError extends AuditError {
  override name = "RescoreUnavailableError";
}
