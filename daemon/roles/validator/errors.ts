import type { Hex } from "viem";
import { BadInputError } from "../../queue/errors.ts";

/** The evaluator this validator runs is not registered, or not active, in the on-chain EvaluatorRegistry. */
export class EvaluatorNotRegisteredError extends Error {
  override name = "EvaluatorNotRegisteredError";
  constructor(readonly evaluatorId: Hex) {
    super(`evaluator ${evaluatorId} is not registered and active on-chain: refusing to score with it (check the model files against the registry)`);
  }
}

/** A task pins another evaluator than the one this validator runs: scoring it would break consensus. */
export class EvaluatorMismatchError extends BadInputError {
  override name = "EvaluatorMismatchError";
  constructor(taskId: string, pinned: Hex, loaded: Hex) {
    super(`task ${taskId} pins evaluator ${pinned}, this validator runs ${loaded}: not scoring it`, { taskId, pinned, loaded });
  }
}

/** A step's on-chain window closed before it could act (a missed commit or reveal: an operator must look). */
export class WindowMissedError extends BadInputError {
  override name = "WindowMissedError";
}
