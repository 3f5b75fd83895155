/**
 * Cheap deterministic checks that catch lazy or broken answers whatever model scores them: empty, truncated,
 * repetitive, an echo of the question, encoding garbage, wrong script, absurd length.
 *
 * Each check gives "pass", "soft" (suspicious: the composite multiplies the score by a penalty) or "hard"
 * (clearly worthless: the composite caps the score). A check that penalizes must be evidence of the defect it
 * names, not a style guess: a short factual answer without a full stop is not truncated, and a summary that reuses
 * its source's words is not an echo (docs/EVALUATORS.md, "The cheap checks"). Thresholds are part of the composite
 * manifest, so they are covered by the evaluator id. Only fixed code-point ranges, String.toLowerCase and plain
 * arithmetic are used (no Unicode property classes such as \p{L}, whose tables grow with each Unicode version), so
 * Node versions agree on the verdicts.
 */
import { z } from "zod";
import { promptQuestion, words } from "./prompt-text.ts";
import { asText, wellFormed } from "./text.ts";

export const CheckThresholdsSchema = z
  .object({
    /** Answer length in UTF-16 units above which the answer is suspicious / worthless. */
    longAnswerSoftChars: z.number().int().positive(),
    longAnswerHardChars: z.number().int().positive(),
    /** Word n-gram size and minimum n-gram count for the repetition ratio (1 - distinct/total). */
    repetitionNgram: z.number().int().min(1),
    repetitionMinNgrams: z.number().int().min(1),
    repetitionSoft: z.number().min(0).max(1),
    repetitionHard: z.number().min(0).max(1),
    /**
     * Echo: the answer adds no word of its own to the prompt's question (or to the whole prompt) and reproduces at
     * least this share of that text's word bigrams, in order. Hard failure.
     */
    echoHard: z.number().min(0).max(1),
    /** Share of garbage code points (controls, U+FFFD, lone surrogates, private use, bidi overrides). */
    garbageSoft: z.number().min(0).max(1),
    garbageHard: z.number().min(0).max(1),
    /** Wrong script: prompt has >= scriptMinLetters letters of one script, answer has < scriptMismatchShare of it. */
    scriptMinLetters: z.number().int().min(1),
    scriptMismatchShare: z.number().min(0).max(1),
    /** Truncation evidence is judged only on answers of at least this many words (a lone "and" may be an answer). */
    truncationMinWords: z.number().int().min(1),
  })
  .strict();
export type CheckThresholds = z.infer<typeof CheckThresholdsSchema>;

export type CheckVerdict = "pass" | "soft" | "hard";
export const CHECK_NAMES = ["empty", "length", "truncated", "repetition", "echo", "garbage", "script"] as const;
export type CheckName = (typeof CHECK_NAMES)[number];
export interface CheckResult {
  name: CheckName;
  verdict: CheckVerdict;
  /** The measured value (ratio, length, 0/1), for audit. */
  value: number;
}

/** Fixed script buckets by code-point range (stable across Unicode versions for these blocks). */
const SCRIPT_RANGES: [string, number, number][] = [
  ["latin", 0x41, 0x5a], ["latin", 0x61, 0x7a], ["latin", 0xc0, 0x24f], ["latin", 0x1e00, 0x1eff],
  ["greek", 0x370, 0x3ff], ["cyrillic", 0x400, 0x52f], ["hebrew", 0x590, 0x5ff], ["arabic", 0x600, 0x6ff],
  ["devanagari", 0x900, 0x97f], ["thai", 0xe00, 0xe7f], ["hangul", 0xac00, 0xd7af],
  ["cjk", 0x3040, 0x30ff], ["cjk", 0x3400, 0x4dbf], ["cjk", 0x4e00, 0x9fff],
];
/**
 * Lower-case English words that cannot end a sentence: articles, coordinating conjunctions, subordinators and
 * possessive determiners all need a word after them. Prepositions and verbs are not here: "what it is made of",
 * "I don't want to", "that's what it is" are complete.
 */
