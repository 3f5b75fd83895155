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
    assert.equal(verdicts(PROMPT, "Give them as much light as you can and water them less often because the growth of the plant slows do").truncated, "soft");
    assert.equal(verdicts(PROMPT, GOOD).truncated, "pass");
  });

  it("grades repeated text by its n-gram repetition ratio", () => {
    assert.equal(verdicts(PROMPT, "Water the plants. ".repeat(40)).repetition, "hard");
    assert.equal(verdicts(PROMPT, "a".repeat(500)).repetition, "hard");
    assert.equal(verdicts(PROMPT, `${GOOD} ${GOOD}`).repetition, "soft");
    assert.equal(verdicts(PROMPT, GOOD).repetition, "pass");
  });

  it("catches an answer that only echoes the prompt", () => {
    assert.equal(verdicts(PROMPT, PROMPT).echo, "hard");
    assert.equal(verdicts(PROMPT, `You asked: ${PROMPT}`).echo, "soft"); // 10 of 12 trigrams copied
    assert.equal(verdicts(PROMPT, GOOD).echo, "pass");
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
