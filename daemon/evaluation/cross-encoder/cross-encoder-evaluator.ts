/**
 * The product's main evaluator: a Hugging Face sequence-classification cross-encoder (ONNX, fp32 or int8) with its
 * tokenizer.json, run by onnxruntime-node on CPU. Raw logits are read as they are (never a softmax over one
 * logit) and mapped to the on-chain integer by the manifest's score mapping.
 */
import { createHash } from "node:crypto";
import { readFile } from "node:fs/promises";
import { Tokenizer } from "@huggingface/tokenizers";
import * as ort from "onnxruntime-node";
import { contentTokenizer } from "../content-tokenizer.ts";
import { EvaluatorClosedError, EvaluatorRuntimeError, ManifestMismatchError, type Evaluator, type ScorePair, type ScoreResult } from "../evaluator.ts";
import { manifestFilePath, manifestId, verifyFiles, type EvaluatorId, type Manifest } from "../manifest.ts";
import { mapRawToScore } from "../score-mapping.ts";
import { planBatches, padBatch, toOrtFeeds, type BatchLimits } from "./batching.ts";
import { readCrossEncoderSettings, type CrossEncoderSettings } from "./cross-encoder-manifest.ts";
import { PairEncoder, type EncodedPair } from "./pair-encoder.ts";
import { DEFAULT_MAX_BATCH_SIZE, DEFAULT_MAX_BATCH_TOKENS, defaultSessionOptions } from "./session-options.ts";

export interface CrossEncoderLoadOptions {
  /** Merged over defaultSessionOptions(). */
  sessionOptions?: ort.InferenceSession.SessionOptions;
  maxBatchSize?: number;
  maxBatchTokens?: number;
  /**
   * Allow batching on a graph whose per-pair output depends on its batch-mates (per-tensor dynamic int8 quantization,
   * as quantize_dynamic writes it; scripts/models/quantize.ts writes per-row graphs, which batch). Off by default:
   * such a graph is run one pair at a time, see isBatchCoupled.
   */
  allowBatchCoupledScores?: boolean;
}

/**
 * Operators that compute one quantization scale over the whole input tensor, i.e. over every pair of a padded
 * batch (DynamicQuantizeLinear, and ONNX Runtime's fused forms of it; per-row graphs use none of them). With them, a pair's logit moves with the
 * other pairs of its batch (measured: up to 0.12 logit, 15 score points, on the MiniLM-shaped int8 model), so two
 * validators batching the same task differently would disagree. Their op_type strings are plain UTF-8 in the
 * protobuf, so a byte search finds them without parsing the graph.
 */
const BATCH_COUPLED_OPERATORS = ["DynamicQuantizeLinear", "DynamicQuantizeMatMul", "QAttention", "DynamicQuantizeLSTM"];

export function isBatchCoupled(modelBytes: Buffer): boolean {
  return BATCH_COUPLED_OPERATORS.some((op) => modelBytes.includes(op));
}

/** Two clearly different pairs scored at load: a model whose logits do not depend on the input is refused. */
const SELF_CHECK_PAIRS: readonly ScorePair[] = [
  { prompt: "What is the capital of France?", answer: "Paris is the capital and largest city of France." },
  { prompt: "How do I bake bread?", answer: "zzz 0000 ))) qqq" },
];

export class CrossEncoderEvaluator implements Evaluator {
  readonly name: string;
  readonly id: EvaluatorId;
  private closed = false;
  /** Serialises model runs: one ONNX Runtime run at a time uses all intra-op threads. */
  private queue: Promise<unknown> = Promise.resolve();

  private constructor(
    manifest: Manifest,
    private readonly settings: CrossEncoderSettings,
    private readonly session: ort.InferenceSession,
    readonly encoder: PairEncoder,
    /** Batch limits in force (maxBatchSize 1 for a batch-coupled graph). */
    readonly limits: BatchLimits,
  ) {
    this.name = manifest.name;
    this.id = manifestId(manifest);
  }

