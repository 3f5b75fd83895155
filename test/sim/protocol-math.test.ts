/**
 * Cross-check: the TypeScript port (sdk/protocol-math.ts) against the compiled Consensus and Rewards libraries on the
 * in-process Hardhat chain, through contracts/mocks/ProtocolMathHarness.sol. Thousands of random cases, batched into
 * a few eth_calls; every result must be equal to the wei. Edge-heavy generators: ties, 0 and SCORE_MAX, one-member
 * committees, zero weights, full-range fees, every parameter bound.
 */
import assert from "node:assert/strict";
import { before, describe, it } from "node:test";
import { network } from "hardhat";
import seedrandom from "seedrandom";
import { BaseError, ContractFunctionRevertedError } from "viem";
import {
  aggregate,
  ConsensusRule,
  MAX_FEE,
  ProtocolMathError,
  rewardSplit,
  SCORE_MAX,
  type RewardParams,
} from "../../sdk/protocol-math.ts";

const AGGREGATE_CASES = 3_000;
const SPLIT_CASES = 2_000;
const BATCH = 250; // cases per eth_call: well under the call gas cap even for 32-member committees

type Rng = () => number;
const int = (rng: Rng, lo: number, hi: number) => lo + Math.floor(rng() * (hi - lo + 1));
/** Random bigint below 2**bits (bits <= 256), built from 32-bit words. */
function bigBelow(rng: Rng, bits: number): bigint {
  let x = 0n;
  for (let i = 0; i < Math.ceil(bits / 32); i++) x = (x << 32n) | BigInt(Math.floor(rng() * 2 ** 32));
  return x & ((1n << BigInt(bits)) - 1n);
}
/** A score: mostly uniform on the scale, often an extreme or one of a few tie values. */
function score(rng: Rng): bigint {
  const r = rng();
  if (r < 0.1) return 0n;
  if (r < 0.2) return SCORE_MAX;
  if (r < 0.4) return BigInt(int(rng, 0, 4) * 2_500);
  return BigInt(int(rng, 0, Number(SCORE_MAX)));
}
/** Committee size: mostly realistic (4..15), some tiny and some up to MAX_COMMITTEE (the O(k^2) sort costs gas). */
function committee(rng: Rng): number {
  const r = rng();
  return r < 0.2 ? int(rng, 1, 3) : r < 0.85 ? int(rng, 4, 15) : int(rng, 16, 32);
}

interface AggregateCase {
  rule: ConsensusRule;
  scores: bigint[];
  weights: bigint[];
  trimBps: bigint;
}
function aggregateCase(rng: Rng): AggregateCase {
  const n = committee(rng);
  const rule = int(rng, 0, 2) as ConsensusRule;
  const scores = Array.from({ length: n }, () => score(rng));
  const weights: bigint[] = Array.from({ length: n }, () => (rng() < 0.15 ? 0n : bigBelow(rng, int(rng, 1, 96))));
  if (!weights.some((w) => w > 0n)) weights[int(rng, 0, n - 1)] = 1n; // ZeroTotalWeight is tested separately
  const trimBps = rng() < 0.2 ? BigInt(int(rng, 0, 4) * 2_500) : BigInt(int(rng, 0, 10_000));
  return { rule, scores, weights, trimBps };
}

interface SplitCase {
  fee: bigint;
  consensus: bigint;
  scores: bigint[];
  revealed: boolean[];
  params: { validatorPoolBps: number; providerFloor: number; tolerance: number; refundBps: number };
}
function splitCase(rng: Rng): SplitCase {
  const k = committee(rng);
  const r = rng();
  const fee = r < 0.05 ? MAX_FEE : r < 0.1 ? BigInt(int(rng, 0, 10)) : bigBelow(rng, int(rng, 1, 160));
  const bound = (max: number) => (rng() < 0.15 ? (rng() < 0.5 ? 0 : max) : int(rng, 0, max));
  return {
    fee,
    consensus: score(rng),
    // Beyond SCORE_MAX too: the library accepts any revealed uint256 (the market rejects them earlier).
    scores: Array.from({ length: k }, () => (rng() < 0.05 ? BigInt(int(rng, 10_001, 65_535)) : score(rng))),
    revealed: Array.from({ length: k }, () => rng() < 0.85),
    params: {
      validatorPoolBps: bound(10_000),
      providerFloor: bound(9_999),
      tolerance: bound(65_535),
      refundBps: bound(10_000),
    },
  };
}
const toBig = (p: SplitCase["params"]): RewardParams => ({
  validatorPoolBps: BigInt(p.validatorPoolBps),
  providerFloor: BigInt(p.providerFloor),
  tolerance: BigInt(p.tolerance),
  refundBps: BigInt(p.refundBps),
});

