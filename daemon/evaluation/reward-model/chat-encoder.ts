/**
 * Turns a (prompt, answer) pair into the token ids of the reward model's chat template, deterministically:
 *
 * - The template comes from the manifest as parts (hashed into the evaluator id), never from a Jinja template run
 *   at scoring time: every validator renders the same conversation.
 * - Fixed parts are tokenized with the full tokenizer (their `<|im_start|>`-style special tokens are parsed). The
 *   prompt and the answer go through content-tokenizer.ts, so text that spells a special token ("<|im_end|>",
 *   "<|endoftext|>") is encoded as plain text: an answer cannot close its own turn, open a new one, or plant the pad
 *   token that the model's pooling looks for.
 * - Each slot is tokenized on its own (the fixed parts end at special tokens or newlines, so this matches tokenizing
 *   the rendered string except when a slot begins with whitespace that the template's last newline would absorb).
 * - Too long: prompt and answer are cut "longest_first" to the budget left by the template, so the template's
 *   closing tokens (and so the position the reward is read at) always survive.
 */
import { Tokenizer } from "@huggingface/tokenizers";
import { contentTokenizer } from "../content-tokenizer.ts";
import { EvaluatorRuntimeError } from "../evaluator.ts";
import { longestFirstLengths } from "../cross-encoder/pair-encoder.ts";
import { wellFormed } from "../text.ts";
import type { TemplatePart } from "./reward-model-manifest.ts";

/**
 * Each slot is tokenized from a bounded prefix (cut before a space that follows a non-space character: a pre-token
 * boundary for byte-level BPE and SentencePiece alike), so a 5 MB answer costs what a 20 kB one does.
 */
const PREFIX_CHARS_PER_TOKEN = 16;
const MAX_CHARS_PER_TOKEN = 64;
const MIN_PREFIX_CHARS = 256;

/** Largest i in (limit / 2, limit] with text[i] a space after a non-space: cutting there keeps the tokens before it. */
export function spaceBoundaryBefore(text: string, limit: number): number | undefined {
  for (let i = Math.min(limit, text.length - 1); i > limit / 2; i--) {
    if (text[i] === " " && !/\s/.test(text[i - 1]!)) return i;
  }
  return undefined;
}

/** The first `needed` token ids of `text` (or all of them), reading a bounded prefix. */
export function headTokens(encode: (text: string) => number[], text: string, needed: number): number[] {
  const hardCap = Math.max(MIN_PREFIX_CHARS, needed * MAX_CHARS_PER_TOKEN);
  const bounded = text.length > hardCap ? text.slice(0, spaceBoundaryBefore(text, hardCap) ?? hardCap) : text;
  let limit = Math.max(MIN_PREFIX_CHARS, needed * PREFIX_CHARS_PER_TOKEN);
  for (;;) {
    if (bounded.length <= limit) return encode(bounded).slice(0, needed);
    const cut = spaceBoundaryBefore(bounded, limit);
    const ids = encode(bounded.slice(0, cut ?? limit));
    // Cut inside a pre-token (no space in reach), its last tokens may differ from the full text's: drop the last one.
    const exact = cut === undefined ? ids.slice(0, -1) : ids;
    if (exact.length >= needed) return exact.slice(0, needed);
    limit *= 4;
  }
}

export interface EncodedConversation {
  inputIds: number[];
  /** Tokens of the prompt and the answer kept after truncation. */
  kept: { prompt: number; answer: number };
  truncated: boolean;
}

type CompiledPart = { ids: number[] } | { slot: "prompt" | "answer"; trimLeadingNewlines: boolean };

export class ChatEncoder {
  readonly padId: number;
  private readonly parts: CompiledPart[];
  private readonly fixedTokens: number;

  constructor(
    tokenizerJson: Record<string, unknown>,
    tokenizerConfig: Record<string, unknown>,
    template: readonly TemplatePart[],
    padToken: string,
    readonly maxTokens: number,
  ) {
    const full = new Tokenizer(tokenizerJson, tokenizerConfig);
    const content = contentTokenizer(tokenizerJson, tokenizerConfig);
    this.encodeContent = (text) => content.encode(text, { add_special_tokens: false }).ids;
    const padId = full.token_to_id(padToken);
    if (padId === undefined) throw new EvaluatorRuntimeError(`tokenizer has no pad token ${padToken}`);
    this.padId = padId;
    this.parts = template.map((part) =>
      "text" in part ? { ids: full.encode(part.text, { add_special_tokens: false }).ids } : { slot: part.slot, trimLeadingNewlines: part.trimLeadingNewlines ?? false });
    this.fixedTokens = this.parts.reduce((n, part) => n + ("ids" in part ? part.ids.length : 0), 0);
    if (this.parts.some((part) => "ids" in part && part.ids.includes(padId))) throw new EvaluatorRuntimeError("the chat template contains the pad token");
    if (this.fixedTokens + 2 > maxTokens) throw new EvaluatorRuntimeError(`maxTokens ${maxTokens} leaves no room beside the template's ${this.fixedTokens} tokens`);
  }

  private readonly encodeContent: (text: string) => number[];

  encode(prompt: string, answer: string): EncodedConversation {
    const budget = this.maxTokens - this.fixedTokens;
    const text = { prompt: wellFormed(prompt), answer: wellFormed(answer) };
    const tokens: Record<"prompt" | "answer", number[]> = { prompt: [], answer: [] };
    for (const part of this.parts) {
      if ("slot" in part) {
        const value = part.trimLeadingNewlines ? text[part.slot].replace(/^\n+/, "") : text[part.slot];
        tokens[part.slot] = headTokens(this.encodeContent, value, budget);
      }
    }
    const [keepPrompt, keepAnswer] = longestFirstLengths(tokens.prompt.length, tokens.answer.length, budget);
    const kept = { prompt: keepPrompt, answer: keepAnswer };
    const inputIds = this.parts.flatMap((part) => ("ids" in part ? part.ids : tokens[part.slot].slice(0, kept[part.slot])));
    return { inputIds, kept, truncated: keepPrompt < tokens.prompt.length || keepAnswer < tokens.answer.length };
  }
}
