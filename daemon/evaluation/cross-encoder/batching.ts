/**
 * Length bucketing and dynamic padding. Pairs are sorted by token count and cut into batches of similar
 * lengths, so a batch is padded only to its own longest pair (not to maxTokens, and not to the longest pair of
 * the whole request); results are put back in input order by the caller through `Batch.indices`.
 */
import * as ort from "onnxruntime-node";
import type { EncodedPair } from "./pair-encoder.ts";

export interface BatchLimits {
  /** At most this many pairs per model run. */
  maxBatchSize: number;
  /**
   * At most this many padded tokens (pairs x longest pair) per run. Bounds peak memory: attention holds
   * batch x heads x length^2 floats, so 16 pairs of 512 tokens would take over 1 GB.
   */
  maxBatchTokens: number;
}

export interface Batch {
  /** Input positions of the pairs in this batch, shortest first. */
  indices: number[];
  /** Padded length: the longest pair of this batch. */
  length: number;
}

/** Sorts by length (ties by input position, so plans are deterministic) and fills batches greedily. */
export function planBatches(lengths: readonly number[], limits: BatchLimits): Batch[] {
  if (limits.maxBatchSize < 1 || limits.maxBatchTokens < 1) throw new RangeError("batch limits must be positive");
  const order = lengths.map((_, i) => i).sort((a, b) => lengths[a]! - lengths[b]! || a - b);
  const batches: Batch[] = [];
  let current: Batch | undefined;
  for (const index of order) {
    const length = lengths[index]!;
    // Sorted ascending, so the new pair is the longest of the batch it joins.
    const fits = current && current.indices.length < limits.maxBatchSize && (current.indices.length + 1) * length <= limits.maxBatchTokens;
    if (current && fits) {
      current.indices.push(index);
      current.length = length;
    } else {
      current = { indices: [index], length };
      batches.push(current);
    }
  }
  return batches;
}

export interface PaddedFeeds {
  input_ids: BigInt64Array;
  attention_mask: BigInt64Array;
  token_type_ids: BigInt64Array;
  batchSize: number;
  length: number;
}

/** Right-pads every pair to the batch's length with padId, mask 0 and type id 0 (what HF tokenizers do). */
export function padBatch(pairs: readonly EncodedPair[], length: number, padId: number): PaddedFeeds {
  const batchSize = pairs.length;
  const inputIds = new BigInt64Array(batchSize * length).fill(BigInt(padId));
  const attentionMask = new BigInt64Array(batchSize * length);
  const tokenTypeIds = new BigInt64Array(batchSize * length);
  pairs.forEach((pair, row) => {
    if (pair.inputIds.length > length) throw new RangeError(`pair of ${pair.inputIds.length} tokens in a batch padded to ${length}`);
    const offset = row * length;
    for (let i = 0; i < pair.inputIds.length; i++) {
      inputIds[offset + i] = BigInt(pair.inputIds[i]!);
      attentionMask[offset + i] = 1n;
      tokenTypeIds[offset + i] = BigInt(pair.tokenTypeIds[i]!);
    }
  });
  return { input_ids: inputIds, attention_mask: attentionMask, token_type_ids: tokenTypeIds, batchSize, length };
}

/** ONNX Runtime tensors for the model's inputs, under the names the manifest gives (token types only when named). */
export function toOrtFeeds(feeds: PaddedFeeds, inputNames: readonly [string, string, string] | readonly [string, string]): Record<string, ort.Tensor> {
  const dims = [feeds.batchSize, feeds.length];
  const [ids, mask, types] = inputNames;
  return {
    [ids]: new ort.Tensor("int64", feeds.input_ids, dims),
    [mask]: new ort.Tensor("int64", feeds.attention_mask, dims),
    ...(types === undefined ? {} : { [types]: new ort.Tensor("int64", feeds.token_type_ids, dims) }),
  };
}
