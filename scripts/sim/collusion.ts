/**
 * Coalition analysis with the real split: a requester (or a provider) bribes colluding validators to under-score
 * (or over-score) its task. The coalition's payoff is what it takes out of the escrow: for a requester coalition,
 * the refund plus its members' validator pay; for a provider coalition, the provider pay plus its members' pay.
 *
 * The coalition is strategic and well informed: committees are public once drawn, and its members run the same
 * deterministic evaluator, so they know the honest score. Before committing they compare, with the contracts'
 * math, the predicted payoff of revealing honestly against revealing the extreme score (0 or SCORE_MAX) and
 * attack only when that pays. The realised gain is then measured against the honest outcome on the ACTUAL
 * (noisy) honest scores, so a misprediction costs them.
 */
import { rewardSplit, SCORE_MAX, type RewardParams } from "../../sdk/protocol-math.ts";
import { clampScore, consensusOf, drawTask, PROVIDERS, roundTo, type EvaluatorModel, type SimRule } from "./model.ts";
import { createRandom } from "./random.ts";

export type CoalitionSide = "requester" | "provider";

export interface CollusionConfig {
  seed: string;
  rounds: number;
  committeeSize: number;
  rule: SimRule;
  trimBps: bigint;
  params: RewardParams;
  evaluator: EvaluatorModel;
  side: CoalitionSide;
  /** Share of the validator stake in the coalition (each seat colludes with this probability). */
  share: number;
}

export interface CollusionResult {
  /** Share of the coalition's tasks on which it attacked. */
  attackRate: number;
  /** Mean coalition gain per task over honest behaviour, as a share of the fee. */
  gainPerTask: number;
  /** Mean change of the provider's pay per task (negative: the provider lost), share of the fee. */
  providerDelta: number;
  /** Mean change of the treasury's take per task, share of the fee. */
  treasuryDelta: number;
}

const FEE = 10n ** 18n;
const share = (x: bigint) => Number(x) / Number(FEE);

function coalitionPayoff(
  side: CoalitionSide,
  scores: readonly bigint[],
  colluding: readonly boolean[],
  stakes: readonly bigint[],
  cfg: CollusionConfig,
) {
  const consensus = consensusOf(cfg.rule, scores, stakes, cfg.trimBps);
  const s = rewardSplit(FEE, consensus, scores, scores.map(() => true), cfg.params);
  const members = s.validators.reduce((acc, v, i) => (colluding[i] ? acc + v : acc), 0n);
  return { payoff: (side === "requester" ? s.requester : s.provider) + members, split: s };
}

export function runCollusion(cfg: CollusionConfig): CollusionResult {
  // The stream leaves out the parameters under study (refund share): every option sees the same tasks and
  // committees, so differences between options are not sampling noise.
  const rng = createRandom(cfg.seed, `collusion/${cfg.side}/${cfg.rule}/${cfg.share}/k${cfg.committeeSize}`);
  const extreme = cfg.side === "requester" ? 0n : SCORE_MAX;
  let attacks = 0;
  let gain = 0;
  let providerDelta = 0;
  let treasuryDelta = 0;
  for (let round = 0; round < cfg.rounds; round++) {
    const task = drawTask(rng, PROVIDERS[rng.int(0, PROVIDERS.length - 1)], cfg.evaluator);
    const k = cfg.committeeSize;
    const colluding = Array.from({ length: k }, () => rng.chance(cfg.share));
    const stakes = Array.from({ length: k }, () => BigInt(Math.max(1, Math.round(1_000 * rng.logNormal(0, 1)))));
    const honest = colluding.map(() => BigInt(clampScore(task.view + rng.normal(0, cfg.evaluator.validatorNoiseSd))));
    if (!colluding.some(Boolean)) continue;
    // Prediction: everyone else reveals the evaluator's view exactly (the coalition cannot see their noise).
    const predictedHonest = colluding.map(() => BigInt(task.view));
    const predictedAttack = colluding.map((c) => (c ? extreme : BigInt(task.view)));
    const predictedGain =
      coalitionPayoff(cfg.side, predictedAttack, colluding, stakes, cfg).payoff -
      coalitionPayoff(cfg.side, predictedHonest, colluding, stakes, cfg).payoff;
    if (predictedGain <= 0n) continue;
    attacks++;
    const attacked = honest.map((s, i) => (colluding[i] ? extreme : s));
    const before = coalitionPayoff(cfg.side, honest, colluding, stakes, cfg);
    const after = coalitionPayoff(cfg.side, attacked, colluding, stakes, cfg);
    gain += share(after.payoff - before.payoff);
    providerDelta += share(after.split.provider - before.split.provider);
    treasuryDelta += share(after.split.treasury + after.split.dust - before.split.treasury - before.split.dust);
  }
  const n = cfg.rounds;
  return {
    attackRate: roundTo(attacks / n, 4),
    gainPerTask: roundTo(gain / n, 4),
    providerDelta: roundTo(providerDelta / n, 4),
    treasuryDelta: roundTo(treasuryDelta / n, 4),
  };
}
