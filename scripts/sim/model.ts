/**
 * The simulated world: providers, the evaluator's view of their answers, validator strategies and the aggregation
 * rules under test. Every number here is an assumption; docs/ECONOMICS.md states them next to the results.
 *
 * Evaluator model. The protocol's scoring is deterministic (one registered model, one documented mapping), so
 * honest validators share the evaluator's error on a task: `view = truth + providerBias + commonError`. On top
 * of that each honest validator adds a small independent noise (different hardware/threads/tokenizer versions,
 * or a deployment that lets validators pick among registered evaluators). The common error never averages out:
 * it is the floor of every rule's error against the truth.
 */
import { aggregate, ConsensusRule, SCORE_MAX } from "../../sdk/protocol-math.ts";
import type { Random } from "./random.ts";

const MAX = Number(SCORE_MAX);
export const clampScore = (x: number): number => Math.min(MAX, Math.max(0, Math.round(x)));

/** A provider profile: true quality per answer ~ N(mean, sd); the evaluator adds `evaluatorBias` to it. */
export interface ProviderProfile {
  name: string;
  qualityMean: number;
  qualitySd: number;
  /** How much the evaluator overrates this provider's answers (a model tuned against the judge). */
  evaluatorBias: number;
}

export const PROVIDERS: readonly ProviderProfile[] = [
  { name: "strong", qualityMean: 8_000, qualitySd: 1_000, evaluatorBias: 0 },
  { name: "average", qualityMean: 6_000, qualitySd: 1_200, evaluatorBias: 0 },
  { name: "weak", qualityMean: 3_500, qualitySd: 1_200, evaluatorBias: 0 },
  // The cheap model that learned what the judge likes: truly a bit below average, scored like an average one.
  { name: "downgraded", qualityMean: 4_800, qualitySd: 1_200, evaluatorBias: 1_200 },
];

export interface EvaluatorModel {
  /** Evaluator error shared by all honest validators on a task (bps, sd). */
  commonErrorSd: number;
  /** Independent per-validator noise (bps, sd). */
  validatorNoiseSd: number;
}
export const DEFAULT_EVALUATOR: EvaluatorModel = { commonErrorSd: 600, validatorNoiseSd: 300 };

/** One task as the world sees it. */
export interface Task {
  provider: ProviderProfile;
  /** The answer's true quality (what a careful human panel would say), 0..10_000. */
  truth: number;
  /** The evaluator's noiseless view of it (what a perfectly reproducible honest validator scores). */
  view: number;
}

export function drawTask(rng: Random, provider: ProviderProfile, evaluator: EvaluatorModel): Task {
  const truth = clampScore(rng.normal(provider.qualityMean, provider.qualitySd));
  const view = clampScore(truth + provider.evaluatorBias + rng.normal(0, evaluator.commonErrorSd));
  return { provider, truth, view };
}

/** Validator strategies. Attackers are honest except on their target's tasks (which the committee sees). */
export type Strategy =
  | "honest"
  | "lazyConstant"
  | "lazyRandom"
  | "lazyCopy"
  | "boostFriend"
  | "sabotageRival"
  | "intermittent"
  | "noiseInjection"
  | "selectiveRevealer";
export const STRATEGIES: readonly Strategy[] = [
  "honest",
  "lazyConstant",
  "lazyRandom",
  "lazyCopy",
  "boostFriend",
  "sabotageRival",
  "intermittent",
  "noiseInjection",
  "selectiveRevealer",
];

export interface AttackConfig {
  /** b in s' = min(max, s + b) (boost) and s' = max(0, s - b) (sabotage). */
  budget: number;
  /** Share of target tasks an intermittent attacker manipulates. */
  intermittentRate: number;
  /** sd of the noise a noise injector adds (bps). */
  noiseSd: number;
  /** The score a constant-lazy validator always reveals. */
  lazyConstant: number;
}
export const DEFAULT_ATTACK: AttackConfig = { budget: 10_000, intermittentRate: 0.5, noiseSd: 3_000, lazyConstant: 6_000 };

export interface ScoreContext {
  task: Task;
  /** Is the task's provider this attacker's target (friend for boosting, rival for sabotage)? */
  targeted: boolean;
  /** The consensus of the previous finalized task (public on-chain), for copy-lazy validators. */
  lastConsensus: number;
  attack: AttackConfig;
  evaluator: EvaluatorModel;
}

/** The score a validator of `strategy` reveals. */
export function scoreFor(strategy: Strategy, ctx: ScoreContext, rng: Random): number {
  const honest = () => clampScore(ctx.task.view + rng.normal(0, ctx.evaluator.validatorNoiseSd));
  const { budget } = ctx.attack;
  switch (strategy) {
    case "honest":
      return honest();
    case "lazyConstant":
      return ctx.attack.lazyConstant;
    case "lazyRandom":
      return rng.int(0, MAX);
    case "lazyCopy":
      return ctx.lastConsensus;
    case "boostFriend":
      return ctx.targeted ? Math.min(MAX, honest() + budget) : honest();
    case "sabotageRival":
      return ctx.targeted ? Math.max(0, honest() - budget) : honest();
    case "intermittent":
      return ctx.targeted && rng.chance(ctx.attack.intermittentRate) ? Math.min(MAX, honest() + budget) : honest();
    case "noiseInjection":
      return clampScore(honest() + rng.normal(0, ctx.attack.noiseSd));
    case "selectiveRevealer":
      return honest(); // scores honestly; whether it reveals is decided after the others' reveals (earnings.ts)
  }
}

/** The rules compared: the three on-chain rules plus the plain mean as the non-robust baseline. */
export type SimRule = "mean" | "median" | "trimmedMean" | "weightedMedian";
export const RULES: readonly SimRule[] = ["mean", "median", "trimmedMean", "weightedMedian"];
const ON_CHAIN: Record<Exclude<SimRule, "mean">, ConsensusRule> = {
  median: ConsensusRule.Median,
  trimmedMean: ConsensusRule.TrimmedMean,
  weightedMedian: ConsensusRule.WeightedMedian,
};

/**
 * Consensus under `rule`, computed with the contracts' own math (sdk/protocol-math.ts). The mean is not an
 * on-chain rule; it is the baseline a naive design would use (rounded down like the others).
 */
export function consensusOf(rule: SimRule, scores: readonly bigint[], stakes: readonly bigint[], trimBps: bigint): bigint {
  if (rule === "mean") return scores.reduce((a, b) => a + b, 0n) / BigInt(scores.length);
  return aggregate(ON_CHAIN[rule], scores, stakes, trimBps);
}

/** Rounds for reporting (results are ratios or shares; more digits would be Monte-Carlo noise). */
export const roundTo = (x: number, digits: number): number => Math.round(x * 10 ** digits) / 10 ** digits;
