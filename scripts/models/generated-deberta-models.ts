/**
 * Recipes of the generated (RANDOM-WEIGHT) DeBERTa-v3 classifiers: the graph layout of an ONNX export of
 * OpenAssistant/reward-model-deberta-v3-large-v2 with tiny layers, and a SentencePiece Unigram tokenizer of the same
 * type as DeBERTa-v3's (unigram-tokenizer-json.ts). They run on the cross-encoder engine, which feeds the two inputs
 * such an export has. Only the manifests are committed; tests regenerate the files.
 */
import { createHash } from "node:crypto";
import { DEBERTA_V3_LARGE, generateDebertaV3Classifier, TINY_DEBERTA_V3, type DebertaShape } from "./deberta-v3-graph.ts";
import { quantizeDynamic, type QuantizeOptions } from "./quantize-dynamic.ts";
import { buildDebertaStyleTokenizerConfig, buildDebertaStyleTokenizerJson } from "./unigram-tokenizer-json.ts";

const GENERATOR = "scripts/models/generate.ts";
const SEED = 1;
const MAX_TOKENS = 512;
const INT8: QuantizeOptions = { perChannel: true, reduceRange: true, activations: "per-row" };

export interface DebertaRecipe {
  shapeName: string;
  shape: DebertaShape;
  quantize?: QuantizeOptions;
}

export const GENERATED_DEBERTA_MODELS = {
  "generated-deberta-v3-tiny-fp32": { shapeName: "deberta-v3-l2-h32-a2-i64", shape: TINY_DEBERTA_V3 },
  "generated-deberta-v3-tiny-int8": { shapeName: "deberta-v3-l2-h32-a2-i64", shape: TINY_DEBERTA_V3, quantize: INT8 },
} satisfies Record<string, DebertaRecipe>;
export type GeneratedDebertaModelName = keyof typeof GENERATED_DEBERTA_MODELS;
export { DEBERTA_V3_LARGE };

const jsonBytes = (value: unknown) => new TextEncoder().encode(`${JSON.stringify(value, null, 2)}\n`);
const sha256 = (bytes: Uint8Array) => createHash("sha256").update(bytes).digest("hex");
const modelFile = (recipe: DebertaRecipe) => (recipe.quantize ? "onnx/model_quantized.onnx" : "onnx/model.onnx");
const variantName = (recipe: DebertaRecipe) => (recipe.quantize ? "int8-dynamic-per-channel-7bit-per-row-activations" : "fp32");

function hfConfig(shape: DebertaShape): Record<string, unknown> {
  return {
    architectures: ["DebertaV2ForSequenceClassification"],
    model_type: "deberta-v2",
    hidden_size: shape.hidden,
    num_hidden_layers: shape.layers,
    num_attention_heads: shape.heads,
    intermediate_size: shape.intermediate,
    hidden_act: "gelu",
    vocab_size: shape.vocabSize,
    max_position_embeddings: shape.maxPositions,
    position_buckets: shape.positionBuckets,
    relative_attention: true,
    pos_att_type: ["p2c", "c2p"],
    position_biased_input: false,
    share_att_key: true,
    norm_rel_ebd: "layer_norm",
    type_vocab_size: 0,
    layer_norm_eps: 1e-7,
    pad_token_id: 0,
    id2label: { "0": "LABEL_0" },
    label2id: { LABEL_0: 0 },
  };
}

export function buildDebertaModelFiles(recipe: DebertaRecipe): Map<string, Uint8Array> {
  const fp32 = generateDebertaV3Classifier(recipe.shape, SEED);
  const files = new Map<string, Uint8Array>();
  files.set(modelFile(recipe), recipe.quantize ? quantizeDynamic(fp32, recipe.quantize).bytes : fp32);
  files.set("tokenizer.json", jsonBytes(buildDebertaStyleTokenizerJson()));
  files.set("tokenizer_config.json", jsonBytes(buildDebertaStyleTokenizerConfig(MAX_TOKENS)));
  files.set("config.json", jsonBytes(hfConfig(recipe.shape)));
  return files;
}

export function debertaModelManifest(name: string, recipe: DebertaRecipe, files: Map<string, Uint8Array>): Record<string, unknown> {
  return {
    schema: 1,
    name,
    kind: "cross-encoder",
    description: `RANDOM WEIGHTS: a ${recipe.shapeName} DeBERTa-v3 sequence classifier (${variantName(recipe)}) with seeded random weights and a SentencePiece Unigram tokenizer built from the USE-lite vocabulary, for tests. Its scores mean nothing.`,
    source: { type: "generated", generator: GENERATOR, seed: SEED, shape: `${recipe.shapeName}/${variantName(recipe)}` },
    files: [...files].map(([file, bytes]) => ({ path: file, sha256: sha256(bytes), size: bytes.length })),
    model: { file: modelFile(recipe), inputs: ["input_ids", "attention_mask"], output: "logits", outputIndex: 0 },
    tokenizer: { file: "tokenizer.json", configFile: "tokenizer_config.json", maxTokens: MAX_TOKENS, truncation: "longest_first" },
    scoreMapping: { type: "sigmoid", center: 0, scale: 1, rawDecimals: 4 },
  };
}
