/**
 * Writes a Qwen3 sequence-classification reward model (the architecture of Skywork-Reward-V2-Qwen3-0.6B) as an ONNX
 * graph with seeded RANDOM weights. Inputs and output are those of a Hugging Face export of
 * Qwen3ForSequenceClassification for text classification (optimum's `--task text-classification`):
 * input_ids, attention_mask: int64 [batch, sequence] -> logits: float [batch, num_labels], pooled in the graph at
 * each row's last non-pad token, as transformers does it. The layers are Qwen3's: RMSNorm, grouped-query attention
 * with a per-head RMSNorm on queries and keys, rotary position embeddings (computed in the graph from the sequence
 * length, like an export does), causal plus padding mask, SwiGLU feed-forward, no biases. Its scores mean nothing;
 * its latency and memory are those of a real model of the same shape.
 */
import type { onnx as OnnxTypes } from "onnx-proto";
import { buildModelProto, GraphBuilder, onnx } from "./onnx-graph-builder.ts";
import { SeededRandom } from "./seeded-random.ts";

export interface DecoderShape {
  layers: number;
  hidden: number;
  heads: number;
  kvHeads: number;
  headDim: number;
  intermediate: number;
  vocabSize: number;
  ropeTheta: number;
  rmsEpsilon: number;
  /** config.pad_token_id: the pooling looks for the last token that is not this one. */
  padTokenId: number;
}

/** Qwen3-0.6B (and so Skywork-Reward-V2-Qwen3-0.6B): 28 layers, hidden 1024, 16 query / 8 key-value heads of 128. */
export const QWEN3_0_6B: DecoderShape = {
  layers: 28, hidden: 1024, heads: 16, kvHeads: 8, headDim: 128, intermediate: 3072, vocabSize: 151_936, ropeTheta: 1_000_000, rmsEpsilon: 1e-6, padTokenId: 151_643,
};
/** Same vocabulary and special ids, tiny layers (head size above hidden / heads, as in Qwen3), for fast tests. */
export const TINY_QWEN3: DecoderShape = {
  layers: 2, hidden: 32, heads: 4, kvHeads: 2, headDim: 16, intermediate: 64, vocabSize: 151_936, ropeTheta: 1_000_000, rmsEpsilon: 1e-6, padTokenId: 151_643,
};

/** Parameter count of a shape (embeddings included), as the model cards count it. */
export function decoderParameters(s: DecoderShape): number {
  const attention = s.hidden * s.heads * s.headDim * 2 + s.hidden * s.kvHeads * s.headDim * 2 + 2 * s.headDim;
  const mlp = 3 * s.hidden * s.intermediate;
  return s.vocabSize * s.hidden + s.layers * (attention + mlp + 2 * s.hidden) + s.hidden + s.hidden;
}

/** Scales the score head so random-weight rewards spread over a few units. */
const SCORE_GAIN = 3;
/** torch.finfo(float32).min: what transformers adds to masked attention scores. */
const FLOAT_MIN = -3.4028234663852886e38;

