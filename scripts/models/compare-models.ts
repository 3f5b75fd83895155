/**
 * Runs two BERT-style classifiers (input_ids, attention_mask and optionally token_type_ids -> logits) on the same
 * seeded token batches, padded rows included, and returns the largest logit difference. Graph rewrites that are
 * meant to be exact (class-token pruning) are checked with it before a rewritten file is used.
 */
import * as ort from "onnxruntime-node";
import { SeededRandom } from "./seeded-random.ts";

/** Two batches: 3 pairs padded to 40 tokens, and 1 pair of 17 tokens. Ids stay inside BERT's 30,522 vocabulary. */
function sampleFeeds(inputNames: readonly string[], seed: number): Record<string, ort.Tensor>[] {
  const rng = new SeededRandom(seed);
  return [[40, 33, 12], [17]].map((lengths) => {
    const width = Math.max(...lengths);
    const tensor = (value: (row: number, i: number) => number) =>
      new ort.Tensor("int64", BigInt64Array.from({ length: lengths.length * width }, (_, k) => BigInt(value(Math.floor(k / width), k % width))), [lengths.length, width]);
    const ids = lengths.map((n) => Array.from({ length: width }, (_, i) => (i >= n ? 0 : i === 0 ? 101 : i === n - 1 || i === 6 ? 102 : 1000 + (rng.nextUint32() % 29_000))));
    const all: Record<string, ort.Tensor> = {
      input_ids: tensor((r, i) => ids[r]![i]!),
      attention_mask: tensor((r, i) => (i < lengths[r]! ? 1 : 0)),
      token_type_ids: tensor((r, i) => (i > 6 && i < lengths[r]! ? 1 : 0)),
    };
    return Object.fromEntries(inputNames.map((name) => [name, all[name]!]));
  });
}

export async function maxLogitGap(a: Uint8Array, b: Uint8Array, seed = 1): Promise<number> {
  const [first, second] = await Promise.all([a, b].map((bytes) => ort.InferenceSession.create(bytes, { logSeverityLevel: 3 })));
  try {
    let gap = 0;
    for (const feeds of sampleFeeds(first!.inputNames, seed)) {
      const [x, y] = await Promise.all([first!.run(feeds), second!.run(feeds)]);
      const xs = x[first!.outputNames[0]!]!.data as Float32Array;
      const ys = y[second!.outputNames[0]!]!.data as Float32Array;
      if (xs.length !== ys.length) return Number.POSITIVE_INFINITY;
      xs.forEach((v, i) => (gap = Math.max(gap, Math.abs(v - ys[i]!))));
    }
    return gap;
  } finally {
    await Promise.all([first!.release(), second!.release()]);
  }
}
