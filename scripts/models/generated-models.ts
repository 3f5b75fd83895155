/**
 * The project's generated (random-weight) cross-encoders: their recipes, and `ensureGeneratedModel`, which writes a
 * model folder on demand and checks it against the committed manifest. The .onnx and tokenizer files are not
 * committed (gitignored); the manifests are, and generation is byte-identical for a seed, so the manifests' sha256
 * pin the exact bytes every machine regenerates.
 */
import { createHash } from "node:crypto";
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, renameSync, writeSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { buildBertTokenizerConfig, buildBertTokenizerJson } from "./bert-tokenizer-json.ts";
import { generateBertCrossEncoder, MINILM_L6_H384, TINY_BERT, type BertShape } from "./bert-cross-encoder-graph.ts";
import { pruneToClassToken } from "./prune-class-token.ts";
import { buildDebertaModelFiles, debertaModelManifest, GENERATED_DEBERTA_MODELS, type GeneratedDebertaModelName } from "./generated-deberta-models.ts";
import { buildRewardModelFiles, GENERATED_REWARD_MODELS, rewardModelManifest, type GeneratedRewardModelName } from "./generated-reward-models.ts";
import { quantizeDynamic, type QuantizeOptions } from "./quantize-dynamic.ts";

export const MODELS_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../models");
const GENERATOR = "scripts/models/generate.ts";
const SEED = 1;
const MAX_TOKENS = 512;

interface Recipe {
  shapeName: string;
  shape: BertShape;
  /** Undefined for fp32. The int8 recipes also prune the last layer to the [CLS] row (prune-class-token.ts). */
  quantize?: QuantizeOptions;
}

/**
 * Per-channel symmetric 7-bit weights: on x86 CPUs without VNNI (AVX2 only, like this project's machines) the u8 x s8
 * kernels saturate with full 8-bit weights, which drifted 10x further from fp32 (docs/EVALUATORS.md).
 * Per-row activation scales: a pair's score does not depend on its batch-mates, so int8 runs real batches.
 */
export const INT8_OPTIONS: QuantizeOptions = { perChannel: true, reduceRange: true, activations: "per-row" };

export const GENERATED_MODELS = {
  "generated-tiny-fp32": { shapeName: "bert-l2-h32-a2-i64", shape: TINY_BERT },
  "generated-tiny-int8": { shapeName: "bert-l2-h32-a2-i64", shape: TINY_BERT, quantize: INT8_OPTIONS },
  "generated-minilm-l6-fp32": { shapeName: "minilm-l6-h384-a12-i1536", shape: MINILM_L6_H384 },
  "generated-minilm-l6-int8": { shapeName: "minilm-l6-h384-a12-i1536", shape: MINILM_L6_H384, quantize: INT8_OPTIONS },
} satisfies Record<string, Recipe>;
export type GeneratedCrossEncoderName = keyof typeof GENERATED_MODELS;
/**
 * Every generated model: the BERT cross-encoders above, the DeBERTa-v3 classifiers (generated-deberta-models.ts) and
 * the decoder reward models (generated-reward-models.ts).
 */
export type GeneratedModelName = GeneratedCrossEncoderName | GeneratedDebertaModelName | GeneratedRewardModelName;
export const GENERATED_MODEL_NAMES = [...Object.keys(GENERATED_MODELS), ...Object.keys(GENERATED_DEBERTA_MODELS), ...Object.keys(GENERATED_REWARD_MODELS)] as GeneratedModelName[];
const isRewardModel = (name: GeneratedModelName): name is GeneratedRewardModelName => name in GENERATED_REWARD_MODELS;
const isDebertaModel = (name: GeneratedModelName): name is GeneratedDebertaModelName => name in GENERATED_DEBERTA_MODELS;

const sha256 = (bytes: Uint8Array) => createHash("sha256").update(bytes).digest("hex");
const jsonBytes = (value: unknown) => new TextEncoder().encode(`${JSON.stringify(value, null, 2)}\n`);

/** config.json as transformers exports it, so @huggingface/transformers can load the folder (benchmark baseline). */
function hfConfig(shape: BertShape): Record<string, unknown> {
  return {
    architectures: ["BertForSequenceClassification"],
    model_type: "bert",
    hidden_size: shape.hidden,
    num_hidden_layers: shape.layers,
    num_attention_heads: shape.heads,
    intermediate_size: shape.intermediate,
    hidden_act: "gelu",
    vocab_size: shape.vocabSize,
    max_position_embeddings: shape.maxPositions,
    type_vocab_size: shape.typeVocabSize,
    layer_norm_eps: 1e-12,
    pad_token_id: 0,
    id2label: { "0": "LABEL_0" },
    label2id: { LABEL_0: 0 },
  };
}

