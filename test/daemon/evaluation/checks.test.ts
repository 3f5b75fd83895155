import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { describe, it } from "node:test";
import { runChecks, type CheckName, type CheckThresholds, type CheckVerdict } from "../../../daemon/evaluation/checks.ts";
import { combineScore } from "../../../daemon/evaluation/composite.ts";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../..");
const manifest = JSON.parse(await readFile(path.join(ROOT, "models", "use-lite-checked", "manifest.json"), "utf8"));
const T: CheckThresholds = manifest.composite.checks;
const verdicts = (prompt: unknown, answer: unknown) => Object.fromEntries(runChecks(prompt, answer, T).map((c) => [c.name, c.verdict])) as Record<CheckName, CheckVerdict>;
const failing = (prompt: unknown, answer: unknown) => Object.entries(verdicts(prompt, answer)).filter(([, v]) => v !== "pass");

const PROMPT = "How do I make my houseplants grow better during the winter months?";
const GOOD =
  "Give them as much light as you can: move them near a south-facing window or add a grow light. Water less often, since growth slows, and keep them away from cold drafts and radiators. Skip fertiliser until spring.";

const ARTICLE_SENTENCE = "The old stone bridge over the river reopened on Monday morning after two years of repairs.";
const ARTICLE = [
  ARTICLE_SENTENCE,
  "Engineers replaced the cracked arches and added a cycle lane on the northern side.",
  "The council said the repairs cost 4 million pounds, half of it paid by a national heritage fund.",
  "Traffic will be limited to buses and bicycles until the end of the month.",
].join("\n\n");
const SUMMARY = "The old stone bridge reopened on Monday after two years of repairs that replaced the cracked arches and added a cycle lane.";

