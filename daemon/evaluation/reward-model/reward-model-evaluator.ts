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
import * as ort from "onnxruntime-node";
import type { BatchLimits } from "../cross-encoder/batching.ts";
import { EvaluatorRuntimeError } from "../evaluator.ts";
import { verifyFiles, type Manifest } from "../manifest.ts";
import { OnnxEvaluator, openPinnedSession, readManifestJson, type OnnxLoadOptions } from "../onnx-evaluator.ts";
import { ChatEncoder, type EncodedConversation } from "./chat-encoder.ts";
import { readRewardModelSettings, type RewardModelSettings } from "./reward-model-manifest.ts";

export type RewardModelLoadOptions = Omit<OnnxLoadOptions, "allowBatchCoupledScores">;

export class RewardModelEvaluator extends OnnxEvaluator<EncodedConversation> {
  private constructor(
    manifest: Manifest,
    private readonly settings: RewardModelSettings,
    session: ort.InferenceSession,
    readonly encoder: ChatEncoder,
    limits: BatchLimits,
  ) {
    super(manifest, session, limits, { ...settings.model, scoreMapping: settings.scoreMapping });
  }

  /** Verifies every file against its sha256, loads the tokenizer and the session, and checks that the output depends on the input. */
  static async load(manifest: Manifest, dir: string, options: RewardModelLoadOptions = {}): Promise<RewardModelEvaluator> {
    const settings = readRewardModelSettings(manifest, dir);
    await verifyFiles(manifest, dir);
    const { tokenizer, model } = settings;
    const tokenizerJson = await readManifestJson(manifest, dir, tokenizer.file);
    const tokenizerConfig = tokenizer.configFile ? await readManifestJson(manifest, dir, tokenizer.configFile) : {};
    let encoder: ChatEncoder;
    try {
      encoder = new ChatEncoder(tokenizerJson, tokenizerConfig, tokenizer.template, tokenizer.padToken, tokenizer.maxTokens);
    } catch (cause) {
      throw new EvaluatorRuntimeError(`cannot build the chat encoder of ${manifest.name}`, { cause });
    }
    const inputs = [model.inputs.ids, model.inputs.mask, ...(model.inputs.positions ? [model.inputs.positions] : [])];
    const { session, limits } = await openPinnedSession(manifest, dir, { ...model, inputs }, options);
    return new RewardModelEvaluator(manifest, settings, session, encoder, limits).selfCheck();
  }

  encodePair(prompt: string, answer: string): EncodedConversation {
    return this.encoder.encode(prompt, answer);
  }

  /** Right-padded ids, a mask of the real tokens, and positions 0..n-1 when the graph takes them. */
  protected batchFeeds(batch: readonly EncodedConversation[], length: number): Record<string, ort.Tensor> {
    const { inputs } = this.settings.model;
    const ids = new BigInt64Array(batch.length * length).fill(BigInt(this.encoder.padId));
    const mask = new BigInt64Array(batch.length * length);
    const positions = new BigInt64Array(batch.length * length);
    batch.forEach((conversation, row) => {
      conversation.inputIds.forEach((id, i) => {
        ids[row * length + i] = BigInt(id);
        mask[row * length + i] = 1n;
        positions[row * length + i] = BigInt(i);
      });
    });
    const dims = [batch.length, length];
    const feeds: Record<string, ort.Tensor> = { [inputs.ids]: new ort.Tensor("int64", ids, dims), [inputs.mask]: new ort.Tensor("int64", mask, dims) };
    if (inputs.positions) feeds[inputs.positions] = new ort.Tensor("int64", positions, dims);
    return feeds;
  }
}
