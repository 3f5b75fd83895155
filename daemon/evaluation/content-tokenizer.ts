/**
 * The tokenizer that prompt and answer text go through: the model's tokenizer.json without its added tokens, so text
 * that spells a special token ("[SEP]", "<|im_end|>", "<|endoftext|>") is encoded as the ordinary text it is. An
 * answer then cannot forge a segment boundary, close its own chat turn or plant the pad token a pooling layer looks
 * for. A SentencePiece (Unigram) vocabulary also lists the special tokens as pieces, which its lattice could match
 * inside text: they get a score no path through ordinary pieces can lose to.
 */
import { Tokenizer } from "@huggingface/tokenizers";

const UNREACHABLE_SCORE = -1e9;

interface TokenizerJson {
  added_tokens?: { content: string; special?: boolean }[];
  model?: { type?: string; vocab?: unknown };
}

export function contentTokenizer(tokenizerJson: object, tokenizerConfig: object): Tokenizer {
  const json = tokenizerJson as TokenizerJson;
  const specials = new Set((json.added_tokens ?? []).filter((t) => t.special).map((t) => t.content));
  let model = json.model;
  if (model?.type === "Unigram" && Array.isArray(model.vocab)) {
    const vocab = (model.vocab as [string, number][]).map(([piece, score]): [string, number] => [piece, specials.has(piece) ? UNREACHABLE_SCORE : score]);
    model = { ...model, vocab };
  }
  return new Tokenizer({ ...tokenizerJson, added_tokens: [], model }, tokenizerConfig);
}
