/**
 * Earnings experiment: a fixed population of staked validators with mixed strategies serves many tasks under the
 * contracts' reward split (sdk/protocol-math.ts, default parameters unless overridden). Committees are drawn like
 * TaskMarket draws them: k distinct members, stake-weighted, without replacement. Reported per strategy: pay per
 * committee seat relative to the honest validators' mean, and its spread across the validators of that strategy.
 * Providers: mean consensus vs truth and mean pay as a share of the fee (the downgraded provider's gain shows here).
 *
 * Reveals: every strategy reveals except the selective revealer, which waits for the others' reveals and
 * withholds its own whenever the outcome would not pay it (its score is outside the tolerance of the consensus).
 * Reveals open as soon as every member committed (or after the commit window): the selective revealer can still
 * reveal last, so opening early changes nothing here; no score is public before every commitment is fixed.
 * A non-revealer pays the contracts' non-reveal penalty (a multiple of its seat's share); below quorum the round
 * pays nobody (the contract rolls it to a new committee; the simulator does not replay it).
 */
import {
  BPS,
  DEFAULT_NON_REVEAL_PENALTY_BPS,
  nonRevealPenalty,
  rewardSplit,
  type RewardParams,
} from "../../sdk/protocol-math.ts";
import {
  consensusOf,
  drawTask,
  PROVIDERS,
  roundTo,
  scoreFor,
  STRATEGIES,
  type AttackConfig,
  type EvaluatorModel,
  type SimRule,
  type Strategy,
} from "./model.ts";
import { createRandom, type Random } from "./random.ts";

/** Population mix: 55% honest, three lazy kinds and selective revealers at 5% each, four attacker coalitions at
 * 6.25% each. */
export const DEFAULT_MIX: Readonly<Record<Strategy, number>> = {
  honest: 0.55,
  lazyConstant: 0.05,
  lazyRandom: 0.05,
  lazyCopy: 0.05,
  boostFriend: 0.0625,
  sabotageRival: 0.0625,
  intermittent: 0.0625,
  noiseInjection: 0.0625,
  selectiveRevealer: 0.05,
};
/** TaskMarket's default quorum: 3 of 5 (quorumBps 6,000). */
const QUORUM_BPS = 6_000n;
/** Which provider each coalition targets (noise injectors attack every task). */
const TARGET: Partial<Record<Strategy, string>> = { boostFriend: "weak", sabotageRival: "strong", intermittent: "average" };

export interface EarningsConfig {
  seed: string;
  rounds: number;
  committeeSize: number;
  population: number;
  rule: SimRule;
  trimBps: bigint;
  params: RewardParams;
  attack: AttackConfig;
  evaluator: EvaluatorModel;
  mix?: Readonly<Record<Strategy, number>>;
  /** Non-reveal penalty in bps of the seat's share (default: the contracts' default). */
  nonRevealPenaltyBps?: bigint;
}

export interface StrategyEarnings {
  /** Mean pay per seat of this strategy's validators / honest validators' mean pay per seat. */
  mean: number;
  /** Standard deviation of that ratio across this strategy's validators. */
  sd: number;
  validators: number;
}
export interface ProviderOutcome {
  meanTruth: number;
  meanConsensus: number;
  /** Mean provider pay as a share of the fee. */
  payShare: number;
  /** Mean pay share had the consensus equalled the true score: what honest scoring of the truth would pay. */
  payShareAtTruth: number;
}
export interface EarningsResult {
  byStrategy: Record<Strategy, StrategyEarnings>;
  byProvider: Record<string, ProviderOutcome>;
}

const FEE = 10n ** 18n; // one token in wei: large enough that rounding dust is negligible in the ratios

interface Validator {
  strategy: Strategy;
  stake: number;
  seats: number;
  earned: bigint;
}

function makePopulation(rng: Random, size: number, mix: Readonly<Record<Strategy, number>>): Validator[] {
  const population: Validator[] = [];
  for (const strategy of STRATEGIES) {
    const count = Math.round(size * mix[strategy]);
    for (let i = 0; i < count; i++) population.push({ strategy, stake: rng.logNormal(0, 1), seats: 0, earned: 0n });
  }
  return population;
}

/** k distinct members, each draw proportional to stake among those not yet drawn (TaskMarket's sortition). */
function drawCommittee(rng: Random, population: readonly Validator[], k: number): Validator[] {
  const chosen = new Set<number>();
  const total = population.reduce((acc, v) => acc + v.stake, 0);
  while (chosen.size < k) {
    let point = rng.uniform() * total;
    let index = 0;
    while (index < population.length - 1 && point >= population[index].stake) point -= population[index++].stake;
    chosen.add(index); // a duplicate is rejected by the set and redrawn, like the contract's bounded retries
  }
  return [...chosen].map((i) => population[i]);
}

