/**
 * A decoder reward model (Hugging Face `*ForSequenceClassification` on a causal LM, e.g. Skywork-Reward-V2-Qwen3-0.6B)
 * exported to ONNX, fp32 or int8, run by onnxruntime-node on CPU. The conversation is the manifest's chat template
 * around the prompt and the answer (chat-encoder.ts); the graph pools the logits at each row's last non-pad token, as
 * transformers does; the raw reward is mapped to the on-chain integer by the manifest's score mapping.
 *
 * Batches are right-padded with the model's pad token. With causal attention a real token never sees the padding after
 * it, and the pooled row is the last real token, so a conversation's reward does not depend on its batch-mates (for
 * fp32 and for the per-row int8 graphs quantize.ts writes; per-tensor int8 graphs run one conversation at a time).
 */
import { createHash } from "node:crypto";
import { open, readFile } from "node:fs/promises";
import * as ort from "onnxruntime-node";
import { isBatchCoupled } from "../cross-encoder/cross-encoder-evaluator.ts";
import { planBatches, type BatchLimits } from "../cross-encoder/batching.ts";
import { DEFAULT_MAX_BATCH_SIZE, DEFAULT_MAX_BATCH_TOKENS, defaultSessionOptions } from "../cross-encoder/session-options.ts";
import { EvaluatorClosedError, EvaluatorRuntimeError, ManifestMismatchError, type Evaluator, type ScorePair, type ScoreResult } from "../evaluator.ts";
import { manifestFilePath, manifestId, verifyFiles, type EvaluatorId, type Manifest } from "../manifest.ts";
import { mapRawToScore } from "../score-mapping.ts";
import { asText } from "../text.ts";
import { ChatEncoder, type EncodedConversation } from "./chat-encoder.ts";
import { readRewardModelSettings, type RewardModelSettings } from "./reward-model-manifest.ts";

export interface RewardModelLoadOptions {
  /** Merged over defaultSessionOptions(). */
  sessionOptions?: ort.InferenceSession.SessionOptions;
  maxBatchSize?: number;
  maxBatchTokens?: number;
}

/** Two clearly different pairs scored at load: a model whose output does not depend on its input is refused. */
const SELF_CHECK_PAIRS: readonly ScorePair[] = [
  { prompt: "What is the capital of France?", answer: "Paris is the capital and largest city of France." },
  { prompt: "How do I bake bread?", answer: "zzz 0000 ))) qqq" },
];

/**
 * A manifest-listed file read whole and checked against its pinned sha256. Read in chunks: fs.readFile stops at 2 GiB,
 * and an fp32 0.6B model's external data is 2.4 GB.
 */
