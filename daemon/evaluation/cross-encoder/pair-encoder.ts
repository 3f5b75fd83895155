/**
 * Cross-encoder pair encoding: [CLS] prompt [SEP] answer [SEP] with token type ids 0 / 1, truncated
 * "longest_first" to a token budget. @huggingface/tokenizers 0.2 has no truncation, so each side is tokenized
 * without special tokens and cut here, which also lets us keep the final [SEP] and both sides (the
 * transformers.js baseline only cuts the tail, so a long answer loses its [SEP] and a long prompt wipes the answer).
 */
import { Tokenizer } from "@huggingface/tokenizers";
import { EvaluatorRuntimeError } from "../evaluator.ts";

/** [CLS], [SEP], [SEP]. */
export const PAIR_SPECIAL_TOKENS = 3;
/**
 * Each side is tokenized from a bounded prefix of its text (cut at a token boundary) and the prefix
 * grows only when it yields too few tokens: a 10 MB answer costs about as much as a 1 kB one.
 */
const PREFIX_CHARS_PER_TOKEN = 16;
/**
 * Hard cap: characters beyond needed x 64 are never read. This only changes the tokens of a side that has fewer
 * than `needed` tokens in that many characters (giant "words"), it stays deterministic, and it keeps a 5 MB
 * run without spaces from costing seconds.
 */
