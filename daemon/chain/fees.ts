/** EIP-1559 fee pair in wei. */
export interface Fees {
  maxFeePerGas: bigint;
  maxPriorityFeePerGas: bigint;
}

/**
 * Fees for a replacement of a stuck transaction: at least `bumpPercent` above the previous ones (nodes refuse a
 * replacement under +10% on both fields), and never below what the network asks now. Rounded up so the bump
 * is never lost to integer division.
 */
export function bumpFees(previous: Fees, current: Fees, bumpPercent: number): Fees {
  const bump = (value: bigint) => (value * BigInt(100 + bumpPercent) + 99n) / 100n;
  const max = (a: bigint, b: bigint) => (a > b ? a : b);
  const priority = max(bump(previous.maxPriorityFeePerGas), current.maxPriorityFeePerGas);
  const maxFee = max(max(bump(previous.maxFeePerGas), current.maxFeePerGas), priority);
  return { maxFeePerGas: maxFee, maxPriorityFeePerGas: priority };
}
