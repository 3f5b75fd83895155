import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { parseEther } from "viem";
import { decideClaim } from "../../../daemon/roles/claim-policy.ts";
import { configSchema } from "../../../daemon/config/schema.ts";

const GWEI = 10n ** 9n;
// A claim's gas at 10 gwei (67,100 here for round figures): 0.00067 of a native coin.
const base = { gas: 67_100n, gasPriceWei: 10n * GWEI, margin: 100, tokenPerNative: 1, nowMs: 1_000_000_000, maxIntervalMs: 86_400_000 };

describe("claim policy: claim when the credit is worth the gas, or after a long interval", () => {
  it("leaves small credit to accumulate and claims once it is worth margin x the cost", () => {
    const cost = base.gas * base.gasPriceWei; // 0.000671 native = 0.000671 tokens at tokenPerNative 1
    assert.deepEqual(decideClaim({ ...base, credit: cost * 99n, creditSinceMs: base.nowMs }), { claim: false, why: "not-worth-it-yet" });
    assert.deepEqual(decideClaim({ ...base, credit: cost * 100n, creditSinceMs: base.nowMs }), { claim: true, why: "worth-it" });
  });

  it("prices gas in tokens with tokenPerNative (a token worth less than the coin needs more credit)", () => {
    const credit = parseEther("0.1");
    assert.equal(decideClaim({ ...base, credit, tokenPerNative: 1 }).claim, true);
    assert.equal(decideClaim({ ...base, credit, tokenPerNative: 2_000 }).claim, false, "0.1 token < 100 x 0.000671 x 2000 tokens");
    assert.equal(decideClaim({ ...base, credit, tokenPerNative: 0.5 }).claim, true);
  });

  it("without a token price (the default) claims only once the credit waited maxIntervalMs", () => {
    const large = { ...base, tokenPerNative: undefined, credit: parseEther("1000") };
    assert.deepEqual(decideClaim({ ...large, creditSinceMs: base.nowMs - base.maxIntervalMs + 1 }), { claim: false, why: "waiting-for-interval" });
    assert.deepEqual(decideClaim({ ...large, creditSinceMs: base.nowMs - base.maxIntervalMs }), { claim: true, why: "interval" });
    assert.equal(configSchema.shape.claim.parse({}).tokenPerNative, undefined, "no guessed price by default");
  });

  it("claims anyway after maxIntervalMs, and never claims nothing", () => {
    const small = { ...base, credit: 1n };
    assert.deepEqual(decideClaim({ ...small, creditSinceMs: base.nowMs - base.maxIntervalMs + 1 }), { claim: false, why: "not-worth-it-yet" });
    assert.deepEqual(decideClaim({ ...small, creditSinceMs: base.nowMs - base.maxIntervalMs }), { claim: true, why: "interval" });
    assert.deepEqual(decideClaim({ ...base, credit: 0n, creditSinceMs: 0 }), { claim: false, why: "nothing" });
  });

  it("config: validated (margin >= 1, a positive price, an interval of at least a minute)", () => {
    const parse = (claim: unknown) => configSchema.shape.claim.safeParse(claim);
    assert.equal(parse({}).success, true);
    assert.equal(parse({ gasMargin: 0.5 }).success, false);
    assert.equal(parse({ tokenPerNative: 0 }).success, false);
    assert.equal(parse({ maxIntervalMs: 1_000 }).success, false);
    assert.equal(parse({ unknown: 1 }).success, false);
  });
});
