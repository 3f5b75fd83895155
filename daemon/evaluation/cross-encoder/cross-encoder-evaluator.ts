/**
 * The product's main evaluator: a Hugging Face sequence-classification cross-encoder (ONNX, fp32 or int8) with its
 * tokenizer.json, run by onnxruntime-node on CPU. Raw logits are read as they are (never a softmax over one
 * logit) and mapped to the on-chain integer by the manifest's score mapping.
 */
import { Tokenizer } from "@huggingface/tokenizers";
import type * as ort from "onnxruntime-node";
import { contentTokenizer } from "../content-tokenizer.ts";
import { EvaluatorRuntimeError } from "../evaluator.ts";
import { verifyFiles, type Manifest } from "../manifest.ts";
import { OnnxEvaluator, openPinnedSession, readManifestJson, type OnnxLoadOptions } from "../onnx-evaluator.ts";
import { padBatch, toOrtFeeds, type BatchLimits } from "./batching.ts";
import { readCrossEncoderSettings, type CrossEncoderSettings } from "./cross-encoder-manifest.ts";
import { PairEncoder, type EncodedPair } from "./pair-encoder.ts";

export type CrossEncoderLoadOptions = OnnxLoadOptions;

export class CrossEncoderEvaluator extends OnnxEvaluator<EncodedPair> {
  private constructor(
    manifest: Manifest,
    private readonly settings: CrossEncoderSettings,
    session: ort.InferenceSession,
    readonly encoder: PairEncoder,
    limits: BatchLimits,
  ) {
    super(manifest, session, limits, { ...settings.model, scoreMapping: settings.scoreMapping });
  }

  /**
   * Verifies every file of the manifest against its sha256 (ManifestMismatchError otherwise), then loads the
   * tokenizer and the ONNX session and checks that the model's output depends on its input.
   */
  static async load(manifest: Manifest, dir: string, options: CrossEncoderLoadOptions = {}): Promise<CrossEncoderEvaluator> {
    const settings = readCrossEncoderSettings(manifest, dir);
    await verifyFiles(manifest, dir);
    const tokenizerJson = await readManifestJson(manifest, dir, settings.tokenizer.file);
    const tokenizerConfig = settings.tokenizer.configFile ? await readManifestJson(manifest, dir, settings.tokenizer.configFile) : {};
    let encoder: PairEncoder;
    try {
      // Prompt and answer go through a copy without added tokens (no forged [SEP]); long sides are cut only where the
      // tokenizer's pre-tokenizer guarantees a token boundary.
      const cutRule = (tokenizerJson as { pre_tokenizer?: { type?: string } }).pre_tokenizer?.type === "BertPreTokenizer" ? "bert" : "space";
      encoder = new PairEncoder(new Tokenizer(tokenizerJson, tokenizerConfig), settings.tokenizer.maxTokens, { cutRule, contentTokenizer: contentTokenizer(tokenizerJson, tokenizerConfig) });
    } catch (cause) {
      throw new EvaluatorRuntimeError(`cannot build the tokenizer of ${manifest.name}`, { cause });
    }
    const { session, limits } = await openPinnedSession(manifest, dir, settings.model, options);
    return new CrossEncoderEvaluator(manifest, settings, session, encoder, limits).selfCheck();
  }

  encodePair(prompt: string, answer: string): EncodedPair {
    return this.encoder.encode(prompt, answer);
  }

  protected batchFeeds(batch: readonly EncodedPair[], length: number): Record<string, ort.Tensor> {
    return toOrtFeeds(padBatch(batch, length, this.encoder.padId), this.settings.model.inputs);
  }

  protected inputKey(pair: EncodedPair): string {
    return `${pair.inputIds.join(",")}|${pair.tokenTypeIds.join(",")}`;
  }
}
