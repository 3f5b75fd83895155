/**
 * What every ONNX evaluator shares (the cross-encoder and the reward model): the model bytes hashed again as they are
 * handed to ONNX Runtime, the graph's inputs and outputs checked against the manifest, one model run at a time,
 * length-bucketed batches, a refusal of output that does not depend on the input, and the manifest's score mapping.
 * A kind of evaluator supplies only how a (prompt, answer) pair becomes tokens and how a batch becomes feeds.
 */
import { createHash } from "node:crypto";
import { open, readFile } from "node:fs/promises";
import * as ort from "onnxruntime-node";
import { planBatches, type BatchLimits } from "./cross-encoder/batching.ts";
import { DEFAULT_MAX_BATCH_SIZE, DEFAULT_MAX_BATCH_TOKENS, defaultSessionOptions } from "./cross-encoder/session-options.ts";
import { EvaluatorClosedError, EvaluatorRuntimeError, ManifestMismatchError, type Evaluator, type ScorePair, type ScoreResult } from "./evaluator.ts";
import { manifestFilePath, manifestId, type EvaluatorId, type Manifest } from "./manifest.ts";
import { mapRawToScore, type ScoreMapping } from "./score-mapping.ts";
import { asText } from "./text.ts";

/** One encoded input: its token ids (before padding) and whether a side was cut to fit. */
export interface EncodedInput {
  inputIds: readonly number[];
  truncated: boolean;
}

/** Which output of the graph holds the score, and how a raw value becomes the on-chain integer. */
export interface ScoreReadout {
  output: string;
  outputIndex: number;
  scoreMapping: ScoreMapping;
}

export interface OnnxLoadOptions {
  /** Merged over defaultSessionOptions(). */
  sessionOptions?: ort.InferenceSession.SessionOptions;
  maxBatchSize?: number;
  maxBatchTokens?: number;
  /**
   * Allow batching on a graph whose per-input output depends on its batch-mates (per-tensor dynamic int8
   * quantization, as quantize_dynamic writes it; scripts/models/quantize.ts writes per-row graphs, which batch). Off by
   * default: such a graph is run one input at a time, see isBatchCoupled.
   */
  allowBatchCoupledScores?: boolean;
}

/**
 * Operators that compute one quantization scale over the whole input tensor, i.e. over every row of a padded batch
 * (DynamicQuantizeLinear, and ONNX Runtime's fused forms of it; per-row graphs use none of them). With them, a row's
 * logit moves with the other rows of its batch (measured: up to 0.12 logit, 15 score points, on the MiniLM-shaped int8
 * model), so two validators batching the same task differently would disagree. Their op_type strings are plain UTF-8
 * in the protobuf, so a byte search finds them without parsing the graph.
 */
const BATCH_COUPLED_OPERATORS = ["DynamicQuantizeLinear", "DynamicQuantizeMatMul", "QAttention", "DynamicQuantizeLSTM"];

export function isBatchCoupled(modelBytes: Buffer): boolean {
  return BATCH_COUPLED_OPERATORS.some((op) => modelBytes.includes(op));
}

/** Two clearly different pairs scored at load: a model whose output does not depend on its input is refused. */
const SELF_CHECK_PAIRS: readonly ScorePair[] = [
  { prompt: "What is the capital of France?", answer: "Paris is the capital and largest city of France." },
  { prompt: "How do I bake bread?", answer: "zzz 0000 ))) qqq" },
];

/** A JSON file of the manifest (tokenizer, its config), with a typed error naming it. */
export async function readManifestJson<T extends object = Record<string, unknown>>(manifest: Manifest, dir: string, file: string): Promise<T> {
  try {
    return JSON.parse(await readFile(manifestFilePath(dir, file), "utf8")) as T;
  } catch (cause) {
    throw new EvaluatorRuntimeError(`cannot read ${file} of ${manifest.name}`, { cause });
  }
}

/**
 * A manifest-listed file read whole and checked against its pinned sha256, so that a file swapped after verifyFiles is
 * not run. Read in chunks: fs.readFile stops at 2 GiB, and an fp32 0.6B model's external data is 2.4 GB.
 */
