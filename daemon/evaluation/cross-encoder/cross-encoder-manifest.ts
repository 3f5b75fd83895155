/** The cross-encoder's own reading of a manifest's `model` and `tokenizer` sections (manifest.ts keeps them open). */
import { z } from "zod";
import { ManifestInvalidError } from "../evaluator.ts";
import type { Manifest } from "../manifest.ts";
import type { ScoreMapping } from "../score-mapping.ts";

const CrossEncoderModelSchema = z.object({
  file: z.string().min(1),
  /**
   * input_ids, attention_mask and token_type_ids, in that order, as the graph names them; two names for graphs without
   * token types (a DeBERTa-v3 export: its config has type_vocab_size 0, so the exporter drops that input).
   */
  inputs: z.union([z.tuple([z.string().min(1), z.string().min(1), z.string().min(1)]), z.tuple([z.string().min(1), z.string().min(1)])])
    .default(["input_ids", "attention_mask", "token_type_ids"]),
  output: z.string().min(1).default("logits"),
  /** Which logit of each row is the relevance score (0 for one-logit ms-marco models). */
  outputIndex: z.number().int().nonnegative().default(0),
}).passthrough();

const CrossEncoderTokenizerSchema = z.object({
  file: z.string().min(1),
  /** Total tokens per pair including [CLS] and two [SEP]. */
  maxTokens: z.number().int().min(5).max(8192),
  truncation: z.literal("longest_first"),
  lowercase: z.boolean().optional(),
  /** Optional tokenizer_config.json (special token names, decoding); listed in `files` when present. */
  configFile: z.string().min(1).optional(),
}).passthrough();

export interface CrossEncoderSettings {
  model: z.infer<typeof CrossEncoderModelSchema>;
  tokenizer: z.infer<typeof CrossEncoderTokenizerSchema>;
  scoreMapping: ScoreMapping;
}

export function readCrossEncoderSettings(manifest: Manifest, where: string): CrossEncoderSettings {
  if (manifest.kind !== "cross-encoder") {
    throw new ManifestInvalidError(`manifest ${manifest.name} is of kind ${manifest.kind}, not cross-encoder`, where);
  }
  const model = CrossEncoderModelSchema.safeParse(manifest.model);
  const tokenizer = CrossEncoderTokenizerSchema.safeParse(manifest.tokenizer);
  const problems = [
    ...(model.success ? [] : model.error.issues.map((i) => `model.${i.path.join(".")}: ${i.message}`)),
    ...(tokenizer.success ? [] : tokenizer.error.issues.map((i) => `tokenizer.${i.path.join(".")}: ${i.message}`)),
    ...(manifest.scoreMapping ? [] : ["scoreMapping: required"]),
  ];
  if (tokenizer.success && tokenizer.data.configFile && !manifest.files.some((f) => f.path === tokenizer.data.configFile)) {
    problems.push(`tokenizer.configFile: '${tokenizer.data.configFile}' is not listed in files`);
  }
  if (!model.success || !tokenizer.success || !manifest.scoreMapping || problems.length > 0) {
    throw new ManifestInvalidError(`cross-encoder manifest ${manifest.name}: ${problems.join("; ")}`, where);
  }
  return { model: model.data, tokenizer: tokenizer.data, scoreMapping: manifest.scoreMapping };
}