const MAX_CHARS_PER_TOKEN = 64;
/** Above twice WordPiece's 100-character word limit, see tokenizeSide. */
const MIN_PREFIX_CHARS = 256;
/** What BERT's pre-tokenizer splits on: its whitespace (not \v, \f: those are control characters it deletes) and punctuation. */
const TOKEN_BOUNDARY = /[ \t\n\r\p{Zs}\p{P}!-\/:-@[-`{-~]/u;

/**
 * Where a text may be cut without changing the tokens before the cut. "bert": before BERT whitespace or punctuation
 * (BertPreTokenizer splits on both). "space": before a space that follows a non-space character, the one boundary
 * that SentencePiece's Metaspace (DeBERTa-v3) and byte-level BPE pre-tokenizers share; punctuation is not one there.
 */
export type CutRule = "bert" | "space";

/** Largest index in (limit / 2, limit] where `text` may be cut under `rule`. Undefined when there is none. */
export function wordBoundaryBefore(text: string, limit: number, rule: CutRule = "bert"): number | undefined {
  for (let i = Math.min(limit, text.length - 1); i > limit / 2; i--) {
    if (rule === "bert" ? TOKEN_BOUNDARY.test(text[i]!) : text[i] === " " && !/\s/.test(text[i - 1]!)) return i;
  }
  return undefined;
}

export interface PairEncoderOptions {
  /** Where a long side may be cut before tokenizing (default "bert"); see CutRule. */
  cutRule?: CutRule;
  /**
   * Tokenizes the prompt and the answer: the same tokenizer.json without its added tokens, so text that spells
   * "[SEP]" or "[CLS]" cannot forge a segment boundary. Default: the tokenizer itself.
   */
  contentTokenizer?: Tokenizer;
}

export interface EncodedPair {
  inputIds: number[];
  tokenTypeIds: number[];
  /** Tokens of each side kept after truncation, and before it (capped by the prefix rule above). */
  kept: { prompt: number; answer: number };
  truncated: boolean;
}

/**
 * Kept lengths of the two sides under HF `longest_first` truncation, exactly as the Rust `tokenizers` crate
 * computes it (what sentence-transformers' CrossEncoder uses): the shorter side keeps what it has when it fits,
 * the longer side gets the rest; when both are too long they split the budget, the odd token going to the
 * longer side (to the answer on a tie).
 */
export function longestFirstLengths(a: number, b: number, budget: number): [number, number] {
  if (!Number.isInteger(budget) || budget < 0) throw new RangeError(`bad token budget ${budget}`);
  if (a + b <= budget) return [a, b];
  const swap = a > b;
  let shorter = Math.min(a, b);
  let longer = shorter > budget ? shorter : Math.max(shorter, budget - shorter);
  if (shorter + longer > budget) {
    shorter = Math.floor(budget / 2);
    longer = shorter + (budget % 2);
  }
  return swap ? [Math.min(a, longer), Math.min(b, shorter)] : [Math.min(a, shorter), Math.min(b, longer)];
}

/** Replaces lone UTF-16 surrogates (invalid Unicode, e.g. from a cut emoji) with U+FFFD, which BERT's normalizer drops. */
export function toWellFormed(text: string): string {
  return text.replace(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g, "\uFFFD");
}

export class PairEncoder {
  readonly clsId: number;
  readonly sepId: number;
  readonly padId: number;

  private readonly contentTokenizer: Tokenizer;
  private readonly cutRule: CutRule;

  constructor(
    tokenizer: Tokenizer,
    /** Total sequence length including the 3 special tokens. */
    readonly maxTokens: number,
    options: PairEncoderOptions = {},
  ) {
    this.contentTokenizer = options.contentTokenizer ?? tokenizer;
    this.cutRule = options.cutRule ?? "bert";
    if (!Number.isInteger(maxTokens) || maxTokens < PAIR_SPECIAL_TOKENS + 2) {
      throw new EvaluatorRuntimeError(`maxTokens must be an integer >= ${PAIR_SPECIAL_TOKENS + 2}, got ${maxTokens}`);
    }
    const id = (token: string) => {
      const value = tokenizer.token_to_id(token);
      if (value === undefined) throw new EvaluatorRuntimeError(`tokenizer has no ${token} token`);
      return value;
    };
    this.clsId = id("[CLS]");
    this.sepId = id("[SEP]");
    this.padId = id("[PAD]");
  }

  /** Token ids of one side without special tokens: the first `needed` of them (or all, when fewer). */
  private tokenizeSide(text: string, needed: number): number[] {
    const hardCap = Math.max(MIN_PREFIX_CHARS, needed * MAX_CHARS_PER_TOKEN);
    const bounded = toWellFormed(text.length > hardCap ? text.slice(0, wordBoundaryBefore(text, hardCap, this.cutRule) ?? hardCap) : text);
    let limit = Math.max(MIN_PREFIX_CHARS, needed * PREFIX_CHARS_PER_TOKEN);
    for (;;) {
      if (bounded.length <= limit) return this.contentTokenizer.encode(bounded, { add_special_tokens: false }).ids.slice(0, needed);
      const cut = wordBoundaryBefore(bounded, limit, this.cutRule);
      const ids = this.contentTokenizer.encode(bounded.slice(0, cut ?? limit), { add_special_tokens: false }).ids;
      // Cut at a boundary, the prefix's tokens are exactly the head of the full text's tokens. Without one, the
      // run at the end is a CJK run (one token per character) or longer than WordPiece's 100-character word
      // limit ([UNK] either way), so only the last token can differ: drop it.
      const exact = cut === undefined ? ids.slice(0, -1) : ids;
      if (exact.length >= needed) return exact.slice(0, needed);
      limit *= 4;
    }
  }

  encode(prompt: string, answer: string): EncodedPair {
    const budget = this.maxTokens - PAIR_SPECIAL_TOKENS;
    const a = this.tokenizeSide(prompt, budget);
    const b = this.tokenizeSide(answer, budget);
    const [keepA, keepB] = longestFirstLengths(a.length, b.length, budget);
    const inputIds = [this.clsId, ...a.slice(0, keepA), this.sepId, ...b.slice(0, keepB), this.sepId];
    const tokenTypeIds = new Array<number>(inputIds.length).fill(0, 0, keepA + 2).fill(1, keepA + 2);
    return { inputIds, tokenTypeIds, kept: { prompt: keepA, answer: keepB }, truncated: keepA < a.length || keepB < b.length };
  }
}