export async function readPinned(manifest: Manifest, dir: string, file: string): Promise<Buffer> {
  const pinned = manifest.files.find((entry) => entry.path === file)!;
  const handle = await open(manifestFilePath(dir, file), "r");
  try {
    const { size } = await handle.stat();
    const bytes = Buffer.allocUnsafe(size);
    for (let offset = 0; offset < size; ) {
      const { bytesRead } = await handle.read(bytes, offset, Math.min(1 << 30, size - offset), offset);
      if (bytesRead === 0) throw new ManifestMismatchError(file, pinned.sha256, "truncated while reading");
      offset += bytesRead;
    }
    // Hash.update refuses more than 2 GiB at once.
    const hash = createHash("sha256");
    for (let offset = 0; offset < size; offset += 1 << 30) hash.update(bytes.subarray(offset, offset + (1 << 30)));
    const actual = hash.digest("hex");
    if (actual !== pinned.sha256) throw new ManifestMismatchError(file, pinned.sha256, actual);
    return bytes;
  } finally {
    await handle.close();
  }
}

export interface LoadedSession {
  session: ort.InferenceSession;
  limits: BatchLimits;
}

/**
 * Opens the pinned model (and its external data files) in ONNX Runtime, checks that the graph's inputs are exactly
 * `inputs` and that it has `output`, and picks the batch limits (one input at a time for a batch-coupled graph).
 */
export async function openPinnedSession(
  manifest: Manifest,
  dir: string,
  model: { file: string; externalData?: readonly string[]; inputs: readonly string[]; output: string },
  options: OnnxLoadOptions,
): Promise<LoadedSession> {
  let session: ort.InferenceSession;
  let batchCoupled: boolean;
  try {
    const modelBytes = await readPinned(manifest, dir, model.file);
    const externalData = await Promise.all((model.externalData ?? []).map(async (file) => ({ path: file.split("/").at(-1)!, data: await readPinned(manifest, dir, file) })));
    batchCoupled = isBatchCoupled(modelBytes);
    session = await ort.InferenceSession.create(modelBytes, { ...defaultSessionOptions(), ...options.sessionOptions, ...(externalData.length > 0 ? { externalData } : {}) });
  } catch (cause) {
    if (cause instanceof ManifestMismatchError) throw cause;
    throw new EvaluatorRuntimeError(`cannot load ONNX model ${model.file} of ${manifest.name}`, { cause });
  }
  const missing = [...model.inputs.filter((n) => !session.inputNames.includes(n)), ...(session.outputNames.includes(model.output) ? [] : [model.output])];
  // A graph input the manifest does not name (token_type_ids left out of a BERT manifest) would fail every run.
  const unfed = session.inputNames.filter((n) => !model.inputs.includes(n));
  if (missing.length > 0 || unfed.length > 0) {
    await session.release();
    throw new EvaluatorRuntimeError(
      `ONNX model of ${manifest.name} does not match its manifest: lacks [${missing.join(", ")}], unfed inputs [${unfed.join(", ")}] (has inputs ${session.inputNames.join(", ")}; outputs ${session.outputNames.join(", ")})`,
    );
  }
  const oneAtATime = batchCoupled && !options.allowBatchCoupledScores;
  const limits = {
    maxBatchSize: oneAtATime ? 1 : (options.maxBatchSize ?? DEFAULT_MAX_BATCH_SIZE),
    maxBatchTokens: options.maxBatchTokens ?? DEFAULT_MAX_BATCH_TOKENS,
  };
  return { session, limits };
}

export abstract class OnnxEvaluator<E extends EncodedInput> implements Evaluator {
  readonly name: string;
  readonly id: EvaluatorId;
  private closed = false;
  /** Serialises model runs: one ONNX Runtime run at a time uses all intra-op threads. */
  private queue: Promise<unknown> = Promise.resolve();