async function readPinned(manifest: Manifest, dir: string, file: string): Promise<Buffer> {
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

export class RewardModelEvaluator implements Evaluator {
  readonly name: string;
  readonly id: EvaluatorId;
  private closed = false;
  /** Serialises model runs: one ONNX Runtime run at a time uses all intra-op threads. */
  private queue: Promise<unknown> = Promise.resolve();

  private constructor(
    manifest: Manifest,
    private readonly settings: RewardModelSettings,
    private readonly session: ort.InferenceSession,
    readonly encoder: ChatEncoder,
    readonly limits: BatchLimits,
  ) {
    this.name = manifest.name;
    this.id = manifestId(manifest);
  }

  /** Verifies every file against its sha256, loads the tokenizer and the session, and checks that the output depends on the input. */
  static async load(manifest: Manifest, dir: string, options: RewardModelLoadOptions = {}): Promise<RewardModelEvaluator> {
    const settings = readRewardModelSettings(manifest, dir);
    await verifyFiles(manifest, dir);
    const readJson = async (file: string): Promise<Record<string, unknown>> => {
      try {
        return JSON.parse(await readFile(manifestFilePath(dir, file), "utf8")) as Record<string, unknown>;
      } catch (cause) {
        throw new EvaluatorRuntimeError(`cannot read ${file} of ${manifest.name}`, { cause });
      }
    };
    const { tokenizer } = settings;
    const tokenizerJson = await readJson(tokenizer.file);
    const tokenizerConfig = tokenizer.configFile ? await readJson(tokenizer.configFile) : {};
    let encoder: ChatEncoder;
    try {
      encoder = new ChatEncoder(tokenizerJson, tokenizerConfig, tokenizer.template, tokenizer.padToken, tokenizer.maxTokens);
    } catch (cause) {
      throw new EvaluatorRuntimeError(`cannot build the chat encoder of ${manifest.name}`, { cause });
    }
    let session: ort.InferenceSession;
    let batchCoupled: boolean;
    try {
      // The bytes actually handed to ONNX Runtime are hashed again, so a file swapped after verifyFiles is not run.
      const modelBytes = await readPinned(manifest, dir, settings.model.file);
      const externalData = await Promise.all((settings.model.externalData ?? []).map(async (file) => ({
        path: file.split("/").at(-1)!,
        data: await readPinned(manifest, dir, file),
      })));
      batchCoupled = isBatchCoupled(modelBytes);
      session = await ort.InferenceSession.create(modelBytes, { ...defaultSessionOptions(), ...options.sessionOptions, ...(externalData.length > 0 ? { externalData } : {}) });
    } catch (cause) {
      if (cause instanceof ManifestMismatchError) throw cause;
      throw new EvaluatorRuntimeError(`cannot load ONNX model ${settings.model.file} of ${manifest.name}`, { cause });
    }
    const { inputs, output } = settings.model;
    const wanted = [inputs.ids, inputs.mask, ...(inputs.positions ? [inputs.positions] : [])];
    const missing = [...wanted.filter((n) => !session.inputNames.includes(n)), ...(session.outputNames.includes(output) ? [] : [output])];
    const unfed = session.inputNames.filter((n) => !wanted.includes(n));
    if (missing.length > 0 || unfed.length > 0) {
      await session.release();
      throw new EvaluatorRuntimeError(`ONNX model of ${manifest.name} does not match its manifest: lacks [${missing.join(", ")}], unfed inputs [${unfed.join(", ")}] (has inputs ${session.inputNames.join(", ")}; outputs ${session.outputNames.join(", ")})`);
    }
    const limits = {
      maxBatchSize: batchCoupled ? 1 : (options.maxBatchSize ?? DEFAULT_MAX_BATCH_SIZE),
      maxBatchTokens: options.maxBatchTokens ?? DEFAULT_MAX_BATCH_TOKENS,
    };
    const evaluator = new RewardModelEvaluator(manifest, settings, session, encoder, limits);
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
    const encoded = pairs.map((p) => this.encoder.encode(asText(p?.prompt), asText(p?.answer)));
    const run = this.queue.then(() => this.runBatches(encoded));
    this.queue = run.catch(() => undefined);
    const rows = await run;
    const { outputIndex } = this.settings.model;
    const distinctInputs = new Set(encoded.map((e) => e.inputIds.join(","))).size;
    if (distinctInputs > 1 && new Set(rows.map((r) => r[outputIndex])).size === 1) {
      throw new EvaluatorRuntimeError(`model output ${rows[0]![outputIndex]} is identical for ${distinctInputs} different inputs: the model or its graph is broken`);
    }
    return rows.map((raw, i) => ({
      score: mapRawToScore(raw[outputIndex] ?? Number.NaN, this.settings.scoreMapping),
      raw,
      detail: { tokens: encoded[i]!.inputIds.length, truncated: encoded[i]!.truncated },
    }));
  }

  /** Runs length-bucketed, right-padded batches and returns each conversation's output row, in input order. */
  private async runBatches(encoded: readonly EncodedConversation[]): Promise<number[][]> {
    if (this.closed) throw new EvaluatorClosedError(this.name);
    const { inputs, output, outputIndex } = this.settings.model;
    const rows = new Array<number[]>(encoded.length);
    for (const batch of planBatches(encoded.map((e) => e.inputIds.length), this.limits)) {
      const size = batch.indices.length;
      const length = batch.length;
      const ids = new BigInt64Array(size * length).fill(BigInt(this.encoder.padId));
      const mask = new BigInt64Array(size * length);
      const positions = new BigInt64Array(size * length);
      batch.indices.forEach((inputIndex, row) => {
        encoded[inputIndex]!.inputIds.forEach((id, i) => {
          ids[row * length + i] = BigInt(id);
          mask[row * length + i] = 1n;
          positions[row * length + i] = BigInt(i);
        });
      });
      const dims = [size, length];
      const feeds: Record<string, ort.Tensor> = { [inputs.ids]: new ort.Tensor("int64", ids, dims), [inputs.mask]: new ort.Tensor("int64", mask, dims) };
      if (inputs.positions) feeds[inputs.positions] = new ort.Tensor("int64", positions, dims);
      let logits: ort.Tensor;
      try {
        logits = (await this.session.run(feeds, [output]))[output]!;
      } catch (cause) {
        throw new EvaluatorRuntimeError(`${this.name}: model run failed for a batch of ${size} x ${length} tokens`, { cause });
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

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.queue;
    await this.session.release();
  }
}
