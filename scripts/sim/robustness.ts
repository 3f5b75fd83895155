/**
 * Robustness experiment: how far each aggregation rule's consensus lands from the true score when a share of the
 * committee attacks the task's provider. Every round draws one task and one committee and aggregates the SAME
 * revealed scores with every rule (common random numbers), so differences between rules are not sampling noise.
 *
 * Attacker share f: each seat is an attacker with probability f (committees are drawn from a large pool in which
 * a fraction f of the stake colludes), so a committee of k holds Binomial(k, f) attackers.
 * A rule "breaks" at the smallest share on the grid whose consensus MAE exceeds the reward tolerance: from there on
 * the consensus is, on average, further from the truth than an honest validator may be and still earn anything.
 */
import { performance } from "node:perf_hooks";
import {
  clampScore,
  consensusOf,
  drawTask,
  PROVIDERS,
  RULES,
  scoreFor,
  type AttackConfig,
  type EvaluatorModel,
  type SimRule,
  type Strategy,
} from "./model.ts";
import { createRandom } from "./random.ts";

export type Attack = "boost" | "sabotage" | "intermittent" | "noise";
export const ATTACKS: readonly Attack[] = ["boost", "sabotage", "intermittent", "noise"];
const ATTACK_STRATEGY: Record<Attack, Strategy> = {
  boost: "boostFriend",
  sabotage: "sabotageRival",
  intermittent: "intermittent",
  noise: "noiseInjection",
};

export interface RobustnessConfig {
  seed: string;
  rounds: number;
  committeeSizes: readonly number[];
  shares: readonly number[];
  trimBps: bigint;
  tolerance: number;
  attack: AttackConfig;
  evaluator: EvaluatorModel;
}

/** MAE (bps) keyed by rule, then share formatted with two decimals ("0.25"). */
export type MaeTable = Record<SimRule, Record<string, number>>;

export interface RobustnessResult {
  /** committee size -> attack -> rule -> share -> MAE against the true score (bps). */
  mae: Record<string, Record<Attack, MaeTable>>;
  /** committee size -> attack -> rule -> smallest breaking share (null: never on the grid). */
  breakingShare: Record<string, Record<Attack, Record<SimRule, number | null>>>;
  /** Wall time of the four aggregations of one round, ms (the on-chain rules run the contracts' math). */
  consensusMsPerRound: number;
  /** MAE of a fully honest committee of the default size against the truth: the evaluator's own error floor. */
  honestFloorMae: number;
}

export const shareKey = (f: number): string => f.toFixed(2);

export function runRobustness(cfg: RobustnessConfig): RobustnessResult {
  const mae: RobustnessResult["mae"] = {};
  const breakingShare: RobustnessResult["breakingShare"] = {};
  let consensusMs = 0;
  let consensusRounds = 0;
  for (const k of cfg.committeeSizes) {
    const byAttack = {} as Record<Attack, MaeTable>;
    const breaks = {} as Record<Attack, Record<SimRule, number | null>>;
    for (const attack of ATTACKS) {
      const table = Object.fromEntries(RULES.map((r) => [r, {}])) as MaeTable;
      for (const share of cfg.shares) {
        // One stream per cell: adding a cell or a rule never changes another cell's numbers.
        const rng = createRandom(cfg.seed, `robustness/k${k}/${attack}/${shareKey(share)}`);
        const errorSum = Object.fromEntries(RULES.map((r) => [r, 0])) as Record<SimRule, number>;
        for (let round = 0; round < cfg.rounds; round++) {
          const task = drawTask(rng, PROVIDERS[rng.int(0, PROVIDERS.length - 1)], cfg.evaluator);
          const ctx = { task, targeted: true, lastConsensus: task.view, attack: cfg.attack, evaluator: cfg.evaluator };
          const scores: bigint[] = [];
          const stakes: bigint[] = [];
          for (let seat = 0; seat < k; seat++) {
            const strategy: Strategy = rng.chance(share) ? ATTACK_STRATEGY[attack] : "honest";
            scores.push(BigInt(clampScore(scoreFor(strategy, ctx, rng))));
            // Stakes: whole tokens, log-normal (a few whales), independent of strategy.
            stakes.push(BigInt(Math.max(1, Math.round(1_000 * rng.logNormal(0, 1)))));
          }
          const started = performance.now();
          const consensus = RULES.map((rule) => consensusOf(rule, scores, stakes, cfg.trimBps));
          consensusMs += performance.now() - started;
          consensusRounds++;
          RULES.forEach((rule, i) => (errorSum[rule] += Math.abs(Number(consensus[i]) - task.truth)));
        }
        for (const rule of RULES) table[rule][shareKey(share)] = Math.round(errorSum[rule] / cfg.rounds);
      }
      byAttack[attack] = table;
      breaks[attack] = Object.fromEntries(
        RULES.map((rule) => [rule, cfg.shares.find((f) => table[rule][shareKey(f)] > cfg.tolerance) ?? null]),
      ) as Record<SimRule, number | null>;
    }
    mae[String(k)] = byAttack;
    breakingShare[String(k)] = breaks;
  }
  const firstK = String(cfg.committeeSizes[0]);
  return {
    mae,
    breakingShare,
    consensusMsPerRound: consensusMs / consensusRounds,
    honestFloorMae: mae[firstK].boost.median[shareKey(cfg.shares[0])],
  };
}