/** The custom error name a viem call reverted with. */
async function revertName(call: Promise<unknown>): Promise<string> {
  try {
    await call;
  } catch (err) {
    const reverted = err instanceof BaseError ? err.walk((e) => e instanceof ContractFunctionRevertedError) : null;
    if (reverted instanceof ContractFunctionRevertedError && reverted.data) return reverted.data.errorName;
    throw err;
  }
  throw new Error("call did not revert");
}
function portErrorName(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof ProtocolMathError, `unexpected error ${String(err)}`);
    return err.name.replace(/Error$/, "").replace("InvalidRewardParams", "InvalidParams");
  }
  throw new Error("port did not throw");
}

describe("protocol-math port vs Solidity libraries", () => {
  // Deployed once; `Awaited<ReturnType<...>>` keeps the typed viem contract without naming the generated type.
  let harness: Awaited<ReturnType<Awaited<ReturnType<typeof network.create>>["viem"]["deployContract"]>>;
  before(async () => {
    const { viem } = await network.create();
    harness = await viem.deployContract("ProtocolMathHarness");
  });

  it(`aggregate: ${AGGREGATE_CASES} random cases equal to the unit`, async () => {
    const rng = seedrandom("poq-aggregate-crosscheck");
    const cases = Array.from({ length: AGGREGATE_CASES }, () => aggregateCase(rng));
    for (let start = 0; start < cases.length; start += BATCH) {
      const batch = cases.slice(start, start + BATCH);
      const onChain = (await harness.read.aggregateBatch([
        batch.map((c) => c.rule),
        batch.map((c) => c.scores),
        batch.map((c) => c.weights),
        batch.map((c) => c.trimBps),
      ])) as readonly bigint[];
      batch.forEach((c, i) => {
        const port = aggregate(c.rule, c.scores, c.weights, c.trimBps);
        assert.equal(port, onChain[i], `case ${start + i}: ${ConsensusRule[c.rule]} ${c.scores} trim ${c.trimBps}`);
      });
    }
  });

  it(`split: ${SPLIT_CASES} random cases equal to the wei, and conserving the fee`, async () => {
    const rng = seedrandom("poq-split-crosscheck");
    const cases = Array.from({ length: SPLIT_CASES }, () => splitCase(rng));
    for (let start = 0; start < cases.length; start += BATCH) {
      const batch = cases.slice(start, start + BATCH);
      const onChain = await harness.read.splitBatch([batch]);
      batch.forEach((c, i) => {
        const port = rewardSplit(c.fee, c.consensus, c.scores, c.revealed, toBig(c.params));
        const sol = onChain[i];
        const where = `case ${start + i}`;
        assert.equal(port.provider, sol.provider, `${where} provider`);
        assert.equal(port.requester, sol.requester, `${where} requester`);
        assert.equal(port.treasury, sol.treasury, `${where} treasury`);
        assert.equal(port.dust, sol.dust, `${where} dust`);
        assert.deepEqual(port.validators, [...sol.validators], `${where} validators`);
        const out = port.provider + port.requester + port.treasury + port.dust + port.validators.reduce((a, b) => a + b, 0n);
        assert.equal(out, c.fee, `${where} conservation`);
      });
    }
  });

  it("rejects the same bad inputs with the same errors", async () => {
    const ok = { validatorPoolBps: 2_000, providerFloor: 3_000, tolerance: 1_500, refundBps: 5_000 };
    const aggregateBad: AggregateCase[] = [
      { rule: ConsensusRule.Median, scores: [], weights: [], trimBps: 0n },
      { rule: ConsensusRule.TrimmedMean, scores: [1n, 2n], weights: [1n], trimBps: 0n },
      { rule: ConsensusRule.TrimmedMean, scores: [1n], weights: [1n], trimBps: 10_001n },
      { rule: ConsensusRule.WeightedMedian, scores: [5n, 6n], weights: [0n, 0n], trimBps: 0n },
    ];
    for (const c of aggregateBad) {
      const expected = await revertName(harness.read.aggregate([c.rule, c.scores, c.weights, c.trimBps]));
      assert.equal(portErrorName(() => aggregate(c.rule, c.scores, c.weights, c.trimBps)), expected);
    }
    const splitBad: SplitCase[] = [
      { fee: 100n, consensus: 5_000n, scores: [1n, 2n], revealed: [true], params: ok },
      { fee: 100n, consensus: SCORE_MAX + 1n, scores: [], revealed: [], params: ok },
      { fee: MAX_FEE + 1n, consensus: 5_000n, scores: [], revealed: [], params: ok },
      { fee: 100n, consensus: 5_000n, scores: [], revealed: [], params: { ...ok, validatorPoolBps: 10_001 } },
      { fee: 100n, consensus: 5_000n, scores: [], revealed: [], params: { ...ok, refundBps: 10_001 } },
      { fee: 100n, consensus: 5_000n, scores: [], revealed: [], params: { ...ok, providerFloor: 10_000 } },
    ];
    for (const c of splitBad) {
      const expected = await revertName(harness.read.split([c]));
      assert.equal(portErrorName(() => rewardSplit(c.fee, c.consensus, c.scores, c.revealed, toBig(c.params))), expected);
    }
  });
});
