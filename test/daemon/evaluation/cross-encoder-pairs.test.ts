import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import path from "node:path";
import { before, describe, it } from "node:test";
import { Tokenizer } from "@huggingface/tokenizers";
import { padBatch, planBatches } from "../../../daemon/evaluation/cross-encoder/batching.ts";
import { longestFirstLengths, PairEncoder, toWellFormed } from "../../../daemon/evaluation/cross-encoder/pair-encoder.ts";
import { buildBertTokenizerConfig, buildBertTokenizerJson } from "../../../scripts/models/bert-tokenizer-json.ts";
import { ensureGeneratedModel } from "../../../scripts/models/generated-models.ts";

const CLS = 101;
const SEP = 102;
let tokenizer: Tokenizer;
const encoderFor = (maxTokens: number) => new PairEncoder(tokenizer, maxTokens);
const words = (n: number, word = "paris") => Array.from({ length: n }, () => word).join(" ");

describe("BERT-uncased tokenizer.json built from bert-tokenizer's vocabulary", () => {
  before(() => {
    tokenizer = new Tokenizer(buildBertTokenizerJson(), buildBertTokenizerConfig(512));
  });

  it("gives the standard bert-base-uncased ids, with ## continuations and accent stripping", () => {
    const encoding = tokenizer.encode("What is the capital of France?", { text_pair: "Unaffordable héllo", return_token_type_ids: true });
    assert.deepEqual(encoding.ids, [101, 2054, 2003, 1996, 3007, 1997, 2605, 1029, 102, 14477, 4246, 8551, 3085, 7592, 102]);
    assert.deepEqual(tokenizer.tokenize("Unaffordable"), ["una", "##ff", "##ord", "##able"]);
    assert.deepEqual(encoding.token_type_ids, [0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1]);
  });

  it("is the file the generated models ship (generated, not hand-written)", () => {
    const dir = ensureGeneratedModel("generated-tiny-fp32");
    assert.deepEqual(JSON.parse(readFileSync(path.join(dir, "tokenizer.json"), "utf8")), buildBertTokenizerJson());
  });
});