  protected constructor(
    manifest: Manifest,
    private readonly session: ort.InferenceSession,
    /** Batch limits in force (maxBatchSize 1 for a batch-coupled graph). */
    readonly limits: BatchLimits,
    private readonly readout: ScoreReadout,
  ) {
    this.name = manifest.name;
    this.id = manifestId(manifest);
  }

  /** The model's tokens for one pair. */
  abstract encodePair(prompt: string, answer: string): E;

  /** The graph's feeds for one batch, every input padded to `length` tokens. */
  protected abstract batchFeeds(batch: readonly E[], length: number): Record<string, ort.Tensor>;

  /** Differs between two inputs the model must be able to tell apart (the input-dependence check compares these). */
  protected inputKey(input: E): string {
    return input.inputIds.join(",");
  }

  /** Scores the self-check pairs; on failure the evaluator is closed and a typed error thrown. */
  protected async selfCheck(): Promise<this> {
    try {
      await this.score(SELF_CHECK_PAIRS);
      return this;
    } catch (cause) {
      await this.close();
      throw new EvaluatorRuntimeError(`self-check of ${this.name} failed`, { cause });
    }
  }

  async score(pairs: readonly ScorePair[]): Promise<ScoreResult[]> {
    if (this.closed) throw new EvaluatorClosedError(this.name);
    // Odd input (non-strings from a JSON caller) is scored as text rather than crashing the validator.
    const encoded = pairs.map((p) => this.encodePair(asText(p?.prompt), asText(p?.answer)));
    const run = this.queue.then(() => this.runBatches(encoded));
    this.queue = run.catch(() => undefined);
    const rows = await run;
    const { outputIndex, scoreMapping } = this.readout;
    this.assertInputDependent(encoded, rows);
    return rows.map((raw, i) => ({
      score: mapRawToScore(raw[outputIndex] ?? Number.NaN, scoreMapping),
      raw,
      detail: { tokens: encoded[i]!.inputIds.length, truncated: encoded[i]!.truncated },
    }));
  }

  /** Runs length-bucketed batches and returns each input's output row, in input order. */
  private async runBatches(encoded: readonly E[]): Promise<number[][]> {
    if (this.closed) throw new EvaluatorClosedError(this.name);
    const { output, outputIndex } = this.readout;
    const rows = new Array<number[]>(encoded.length);
    for (const batch of planBatches(encoded.map((e) => e.inputIds.length), this.limits)) {
      const size = batch.indices.length;
      let logits: ort.Tensor;
      try {
        logits = (await this.session.run(this.batchFeeds(batch.indices.map((i) => encoded[i]!), batch.length), [output]))[output]!;
      } catch (cause) {
        throw new EvaluatorRuntimeError(`${this.name}: model run failed for a batch of ${size} x ${batch.length} tokens`, { cause });
      }
      const width = logits.dims.length === 1 ? 1 : Number(logits.dims[logits.dims.length - 1]);
      if (logits.dims[0] !== size || width <= outputIndex) {
        throw new EvaluatorRuntimeError(`${this.name}: output ${output} has shape [${logits.dims.join(", ")}], expected [${size}, >${outputIndex}]`);
      }
      const data = logits.data as Float32Array;
      batch.indices.forEach((inputIndex, row) => {
        rows[inputIndex] = Array.from(data.subarray(row * width, (row + 1) * width));
      });
    }
    return rows;
  }

  /**
   * Identical outputs for clearly different inputs mean a broken model or graph (e.g. a softmax over one logit turns
   * every score into 1.0): refuse to hand such scores to the chain.
   */
  private assertInputDependent(encoded: readonly E[], rows: readonly number[][]): void {
    const distinctInputs = new Set(encoded.map((e) => this.inputKey(e))).size;
    if (distinctInputs < 2) return;
    const outputs = new Set(rows.map((r) => r[this.readout.outputIndex]));
    if (outputs.size === 1) {
      throw new EvaluatorRuntimeError(`model output ${[...outputs][0]} is identical for ${distinctInputs} different inputs: the model or its graph is broken`);
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.queue;
    await this.session.release();
  }
}
