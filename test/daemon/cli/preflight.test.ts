import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { PublicClient } from "viem";
import { describeStanding, providerProblems, seatChance } from "../../../daemon/cli/preflight.ts";
import { startTestChain } from "../../helpers/chain.ts";
import { createTestAccount, deployTestProtocol } from "../../helpers/daemon.ts";

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

  it("warns at start when the validator will never, or hardly ever, be drawn", () => {
    const token = { decimals: 18, symbol: "POQ" };
    const account = "0x000000000000000000000000000000000000dEaD" as const;
    const base = { totalWeight: 5n * 10n ** 24n, validators: 6, committeeSize: 5, minStake: 10n ** 18n, registered: true };
    const none = describeStanding({ ...base, stake: 0n, chance: 0 }, token, account);
    assert.equal(none.warn, true);
    assert.match(none.line, /has 0 POQ staked as validator \(minimum 1 POQ\): it will never be drawn\. Stake first: poq stake <tokens> --role validator/);
    const tiny = 1_000n * 10n ** 18n;
    const small = describeStanding({ ...base, stake: tiny, chance: seatChance(tiny, base.totalWeight + tiny, 6, 5) }, token, account);
    assert.equal(small.warn, true);
    assert.match(small.line, /^stake 1000 POQ of 5000000 POQ staked by all 6 validators: about 0\.23% chance/);
    const big = 10n ** 24n;
    const fair = describeStanding({ ...base, stake: big, totalWeight: 6n * big, chance: seatChance(big, 6n * big, 6, 5) }, token, account);
    assert.equal(fair.warn, false);
    assert.match(fair.line, /about 83% chance of a seat on each task's committee of 5$/);
    const undeclared = describeStanding({ ...base, stake: big, totalWeight: 6n * big, registered: false, chance: 0 }, token, account);
    assert.equal(undeclared.warn, true);
    assert.match(undeclared.line, /has not declared the evaluator it runs \(registerEvaluator\).*--evaluator-dir/);
  });

  it("warns a provider with no stake, or with a configured model it never registered (real chain)", async () => {
    const chain = await startTestChain();
    try {
      const protocol = await deployTestProtocol(chain);
      const provider = await createTestAccount(chain, protocol, { role: "provider", models: ["served"] });
      const client = chain.publicClient as PublicClient;
      assert.deepEqual(await providerProblems(client, protocol.manifest, provider.address, ["served"]), []);
      const missing = await providerProblems(client, protocol.manifest, provider.address, ["served", "forgotten"]);
      assert.equal(missing.length, 1);
      assert.match(missing[0]!, /^model "forgotten" is configured but not registered on-chain/);
      const stranger = await createTestAccount(chain);
      assert.match((await providerProblems(client, protocol.manifest, stranger.address, ["served"]))[0]!, /has no provider stake: it will never be assigned a task/);
    } finally {
      await chain.close();
    }
  });
});
