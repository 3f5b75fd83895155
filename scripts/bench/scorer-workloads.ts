/** Seeded (prompt, answer) workloads for the scorer benchmark, built from whole-word vocabulary entries. */
import type { ScorePair } from "../../daemon/evaluation/evaluator.ts";
import { PAIR_SPECIAL_TOKENS } from "../../daemon/evaluation/cross-encoder/pair-encoder.ts";
import { loadBertUncasedVocab } from "../models/bert-tokenizer-json.ts";
import { SeededRandom } from "../models/seeded-random.ts";

/** Lowercase whole words of the BERT vocabulary: each one is exactly one token. */
const WORDS = loadBertUncasedVocab().filter((w) => /^[a-z]{3,}$/.test(w));

function words(rng: SeededRandom, count: number): string {
  return Array.from({ length: count }, () => WORDS[rng.nextUint32() % WORDS.length]).join(" ");
}

function between(rng: SeededRandom, min: number, max: number): number {
  return min + (rng.nextUint32() % (max - min + 1));
}

/** `count` pairs of exactly `tokens` tokens each (with [CLS] and two [SEP]): a 10-30 token prompt, the rest answer. */
export function fixedLengthPairs(tokens: number, count: number, seed: number): ScorePair[] {
  const rng = new SeededRandom(seed);
  return Array.from({ length: count }, () => {
    const promptTokens = between(rng, 10, 30);
    return { prompt: words(rng, promptTokens), answer: words(rng, tokens - PAIR_SPECIAL_TOKENS - promptTokens) };
  });
}

/** Real-traffic-like mix: prompts of 10-60 tokens, answers of 20-400 tokens, uniformly drawn. */
export function mixedLengthPairs(count: number, seed: number): ScorePair[] {
  const rng = new SeededRandom(seed);
  return Array.from({ length: count }, () => ({ prompt: words(rng, between(rng, 10, 60)), answer: words(rng, between(rng, 20, 400)) }));
}
