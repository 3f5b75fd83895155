/**
 * Writes a DeBERTa-v3 sequence classifier (the architecture of OpenAssistant/reward-model-deberta-v3-large-v2) as an
 * ONNX graph with seeded RANDOM weights. Inputs and output are those of a Hugging Face export of
 * DebertaV2ForSequenceClassification with a v3 config (type_vocab_size 0, so no token_type_ids):
 * input_ids, attention_mask: int64 [batch, sequence] -> logits: float [batch, 1].
 * Inside, as transformers computes it: word embeddings only (position_biased_input false), LayerNorm, times the mask;
 * disentangled attention with shared keys (content-to-content + content-to-position + position-to-content, scaled by
 * sqrt(3 d)), relative positions in 256 log buckets over a LayerNorm'd table of 512 relative embeddings, computed in the
 * graph from the sequence length; masked softmax; ContextPooler ([CLS] -> dense -> GELU) and a one-logit classifier.
 * Its scores mean nothing; its cost is that of a real model of the same shape.
 */
import { encodeModel, GraphBuilder } from "./onnx-graph-builder.ts";
import { SeededRandom } from "./seeded-random.ts";

export interface DebertaShape {
  layers: number;
  hidden: number;
  heads: number;
  intermediate: number;
  vocabSize: number;
  /** position_buckets: relative positions fold into 2 x this many embeddings. */
  positionBuckets: number;
  /** max_position_embeddings (max_relative_positions -1 falls back to it). */
  maxPositions: number;
}

/** deberta-v3-large (the OpenAssistant reward model's base). */
export const DEBERTA_V3_LARGE: DebertaShape = { layers: 24, hidden: 1024, heads: 16, intermediate: 4096, vocabSize: 128_100, positionBuckets: 256, maxPositions: 512 };
/** Tiny layers over the generated SentencePiece vocabulary (unigram-tokenizer-json.ts), for fast tests. */
export const TINY_DEBERTA_V3: DebertaShape = { layers: 2, hidden: 32, heads: 2, intermediate: 64, vocabSize: 8_000, positionBuckets: 256, maxPositions: 512 };

const LAYER_NORM_EPSILON = 1e-7;
const FLOAT_MIN = -3.4028234663852886e38;
const CLASSIFIER_GAIN = 3;