const NEVER_FINAL_WORDS = new Set(["a", "an", "the", "and", "or", "nor", "because", "although", "whereas", "your", "their", "our"]);
/** Characters no finished text ends on: a comma, an opening bracket, one dash or hyphen (a run is a separator line). */
const CONTINUING_END = /(?:[,(\[{]|(?<![-–—])[-–—])$/;
/** The prompt asks for a translation or names a language written in one of the scripts above: no evidence then. */
const ASKS_FOR_LANGUAGE =
  /translat|languag|\b(english|french|german|spanish|italian|portuguese|polish|vietnamese|greek|russian|ukrainian|bulgarian|serbian|hebrew|yiddish|arabic|persian|farsi|urdu|hindi|marathi|nepali|sanskrit|thai|korean|chinese|mandarin|cantonese|japanese)\b/i;

export function runChecks(promptInput: unknown, answerInput: unknown, t: CheckThresholds): CheckResult[] {
  const prompt = wellFormed(asText(promptInput));
  // Judge at most a bounded prefix: every check is linear, and the length check already sees the full size.
  const fullLength = asText(answerInput).length;
  const answer = wellFormed(asText(answerInput).slice(0, t.longAnswerHardChars));
  const answerWords = words(answer);
  const results: CheckResult[] = [];
  const add = (name: CheckName, value: number, soft: boolean, hard = false) =>
    results.push({ name, value, verdict: hard ? "hard" : soft ? "soft" : "pass" });

  const visible = answer.replace(/[\s\u200b-\u200d\u2060\ufeff]/g, "");
  add("empty", visible.length, false, visible.length === 0);
  add("length", fullLength, fullLength > t.longAnswerSoftChars, fullLength > t.longAnswerHardChars);
  const truncated = cutOff(answer, answerWords, t);
  add("truncated", truncated ? 1 : 0, truncated);
  const repetition = repetitionRatio(answerWords, t);
  add("repetition", repetition, repetition > t.repetitionSoft, repetition > t.repetitionHard);
  // The question (last user turn, or the text after a "Question:" label) and the whole prompt: an answer that only
  // repeats either one is an echo. Source material the prompt quotes is never the reference on its own.
  const echo = Math.max(echoCoverage(words(promptQuestion(prompt)), answerWords), echoCoverage(words(prompt), answerWords));
  add("echo", echo, false, echo >= t.echoHard);
  const garbage = garbageShare(answer);
  add("garbage", garbage, garbage > t.garbageSoft, garbage > t.garbageHard);
  const scriptShare = ASKS_FOR_LANGUAGE.test(prompt) ? 1 : promptScriptShareInAnswer(prompt, answer, t);
  add("script", scriptShare, scriptShare < t.scriptMismatchShare);
  return results;
}

/**
 * Evidence that the text was cut, not a missing full stop: an unclosed code block, a final comma, opening bracket
 * or dash, or a final word that needs another word after it ("... and the").
 */
function cutOff(answer: string, answerWords: string[], t: CheckThresholds): boolean {
  if (answerWords.length < t.truncationMinWords) return false;
  if ((answer.match(/```/g)?.length ?? 0) % 2 === 1) return true;
  const trimmed = answer.trimEnd();
  if (CONTINUING_END.test(trimmed)) return true;
  // Case-sensitive on purpose: a capital "A" at the end is a label ("vitamin A", "plan A"), not an article.
  const lastWord = /(?:^|[^A-Za-z0-9_'’])([a-z]+)$/.exec(trimmed)?.[1]; // a whole word, not the tail of "0x9a"
  return lastWord !== undefined && NEVER_FINAL_WORDS.has(lastWord);
}

/** 1 - distinct/total over word n-grams; 0 when the answer is too short to judge. */
function repetitionRatio(answerWords: string[], t: CheckThresholds): number {
  const n = t.repetitionNgram;
  const total = answerWords.length - n + 1;
  if (total < t.repetitionMinNgrams) return characterRepetition(answerWords.join(" "), t);
  const grams = new Set<string>();
  for (let i = 0; i < total; i++) grams.add(answerWords.slice(i, i + n).join(" "));
  return 1 - grams.size / total;
}

/** For text without word breaks ("aaaa...", "哈哈哈..."): the same ratio over 5-character grams. */
function characterRepetition(text: string, t: CheckThresholds): number {
  const chars = Array.from(text.replace(/\s+/g, ""));
  const total = chars.length - 5 + 1;
  if (total < t.repetitionMinNgrams * 3) return 0;
  const grams = new Set<string>();
  for (let i = 0; i < total; i++) grams.add(chars.slice(i, i + 5).join(""));
  return 1 - grams.size / total;
}

/**
 * 0 when the answer has a word of its own (the one new word of "Nothing happens if you crack your knuckles" is the
 * whole answer); otherwise the share of the reference's word bigrams the answer reproduces in order. Picking one
 * option of "A or B?", sorting a list or restating "Is X Y?" as "X is Y" reuses words but not the reference's
 * bigrams. A reference of one word has no bigram: a greeting answered by the same greeting is not an echo.
 */
function echoCoverage(referenceWords: string[], answerWords: string[]): number {
  if (answerWords.length === 0 || referenceWords.length < 2) return 0;
  const vocabulary = new Set(referenceWords);
  if (answerWords.some((w) => !vocabulary.has(w))) return 0;
  const bigrams = (ws: string[]) => new Set(ws.slice(1).map((w, i) => `${ws[i]} ${w}`));
  const reference = bigrams(referenceWords);
  const answer = bigrams(answerWords);
  let covered = 0;
  for (const gram of reference) if (answer.has(gram)) covered++;
  return covered / reference.size;
}

function garbageShare(answer: string): number {
  let garbage = 0;
  let total = 0;
  for (const char of answer) {
    const cp = char.codePointAt(0)!;
    total++;
    const control = (cp < 0x20 && cp !== 0x09 && cp !== 0x0a && cp !== 0x0d) || (cp >= 0x7f && cp <= 0x9f);
    const replacement = cp === 0xfffd;
    const privateUse = (cp >= 0xe000 && cp <= 0xf8ff) || cp >= 0xf0000;
    const bidiOverride = (cp >= 0x202a && cp <= 0x202e) || (cp >= 0x2066 && cp <= 0x2069);
    if (control || replacement || privateUse || bidiOverride) garbage++;
  }
  return total === 0 ? 0 : garbage / total;
}

function scriptCounts(text: string): Map<string, number> {
  const counts = new Map<string, number>();
  for (const char of text) {
    const cp = char.codePointAt(0)!;
    const bucket = SCRIPT_RANGES.find(([, lo, hi]) => cp >= lo && cp <= hi);
    if (bucket) counts.set(bucket[0], (counts.get(bucket[0]) ?? 0) + 1);
  }
  return counts;
}

/** Share of the answer's letters written in the prompt's dominant script; 1 when there is nothing to compare. */
function promptScriptShareInAnswer(prompt: string, answer: string, t: CheckThresholds): number {
  const promptCounts = [...scriptCounts(prompt)].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1));
  const dominant = promptCounts[0];
  if (!dominant || dominant[1] < t.scriptMinLetters) return 1;
  const answerCounts = scriptCounts(answer);
  const answerLetters = [...answerCounts.values()].reduce((a, b) => a + b, 0);
  if (answerLetters < t.scriptMinLetters) return 1;
  return (answerCounts.get(dominant[0]) ?? 0) / answerLetters;
}