export function runEarnings(cfg: EarningsConfig): EarningsResult {
  const rng = createRandom(cfg.seed, `earnings/${cfg.rule}`);
  const population = makePopulation(rng, cfg.population, cfg.mix ?? DEFAULT_MIX);
  const providerSums = new Map(PROVIDERS.map((p) => [p.name, { n: 0, truth: 0, consensus: 0, pay: 0, payAtTruth: 0 }]));
  let lastConsensus = 5_000;
  for (let round = 0; round < cfg.rounds; round++) {
    const provider = PROVIDERS[rng.int(0, PROVIDERS.length - 1)];
    const task = drawTask(rng, provider, cfg.evaluator);
    const committee = drawCommittee(rng, population, cfg.committeeSize);
    const scores = committee.map((v) => {
      const target = TARGET[v.strategy];
      const targeted = v.strategy === "noiseInjection" || target === provider.name;
      const ctx = { task, targeted, lastConsensus, attack: cfg.attack, evaluator: cfg.evaluator };
      return BigInt(scoreFor(v.strategy, ctx, rng));
    });
    const stakes = committee.map((v) => BigInt(Math.max(1, Math.round(v.stake * 1_000))));
    const outcome = consensusOf(cfg.rule, scores, stakes, cfg.trimBps);
    // The selective revealer sees the outcome the others' reveals make and withholds when it would not be paid.
    const revealed = committee.map((v, i) => {
      if (v.strategy !== "selectiveRevealer") return true;
      const distance = scores[i] > outcome ? scores[i] - outcome : outcome - scores[i];
      return distance < cfg.params.tolerance;
    });
    const shown = (xs: readonly bigint[]) => xs.filter((_, i) => revealed[i]);
    const revealedCount = BigInt(revealed.filter(Boolean).length);
    const quorum = revealedCount * BPS >= BigInt(cfg.committeeSize) * QUORUM_BPS;
    const consensus = quorum ? consensusOf(cfg.rule, shown(scores), shown(stakes), cfg.trimBps) : outcome;
    const split = rewardSplit(FEE, consensus, scores, revealed, cfg.params);
    const penalty = nonRevealPenalty(FEE, cfg.committeeSize, cfg.params.validatorPoolBps, cfg.nonRevealPenaltyBps ?? DEFAULT_NON_REVEAL_PENALTY_BPS);
    committee.forEach((v, i) => {
      v.seats++;
      if (!revealed[i]) v.earned -= penalty;
      else if (quorum) v.earned += split.validators[i];
    });
    const atTruth = rewardSplit(FEE, BigInt(task.truth), [], [], cfg.params).provider;
    const sums = providerSums.get(provider.name)!;
    sums.n++;
    sums.truth += task.truth;
    sums.consensus += Number(consensus);
    sums.pay += Number(split.provider) / Number(FEE);
    sums.payAtTruth += Number(atTruth) / Number(FEE);
    lastConsensus = Number(consensus);
  }
  const perSeat = (v: Validator) => (v.seats === 0 ? null : Number(v.earned) / Number(FEE) / v.seats);
  const honestRates = population.filter((v) => v.strategy === "honest").map(perSeat).filter((x) => x !== null);
  const honestMean = honestRates.reduce((a, b) => a + b, 0) / honestRates.length;
  const byStrategy = {} as Record<Strategy, StrategyEarnings>;
  for (const strategy of STRATEGIES) {
    const ratios = population
      .filter((v) => v.strategy === strategy)
      .map(perSeat)
      .filter((x) => x !== null)
      .map((x) => x / honestMean);
    const mean = ratios.reduce((a, b) => a + b, 0) / ratios.length;
    const sd = Math.sqrt(ratios.reduce((a, b) => a + (b - mean) ** 2, 0) / Math.max(1, ratios.length - 1));
    byStrategy[strategy] = { mean: roundTo(mean, 3), sd: roundTo(sd, 3), validators: ratios.length };
  }
  const byProvider: Record<string, ProviderOutcome> = {};
  for (const [name, s] of providerSums) {
    byProvider[name] = {
      meanTruth: Math.round(s.truth / s.n),
      meanConsensus: Math.round(s.consensus / s.n),
      payShare: roundTo(s.pay / s.n, 3),
      payShareAtTruth: roundTo(s.payAtTruth / s.n, 3),
    };
  }
  return { byStrategy, byProvider };
}
