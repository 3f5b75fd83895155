/**
 * The simulator's own checks: seeded runs repeat exactly, the robust rules behave as the theory says on a small
 * grid, lazy validators earn less than honest ones under the default rule, and the plot is a drawable SVG.
 * Small round counts keep this under a few seconds; the figures in docs/ECONOMICS.md come from `npm run sim`.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { DEFAULT_REWARD_PARAMS } from "../../sdk/protocol-math.ts";
import { runCollusion } from "../../scripts/sim/collusion.ts";
import { runEarnings } from "../../scripts/sim/earnings.ts";
import { DEFAULT_ATTACK, DEFAULT_EVALUATOR, RULES } from "../../scripts/sim/model.ts";
import { maeVsShareSvg } from "../../scripts/sim/plot.ts";
import { runRobustness } from "../../scripts/sim/robustness.ts";

const robustnessConfig = {
  seed: "test",
  rounds: 600,
  committeeSizes: [9],
  shares: [0, 0.2, 0.4, 0.6],
  trimBps: 2_000n,
  tolerance: 1_500,
  attack: DEFAULT_ATTACK,
  evaluator: DEFAULT_EVALUATOR,
};
const earningsConfig = {
  seed: "test",
  rounds: 1_500,
  committeeSize: 5,
  population: 200,
  rule: "median" as const,
  trimBps: 2_000n,
  params: DEFAULT_REWARD_PARAMS,
  attack: DEFAULT_ATTACK,
  evaluator: DEFAULT_EVALUATOR,
};

describe("economic simulator", () => {
  it("repeats exactly for a seed and changes with it", () => {
    const a = runRobustness(robustnessConfig);
    const b = runRobustness(robustnessConfig);
    assert.deepEqual(a.mae, b.mae);
    assert.notDeepEqual(runRobustness({ ...robustnessConfig, seed: "other" }).mae, a.mae);
  });

  it("robust rules track the truth better than the mean under a boosting minority", () => {
    const { mae, breakingShare } = runRobustness(robustnessConfig);
    const boost = mae["9"].boost;
    for (const rule of RULES) assert.ok(boost[rule]["0.00"] < 1_000, `${rule} honest error ${boost[rule]["0.00"]}`);
    assert.ok(boost.median["0.20"] < boost.mean["0.20"] - 200, `median ${boost.median["0.20"]} vs mean ${boost.mean["0.20"]}`);
    assert.ok(boost.trimmedMean["0.20"] < boost.mean["0.20"]);
    // A majority of attackers owns the median: every rule is broken by 0.6.
    for (const rule of RULES) assert.notEqual(breakingShare["9"].boost[rule], null);
    assert.ok(breakingShare["9"].boost.mean! <= breakingShare["9"].boost.median!);
  });

  it("lazy validators earn less than honest ones under the median", () => {
    const { byStrategy } = runEarnings(earningsConfig);
    assert.equal(byStrategy.honest.mean, 1);
    for (const lazy of ["lazyConstant", "lazyRandom", "lazyCopy"] as const) {
      assert.ok(byStrategy[lazy].mean < 0.8, `${lazy} earns ${byStrategy[lazy].mean} of honest`);
    }
  });

  it("a selective revealer (withholds when the outcome would not pay it) earns less than an honest validator", () => {
    const { byStrategy } = runEarnings(earningsConfig);
    assert.ok(byStrategy.selectiveRevealer.validators > 0);
    assert.ok(byStrategy.selectiveRevealer.mean < 1, `selective revealer earns ${byStrategy.selectiveRevealer.mean} of honest`);
  });

  it("a requester coalition gains nothing without committee members and more with a larger refund", () => {
    const base = { seed: "test", rounds: 1_500, committeeSize: 5, rule: "median" as const, trimBps: 2_000n };
    const common = { ...base, evaluator: DEFAULT_EVALUATOR, side: "requester" as const };
    const none = runCollusion({ ...common, share: 0, params: DEFAULT_REWARD_PARAMS });
    assert.equal(none.gainPerTask, 0);
    const low = runCollusion({ ...common, share: 0.4, params: { ...DEFAULT_REWARD_PARAMS, refundBps: 0n } });
    const high = runCollusion({ ...common, share: 0.4, params: { ...DEFAULT_REWARD_PARAMS, refundBps: 5_000n } });
    assert.ok(high.gainPerTask > low.gainPerTask, `${high.gainPerTask} vs ${low.gainPerTask}`);
    assert.ok(high.providerDelta < 0);
  });

  it("draws one line per rule and the tolerance in the SVG", () => {
    const { mae } = runRobustness({ ...robustnessConfig, rounds: 50 });
    const svg = maeVsShareSvg(mae["9"], 1_500, "test <figure>");
    assert.match(svg, /^<svg xmlns="http:\/\/www.w3.org\/2000\/svg"/);
    assert.equal(svg.match(/<polyline /g)?.length, RULES.length * 4);
    assert.match(svg, /tolerance 1500/);
    assert.match(svg, /test &lt;figure&gt;/);
    assert.ok(svg.trimEnd().endsWith("</svg>"));
  });
});
