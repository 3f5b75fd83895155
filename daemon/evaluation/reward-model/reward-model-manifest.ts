/** The reward-model engine's reading of a manifest's `model` and `tokenizer` sections (manifest.ts keeps them open). */
import { z } from "zod";
import { ManifestInvalidError } from "../evaluator.ts";
import type { Manifest } from "../manifest.ts";
import type { ScoreMapping } from "../score-mapping.ts";

const RewardModelSchema = z.object({
  file: z.string().min(1),
  /** Graph input names. `positions` only for exports that take position_ids (fed 0..n-1 per row). */
  inputs: z.object({ ids: z.string().min(1), mask: z.string().min(1), positions: z.string().min(1).optional() }).strict()
    .default({ ids: "input_ids", mask: "attention_mask" }),
  output: z.string().min(1).default("logits"),
  /**
   * ONNX external data files of the model (an fp32 export over 2 GB keeps its weights in `model.onnx_data`), listed in
   * `files` and in the same folder as the model file. They are hashed and handed to ONNX Runtime from memory.
   */
  externalData: z.array(z.string().min(1)).optional(),
  /** Which value of each output row is the reward (0 for one-label Bradley-Terry reward heads). */
  outputIndex: z.number().int().nonnegative().default(0),
}).passthrough();

/** One piece of the chat template: fixed text (special tokens parsed), or the prompt / answer slot (special tokens never parsed). */
const TemplatePartSchema = z.union([
  z.object({ text: z.string().min(1) }).strict(),
  z.object({
    slot: z.enum(["prompt", "answer"]),
    /** Drop leading newlines from the slot text (Qwen3's template does `content.lstrip('\n')` for the assistant turn). */
    trimLeadingNewlines: z.boolean().optional(),
  }).strict(),
]);

const RewardTokenizerSchema = z.object({
  file: z.string().min(1),
  configFile: z.string().min(1).optional(),
  /** Total tokens per conversation, template included. */
  maxTokens: z.number().int().min(8).max(32_768),
  /** The token rows are right-padded with; must be the model's config.pad_token_id (its pooling looks for it). */
  padToken: z.string().min(1),
  /** The model's chat template for one user turn and one assistant turn, written out as parts. */
  template: z.array(TemplatePartSchema).min(2),
  truncation: z.literal("longest_first"),
}).passthrough();

export type TemplatePart = z.infer<typeof TemplatePartSchema>;

export interface RewardModelSettings {
  model: z.infer<typeof RewardModelSchema>;
  tokenizer: z.infer<typeof RewardTokenizerSchema>;
  scoreMapping: ScoreMapping;
}

export function readRewardModelSettings(manifest: Manifest, where: string): RewardModelSettings {
  if (manifest.kind !== "reward-model") {
    throw new ManifestInvalidError(`manifest ${manifest.name} is of kind ${manifest.kind}, not reward-model`, where);
  }
  const model = RewardModelSchema.safeParse(manifest.model);
  const tokenizer = RewardTokenizerSchema.safeParse(manifest.tokenizer);
  const problems = [
    ...(model.success ? [] : model.error.issues.map((i) => `model.${i.path.join(".")}: ${i.message}`)),
    ...(tokenizer.success ? [] : tokenizer.error.issues.map((i) => `tokenizer.${i.path.join(".")}: ${i.message}`)),
    ...(manifest.scoreMapping ? [] : ["scoreMapping: required"]),
  ];
  if (tokenizer.success) {
    const slots = tokenizer.data.template.flatMap((part) => ("slot" in part ? [part.slot] : []));
    if (slots.join(",") !== "prompt,answer") problems.push(`tokenizer.template: needs exactly one prompt slot followed by one answer slot, has [${slots.join(", ")}]`);
    const { configFile } = tokenizer.data;
    for (const file of model.success ? (model.data.externalData ?? []) : []) {
      if (!manifest.files.some((f) => f.path === file)) problems.push(`model.externalData: '${file}' is not listed in files`);
      if (file.split("/").slice(0, -1).join("/") !== model.data!.file.split("/").slice(0, -1).join("/")) problems.push(`model.externalData: '${file}' is not in the model file's folder`);
    }
    if (configFile && !manifest.files.some((f) => f.path === configFile)) problems.push(`tokenizer.configFile: '${configFile}' is not listed in files`);
  }
  if (!model.success || !tokenizer.success || !manifest.scoreMapping || problems.length > 0) {
    throw new ManifestInvalidError(`reward-model manifest ${manifest.name}: ${problems.join("; ")}`, where);
  }
  return { model: model.data, tokenizer: tokenizer.data, scoreMapping: manifest.scoreMapping };
}
