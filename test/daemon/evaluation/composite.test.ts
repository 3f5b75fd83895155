import assert from "node:assert/strict";
import { cp, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { after, before, describe, it } from "node:test";
import { ManifestInvalidError, SCORE_MAX, type Evaluator } from "../../../daemon/evaluation/evaluator.ts";
import { createEvaluator } from "../../../daemon/evaluation/factory.ts";
import { loadManifest, manifestId } from "../../../daemon/evaluation/manifest.ts";
import { RELEVANCE_CASES } from "./helpers/pairs.ts";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../..");
const CHECKED = path.join(ROOT, "models", "use-lite-checked");

describe("composite evaluator (use-lite + cheap checks)", () => {
  let evaluator: Evaluator;
  let scratch: string;
  before(async () => {
    evaluator = await createEvaluator(CHECKED);
    scratch = await mkdtemp(path.join(tmpdir(), "poq-composite-"));
  });
  after(async () => {
    await evaluator.close();
    await rm(scratch, { recursive: true, force: true });
  });

  it("has the id of its own manifest and pins the inner evaluator's id", async () => {
    const manifest = await loadManifest(CHECKED);
    assert.equal(evaluator.id, manifestId(manifest));
    assert.equal(manifest.composite!.inner.id, manifestId(await loadManifest(path.join(ROOT, "models", "use-lite"))));
  });

  it("keeps the model score for clean answers and reports every check", async () => {
    const [c] = RELEVANCE_CASES;
    const [result] = await evaluator.score([{ prompt: c!.prompt, answer: c!.relevant }]);
    assert.equal(result!.score, result!.detail!.model_score);
    assert.equal(result!.detail!.check_empty, "pass");
    assert.equal(result!.detail!.check_echo, "pass");
  });

  it("caps a lazy answer that scores high on relevance alone", async () => {
    const prompt = RELEVANCE_CASES[1]!.prompt;
    const [echo, repeated, empty] = await evaluator.score([
      { prompt, answer: prompt },
      { prompt, answer: "The seasons are caused by the tilt. ".repeat(30) },
      { prompt, answer: "" },
    ]);
    assert.ok(Number(echo!.detail!.model_score) > 5000, "an echo looks relevant to the bare model");
    assert.ok(echo!.score <= 500);
    assert.ok(Number(repeated!.detail!.model_score) > 500 && repeated!.score <= 500);
    assert.equal(empty!.score, 0);
    for (const r of [echo, repeated, empty]) assert.ok(Number.isInteger(r!.score) && r!.score >= 0 && r!.score <= SCORE_MAX);
  });

  it("refuses an inner evaluator whose id differs from the pinned one", async () => {
    const dir = path.join(scratch, "wrong-inner");
    await cp(CHECKED, dir, { recursive: true });
    const manifest = JSON.parse(await readFile(path.join(dir, "manifest.json"), "utf8"));
    manifest.composite.inner = { path: path.relative(dir, path.join(ROOT, "models", "use-lite")), id: `0x${"ab".repeat(32)}` };
    await writeFile(path.join(dir, "manifest.json"), JSON.stringify(manifest));
    await assert.rejects(createEvaluator(dir), (err: unknown) => err instanceof ManifestInvalidError && /pins inner evaluator 0xabab/.test(err.message));
  });

  it("refuses a composite that contains itself", async () => {
    const dir = path.join(scratch, "cycle");
    await cp(CHECKED, dir, { recursive: true });
    const manifest = JSON.parse(await readFile(path.join(dir, "manifest.json"), "utf8"));
    manifest.composite.inner = { path: ".", id: `0x${"00".repeat(32)}` };
    await writeFile(path.join(dir, "manifest.json"), JSON.stringify(manifest));
    await assert.rejects(createEvaluator(dir), /cycle/);
  });
});
