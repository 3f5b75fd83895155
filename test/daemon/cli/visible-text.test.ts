import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { terminalSafeJson, visibleBlock, visibleDeep, visibleLines, visibleText } from "../../../daemon/cli/visible-text.ts";
import { ACTIVE_CHARACTERS, HOSTILE_ANSWER, HOSTILE_PROMPT, HOSTILE_TEXTS } from "../../audit/helpers/hostile-text.ts";

describe("cli/visible-text: the one sanitizer for chain-sourced text", () => {
  it("makes every control, bidi and invisible format character visible, and names which one it was", () => {
    for (const [what, text] of Object.entries(HOSTILE_TEXTS)) {
      const shown = visibleText(text);
      assert.doesNotMatch(shown, ACTIVE_CHARACTERS, what);
      assert.doesNotMatch(shown, /\n/, `${what}: one line stays one line`);
    }
    assert.equal(visibleText("invoice\u202egnp.exe"), "invoice\\u202egnp.exe");
    assert.equal(visibleText("\u001b[2J"), "\\u001b[2J");
    assert.equal(visibleText("a\nb\rc\td\be"), "a\\nb\\rc\\td\\be");
    assert.equal(visibleText("\u009b31m"), "\\u009b31m");
    assert.equal(visibleText("hi\u{e0041}"), "hi\\u{e0041}");
  });

  it("leaves ordinary text alone, including non-Latin scripts and emoji", () => {
    for (const text of ["Why is the sky blue?", "Größe: 5 €", "مرحبا بالعالم", "日本語のテキスト", "ok 👍", "C:\\path\\file"]) {
      assert.equal(visibleText(text), text);
    }
  });

  it("visibleLines cannot be made to print an extra line", () => {
    const out = visibleLines([`answer      ${HOSTILE_ANSWER}`, "consensus   4200 / 10000"]);
    assert.equal(out.split("\n").length, 2);
    assert.match(out.split("\n")[1]!, /^consensus   4200/);
  });

  it("visibleBlock keeps newlines and tabs as layout for the dashboard, escapes the rest", () => {
    assert.equal(visibleBlock("line 1\n\tline 2\u202e\r"), "line 1\n\tline 2\\u202e\\r");
    const deep = visibleDeep({ a: [HOSTILE_PROMPT], n: 5, b: { c: "x\u001b" }, z: null });
    assert.deepEqual(deep, { a: [visibleBlock(HOSTILE_PROMPT)], n: 5, b: { c: "x\\u001b" }, z: null });
  });

  it("terminalSafeJson is lossless: the JSON parses back to the same text, with nothing active left in it", () => {
    const value = { prompt: HOSTILE_PROMPT, answer: HOSTILE_ANSWER, list: Object.values(HOSTILE_TEXTS) };
    const json = terminalSafeJson(JSON.stringify(value));
    assert.doesNotMatch(json, ACTIVE_CHARACTERS);
    assert.deepEqual(JSON.parse(json), value);
  });
});
