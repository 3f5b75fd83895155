/**
 * The one interface every quality evaluator implements (cross-encoder, sentence-encoder, composite),
 * and the typed errors they throw.
 *
 * Invariants every implementation keeps:
 * - `score` returns one result per input pair, in input order.
 * - `score` is deterministic: the same pair gives the same integer in any run and any process, because
 *   validators compare these integers on-chain.
 * - `score` never throws on odd text (empty, huge, control characters, lone surrogates): bad text gets a
 *   low score, not a crash. It throws only for faults of the evaluator itself (closed, runtime failure).
 */

/** On-chain score scale: integer basis points, 0 = worthless, 10_000 = perfect. */
export const SCORE_MAX = 10_000;

/** One (prompt, answer) pair to be judged. */
export interface ScorePair {
  prompt: string;
  answer: string;
}

/** The verdict on one pair. */
export interface ScoreResult {
  /** Integer in [0, SCORE_MAX]: the number that goes on-chain. */
  score: number;
  /** Raw model outputs (e.g. logits, cosine) kept for audit. */
  raw: number[];
  /** Optional extra facts, e.g. cheap-check verdicts. */
  detail?: Record<string, number | string | boolean>;
}

export interface Evaluator {
  /** The manifest's `name`. */
  readonly name: string;
  /** Evaluator id = keccak256 of the canonical manifest JSON (bytes32 hex), registered on-chain. */
  readonly id: `0x${string}`;
  /** Batched scoring; same order as input; deterministic. */
  score(pairs: readonly ScorePair[]): Promise<ScoreResult[]>;
  /** Releases native resources (sessions, tensors). Calling `score` afterwards throws EvaluatorClosedError. */
  close(): Promise<void>;
}

/** Base class of every evaluator error; keeps the underlying `cause`. */
export class EvaluatorError extends Error {
  override readonly name: string = "EvaluatorError";
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/** A manifest file is malformed (schema violation, unreadable JSON, unknown kind). Never retry: fix the file. */
export class ManifestInvalidError extends EvaluatorError {
  override readonly name: string = "ManifestInvalidError";
  constructor(
    message: string,
    readonly manifestPath: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** A model file listed in the manifest is missing, or its sha256 differs from the pinned one. */
export class ManifestMismatchError extends EvaluatorError {
  override readonly name: string = "ManifestMismatchError";
  constructor(
    readonly file: string,
    readonly expected: string,
    /** Actual sha256, or "missing" when the file does not exist. */
    readonly actual: string,
    options?: { cause?: unknown },
  ) {
    super(`model file ${file}: expected sha256 ${expected}, got ${actual}`, options);
  }
}

/** Downloading a model file failed (HTTP error, network error, hash mismatch after download, aborted). */
export class ModelFetchError extends EvaluatorError {
  override readonly name: string = "ModelFetchError";
  constructor(
    message: string,
    readonly url: string,
    /** HTTP status when the server answered, undefined for network errors. */
    readonly status?: number,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** The model could not be loaded or run (bad graph, runtime failure). */
export class EvaluatorRuntimeError extends EvaluatorError {
  override readonly name: string = "EvaluatorRuntimeError";
}

/** `score` was called after `close`. */
export class EvaluatorClosedError extends EvaluatorError {
  override readonly name: string = "EvaluatorClosedError";
  constructor(evaluatorName: string) {
    super(`evaluator ${evaluatorName} is closed`);
  }
}
