/**
 * TypeScript port of the on-chain consensus and reward rules (`contracts/libraries/Consensus.sol` and
 * `contracts/libraries/Rewards.sol`), in bigint so that every rounding matches the Solidity to the wei.
 *
 * Who uses it: the economic simulator (scripts/sim), the validator daemon (to predict its own pay) and the
 * auditor (to re-check a settlement). `test/sim/protocol-math.test.ts` cross-checks it against the compiled
 * libraries on thousands of random cases; change both sides together or that test fails.
 *
 * Invariants (same as the contracts): inputs are never mutated; every division rounds down and the remainder has
 * one named owner (the treasury); `provider + requester + treasury + dust + sum(validators) == fee` exactly.
 */

/** Top of the score scale: scores are basis points 0..10_000. */
export const SCORE_MAX = 10_000n;
/** Basis-point denominator for every share. */
export const BPS = 10_000n;
/** Largest fee `rewardSplit` accepts (uint256 max >> 16), so `fee * x` with x < 2**16 never overflows uint256. */
export const MAX_FEE = (1n << 240n) - 1n;
const UINT16_MAX = 0xffffn;

/** Aggregation rules, numbered exactly like the Solidity enum `Consensus.Rule` (the ABI passes the index). */
export enum ConsensusRule {
  Median = 0,
  TrimmedMean = 1,
  WeightedMedian = 2,
}

/** Mirrors `Rewards.Params` (each field is a uint16 on-chain). */
export interface RewardParams {
  /** Share of the fee reserved for the committee, bps. */
  validatorPoolBps: bigint;
  /** Consensus score below which the provider earns nothing. */
  providerFloor: bigint;
  /** |score - consensus| at or beyond which a validator earns nothing. */
  tolerance: bigint;
  /** Share of the provider's unpaid part that returns to the requester, bps; the rest goes to the treasury. */
  refundBps: bigint;
}

/** The contracts' documented defaults (docs/PROTOCOL.md); deployments may set others within bounds. */
export const DEFAULT_REWARD_PARAMS: Readonly<RewardParams> = Object.freeze({
  validatorPoolBps: 2_000n,
  providerFloor: 3_000n,
  tolerance: 1_500n,
  refundBps: 5_000n,
});

/** Mirrors `Rewards.Split`. Amounts are in fee-token units. */
export interface RewardSplit {
  provider: bigint;
  requester: bigint;
  treasury: bigint;
  dust: bigint;
  validators: bigint[];
}

/** Base class of every input error below; each mirrors one Solidity custom error of the same name. */
export class ProtocolMathError extends Error {
  override name = "ProtocolMathError";
}
/** `Consensus.NoScores()`: nothing to aggregate. */
export class NoScoresError extends ProtocolMathError {
  override name = "NoScoresError";
  constructor() {
    super("no scores to aggregate");
  }
}
/** `Consensus.LengthMismatch` / `Rewards.LengthMismatch`: parallel arrays of different lengths. */
export class LengthMismatchError extends ProtocolMathError {
  override name = "LengthMismatchError";
  constructor(
    readonly expected: number,
    readonly actual: number,
  ) {
    super(`array length ${actual} does not match ${expected} scores`);
  }
}
/** `Consensus.InvalidTrimBps`: trimBps above 10_000. */
export class InvalidTrimBpsError extends ProtocolMathError {
  override name = "InvalidTrimBpsError";
  constructor(readonly trimBps: bigint) {
    super(`trimBps ${trimBps} exceeds ${BPS}`);
  }
}
/** `Consensus.ZeroTotalWeight`: WeightedMedian with all weights zero. */
export class ZeroTotalWeightError extends ProtocolMathError {
  override name = "ZeroTotalWeightError";
  constructor() {
    super("weighted median needs a non-zero total weight");
  }
}
/** `Rewards.ConsensusOutOfRange`: consensus above SCORE_MAX. */
export class ConsensusOutOfRangeError extends ProtocolMathError {
  override name = "ConsensusOutOfRangeError";
  constructor(readonly consensus: bigint) {
    super(`consensus ${consensus} exceeds ${SCORE_MAX}`);
  }
}
/** `Rewards.FeeTooLarge`: fee above MAX_FEE. */
export class FeeTooLargeError extends ProtocolMathError {
  override name = "FeeTooLargeError";
  constructor(readonly fee: bigint) {
    super(`fee ${fee} exceeds ${MAX_FEE}`);
  }
}
/** `Rewards.InvalidParams`: a share above 10_000 bps or a floor not below SCORE_MAX. */
export class InvalidRewardParamsError extends ProtocolMathError {
  override name = "InvalidRewardParamsError";
  constructor(readonly params: RewardParams) {
    super(`invalid reward params ${JSON.stringify(params, (_k, v) => (typeof v === "bigint" ? v.toString() : v))}`);
  }
}

