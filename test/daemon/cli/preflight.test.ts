import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { seatChance } from "../../../daemon/cli/preflight.ts";

describe("cli/preflight: the chance of a committee seat that `validator start` reports", () => {
  it("is k/n when every validator stakes the same (draws without replacement)", () => {
    assert.ok(Math.abs(seatChance(10n, 60n, 6, 5) - 5 / 6) < 1e-12);
    assert.ok(Math.abs(seatChance(1n, 10n, 10, 3) - 3 / 10) < 1e-12);
  });

  it("matches a simulation of the stake-weighted draw for an uneven stake", () => {
    const stakes = [1, 1_000, 1_000, 1_000, 1_000, 1_000];
    const k = 5;
    let seated = 0;
    const trials = 200_000;
    for (let t = 0; t < trials; t++) {
      const left = stakes.map((w, i) => ({ w, i }));
      for (let draw = 0; draw < k; draw++) {
        let r = Math.random() * left.reduce((a, x) => a + x.w, 0);
        const pick = left.findIndex((x) => (r -= x.w) < 0);
        if (left[pick]!.i === 0) seated++;
        left.splice(pick, 1);
      }
    }
    const estimate = seatChance(1n, 5_001n, 6, 5);
    // The binomial standard deviation here is about 0.0001: 0.001 is a ten-sigma margin.
    assert.ok(Math.abs(seated / trials - estimate) < 0.001, `simulated ${seated / trials}, computed ${estimate}`);
  });

  it("is 0 without stake or without enough validators for a committee, 1 when every validator sits", () => {
    assert.equal(seatChance(0n, 100n, 6, 5), 0);
    assert.equal(seatChance(5n, 10n, 2, 5), 0);
    assert.equal(seatChance(5n, 25n, 5, 5), 1);
  });
});
