/**
 * Claiming costs its transaction only: claim() keeps 1 wei of the credit (TaskMarket), so the account's credit slot
 * stays non-zero and the next finalize that pays it rewrites a non-zero slot (no fresh-slot cost to weigh).
 */
export interface ClaimDecisionParameters {
  /** What claim() would transfer now (claimableNow(claimable(account))), in the stake token's smallest unit. */
  credit: bigint;
  /** Gas of claim(). */
  gas: bigint;
  /** Price of one gas unit in wei (the fee the claim would pay). */
  gasPriceWei: bigint;
  /** claim.gasMargin: the credit must be worth this many times the claim's cost. */
  margin: number;
  /**
   * claim.tokenPerNative: stake tokens one unit of the native coin is worth (both in 18-decimal units). Undefined:
   * the price is unknown, so no credit can be shown to be worth its gas and only the interval claims.
   */
  tokenPerNative: number | undefined;
  /** When this account's credit became non-zero without being claimed (ms since epoch), if known. */
  creditSinceMs?: number;
  nowMs: number;
  /** claim.maxIntervalMs: claim anyway once credit has waited this long. */
  maxIntervalMs: number;
}

export type ClaimDecision =
  | { claim: true; why: "worth-it" | "interval" }
  | { claim: false; why: "nothing" | "not-worth-it-yet" | "waiting-for-interval" };

/**
 * Economic claim policy: claim when the credit is worth at least `margin` times what claiming costs, or once the
 * credit has waited `maxIntervalMs` (so nothing sits unclaimed forever); otherwise let credit accumulate over
 * more tasks and claim them in one transaction. Without a token price (`tokenPerNative` undefined, the default)
 * only the interval claims: a guessed price of 1 made every payee claim after every task, which cost more gas per
 * task than the commits and reveals together (BENCHMARKS.md, "Claims, amortized").
 */
export function decideClaim(p: ClaimDecisionParameters): ClaimDecision {
  if (p.credit === 0n) return { claim: false, why: "nothing" };
  if (p.creditSinceMs !== undefined && p.nowMs - p.creditSinceMs >= p.maxIntervalMs) return { claim: true, why: "interval" };
  if (p.tokenPerNative === undefined) return { claim: false, why: "waiting-for-interval" };
  // cost in token units = gas x price x tokenPerNative; scaled by 1e6 to keep the fractional price in integers.
  const costScaled = p.gas * p.gasPriceWei * BigInt(Math.round(p.tokenPerNative * 1e6)) * BigInt(Math.round(p.margin * 1e6));
  if (p.credit * 10n ** 12n >= costScaled) return { claim: true, why: "worth-it" };
  return { claim: false, why: "not-worth-it-yet" };
}
