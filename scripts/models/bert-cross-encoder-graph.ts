/**
 * Writes a BERT sequence-classification cross-encoder as an ONNX graph with seeded random weights: the same
 * inputs, outputs, operators and weight layout as a Hugging Face export of cross-encoder/ms-marco-MiniLM-L-6-v2
 * (input_ids, attention_mask, token_type_ids: int64 [batch, sequence] -> logits: float [batch, 1]; MatMul weights
 * stored [in, out]; erf GELU; LayerNormalization; additive attention mask). Its scores mean nothing; its latency
 * and memory are those of the real model of the same shape.
 */
import { encodeModel, GraphBuilder } from "./onnx-graph-builder.ts";
import { SeededRandom } from "./seeded-random.ts";

export interface BertShape {
  layers: number;
  hidden: number;
  heads: number;
  intermediate: number;
  vocabSize: number;
  maxPositions: number;
  typeVocabSize: number;
}

/** The shape of ms-marco-MiniLM-L-6-v2 (MiniLM-L6-H384, BERT-uncased vocabulary). */
export const MINILM_L6_H384: BertShape = {
  layers: 6, hidden: 384, heads: 12, intermediate: 1536, vocabSize: 30_522, maxPositions: 512, typeVocabSize: 2,
};
/** A tiny shape with the same vocabulary, for fast tests. */
export const TINY_BERT: BertShape = {
  layers: 2, hidden: 32, heads: 2, intermediate: 64, vocabSize: 30_522, maxPositions: 512, typeVocabSize: 2,
};

const LAYER_NORM_EPSILON = 1e-12;
/** HF's additive mask value for padded positions (older exports; -finfo.min in newer ones, same effect). */
const MASKED_SCORE = -10_000;
/** Scales the classifier so random-weight logits spread over a few units instead of hugging zero. */
const CLASSIFIER_GAIN = 3;

