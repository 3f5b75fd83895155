import { UnrecoverableError } from "bullmq";

/**
 * Bad input (a malformed event, an answer over the size cap, a task in an impossible state): retrying cannot
 * help, so BullMQ fails the job at once (UnrecoverableError), and the failure is logged, counted and kept in
 * the failed-jobs view. Everything else thrown by a handler is treated as transient and retried with backoff.
 */
export class BadInputError extends UnrecoverableError {
  override name = "BadInputError";
  constructor(
    message: string,
    readonly details: Record<string, unknown> = {},
  ) {
    super(message);
  }
}

/** A handler hit a passing fault (RPC down, nonce race, evaluator busy); the job is retried with backoff. */
export class TransientError extends Error {
  override name = "TransientError";
}

export function isBadInput(error: unknown): boolean {
  return error instanceof UnrecoverableError || (error instanceof Error && error.name === "UnrecoverableError");
}