/** All files of a generated model, path -> bytes. Deterministic. */
export function buildGeneratedModelFiles(name: GeneratedModelName): Map<string, Uint8Array> {
  if (isRewardModel(name)) return buildRewardModelFiles(GENERATED_REWARD_MODELS[name]);
  if (isDebertaModel(name)) return buildDebertaModelFiles(GENERATED_DEBERTA_MODELS[name]);
  const recipe: Recipe = GENERATED_MODELS[name];
  const fp32 = generateBertCrossEncoder(recipe.shape, SEED);
  const files = new Map<string, Uint8Array>();
  // fp32 stays exactly the export-shaped graph (the reference int8 drift is measured against). int8 is built the way
  // scripts/models/quantize.ts builds it from a real export: class-token pruning, then quantization.
  files.set(modelFile(recipe), recipe.quantize ? quantizeDynamic(pruneToClassToken(fp32), recipe.quantize).bytes : fp32);
  files.set("tokenizer.json", jsonBytes(buildBertTokenizerJson()));
  files.set("tokenizer_config.json", jsonBytes(buildBertTokenizerConfig(MAX_TOKENS)));
  files.set("config.json", jsonBytes(hfConfig(recipe.shape)));
  return files;
}

/** Same layout as a Hugging Face repository with ONNX exports (onnx/model.onnx, onnx/model_quantized.onnx). */
function modelFile(recipe: Recipe): string {
  return recipe.quantize ? "onnx/model_quantized.onnx" : "onnx/model.onnx";
}

function variantName(recipe: Recipe): string {
  if (!recipe.quantize) return "fp32";
  const { perChannel, reduceRange, activations } = recipe.quantize;
  return `int8-dynamic-${perChannel ? "per-channel" : "per-tensor"}${reduceRange ? "-7bit" : ""}${activations === "per-row" ? "-per-row-activations" : ""}-cls-pruned`;
}

/** The manifest for a generated model, given its files. */
export function generatedManifest(name: GeneratedModelName, files: Map<string, Uint8Array>): Record<string, unknown> {
  if (isRewardModel(name)) return rewardModelManifest(name, GENERATED_REWARD_MODELS[name], files);
  if (isDebertaModel(name)) return debertaModelManifest(name, GENERATED_DEBERTA_MODELS[name], files);
  const recipe: Recipe = GENERATED_MODELS[name];
  return {
    schema: 1,
    name,
    kind: "cross-encoder",
    description: `RANDOM WEIGHTS: a ${recipe.shapeName} BERT cross-encoder (${variantName(recipe)}) with seeded random weights, for tests and benchmarks. Its scores mean nothing.`,
    source: { type: "generated", generator: GENERATOR, seed: SEED, shape: `${recipe.shapeName}/${variantName(recipe)}` },
    files: [...files].map(([file, bytes]) => ({ path: file, sha256: sha256(bytes), size: bytes.length })),
    model: { file: modelFile(recipe), inputs: ["input_ids", "attention_mask", "token_type_ids"], output: "logits", outputIndex: 0 },
    tokenizer: { file: "tokenizer.json", configFile: "tokenizer_config.json", maxTokens: MAX_TOKENS, truncation: "longest_first", lowercase: true },
    scoreMapping: { type: "sigmoid", center: 0, scale: 1, rawDecimals: 4 },
  };
}

interface ManifestFileEntry { path: string; sha256: string; size: number }

function filesUpToDate(dir: string, entries: readonly ManifestFileEntry[]): boolean {
  return entries.every((e) => {
    const file = path.join(dir, ...e.path.split("/"));
    return existsSync(file) && sha256(readFileSync(file)) === e.sha256;
  });
}

/**
 * Makes sure `models/<name>/` holds the generated files its committed manifest pins, generating them when missing or
 * stale. Throws if freshly generated bytes differ from the manifest (the generator is no longer deterministic or
 * the manifest is out of date: run `npm run models:generate -- --write-manifests`). Returns the folder.
 */
export function ensureGeneratedModel(name: GeneratedModelName, root: string = MODELS_ROOT): string {
  const dir = path.join(root, name);
  const manifest = JSON.parse(readFileSync(path.join(dir, "manifest.json"), "utf8")) as { files: ManifestFileEntry[] };
  if (filesUpToDate(dir, manifest.files)) return dir;
  const files = buildGeneratedModelFiles(name);
  for (const entry of manifest.files) {
    const bytes = files.get(entry.path);
    if (!bytes || sha256(bytes) !== entry.sha256) {
      throw new Error(`generated ${name}/${entry.path} does not match its manifest (sha256 ${bytes ? sha256(bytes) : "missing"}, pinned ${entry.sha256}); regenerate the manifests`);
    }
  }
  writeModelFiles(dir, files);
  return dir;
}

export function writeModelFiles(dir: string, files: Map<string, Uint8Array>): void {
  for (const [file, bytes] of files) {
    const target = path.join(dir, ...file.split("/"));
    mkdirSync(path.dirname(target), { recursive: true });
    // Write to a per-process temporary name, then rename (atomic): an interrupted run never leaves a truncated
    // model in place, and two test processes generating the same model at once do not interleave their bytes.
    const partial = `${target}.${process.pid}.partial`;
    writeInChunks(partial, bytes);
    renameSync(partial, target);
  }
}

/** writeFileSync refuses buffers over 2 GiB (a 0.6B fp32 model's external data is 2.4 GB): write 1 GiB at a time. */
function writeInChunks(file: string, bytes: Uint8Array): void {
  const fd = openSync(file, "w");
  try {
    for (let offset = 0; offset < bytes.length; ) offset += writeSync(fd, bytes, offset, Math.min(1 << 30, bytes.length - offset));
  } finally {
    closeSync(fd);
  }
}