export function generateBertCrossEncoder(shape: BertShape, seed: number): Uint8Array {
  const { layers, hidden, heads, intermediate, vocabSize, maxPositions, typeVocabSize } = shape;
  if (hidden % heads !== 0) throw new Error(`hidden ${hidden} is not divisible by heads ${heads}`);
  const headSize = hidden / heads;
  const g = new GraphBuilder(new SeededRandom(seed));
  const layerNorm = (input: string, prefix: string) =>
    g.node("LayerNormalization", [input, g.filled(`${prefix}.weight`, hidden, 1), g.filled(`${prefix}.bias`, hidden, 0)], `${prefix}/LayerNormalization`, {
      axis: -1, epsilon: { float: LAYER_NORM_EPSILON },
    });
  // Linear layer as torch exports it: MatMul with an [in, out] initializer, then Add of the bias.
  const linear = (input: string, prefix: string, inSize: number, outSize: number, gain = 1) => {
    const product = g.node("MatMul", [input, g.random(`${prefix}.weight`, [inSize, outSize], gain / Math.sqrt(inSize))], `${prefix}/MatMul`);
    return g.node("Add", [product, g.random(`${prefix}.bias`, [outSize], 0.02)], `${prefix}/Add`);
  };

  // Embeddings: word + position (a slice of the position_ids buffer, as HF exports it) + token type, then LayerNorm.
  const wordEmbeddings = g.random("bert.embeddings.word_embeddings.weight", [vocabSize, hidden], 1);
  const positionEmbeddings = g.random("bert.embeddings.position_embeddings.weight", [maxPositions, hidden], 1);
  const typeEmbeddings = g.random("bert.embeddings.token_type_embeddings.weight", [typeVocabSize, hidden], 1);
  const positionIds = g.initializer("bert.embeddings.position_ids", "int64", [1, maxPositions], BigInt64Array.from({ length: maxPositions }, (_, i) => BigInt(i)));
  const sequenceLength = g.node("Shape", ["input_ids"], "/embeddings/Shape", { start: 1, end: 2 });
  const positions = g.node("Slice", [positionIds, g.int64("/embeddings/slice_start", [0]), sequenceLength, g.int64("/embeddings/slice_axis", [1])], "/embeddings/Slice");
  let x = g.node("Gather", [wordEmbeddings, "input_ids"], "/embeddings/word_embeddings/Gather");
  x = g.node("Add", [x, g.node("Gather", [typeEmbeddings, "token_type_ids"], "/embeddings/token_type_embeddings/Gather")], "/embeddings/Add");
  x = g.node("Add", [x, g.node("Gather", [positionEmbeddings, positions], "/embeddings/position_embeddings/Gather")], "/embeddings/Add_1");
  x = layerNorm(x, "bert.embeddings.LayerNorm");

  // Extended attention mask [batch, 1, 1, sequence]: 0 where attended, MASKED_SCORE where padded.
  const mask4d = g.node("Unsqueeze", ["attention_mask", g.int64("/mask/axes", [1, 2])], "/mask/Unsqueeze");
  const maskFloat = g.node("Cast", [mask4d], "/mask/Cast", { to: 1 });
  const inverted = g.node("Sub", [g.float("/mask/one", [1], true), maskFloat], "/mask/Sub");
  const additiveMask = g.node("Mul", [inverted, g.float("/mask/min", [MASKED_SCORE], true)], "/mask/Mul");

  const splitHeads = g.int64("/attention/split_shape", [0, 0, heads, headSize]);
  const mergeHeads = g.int64("/attention/merge_shape", [0, 0, hidden]);
  const scoreDivisor = g.float("/attention/sqrt_head_size", [Math.sqrt(headSize)], true);
  const sqrtTwo = g.float("/gelu/sqrt_two", [Math.SQRT2], true);
  const one = g.float("/gelu/one", [1], true);
  const half = g.float("/gelu/half", [0.5], true);

  for (let l = 0; l < layers; l++) {
    const p = `bert.encoder.layer.${l}`;
    const heads4d = (input: string, name: string, perm: number[]) =>
      g.node("Transpose", [g.node("Reshape", [input, splitHeads], `/${p}/${name}/Reshape`)], `/${p}/${name}/Transpose`, { perm });
    const q = heads4d(linear(x, `${p}.attention.self.query`, hidden, hidden), "query", [0, 2, 1, 3]);
    const k = heads4d(linear(x, `${p}.attention.self.key`, hidden, hidden), "key", [0, 2, 3, 1]);
    const v = heads4d(linear(x, `${p}.attention.self.value`, hidden, hidden), "value", [0, 2, 1, 3]);
    let scores = g.node("MatMul", [q, k], `/${p}/attention/scores/MatMul`);
    scores = g.node("Div", [scores, scoreDivisor], `/${p}/attention/scores/Div`);
    scores = g.node("Add", [scores, additiveMask], `/${p}/attention/scores/Add`);
    const probabilities = g.node("Softmax", [scores], `/${p}/attention/Softmax`, { axis: -1 });
    let context = g.node("MatMul", [probabilities, v], `/${p}/attention/context/MatMul`);
    context = g.node("Transpose", [context], `/${p}/attention/context/Transpose`, { perm: [0, 2, 1, 3] });
    context = g.node("Reshape", [context, mergeHeads], `/${p}/attention/context/Reshape`);
    const attended = linear(context, `${p}.attention.output.dense`, hidden, hidden);
    x = layerNorm(g.node("Add", [attended, x], `/${p}/attention/output/residual`), `${p}.attention.output.LayerNorm`);

    const inner = linear(x, `${p}.intermediate.dense`, hidden, intermediate);
    // GELU as torch exports it: x * 0.5 * (1 + erf(x / sqrt(2))).
    const erf = g.node("Erf", [g.node("Div", [inner, sqrtTwo], `/${p}/gelu/Div`)], `/${p}/gelu/Erf`);
    const gelu = g.node("Mul", [g.node("Mul", [inner, g.node("Add", [erf, one], `/${p}/gelu/Add`)], `/${p}/gelu/Mul`), half], `/${p}/gelu/Mul_1`);
    const output = linear(gelu, `${p}.output.dense`, intermediate, hidden);
    x = layerNorm(g.node("Add", [output, x], `/${p}/output/residual`), `${p}.output.LayerNorm`);
  }

  // Pooler (tanh of a dense layer on the [CLS] position), then the one-logit classifier.
  const cls = g.node("Gather", [x, g.int64("/pooler/cls_index", [0], true)], "/pooler/Gather", { axis: 1 });
  const pooled = g.node("Tanh", [linear(cls, "bert.pooler.dense", hidden, hidden)], "/pooler/Tanh");
  const logits = linear(pooled, "classifier", hidden, 1, CLASSIFIER_GAIN);
  g.nodes.push({ opType: "Identity", name: "/logits/Identity", domain: "", input: [logits], output: ["logits"], attribute: [] });

  const dynamicInput = (name: string) => ({ name, type: "int64" as const, shape: ["batch_size", "sequence_length"] });
  return encodeModel(g, {
    graphName: "bert_cross_encoder",
    inputs: [dynamicInput("input_ids"), dynamicInput("attention_mask"), dynamicInput("token_type_ids")],
    outputs: [{ name: "logits", type: "float32", shape: ["batch_size", 1] }],
    opsetVersion: 17,
    producerName: "poq-network scripts/models (random weights, not a trained model)",
    docString: `BERT cross-encoder with RANDOM weights (seed ${seed}): ${JSON.stringify(shape)}. Scores are meaningless.`,
  });
}