/** Ascending sorted copy (the caller's array keeps member order for the reward split). */
function sortedCopy(values: readonly bigint[]): bigint[] {
  return [...values].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

function median(sorted: readonly bigint[]): bigint {
  const n = sorted.length;
  const mid = Math.floor(n / 2);
  if (n % 2 === 1) return sorted[mid];
  return (sorted[mid - 1] + sorted[mid]) / 2n; // bigint division rounds toward zero = down for these non-negatives
}

function trimmedMean(sorted: readonly bigint[], trimBps: bigint): bigint {
  const n = sorted.length;
  let t = Number((BigInt(n) * trimBps) / BPS); // rounded down: never trims more than asked
  if (2 * t >= n) t = Math.floor((n - 1) / 2); // keep at least one score (one for odd n, two for even n)
  let sum = 0n;
  for (let i = t; i < n - t; i++) sum += sorted[i];
  return sum / BigInt(n - 2 * t); // rounded down
}

function weightedMedian(scores: readonly bigint[], weights: readonly bigint[]): bigint {
  // Stable sort by score: ties keep input order, like the Solidity insertion sort; equal scores make the
  // result independent of tie order anyway, since the answer is a score, not an index.
  const order = scores.map((_, i) => i).sort((a, b) => (scores[a] < scores[b] ? -1 : scores[a] > scores[b] ? 1 : a - b));
  const total = weights.reduce((acc, w) => acc + w, 0n);
  if (total === 0n) throw new ZeroTotalWeightError();
  let cumulative = 0n;
  for (const i of order) {
    cumulative += weights[i];
    if (cumulative * 2n >= total) return scores[i]; // lower weighted median
  }
  return scores[order[order.length - 1]]; // unreachable: the last step always reaches the total
}

/**
 * `Consensus.aggregate`: the consensus score of `scores` under `rule`.
 * Median: middle score; even n -> mean of the two middle scores rounded down. TrimmedMean: drop
 * t = n * trimBps / 10_000 (rounded down, reduced to keep >= 1 score) from each end, mean rounded down.
 * WeightedMedian: smallest score s with sum(weights of scores <= s) * 2 >= sum(weights).
 * `weights` must always have `scores.length` entries (read by WeightedMedian only). Errors are checked in the
 * Solidity order: NoScores, LengthMismatch, InvalidTrimBps, then ZeroTotalWeight. Not modelled: the Panic the
 * Solidity raises if a weight total or a trimmed sum overflows uint256 (stakes and scores never come close).
 */
export function aggregate(
  rule: ConsensusRule,
  scores: readonly bigint[],
  weights: readonly bigint[],
  trimBps: bigint,
): bigint {
  const n = scores.length;
  if (n === 0) throw new NoScoresError();
  if (weights.length !== n) throw new LengthMismatchError(n, weights.length);
  if (trimBps > BPS) throw new InvalidTrimBpsError(trimBps);
  if (rule === ConsensusRule.WeightedMedian) return weightedMedian(scores, weights);
  const sorted = sortedCopy(scores);
  if (rule === ConsensusRule.Median) return median(sorted);
  return trimmedMean(sorted, trimBps);
}

/** w_i = tolerance - |s_i - c| for revealed members strictly inside the tolerance, else 0. */
export function closenessWeights(
  consensus: bigint,
  scores: readonly bigint[],
  revealed: readonly boolean[],
  tolerance: bigint,
): { weights: bigint[]; total: bigint } {
  let total = 0n;
  const weights = scores.map((score, i) => {
    if (!revealed[i]) return 0n;
    const distance = score > consensus ? score - consensus : consensus - score;
    if (distance >= tolerance) return 0n;
    total += tolerance - distance;
    return tolerance - distance;
  });
  return { weights, total };
}

/**
 * `Rewards.split`: settles one task's fee. V = fee * validatorPoolBps / 10_000 and P = fee - V; the provider gets
 * P * (c - floor) / (SCORE_MAX - floor) (0 below the floor); the unpaid part is split refundBps to the requester,
 * the rest to the treasury; validators share V by closeness weight, rounding dust to the treasury, and V goes to
 * the treasury when nobody is inside the tolerance. Every division rounds down.
 */
export function rewardSplit(
  fee: bigint,
  consensus: bigint,
  scores: readonly bigint[],
  revealed: readonly boolean[],
  params: RewardParams,
): RewardSplit {
  const k = scores.length;
  if (revealed.length !== k) throw new LengthMismatchError(k, revealed.length);
  if (consensus > SCORE_MAX) throw new ConsensusOutOfRangeError(consensus);
  if (fee > MAX_FEE) throw new FeeTooLargeError(fee);
  const { validatorPoolBps, providerFloor, tolerance, refundBps } = params;
  const fields = [validatorPoolBps, providerFloor, tolerance, refundBps];
  // uint16 range is what the ABI enforces on-chain; the remaining checks are the library's own.
  if (fields.some((x) => x < 0n || x > UINT16_MAX)) throw new InvalidRewardParamsError(params);
  if (validatorPoolBps > BPS || refundBps > BPS || providerFloor >= SCORE_MAX) {
    throw new InvalidRewardParamsError(params);
  }

  const pool = (fee * validatorPoolBps) / BPS;
  const providerPool = fee - pool;
  const provider =
    consensus >= providerFloor ? (providerPool * (consensus - providerFloor)) / (SCORE_MAX - providerFloor) : 0n;
  const unpaid = providerPool - provider;
  const requester = (unpaid * refundBps) / BPS;
  let treasury = unpaid - requester;

  const { weights, total } = closenessWeights(consensus, scores, revealed, tolerance);
  if (total === 0n) {
    treasury += pool; // nobody earned: the pool goes to the treasury, never to the requester
    return { provider, requester, treasury, dust: 0n, validators: weights.map(() => 0n) };
  }
  const validators = weights.map((w) => (pool * w) / total);
  const paid = validators.reduce((acc, x) => acc + x, 0n);
  return { provider, requester, treasury, dust: pool - paid, validators };
}

/**
 * What a refunded task returns to its requester (TaskSettlement._refund and _settleUnjudged): the whole fee for
 * every reason but NoCommittee; for NoCommittee (nobody could be seated to judge the answer) `refundBps` of the
 * provider pool, each division rounded down, the rest of the escrow going to the treasury.
 */
export function refundAmount(fee: bigint, noCommittee: boolean, params: Pick<RewardParams, "validatorPoolBps" | "refundBps">): bigint {
  if (!noCommittee) return fee;
  return ((fee - (fee * params.validatorPoolBps) / BPS) * params.refundBps) / BPS;
}

/** TaskMarket's default `nonRevealPenaltyBps` (contracts/libraries/MarketParams.sol): 3x the seat's share. */
export const DEFAULT_NON_REVEAL_PENALTY_BPS = 30_000n;

/**
 * The penalty of one member that did not reveal (TaskSettlement._readRound): `nonRevealPenaltyBps` of the seat's
 * share of the validator pool, each division rounded down; the registry caps it by the member's stake.
 */
export function nonRevealPenalty(fee: bigint, committeeSize: number, validatorPoolBps: bigint, nonRevealPenaltyBps: bigint): bigint {
  const pool = (fee * validatorPoolBps) / BPS;
  return ((pool / BigInt(committeeSize)) * nonRevealPenaltyBps) / BPS;
}
