/** Never fewer blocks than this: one for the report to land, one of margin (what a 12 s chain needs). */
const MIN_BLOCKS = 2;
/** Release to landed (reads, build, estimate, send, receipt) is taken as at least this, measured or not: a fast
 * quiet run must not shrink the margin below what the next load spike needs. */
const MIN_LAND_MS = 1_000;
/** The margin covers this many times the slowest recent release-to-landed time: a load spike doubles it easily. */
const SAFETY = 2;
/** Recent reports whose release-to-landed times count. */
const SAMPLES = 8;
/** Weight of the newest head in the chain's pace. */
const PACE_WEIGHT = 0.2;

/**
 * How many blocks before a validator's fallback block the aggregator releases a report so that it lands before
 * it. A fixed count of blocks is wrong on fast chains: 2 blocks are 24 s on Ethereum L1 but 0.5 s with 250 ms
 * blocks (an L2's pace, and the tests' chain), less than a busy machine takes to read, build and send a report;
 * a report that lands at the fallback block races the members' own commits or reveals (nobody loses stake, but
 * one side's transaction reverts and its gas is wasted). So the count is the aggregator's own slowest recent
 * release-to-landed time (at least a second), doubled, in blocks of the chain's measured pace, and never below two.
 */
export class LandMargin {
  #msPerBlock: number | undefined;
  #last: { block: bigint; at: number } | undefined;
  #landMs: number[] = [];

  /** A new head seen at `at` (ms): updates the chain's pace. */
  onHead(block: bigint, at = Date.now()): void {
    const last = this.#last;
    this.#last = { block, at };
    if (last === undefined || block <= last.block) return;
    const sample = (at - last.at) / Number(block - last.block);
    this.#msPerBlock = this.#msPerBlock === undefined ? sample : this.#msPerBlock + PACE_WEIGHT * (sample - this.#msPerBlock);
  }

  /** A report released at `releasedAt` (ms) landed now. */
  landed(releasedAt: number, now = Date.now()): void {
    this.#landMs = [...this.#landMs, now - releasedAt].slice(-SAMPLES);
  }

  /** Blocks before a fallback block at which a report must be released. */
  blocks(): bigint {
    const pace = this.#msPerBlock;
    if (pace === undefined || pace <= 0) return BigInt(MIN_BLOCKS);
    return BigInt(Math.max(MIN_BLOCKS, Math.ceil((SAFETY * Math.max(MIN_LAND_MS, ...this.#landMs)) / pace)));
  }
}
