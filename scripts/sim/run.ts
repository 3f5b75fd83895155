/**
 * `npm run sim -- [--rounds N] [--seed S] [--committee-sizes 5,9,15] [--json] [--plot file.svg|file.png]`
 *
 * Monte-Carlo economics of Proof of Quality with the contracts' own consensus and reward math
 * (sdk/protocol-math.ts, cross-checked against the Solidity by test/sim/protocol-math.test.ts). Runs three
 * experiments (robustness of each rule, validator earnings by strategy, coalition gains) and prints a summary;
 * with --json the last stdout line is one JSON object with every figure. docs/ECONOMICS.md interprets them.
 */
import { writeFileSync } from "node:fs";
import { performance } from "node:perf_hooks";
import { Command, InvalidArgumentError } from "commander";
import { DEFAULT_REWARD_PARAMS } from "../../sdk/protocol-math.ts";
import { runCollusion, type CoalitionSide } from "./collusion.ts";
import { runEarnings } from "./earnings.ts";
import { DEFAULT_ATTACK, DEFAULT_EVALUATOR, RULES, STRATEGIES, type SimRule } from "./model.ts";
import { maeVsShareSvg } from "./plot.ts";
import { svgToPng } from "./rasterize.ts";
import { runRobustness, shareKey } from "./robustness.ts";
import { committeeSweep, toleranceSweep } from "./sensitivity.ts";

/** TaskMarket's defaults (contracts/libraries/MarketParams.sol) for what the simulator does not vary. */
const DEFAULT_COMMITTEE = 5;
const DEFAULT_TRIM_BPS = 2_000n;
const DEFAULT_RULE: SimRule = "median";
const POPULATION = 200;
const SHARE_GRID = Array.from({ length: 13 }, (_, i) => (i * 5) / 100); // 0.00 .. 0.60
const COALITION_SHARES = [0.1, 0.2, 0.3, 0.4];
const REFUND_OPTIONS = [0n, 2_500n, 5_000n];

const positiveInt = (min: number) => (value: string) => {
  const n = Number(value);
  if (!Number.isInteger(n) || n < min) throw new InvalidArgumentError(`expected an integer >= ${min}`);
  return n;
};
const sizeList = (value: string) => {
  const sizes = value.split(",").map((s) => Number(s.trim()));
  if (sizes.some((k) => !Number.isInteger(k) || k < 1 || k > 32)) throw new InvalidArgumentError("committee sizes are 1..32");
  return sizes;
};

const program = new Command("sim")
  .description("Proof-of-Quality economic simulation with the contracts' consensus and reward rules")
  .option("--rounds <n>", "Monte-Carlo rounds per experiment cell", positiveInt(1), 5_000)
  .option("--seed <seed>", "PRNG seed (same seed, same numbers)", "poq-sim-1")
  .option("--committee-sizes <list>", "committee sizes for the robustness grid", sizeList, [5, 9, 15])
  .option("--attack-budget <bps>", "b in boost s' = min(max, s + b) and sabotage s' = max(0, s - b)", positiveInt(1), DEFAULT_ATTACK.budget)
  .option("--json", "print the full result as one JSON object on the last line")
  .option("--plot <file>", "write the MAE-vs-attacker-share figure to this .svg (or .png, rendered by a system Chromium) file")
  .parse();
const opts = program.opts<{
  rounds: number;
  seed: string;
  committeeSizes: number[];
  attackBudget: number;
  json?: boolean;
  plot?: string;
}>();
const plotFormat = opts.plot === undefined ? undefined : /\.(svg|png)$/i.exec(opts.plot)?.[1].toLowerCase();
if (opts.plot !== undefined && plotFormat === undefined) program.error(`--plot takes a .svg or .png file, got ${opts.plot}`);

const started = performance.now();
const params = DEFAULT_REWARD_PARAMS;
const tolerance = Number(params.tolerance);
const attack = { ...DEFAULT_ATTACK, budget: opts.attackBudget };
const evaluator = DEFAULT_EVALUATOR;
const sizes = opts.committeeSizes.includes(DEFAULT_COMMITTEE) ? opts.committeeSizes : [DEFAULT_COMMITTEE, ...opts.committeeSizes];

const robustness = runRobustness({
  seed: opts.seed,
  rounds: opts.rounds,
  committeeSizes: sizes,
  shares: SHARE_GRID,
  trimBps: DEFAULT_TRIM_BPS,
  tolerance,
  attack,
  evaluator,
});

const earningsByRule = Object.fromEntries(
  RULES.map((rule) => [
    rule,
    runEarnings({
      seed: opts.seed,
      rounds: opts.rounds,
      committeeSize: DEFAULT_COMMITTEE,
      population: POPULATION,
      rule,
      trimBps: DEFAULT_TRIM_BPS,
      params,
      attack,
      evaluator,
    }),
  ]),
) as Record<SimRule, ReturnType<typeof runEarnings>>;

