import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { LandMargin } from "../../../daemon/roles/relayer/land-margin.ts";

/** Heads `from`..`to` seen `msPerBlock` apart, starting at `t0`. */
function follow(margin: LandMargin, from: number, to: number, msPerBlock: number, t0 = 0): number {
  let at = t0;
  for (let block = from; block <= to; block++, at += msPerBlock) margin.onHead(BigInt(block), at);
  return at - msPerBlock;
}

describe("relayer land margin: blocks before a validator's fallback block at which a report is released", () => {
  it("is two blocks before the chain's pace is known, and on a 12 s chain", () => {
    const margin = new LandMargin();
    assert.equal(margin.blocks(), 2n);
    follow(margin, 100, 110, 12_000);
    assert.equal(margin.blocks(), 2n);
  });

  it("covers twice a second of sending in blocks on a fast chain (250 ms blocks: 8), where two blocks would be 0.5 s", () => {
    const margin = new LandMargin();
    follow(margin, 1, 40, 250);
    assert.equal(margin.blocks(), 8n);
  });

  it("grows with the aggregator's slowest recent release-to-landed time, and shrinks back once it is no longer recent", () => {
    const margin = new LandMargin();
    const now = follow(margin, 1, 40, 200);
    margin.landed(now - 3_000, now); // a report took 3 s to land under load: 6 s of margin, 30 blocks
    assert.equal(margin.blocks(), 30n);
    for (let i = 0; i < 8; i++) margin.landed(now - 400, now); // eight quick ones since: back to the 1 s floor
    assert.equal(margin.blocks(), 10n);
  });

  it("follows the pace when it changes, and counts skipped heads (a poll that saw several blocks) as one interval each", () => {
    const margin = new LandMargin();
    let at = follow(margin, 1, 20, 1_000);
    assert.equal(margin.blocks(), 2n);
    for (let block = 22; block <= 80; block += 2) margin.onHead(BigInt(block), (at += 200)); // two blocks per 200 ms poll
    assert.equal(margin.blocks(), 20n);
  });
});