describe("longest_first pair truncation", () => {
  it("matches the Rust tokenizers' split of the budget", () => {
    assert.deepEqual(longestFirstLengths(3, 4, 10), [3, 4]); // fits: untouched
    assert.deepEqual(longestFirstLengths(3, 100, 50), [3, 47]); // short prompt kept whole
    assert.deepEqual(longestFirstLengths(100, 3, 50), [47, 3]); // short answer kept whole
    assert.deepEqual(longestFirstLengths(30, 100, 50), [25, 25]);
    assert.deepEqual(longestFirstLengths(100, 100, 51), [25, 26]); // odd token to the answer on a tie
    assert.deepEqual(longestFirstLengths(101, 100, 51), [26, 25]); // ... and to the longer side otherwise
    assert.deepEqual(longestFirstLengths(0, 1000, 9), [0, 9]);
  });

  it("cuts a long answer but keeps [CLS] prompt [SEP] ... [SEP]", () => {
    const pair = encoderFor(32).encode("what is the capital of france?", words(200));
    assert.equal(pair.inputIds.length, 32);
    assert.equal(pair.inputIds[0], CLS);
    assert.equal(pair.inputIds.at(-1), SEP, "final [SEP] kept");
    assert.deepEqual(pair.kept, { prompt: 7, answer: 22 });
    assert.equal(pair.inputIds[8], SEP);
    assert.equal(pair.truncated, true);
  });

  it("cuts a long prompt without wiping the answer", () => {
    const pair = encoderFor(32).encode(words(500, "france"), "paris is the capital.");
    assert.deepEqual(pair.kept, { prompt: 24, answer: 5 });
    assert.equal(pair.inputIds.at(-1), SEP);
    assert.equal(pair.inputIds.filter((id) => id === SEP).length, 2);
  });

  it("splits the budget when both sides are long, and sets type ids 0 then 1", () => {
    const pair = encoderFor(21).encode(words(100, "france"), words(100));
    assert.deepEqual(pair.kept, { prompt: 9, answer: 9 });
    assert.deepEqual(pair.tokenTypeIds, [...new Array(11).fill(0), ...new Array(10).fill(1)]);
  });

  it("tokenizes a bounded prefix of huge text with exactly the head of the full tokens", () => {
    const text = Array.from({ length: 3000 }, (_, i) => `w${i % 97}ord, extra-ordinary naïve 東京 ${i}`).join(" ");
    const full = tokenizer.encode(text, { add_special_tokens: false }).ids;
    const pair = encoderFor(512).encode("q", text);
    assert.deepEqual(pair.inputIds.slice(3, -1), full.slice(0, 508));
    const noSpaces = "東京".repeat(200_000) + "x".repeat(300_000);
    const cjk = encoderFor(64).encode(noSpaces, "ok");
    assert.deepEqual(cjk.inputIds.slice(1, 60), tokenizer.encode(noSpaces.slice(0, 200), { add_special_tokens: false }).ids.slice(0, 59));
  });

  it("never crashes on empty, control, lone-surrogate or huge input", () => {
    const encoder = encoderFor(512);
    assert.deepEqual(encoder.encode("", "").inputIds, [CLS, SEP, SEP]);
    assert.equal(toWellFormed("a\uD800b\uDC00c\uD83D\uDE00"), "a\uFFFDb\uFFFDc\uD83D\uDE00");
    for (const text of ["\u0000\u0001\u0007\u001b[31m", "\uD800\uDFFF\uDC00", "\u202e\uFEFF\u200b", "a".repeat(5_000_000), " ".repeat(100_000)]) {
      const pair = encoder.encode(text, text);
      assert.ok(pair.inputIds.length >= 3 && pair.inputIds.length <= 512);
      assert.equal(pair.inputIds.at(-1), SEP);
    }
  });
});

describe("length bucketing and dynamic padding", () => {
  it("sorts by length, fills batches within both limits, and covers every input exactly once", () => {
    const lengths = [50, 10, 300, 12, 11, 300, 49, 10];
    const batches = planBatches(lengths, { maxBatchSize: 3, maxBatchTokens: 600 });
    assert.deepEqual(batches.map((b) => b.indices), [[1, 7, 4], [3, 6, 0], [2, 5]]);
    assert.deepEqual(batches.map((b) => b.length), [11, 50, 300]);
    const tight = planBatches(lengths, { maxBatchSize: 16, maxBatchTokens: 400 });
    for (const b of tight) assert.ok(b.indices.length === 1 || b.indices.length * b.length <= 400);
    assert.deepEqual(tight.flatMap((b) => b.indices).sort((a, b) => a - b), [0, 1, 2, 3, 4, 5, 6, 7]);
  });

  it("pads to the batch's longest pair with [PAD], mask 0 and type id 0", () => {
    const encoder = encoderFor(64);
    const short = encoder.encode("a", "b");
    const long = encoder.encode("a question here", "an answer");
    const feeds = padBatch([short, long], long.inputIds.length, encoder.padId);
    const width = long.inputIds.length;
    assert.equal(feeds.input_ids.length, 2 * width);
    assert.deepEqual([...feeds.input_ids.slice(0, width)].map(Number), [...short.inputIds, ...new Array(width - short.inputIds.length).fill(0)]);
    assert.deepEqual([...feeds.attention_mask.slice(0, width)].map(Number), [1, 1, 1, 1, 1, 0, 0, 0]);
    assert.deepEqual([...feeds.token_type_ids.slice(0, width)].map(Number), [0, 0, 0, 1, 1, 0, 0, 0]);
    assert.deepEqual([...feeds.attention_mask.slice(width)].map(Number), new Array(width).fill(1));
    assert.throws(() => padBatch([long], 3, 0), RangeError);
  });
});
