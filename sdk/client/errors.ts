import type { Address, Hex } from "viem";

/**
 * Base class of every requester-client error. The client checks what it can BEFORE sending a transaction, so a
 * bad job fails here with one of these classes instead of as an opaque revert (and without spending gas).
 */
export class PoqClientError extends Error {
  override name = "PoqClientError";
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/** The RPC endpoint (or the wallet's chain) is not the chain the deployment manifest was written for. */
export class WrongChainError extends PoqClientError {
  override name = "WrongChainError";
  constructor(
    readonly expected: number,
    readonly actual: number,
    readonly where: "rpc" | "wallet",
  ) {
    super(`the ${where} is on chain ${actual}, but the deployment is on chain ${expected}`);
  }
}

/** A write was attempted on a client built without a wallet. */
export class MissingWalletError extends PoqClientError {
  override name = "MissingWalletError";
  constructor(action: string) {
    super(`${action} needs a wallet client with an account: pass walletClient to createPoqClient`);
  }
}

/** The fee is zero, negative or does not fit the market's 96-bit escrow field. */
export class InvalidFeeError extends PoqClientError {
  override name = "InvalidFeeError";
  constructor(readonly fee: bigint) {
    super(`fee must be between 1 and 2^96 - 1 token base units, got ${fee}`);
  }
}

/** The requester holds fewer tokens than the fee. */
export class InsufficientBalanceError extends PoqClientError {
  override name = "InsufficientBalanceError";
  constructor(
    readonly account: Address,
    readonly balance: bigint,
    readonly needed: bigint,
  ) {
    super(`${account} holds ${balance} token base units but the fee is ${needed}`);
  }
}

/** The market may not pull the fee (allowance too low) and the caller asked the client not to approve. */
export class InsufficientAllowanceError extends PoqClientError {
  override name = "InsufficientAllowanceError";
  constructor(
    readonly account: Address,
    readonly allowance: bigint,
    readonly needed: bigint,
  ) {
    super(`${account} allows the task market ${allowance} token base units but the fee is ${needed}: approve first or pass approve: "exact"`);
  }
}

/** No staked provider serves the model (no one could be assigned the job). */
export class UnknownModelError extends PoqClientError {
  override name = "UnknownModelError";
  constructor(
    readonly model: string,
    readonly modelId: Hex,
  ) {
    super(`no active provider serves model "${model}" (id ${modelId})`);
  }
}

/** The evaluator is not registered or was deactivated by governance. */
export class EvaluatorNotActiveError extends PoqClientError {
  override name = "EvaluatorNotActiveError";
  constructor(readonly evaluatorId: Hex) {
    super(`evaluator ${evaluatorId} is not registered or not active`);
  }
}

/** No evaluatorId was given and none of the manifest's evaluators is active. */
export class NoActiveEvaluatorError extends PoqClientError {
  override name = "NoActiveEvaluatorError";
  constructor(readonly listed: readonly string[]) {
    super(`no evaluatorId given and none of the manifest's evaluators (${listed.join(", ") || "none"}) is active`);
  }
}

/** The prompt is larger than the market's `maxPromptBytes`. */
export class PromptTooLargeError extends PoqClientError {
  override name = "PromptTooLargeError";
  constructor(
    readonly bytes: number,
    readonly maxBytes: number,
  ) {
    super(`the prompt is ${bytes} bytes (UTF-8) but the market accepts at most ${maxBytes}`);
  }
}

/** A task id that the market never issued. */
export class UnknownTaskError extends PoqClientError {
  override name = "UnknownTaskError";
  constructor(
    readonly taskId: bigint,
    readonly taskCount: bigint,
  ) {
    super(`task ${taskId} does not exist (the market has issued ${taskCount} task ids)`);
  }
}

/** `waitForResult` gave up before the task settled. The task may still settle later. */
export class JobTimeoutError extends PoqClientError {
  override name = "JobTimeoutError";
  constructor(
    readonly taskId: bigint,
    readonly timeoutMs: number,
    readonly lastStatus: string,
  ) {
    super(`task ${taskId} did not settle within ${timeoutMs} ms (last status: ${lastStatus})`);
  }
}

/** A transaction the client sent reverted, or its receipt lacks the event that proves it did its job. */
export class TransactionFailedError extends PoqClientError {
  override name = "TransactionFailedError";
  constructor(
    readonly action: string,
    readonly hash: Hex,
    details: string,
  ) {
    super(`${action} failed (tx ${hash}): ${details}`);
  }
}
