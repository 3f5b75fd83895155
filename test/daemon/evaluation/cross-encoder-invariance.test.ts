import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { CrossEncoderEvaluator } from "../../../daemon/evaluation/cross-encoder/cross-encoder-evaluator.ts";
import { loadManifest } from "../../../daemon/evaluation/manifest.ts";
import { mixedLengthPairs } from "../../../scripts/bench/scorer-workloads.ts";
import { ensureGeneratedModel } from "../../../scripts/models/generated-models.ts";

// The full-size int8 model, because float kernel paths depend on sizes: a 1-row attention MatMul in the pruned
// last layer once gave 1 of these 96 pairs a last-bit different logit when padded (see prune-class-token.ts).
describe("full-size int8 cross-encoder on mixed-length traffic", () => {
  let evaluator: CrossEncoderEvaluator;
  before(async () => {
    const dir = ensureGeneratedModel("generated-minilm-l6-int8");
    evaluator = await CrossEncoderEvaluator.load(await loadManifest(dir), dir);
  });
  after(async () => evaluator?.close());

  it("gives every pair bit-identical logits in padded, length-bucketed batches and alone", async () => {
    const pairs = mixedLengthPairs(96, 42);
    const batched = await evaluator.score(pairs);
    const lengths = new Set(batched.map((r) => r.detail?.tokens));
    assert.ok(lengths.size > 60, "the workload must mix many lengths, so batches are padded");
    for (const [i, pair] of pairs.entries()) {
      const [alone] = await evaluator.score([pair]);
      assert.equal(alone!.raw[0], batched[i]!.raw[0], `pair ${i} (${batched[i]!.detail?.tokens} tokens)`);
      assert.equal(alone!.score, batched[i]!.score);
    }
  });
});