export function generateDebertaV3Classifier(shape: DebertaShape, seed: number): Uint8Array {
  const { layers, hidden, heads, intermediate, vocabSize, positionBuckets, maxPositions } = shape;
  if (hidden % heads !== 0) throw new Error(`hidden ${hidden} is not divisible by heads ${heads}`);
  const headSize = hidden / heads;
  const span = positionBuckets;
  const g = new GraphBuilder(new SeededRandom(seed));
  const layerNorm = (input: string, prefix: string) =>
    g.node("LayerNormalization", [input, g.filled(`${prefix}.weight`, hidden, 1), g.filled(`${prefix}.bias`, hidden, 0)], `${prefix}/LayerNormalization`, { axis: -1, epsilon: { float: LAYER_NORM_EPSILON } });
  const linear = (input: string, prefix: string, inSize: number, outSize: number, gain = 1) => {
    const product = g.node("MatMul", [input, g.initializers.some((t) => t.name === `${prefix}.weight`) ? `${prefix}.weight` : g.random(`${prefix}.weight`, [inSize, outSize], gain / Math.sqrt(inSize))], `/${prefix}/MatMul_${g.nodes.length}`);
    return g.node("Add", [product, g.initializers.some((t) => t.name === `${prefix}.bias`) ? `${prefix}.bias` : g.random(`${prefix}.bias`, [outSize], 0.02)], `/${prefix}/Add_${g.nodes.length}`);
  };
  const float = (name: string, value: number) => g.float(name, [value], true);
  const gelu = (x: string, name: string) => {
    const erf = g.node("Erf", [g.node("Div", [x, float(`${name}/sqrt2`, Math.SQRT2)], `${name}/Div`)], `${name}/Erf`);
    return g.node("Mul", [g.node("Mul", [x, g.node("Add", [erf, float(`${name}/one`, 1)], `${name}/Add`)], `${name}/Mul`), float(`${name}/half`, 0.5)], `${name}/Mul_1`);
  };

  // Embeddings: word embeddings, LayerNorm, then zeroed at padded positions.
  const maskFloat = g.node("Cast", ["attention_mask"], "/embeddings/mask/Cast", { to: 1 });
  let x = g.node("Gather", [g.random("deberta.embeddings.word_embeddings.weight", [vocabSize, hidden], 1), "input_ids"], "/embeddings/word_embeddings/Gather");
  x = layerNorm(x, "deberta.embeddings.LayerNorm");
  x = g.node("Mul", [x, g.node("Unsqueeze", [maskFloat, g.int64("/axes/last", [-1])], "/embeddings/mask/Unsqueeze")], "/embeddings/Mul");

  // Attention mask [B, 1, S, S]: query and key both real.
  const rows = g.node("Unsqueeze", ["attention_mask", g.int64("/mask/axes_rows", [1, 3])], "/mask/rows");
  const cols = g.node("Unsqueeze", ["attention_mask", g.int64("/mask/axes_cols", [1, 2])], "/mask/cols");
  const allowed = g.node("Cast", [g.node("Mul", [rows, cols], "/mask/Mul")], "/mask/Cast", { to: 9 });

  // Relative positions i - j in log buckets (make_log_bucket_position), then the c2p and p2c gather indices.
  const sequenceLength = g.node("Squeeze", [g.node("Slice", [g.node("Shape", ["input_ids"], "/rel/Shape"), g.int64("/rel/s0", [1]), g.int64("/rel/s1", [2])], "/rel/Slice"), g.int64("/rel/axis0", [0])], "/rel/Squeeze");
  const positions = g.node("Range", [g.int64("/rel/zero", [0], true), sequenceLength, g.int64("/rel/one", [1], true)], "/rel/Range");
  const relative = g.node("Cast", [g.node("Sub", [g.node("Unsqueeze", [positions, g.int64("/rel/axis1", [1])], "/rel/q"), g.node("Unsqueeze", [positions, "/rel/axis0"], "/rel/k")], "/rel/Sub")], "/rel/Cast", { to: 1 });
  const mid = positionBuckets / 2;
  const sign = g.node("Sign", [relative], "/rel/Sign");
  const inner = g.node("And", [g.node("Less", [relative, float("/rel/mid", mid)], "/rel/Less"), g.node("Greater", [relative, float("/rel/neg_mid", -mid)], "/rel/Greater")], "/rel/And");
  const absolute = g.node("Where", [inner, float("/rel/mid_minus_one", mid - 1), g.node("Abs", [relative], "/rel/Abs")], "/rel/abs_pos");
  const logRatio = g.node("Log", [float("/rel/max_ratio", (maxPositions - 1) / mid)], "/rel/log_max_ratio");
  const logScaled = g.node("Mul", [g.node("Div", [g.node("Log", [g.node("Div", [absolute, "/rel/mid"], "/rel/Div")], "/rel/Log"), logRatio], "/rel/Div_1"), "/rel/mid_minus_one"], "/rel/Mul");
  const logPosition = g.node("Add", [g.node("Ceil", [logScaled], "/rel/Ceil"), "/rel/mid"], "/rel/log_pos");
  const bucket = g.node("Where", [g.node("LessOrEqual", [absolute, "/rel/mid"], "/rel/LessOrEqual"), relative, g.node("Mul", [logPosition, sign], "/rel/Mul_1")], "/rel/bucket");
  const clipIndex = (value: string, name: string) =>
    g.node("Cast", [g.node("Clip", [value, float(`${name}/lo`, 0), float(`${name}/hi`, 2 * span - 1)], `${name}/Clip`)], `${name}/Cast`, { to: 7 });
  const c2pIndex = clipIndex(g.node("Add", [bucket, float("/rel/span", span)], "/rel/c2p_Add"), "/rel/c2p");
  const p2cIndex = clipIndex(g.node("Sub", ["/rel/span", bucket], "/rel/p2c_Sub"), "/rel/p2c");

  // Relative embeddings: the first 2 x span rows, LayerNorm'd (norm_rel_ebd = layer_norm).
  const relEmbeddings = layerNorm(g.random("deberta.encoder.rel_embeddings.weight", [2 * span, hidden], 1), "deberta.encoder.LayerNorm");

  const splitHeads = g.int64("/attention/split_shape", [0, 0, heads, headSize]);
  const splitPositions = g.int64("/attention/split_positions", [2 * span, heads, headSize]);
  const mergeHeads = g.int64("/attention/merge_shape", [0, 0, hidden]);
  const scale = float("/attention/scale", Math.sqrt(headSize * 3));
  for (let l = 0; l < layers; l++) {
    const p = `deberta.encoder.layer.${l}`;
    const heads4d = (input: string, name: string) => g.node("Transpose", [g.node("Reshape", [input, splitHeads], `/${p}/${name}/Reshape`)], `/${p}/${name}/Transpose`, { perm: [0, 2, 1, 3] });
    // Positional projections share the content projections' weights (share_att_key): [heads, d, 2 span].
    const positional = (name: string, projection: string) =>
      g.node("Transpose", [g.node("Reshape", [linear(relEmbeddings, `${p}.attention.self.${projection}`, hidden, hidden), splitPositions], `/${p}/${name}/Reshape`)], `/${p}/${name}/Transpose`, { perm: [1, 2, 0] });
    const q = heads4d(linear(x, `${p}.attention.self.query_proj`, hidden, hidden), "query");
    const k = heads4d(linear(x, `${p}.attention.self.key_proj`, hidden, hidden), "key");
    const v = heads4d(linear(x, `${p}.attention.self.value_proj`, hidden, hidden), "value");
    const positionKeys = positional("pos_key", "key_proj");
    const positionQueries = positional("pos_query", "query_proj");
    const content = g.node("MatMul", [q, g.node("Transpose", [k], `/${p}/key/Transpose_T`, { perm: [0, 1, 3, 2] })], `/${p}/attention/c2c`);
    const shape = g.node("Shape", [content], `/${p}/attention/Shape`);
    const c2p = g.node("GatherElements", [g.node("MatMul", [q, positionKeys], `/${p}/attention/c2p_MatMul`), g.node("Expand", [c2pIndex, shape], `/${p}/attention/c2p_index`)], `/${p}/attention/c2p`, { axis: -1 });
    const p2cAll = g.node("GatherElements", [g.node("MatMul", [k, positionQueries], `/${p}/attention/p2c_MatMul`), g.node("Expand", [p2cIndex, shape], `/${p}/attention/p2c_index`)], `/${p}/attention/p2c_gather`, { axis: -1 });
    const p2c = g.node("Transpose", [p2cAll], `/${p}/attention/p2c`, { perm: [0, 1, 3, 2] });
    const scores = g.node("Div", [g.node("Add", [g.node("Add", [content, c2p], `/${p}/attention/Add_c2p`), p2c], `/${p}/attention/Add_p2c`), scale], `/${p}/attention/Div`);
    // XSoftmax: masked scores to float min, softmax, masked probabilities to 0.
    const masked = g.node("Where", [allowed, scores, float(`/${p}/attention/min`, FLOAT_MIN)], `/${p}/attention/Where`);
    const probabilities = g.node("Where", [allowed, g.node("Softmax", [masked], `/${p}/attention/Softmax`, { axis: -1 }), float(`/${p}/attention/zero`, 0)], `/${p}/attention/Where_1`);
    let context = g.node("MatMul", [probabilities, v], `/${p}/attention/context/MatMul`);
    context = g.node("Reshape", [g.node("Transpose", [context], `/${p}/attention/context/Transpose`, { perm: [0, 2, 1, 3] }), mergeHeads], `/${p}/attention/context/Reshape`);
    x = layerNorm(g.node("Add", [linear(context, `${p}.attention.output.dense`, hidden, hidden), x], `/${p}/attention/residual`), `${p}.attention.output.LayerNorm`);
    const expanded = gelu(linear(x, `${p}.intermediate.dense`, hidden, intermediate), `/${p}/gelu`);
    x = layerNorm(g.node("Add", [linear(expanded, `${p}.output.dense`, intermediate, hidden), x], `/${p}/output/residual`), `${p}.output.LayerNorm`);
  }

  const cls = g.node("Gather", [x, g.int64("/pooler/cls_index", [0], true)], "/pooler/Gather", { axis: 1 });
  const pooled = gelu(linear(cls, "pooler.dense", hidden, hidden), "/pooler/gelu");
  const logits = linear(pooled, "classifier", hidden, 1, CLASSIFIER_GAIN);
  g.nodes.push({ opType: "Identity", name: "/logits/Identity", domain: "", input: [logits], output: ["logits"], attribute: [] });

  const dynamicInput = (name: string) => ({ name, type: "int64" as const, shape: ["batch_size", "sequence_length"] });
  return encodeModel(g, {
    graphName: "deberta_v3_sequence_classification",
    inputs: [dynamicInput("input_ids"), dynamicInput("attention_mask")],
    outputs: [{ name: "logits", type: "float32", shape: ["batch_size", 1] }],
    opsetVersion: 17,
    producerName: "poq-network scripts/models (random weights, not a trained model)",
    docString: `DeBERTa-v3 classifier with RANDOM weights (seed ${seed}): ${JSON.stringify(shape)}. Scores are meaningless.`,
  });
}