/** The fp32 graph as a ModelProto object (a 0.6B model is over 2 GB: callers quantize it before encoding). */
export function buildQwen3RewardModel(shape: DecoderShape, seed: number): OnnxTypes.ModelProto {
  const { layers, hidden, heads, kvHeads, headDim, intermediate, vocabSize, ropeTheta, rmsEpsilon, padTokenId } = shape;
  if (heads % kvHeads !== 0 || headDim % 2 !== 0) throw new Error("heads must be a multiple of kvHeads and headDim even");
  const g = new GraphBuilder(new SeededRandom(seed));
  const epsilon = g.float("/rms/epsilon", [rmsEpsilon], true);
  const two = g.float("/rms/two", [2], true);
  const lastAxis = g.int64("/axes/last", [-1]);
  // RMSNorm as transformers exports it: x / sqrt(mean(x^2) + eps) * weight (ONNX Runtime fuses it into SimplifiedLayerNormalization).
  const rmsNorm = (input: string, weight: string, name: string) => {
    const meanSquare = g.node("ReduceMean", [g.node("Pow", [input, two], `${name}/Pow`)], `${name}/ReduceMean`, { axes: [-1], keepdims: 1 });
    const root = g.node("Sqrt", [g.node("Add", [meanSquare, epsilon], `${name}/Add`)], `${name}/Sqrt`);
    return g.node("Mul", [g.node("Div", [input, root], `${name}/Div`), weight], `${name}/Mul`);
  };
  const linear = (input: string, name: string, inSize: number, outSize: number, gain = 1) =>
    g.node("MatMul", [input, g.random(`${name}.weight`, [inSize, outSize], gain / Math.sqrt(inSize))], `/${name}/MatMul`);

  // Sequence length and rotary tables cos/sin [1, 1, S, D], computed from the positions 0..S-1 (no cache, no offset).
  const zero = g.int64("/const/zero", [0], true);
  const one = g.int64("/const/one", [1], true);
  const inputShape = g.node("Shape", ["input_ids"], "/shape/Shape");
  const sequenceLength = g.node("Squeeze", [g.node("Slice", [inputShape, g.int64("/shape/s_start", [1]), g.int64("/shape/s_end", [2])], "/shape/Slice_s"), g.int64("/shape/axis0", [0])], "/shape/Squeeze_s");
  const batchSize = g.node("Squeeze", [g.node("Slice", [inputShape, g.int64("/shape/b_start", [0]), g.int64("/shape/b_end", [1])], "/shape/Slice_b"), "/shape/axis0"], "/shape/Squeeze_b");
  const positions = g.node("Range", [zero, sequenceLength, one], "/rotary/Range");
  const exponents = g.float("/rotary/exponents", Array.from({ length: headDim / 2 }, (_, i) => -(2 * i) / headDim));
  const inverseFrequency = g.node("Pow", [g.float("/rotary/theta", [ropeTheta], true), exponents], "/rotary/inv_freq");
  const frequencies = g.node("Mul", [g.node("Unsqueeze", [g.node("Cast", [positions], "/rotary/Cast", { to: 1 }), g.int64("/rotary/axis1", [1])], "/rotary/Unsqueeze"), inverseFrequency], "/rotary/freqs");
  const angles = g.node("Unsqueeze", [g.node("Concat", [frequencies, frequencies], "/rotary/Concat", { axis: -1 }), g.int64("/rotary/axes01", [0, 1])], "/rotary/angles");
  const cos = g.node("Cos", [angles], "/rotary/Cos");
  const sin = g.node("Sin", [angles], "/rotary/Sin");

  // Attention mask [B, 1, S, S]: key j visible to query i when j <= i and j is not padding; else float min.
  const causal = g.node("GreaterOrEqual", [g.node("Unsqueeze", [positions, "/rotary/axis1"], "/mask/rows"), g.node("Unsqueeze", [positions, "/shape/axis0"], "/mask/cols")], "/mask/causal");
  const keys = g.node("Unsqueeze", [g.node("Cast", ["attention_mask"], "/mask/Cast", { to: 9 }), g.int64("/mask/axes12", [1, 2])], "/mask/keys");
  const additiveMask = g.node("Where", [g.node("And", [causal, keys], "/mask/And"), g.float("/mask/zero", [0], true), g.float("/mask/min", [FLOAT_MIN], true)], "/mask/Where");

  const half = headDim / 2;
  const rotateHalf = (x: string, name: string) => {
    const first = g.node("Slice", [x, g.int64(`${name}/s0`, [0]), g.int64(`${name}/e0`, [half]), lastAxis], `${name}/Slice_1`);
    const second = g.node("Slice", [x, g.int64(`${name}/s1`, [half]), g.int64(`${name}/e1`, [headDim]), lastAxis], `${name}/Slice_2`);
    return g.node("Concat", [g.node("Neg", [second], `${name}/Neg`), first], `${name}/Concat`, { axis: -1 });
  };
  const applyRotary = (x: string, name: string) =>
    g.node("Add", [g.node("Mul", [x, cos], `${name}/Mul_cos`), g.node("Mul", [rotateHalf(x, name), sin], `${name}/Mul_sin`)], `${name}/Add`);
  const scale = g.float("/attention/scale", [1 / Math.sqrt(headDim)], true);
  const mergeShape = g.int64("/attention/merge_shape", [0, 0, heads * headDim]);
  const repeatShape = g.int64("/attention/repeat_shape", [0, heads, -1, headDim]);
  const repeats = g.int64("/attention/repeats", [1, 1, heads / kvHeads, 1, 1]);
  const axis2 = g.int64("/attention/axis2", [2]);

  let x = g.node("Gather", [g.random("model.embed_tokens.weight", [vocabSize, hidden], 1), "input_ids"], "/embed_tokens/Gather");
  for (let l = 0; l < layers; l++) {
    const p = `model.layers.${l}`;
    const h = rmsNorm(x, g.filled(`${p}.input_layernorm.weight`, hidden, 1), `/${p}/input_layernorm`);
    // [B, S, n * D] -> [B, n, S, D], with Qwen3's RMSNorm over each head's D values for queries and keys.
    const headsOf = (projection: string, count: number, name: string, norm?: string) => {
      let t = g.node("Reshape", [projection, g.int64(`/${p}/${name}/shape`, [0, 0, count, headDim])], `/${p}/${name}/Reshape`);
      if (norm) t = rmsNorm(t, g.filled(`${p}.self_attn.${norm}.weight`, headDim, 1), `/${p}/self_attn/${norm}`);
      return g.node("Transpose", [t], `/${p}/${name}/Transpose`, { perm: [0, 2, 1, 3] });
    };
    const q = applyRotary(headsOf(linear(h, `${p}.self_attn.q_proj`, hidden, heads * headDim), heads, "q", "q_norm"), `/${p}/q_rotary`);
    const k = applyRotary(headsOf(linear(h, `${p}.self_attn.k_proj`, hidden, kvHeads * headDim), kvHeads, "k", "k_norm"), `/${p}/k_rotary`);
    const v = headsOf(linear(h, `${p}.self_attn.v_proj`, hidden, kvHeads * headDim), kvHeads, "v");
    // Grouped-query attention: each key/value head serves heads / kvHeads query heads (repeat_kv).
    const repeat = (t: string, name: string) =>
      g.node("Reshape", [g.node("Tile", [g.node("Unsqueeze", [t, axis2], `/${p}/${name}/Unsqueeze`), repeats], `/${p}/${name}/Tile`), repeatShape], `/${p}/${name}/repeat`);
    let scores = g.node("MatMul", [q, g.node("Transpose", [repeat(k, "k")], `/${p}/k/Transpose_T`, { perm: [0, 1, 3, 2] })], `/${p}/attention/scores/MatMul`);
    scores = g.node("Add", [g.node("Mul", [scores, scale], `/${p}/attention/scores/Mul`), additiveMask], `/${p}/attention/scores/Add`);
    const probabilities = g.node("Softmax", [scores], `/${p}/attention/Softmax`, { axis: -1 });
    let context = g.node("MatMul", [probabilities, repeat(v, "v")], `/${p}/attention/context/MatMul`);
    context = g.node("Reshape", [g.node("Transpose", [context], `/${p}/attention/context/Transpose`, { perm: [0, 2, 1, 3] }), mergeShape], `/${p}/attention/context/Reshape`);
    x = g.node("Add", [x, linear(context, `${p}.self_attn.o_proj`, heads * headDim, hidden)], `/${p}/attention/residual`);

    const h2 = rmsNorm(x, g.filled(`${p}.post_attention_layernorm.weight`, hidden, 1), `/${p}/post_attention_layernorm`);
    const gate = linear(h2, `${p}.mlp.gate_proj`, hidden, intermediate);
    const silu = g.node("Mul", [gate, g.node("Sigmoid", [gate], `/${p}/mlp/Sigmoid`)], `/${p}/mlp/silu`);
    const up = linear(h2, `${p}.mlp.up_proj`, hidden, intermediate);
    const down = linear(g.node("Mul", [silu, up], `/${p}/mlp/Mul`), `${p}.mlp.down_proj`, intermediate, hidden);
    x = g.node("Add", [x, down], `/${p}/mlp/residual`);
  }
  x = rmsNorm(x, g.filled("model.norm.weight", hidden, 1), "/norm");

  // Pooling as Qwen3ForSequenceClassification: the last position whose token is not pad_token_id,
  // argmax(position * (input_ids != pad)), i.e. the first position when every token is padding.
  const notPad = g.node("Cast", [g.node("Not", [g.node("Equal", ["input_ids", g.int64("/pool/pad_id", [padTokenId], true)], "/pool/Equal")], "/pool/Not")], "/pool/Cast", { to: 7 });
  const last = g.node("ArgMax", [g.node("Mul", [notPad, positions], "/pool/Mul")], "/pool/ArgMax", { axis: 1, keepdims: 0 });
  const rowStarts = g.node("Mul", [g.node("Range", [zero, batchSize, one], "/pool/Range"), sequenceLength], "/pool/row_starts");
  const flat = g.node("Reshape", [x, g.int64("/pool/flat_shape", [-1, hidden])], "/pool/Reshape");
  const pooled = g.node("Gather", [flat, g.node("Add", [rowStarts, last], "/pool/index")], "/pool/Gather", { axis: 0 });
  const logits = linear(pooled, "score", hidden, 1, SCORE_GAIN);
  g.nodes.push({ opType: "Identity", name: "/logits/Identity", domain: "", input: [logits], output: ["logits"], attribute: [] });

  const dynamicInput = (name: string) => ({ name, type: "int64" as const, shape: ["batch_size", "sequence_length"] });
  return buildModelProto(g, {
    graphName: "qwen3_sequence_classification",
    inputs: [dynamicInput("input_ids"), dynamicInput("attention_mask")],
    outputs: [{ name: "logits", type: "float32", shape: ["batch_size", 1] }],
    opsetVersion: 17,
    producerName: "poq-network scripts/models (random weights, not a trained model)",
    docString: `Qwen3 reward model with RANDOM weights (seed ${seed}): ${JSON.stringify(shape)}. Scores are meaningless.`,
  });
}

/** Serialised fp32 model; only for shapes under protobuf's 2 GB limit (the tiny one). */
export function generateQwen3RewardModel(shape: DecoderShape, seed: number): Uint8Array {
  return onnx.ModelProto.encode(buildQwen3RewardModel(shape, seed)).finish();
}