  /**
   * Verifies every file of the manifest against its sha256 (ManifestMismatchError otherwise), then loads the
   * tokenizer and the ONNX session and checks that the model's output depends on its input.
   */
  static async load(manifest: Manifest, dir: string, options: CrossEncoderLoadOptions = {}): Promise<CrossEncoderEvaluator> {
    const settings = readCrossEncoderSettings(manifest, dir);
    await verifyFiles(manifest, dir);
    const readJson = async (file: string): Promise<object> => {
      try {
        return JSON.parse(await readFile(manifestFilePath(dir, file), "utf8")) as object;
      } catch (cause) {
        throw new EvaluatorRuntimeError(`cannot read ${file} of ${manifest.name}`, { cause });
      }
    };
    const tokenizerJson = await readJson(settings.tokenizer.file);
    const tokenizerConfig = settings.tokenizer.configFile ? await readJson(settings.tokenizer.configFile) : {};
    let encoder: PairEncoder;
    try {
      // Prompt and answer go through a copy without added tokens (no forged [SEP]); long sides are cut only where the
      // tokenizer's pre-tokenizer guarantees a token boundary.
      const cutRule = (tokenizerJson as { pre_tokenizer?: { type?: string } }).pre_tokenizer?.type === "BertPreTokenizer" ? "bert" : "space";
      encoder = new PairEncoder(new Tokenizer(tokenizerJson, tokenizerConfig), settings.tokenizer.maxTokens, { cutRule, contentTokenizer: contentTokenizer(tokenizerJson, tokenizerConfig) });
    } catch (cause) {
      throw new EvaluatorRuntimeError(`cannot build the tokenizer of ${manifest.name}`, { cause });
    }
    let session: ort.InferenceSession;
    let batchCoupled: boolean;
    try {
      const modelBytes = await readFile(manifestFilePath(dir, settings.model.file));
      // Re-check the bytes actually handed to ONNX Runtime, so a file swapped after verifyFiles is not run.
      const pinned = manifest.files.find((entry) => entry.path === settings.model.file)!;
      const actual = createHash("sha256").update(modelBytes).digest("hex");
      if (actual !== pinned.sha256) throw new ManifestMismatchError(pinned.path, pinned.sha256, actual);
      batchCoupled = isBatchCoupled(modelBytes);
      session = await ort.InferenceSession.create(modelBytes, { ...defaultSessionOptions(), ...options.sessionOptions });
    } catch (cause) {
      if (cause instanceof ManifestMismatchError) throw cause;
      throw new EvaluatorRuntimeError(`cannot load ONNX model ${settings.model.file} of ${manifest.name}`, { cause });
    }
    const inputs: readonly string[] = settings.model.inputs;
    const missing = [...inputs.filter((n) => !session.inputNames.includes(n)), ...(session.outputNames.includes(settings.model.output) ? [] : [settings.model.output])];
    // A graph input the manifest does not name (token_type_ids left out of a BERT manifest) would fail every run.
    missing.push(...session.inputNames.filter((n) => !inputs.includes(n)).map((n) => `a manifest entry for its input ${n}`));
    if (missing.length > 0) {
      await session.release();
      throw new EvaluatorRuntimeError(`ONNX model of ${manifest.name} lacks ${missing.join(", ")} (has inputs ${session.inputNames.join(", ")}; outputs ${session.outputNames.join(", ")})`);
    }
    // A batch-coupled graph runs one pair at a time (no padding either), so every pair's score is batch-invariant.
    const oneAtATime = batchCoupled && !options.allowBatchCoupledScores;
    const limits = {
      maxBatchSize: oneAtATime ? 1 : (options.maxBatchSize ?? DEFAULT_MAX_BATCH_SIZE),
      maxBatchTokens: options.maxBatchTokens ?? DEFAULT_MAX_BATCH_TOKENS,
    };
    const evaluator = new CrossEncoderEvaluator(manifest, settings, session, encoder, limits);
    try {
      await evaluator.score(SELF_CHECK_PAIRS);
    } catch (cause) {
      await evaluator.close();
      throw new EvaluatorRuntimeError(`self-check of ${manifest.name} failed`, { cause });
    }
    return evaluator;
  }

  async score(pairs: readonly ScorePair[]): Promise<ScoreResult[]> {
    if (this.closed) throw new EvaluatorClosedError(this.name);
    // Odd input (non-strings from a JSON caller) is scored as empty text rather than crashing the validator.
    const encoded = pairs.map((p) => this.encoder.encode(asText(p?.prompt), asText(p?.answer)));
    const run = this.queue.then(() => this.runBatches(encoded));
    this.queue = run.catch(() => undefined);
    const rawRows = await run;
    assertInputDependent(encoded, rawRows, this.settings.model.outputIndex);
    return rawRows.map((raw, i) => ({
      score: mapRawToScore(raw[this.settings.model.outputIndex] ?? Number.NaN, this.settings.scoreMapping),
      raw,
      detail: { tokens: encoded[i]!.inputIds.length, truncated: encoded[i]!.truncated },
    }));
  }

  /** Runs the pairs in length-bucketed batches and returns each pair's logits row, in input order. */
  private async runBatches(encoded: readonly EncodedPair[]): Promise<number[][]> {
    if (this.closed) throw new EvaluatorClosedError(this.name);
    const rows = new Array<number[]>(encoded.length);
    for (const batch of planBatches(encoded.map((e) => e.inputIds.length), this.limits)) {
      const feeds = padBatch(batch.indices.map((i) => encoded[i]!), batch.length, this.encoder.padId);
      let logits: ort.Tensor;
      try {
        const outputs = await this.session.run(toOrtFeeds(feeds, this.settings.model.inputs), [this.settings.model.output]);
        logits = outputs[this.settings.model.output]!;
      } catch (cause) {
        throw new EvaluatorRuntimeError(`${this.name}: model run failed for a batch of ${feeds.batchSize} x ${feeds.length} tokens`, { cause });
      }
      const width = logits.dims.length === 1 ? 1 : Number(logits.dims[logits.dims.length - 1]);
      if (logits.dims[0] !== feeds.batchSize || width <= this.settings.model.outputIndex) {
        throw new EvaluatorRuntimeError(`${this.name}: output ${this.settings.model.output} has shape [${logits.dims.join(", ")}], expected [${feeds.batchSize}, >${this.settings.model.outputIndex}]`);
      }
      const data = logits.data as Float32Array;
      batch.indices.forEach((inputIndex, row) => {
        rows[inputIndex] = Array.from(data.subarray(row * width, (row + 1) * width));
      });
    }
    return rows;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.queue;
    await this.session.release();
  }
}

function asText(value: unknown): string {
  return typeof value === "string" ? value : "";
}

/**
 * Identical logits for clearly different inputs mean a broken model or graph (e.g. a softmax over one logit
 * turns every score into 1.0): refuse to hand such scores to the chain.
 */
function assertInputDependent(encoded: readonly EncodedPair[], rows: readonly number[][], outputIndex: number): void {
  const distinctInputs = new Set(encoded.map((e) => `${e.inputIds.join(",")}|${e.tokenTypeIds.join(",")}`));
  if (distinctInputs.size < 2) return;
  const distinctOutputs = new Set(rows.map((r) => r[outputIndex]));
  if (distinctOutputs.size === 1) {
    throw new EvaluatorRuntimeError(`model output ${[...distinctOutputs][0]} is identical for ${distinctInputs.size} different inputs: the model or its graph is broken`);
  }
}