/** side -> refundBps -> rule -> coalition share -> result (the provider side does not depend on refundBps). */
function coalitionTable(side: CoalitionSide, refunds: readonly bigint[]) {
  return Object.fromEntries(
    refunds.map((refundBps) => [
      refundBps.toString(),
      Object.fromEntries(
        RULES.map((rule) => [
          rule,
          Object.fromEntries(
            COALITION_SHARES.map((share) => [
              shareKey(share),
              runCollusion({
                seed: opts.seed,
                rounds: opts.rounds,
                committeeSize: DEFAULT_COMMITTEE,
                rule,
                trimBps: DEFAULT_TRIM_BPS,
                params: { ...params, refundBps },
                evaluator,
                side,
                share,
              }),
            ]),
          ),
        ]),
      ),
    ]),
  );
}
const requesterCollusion = coalitionTable("requester", REFUND_OPTIONS);
const providerCollusion = coalitionTable("provider", [params.refundBps]);
const sweepConfig = {
  seed: opts.seed,
  rounds: opts.rounds,
  committeeSize: DEFAULT_COMMITTEE,
  rule: DEFAULT_RULE,
  trimBps: DEFAULT_TRIM_BPS,
  params,
  attack,
  evaluator,
  population: POPULATION,
};
const sensitivity = { tolerance: toleranceSweep(sweepConfig), committeeSize: committeeSweep(sweepConfig) };
const runSeconds = (performance.now() - started) / 1_000;

const k = String(DEFAULT_COMMITTEE);
const result = {
  rounds: opts.rounds,
  seed: opts.seed,
  committeeSizes: sizes,
  defaults: { committeeSize: DEFAULT_COMMITTEE, rule: DEFAULT_RULE, trimBps: Number(DEFAULT_TRIM_BPS), ...mapBig(params) },
  attack,
  evaluator,
  rewardRelativeToHonest: earningsByRule[DEFAULT_RULE].byStrategy,
  rewardRelativeToHonestByRule: Object.fromEntries(
    RULES.map((rule) => [rule, Object.fromEntries(STRATEGIES.map((s) => [s, earningsByRule[rule].byStrategy[s].mean]))]),
  ),
  providers: earningsByRule[DEFAULT_RULE].byProvider,
  consensusMaeAttack: "boost",
  consensusMae: robustness.mae[k].boost,
  consensusMaeGrid: robustness.mae,
  breakingShare: robustness.breakingShare,
  breakDefinition: `smallest attacker share on the grid with consensus MAE vs truth > tolerance (${tolerance} bps)`,
  honestFloorMae: robustness.honestFloorMae,
  requesterCollusion,
  providerCollusion,
  sensitivity,
  consensusMsPerRound: Number(robustness.consensusMsPerRound.toPrecision(3)),
  runSeconds: Number(runSeconds.toFixed(1)),
};

function mapBig(o: object): Record<string, number> {
  return Object.fromEntries(Object.entries(o).map(([key, v]) => [key, Number(v)]));
}

printSummary();
if (opts.plot !== undefined) {
  const svg = maeVsShareSvg(robustness.mae[k], tolerance, `Consensus error vs attacker share (k = ${k}, ${opts.rounds} rounds per point)`);
  writeFileSync(opts.plot, plotFormat === "png" ? await svgToPng(svg) : svg);
  console.log(`plot written to ${opts.plot}`);
}
if (opts.json) console.log(JSON.stringify(result));

function printSummary(): void {
  console.log(`PoQ economic simulation: ${opts.rounds} rounds per cell, seed "${opts.seed}", ${result.runSeconds} s`);
  console.log(`\nValidator pay per seat relative to honest (rule ${DEFAULT_RULE}, k = ${k}):`);
  console.table(
    Object.fromEntries(STRATEGIES.map((s) => [s, { ...result.rewardRelativeToHonest[s], ...ruleColumns(s) }])),
  );
  console.log("\nProviders (pay as a share of the fee):");
  console.table(result.providers);
  for (const size of sizes) {
    console.log(`\nConsensus MAE vs truth (bps), boost attack, k = ${size}:`);
    console.table(robustness.mae[String(size)].boost);
    console.log(`Breaking share (MAE > ${tolerance}), k = ${size}:`);
    console.table(robustness.breakingShare[String(size)]);
  }
  console.log(`\nRequester collusion, median, gain per task as a share of the fee, by refundBps:`);
  console.table(
    Object.fromEntries(
      REFUND_OPTIONS.map((r) => [
        r.toString(),
        Object.fromEntries(COALITION_SHARES.map((f) => [shareKey(f), requesterCollusion[r.toString()].median[shareKey(f)].gainPerTask])),
      ]),
    ),
  );
  console.log("\nValidator pay relative to honest by reward tolerance (median, k = 5):");
  console.table(sensitivity.tolerance);
  console.log("\nRequester-coalition gain per task (share of fee) by committee size, refundBps and coalition share:");
  console.table(
    Object.fromEntries(
      Object.entries(sensitivity.committeeSize).flatMap(([size, byRefund]) =>
        Object.entries(byRefund).map(([refund, byShare]) => [
          `k=${size} refund=${refund}`,
          Object.fromEntries(Object.entries(byShare).map(([f, r]) => [f, r.gainPerTask])),
        ]),
      ),
    ),
  );
  console.log(`consensus compute: ${result.consensusMsPerRound} ms per round (four rules)`);
}

function ruleColumns(strategy: (typeof STRATEGIES)[number]) {
  return Object.fromEntries(RULES.map((rule) => [`vs ${rule}`, earningsByRule[rule].byStrategy[strategy].mean]));
}