describe("cheap checks", () => {
  it("passes a normal, complete answer and a short factual one", () => {
    assert.deepEqual(failing(PROMPT, GOOD), []);
    assert.deepEqual(failing("What is 2 + 2?", "4"), []);
    assert.deepEqual(failing(PROMPT, "- more light\n- less water\n- no cold drafts\n- no fertiliser until spring"), []);
  });

  it("hard-fails empty and invisible-only answers", () => {
    for (const answer of ["", "   \n\t ", "\u200b\u200b\ufeff", undefined, null]) assert.equal(verdicts(PROMPT, answer).empty, "hard", JSON.stringify(answer));
  });

  it("flags answers cut off mid-sentence or inside a code block", () => {
    assert.equal(verdicts(PROMPT, "Give them as much light as you can and water them less often because the growth of the plant slows down and the").truncated, "soft");
    assert.equal(verdicts(PROMPT, "Give them as much light as you can, water them less often, keep them warm,").truncated, "soft");
    assert.equal(verdicts(PROMPT, "Here is a script that checks the soil moisture every hour:\n```python\nimport time\nwhile True:\n    check()").truncated, "soft");
    assert.equal(verdicts(PROMPT, "Move them to the brightest window you have, water them less often and keep them away from your").truncated, "soft");
    assert.equal(verdicts(PROMPT, GOOD).truncated, "pass");
  });

  // Regression cases for the misfires measured in issue 14: a missing full stop is not a cut.
  it("does not call a complete answer without a final full stop truncated", () => {
    const complete = [
      ["What happens if you crack your knuckles a lot?", "Nothing in particular happens if you crack your knuckles a lot"],
      ["Where did fortune cookies originate?", "Fortune cookies were most likely first made in California by Japanese immigrants"],
      ["What is the best source of vitamin A?", "Liver and orange vegetables such as carrots are rich sources of vitamin A"],
      ["What do you want to know?", "I would like to know what the plant is made of"],
      ["Can you help me?", "Sure, tell me what you need and I will do what I can to help you out"],
      [PROMPT, "More light: a south window or a grow light\nLess water: once the top inch of soil is dry"],
      [PROMPT, "Thanks for asking! Here is a guide I wrote on this: https://example.org/winter-houseplants"],
      [PROMPT, "Here is the map of the garden centre I mentioned: https://maps.example.org/?q=centre&id=0x4790ac59ad39a"],
      [PROMPT, "Move them to the brightest window and water them less often.\n\n    -----"],
    ];
    for (const [prompt, answer] of complete) assert.equal(verdicts(prompt, answer).truncated, "pass", answer);
  });

  it("grades repeated text by its n-gram repetition ratio", () => {
    assert.equal(verdicts(PROMPT, "Water the plants. ".repeat(40)).repetition, "hard");
    assert.equal(verdicts(PROMPT, "a".repeat(500)).repetition, "hard");
    assert.equal(verdicts(PROMPT, `${GOOD} ${GOOD}`).repetition, "soft");
    assert.equal(verdicts(PROMPT, GOOD).repetition, "pass");
  });

  it("catches an answer that only echoes the prompt or its question, however short", () => {
    assert.equal(verdicts(PROMPT, PROMPT).echo, "hard");
    assert.equal(verdicts(PROMPT, PROMPT.toUpperCase().replace("?", ".")).echo, "hard");
    assert.equal(verdicts(PROMPT, `${PROMPT} ${PROMPT}`).echo, "hard");
    // Fewer than 6 words, echoed back as the whole answer (scored 10,000 on the demo network before).
    assert.equal(verdicts("Tell me a joke", "Tell me a joke").echo, "hard");
    assert.equal(verdicts("Why is the sky blue?", "Why is the sky blue?").echo, "hard");
    // The question of a transcript is the last human turn; of a labelled prompt, the text after "Question:".
    const transcript = "Human: Hi there\n\nAssistant: Hello! How can I help?\n\nHuman: What is a good name for a cat?";
    assert.equal(verdicts(transcript, "What is a good name for a cat?").echo, "hard");
    const withContext = `Context: ${ARTICLE}\n\nQuestion: When did the bridge reopen?`;
    assert.equal(verdicts(withContext, "When did the bridge reopen?").echo, "hard");
    assert.equal(verdicts(PROMPT, GOOD).echo, "pass");
  });

  // Regression cases for the misfires measured in issue 14: reusing the prompt's words is not an echo.
  it("passes answers that restate the question, pick an option or reuse the source's words", () => {
    const cases = [
      ["What happens if you crack your knuckles a lot?", "Nothing happens if you crack your knuckles a lot."],
      ["Is it illegal to chew gum in Singapore?", "It is illegal to chew gum in Singapore."],
      ["Is Paris in France?", "Paris is in France."],
      ["Should I use tea or coffee?", "coffee"],
      ["Sort these words alphabetically: pear apple mango", "apple mango pear"],
      ["Repeat after me: I like green tea", "I like green tea"],
      ["Hi", "Hi"],
      // An assistant that repeats its own earlier turn does not echo the question.
      ["Human: How do I pick a lock?\n\nAssistant: I'm sorry, I can't help with that.\n\nHuman: Please, it is my own door.", "I'm sorry, I can't help with that."],
      // A faithful summary and a claim copied from the source are grounded, not echoes.
      [`Summarize the following article.\n\n${ARTICLE}`, SUMMARY],
      [ARTICLE, ARTICLE_SENTENCE],
      [`Summarize the following article.\n\n${ARTICLE}`, ARTICLE_SENTENCE],
      [`Context: ${ARTICLE}\n\nQuestion: When did the bridge reopen?`, "The bridge reopened on Monday morning."],
    ];
    for (const [prompt, answer] of cases) assert.equal(verdicts(prompt, answer).echo, "pass", answer);
  });

  it("grades encoding garbage and control characters", () => {
    assert.equal(verdicts(PROMPT, "\uFFFD\uFFFD\u0000\u0001 \uFFFD\u0003\uFFFD garbage \uFFFD").garbage, "hard");
    assert.equal(verdicts(PROMPT, `${GOOD}\u0000\u0007\u202e\uFFFD\uFFFD\uFFFD`).garbage, "soft");
    assert.equal(verdicts(PROMPT, "\ud800\udc00\ud800 lone surrogates \udfff\ud800\ud801").garbage, "hard");
    assert.equal(verdicts(PROMPT, `${GOOD} 🌱`).garbage, "pass");
  });

  it("flags an answer in another script than the prompt", () => {
    assert.equal(verdicts(PROMPT, "Поставьте растения ближе к окну, поливайте реже и не ставьте их рядом с батареей.").script, "soft");
    assert.equal(verdicts(PROMPT, "植物を窓の近くに置き、水やりを減らし、暖房器具から離してください。冬は肥料を与えないでください。").script, "soft");
    assert.equal(verdicts("Как ухаживать за растениями зимой?", "Поставьте растения ближе к окну и поливайте их реже, чем летом.").script, "pass");
    // A translation asked for is not the wrong script.
    assert.equal(verdicts("Translate into Russian: put the plants closer to the window and water them less often.", "Поставьте растения ближе к окну и поливайте их реже.").script, "pass");
    assert.equal(verdicts("How do you say 'thank you very much for your help' in Japanese?", "助けてくれて本当にありがとうございます。どうもありがとうございました。").script, "pass");
  });

  it("grades absurd lengths and stays fast on huge input", () => {
    assert.equal(verdicts(PROMPT, `${GOOD} `.repeat(120)).length, "soft");
    const started = performance.now();
    assert.equal(verdicts(PROMPT, "z".repeat(5_000_000)).length, "hard");
    assert.ok(performance.now() - started < 3000);
  });

  it("is deterministic and never throws on odd input", () => {
    const odd: unknown[] = ["", "\u0000", "\ud800", 42, {}, [], "🙂".repeat(1000), "\r\n".repeat(1000)];
    for (const p of odd) for (const a of odd) assert.deepEqual(runChecks(p, a, T), runChecks(p, a, T));
  });
});

describe("composite rule", () => {
  const rule = { hardFailCap: 500, softPenaltyBps: 6000 };
  const check = (verdict: CheckVerdict) => ({ name: "echo" as const, verdict, value: 0 });
  it("caps on any hard failure and multiplies per soft failure, in integers", () => {
    assert.equal(combineScore(8000, [check("pass")], rule), 8000);
    assert.equal(combineScore(8000, [check("hard")], rule), 500);
    assert.equal(combineScore(300, [check("hard")], rule), 300);
    assert.equal(combineScore(8000, [check("soft")], rule), 4800);
    assert.equal(combineScore(8001, [check("soft"), check("soft")], rule), Math.floor(Math.floor(8001 * 0.6) * 0.6));
    assert.equal(combineScore(8000, [check("hard"), check("soft")], rule), 300);
  });
});
