import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { cp, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { after, before, describe, it } from "node:test";
import { cascadeScore, escalates } from "../../../daemon/evaluation/cascade.ts";
import { ManifestInvalidError, SCORE_MAX, type Evaluator, type ScorePair } from "../../../daemon/evaluation/evaluator.ts";
import { createEvaluator } from "../../../daemon/evaluation/factory.ts";
import { loadManifest, manifestId, parseManifest } from "../../../daemon/evaluation/manifest.ts";
import { ensureGeneratedModel } from "../../../scripts/models/generated-models.ts";
import { RELEVANCE_CASES, SCORING_FIXTURE_PAIRS } from "./helpers/pairs.ts";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../..");
const CASCADE = path.join(ROOT, "models", "use-lite-checked-cascade");
const CHILD = path.join(ROOT, "test", "daemon", "evaluation", "helpers", "score-in-child.ts");
const run = promisify(execFile);
const BAND = { minScore: 3000, maxScore: 10_000 };

describe("cascade rule", () => {
  it("escalates exactly the first-stage integers inside the band, bounds included", () => {
    assert.deepEqual([2999, 3000, 7000, 10_000, 0].map((s) => escalates(s, BAND)), [false, true, true, true, false]);
    assert.deepEqual([2999, 3001].map((s) => escalates(s, { minScore: 3000, maxScore: 3000 })), [false, false]);
  });

  it("keeps a confident first-stage score and maps the judge's score into the band", () => {
    assert.equal(cascadeScore(1200, undefined, BAND), 1200);
    assert.equal(cascadeScore(5000, 0, BAND), 3000);
    assert.equal(cascadeScore(5000, SCORE_MAX, BAND), SCORE_MAX);
    assert.equal(cascadeScore(5000, 5001, BAND), 3000 + Math.floor((5001 * 7000) / SCORE_MAX));
    const band = { minScore: 2000, maxScore: 6000 };
    assert.equal(cascadeScore(9000, undefined, band), 9000, "above the band: kept, and above every escalated score");
    assert.ok(cascadeScore(4000, SCORE_MAX, band) <= 6000);
    assert.throws(() => cascadeScore(5000, undefined, BAND), RangeError);
  });

  it("is a manifest kind with a strict section", () => {
    const base = { schema: 1, name: "c", kind: "cascade", files: [], cascade: { first: { path: "../a", id: `0x${"1".repeat(64)}` }, judge: { path: "../b", id: `0x${"2".repeat(64)}` }, escalate: BAND } };
    assert.equal(parseManifest(base, "t").kind, "cascade");
    const bad = (patch: object) => assert.throws(() => parseManifest({ ...base, ...patch }, "t"), ManifestInvalidError);
    bad({ cascade: { ...base.cascade, escalate: { minScore: 5000, maxScore: 4000 } } });
    bad({ cascade: { ...base.cascade, escalate: { ...BAND, extra: 1 } } });
    bad({ cascade: undefined });
    bad({ files: [{ path: "x", sha256: "0".repeat(64), size: 1 }] });
    bad({ kind: "composite" });
  });
});

describe("cascade evaluator (use-lite-checked, then the generated MiniLM judge)", () => {
  let evaluator: Evaluator;
  let scratch: string;
  const pairs: ScorePair[] = [
    ...SCORING_FIXTURE_PAIRS,
    ...RELEVANCE_CASES.map((c) => ({ prompt: c.prompt, answer: `${c.relevant} ${c.relevant.split(" ").slice(0, 6).join(" ")}` })),
  ];
  before(async () => {
    ensureGeneratedModel("generated-minilm-l6-int8");
    evaluator = await createEvaluator(CASCADE);
    scratch = await mkdtemp(path.join(tmpdir(), "poq-cascade-"));
  });
  after(async () => {
    await evaluator.close();
    await rm(scratch, { recursive: true, force: true });
  });

  it("has its manifest's id and pins both stages' ids", async () => {
    const manifest = await loadManifest(CASCADE);
    assert.equal(evaluator.id, manifestId(manifest));
    assert.equal(manifest.cascade!.first.id, manifestId(await loadManifest(path.join(ROOT, "models", "use-lite-checked"))));
    assert.equal(manifest.cascade!.judge.id, manifestId(await loadManifest(path.join(ROOT, "models", "generated-minilm-l6-int8"))));
  });

  it("escalates only the uncertain band and follows the rule for every pair", async () => {
    const results = await evaluator.score(pairs);
    const escalated = results.filter((r) => r.detail!.escalated === true);
    assert.ok(escalated.length > 0 && escalated.length < results.length, `some but not all pairs escalate (${escalated.length} of ${results.length})`);
    for (const r of results) {
      const first = Number(r.detail!.first_score);
      assert.equal(r.detail!.escalated, escalates(first, BAND));
      const judge = r.detail!.judge_score === undefined ? undefined : Number(r.detail!.judge_score);
      assert.equal(r.score, cascadeScore(first, judge, BAND));
      assert.ok(Number.isInteger(r.score) && r.score >= 0 && r.score <= SCORE_MAX);
    }
    // An empty answer fails a hard check: capped by the first stage, never sent to the judge.
    const empty = results[pairs.findIndex((p) => p.answer === "")]!;
    assert.equal(empty.detail!.escalated, false);
  });

  it("gives the same integers whatever the batch: whole, one by one, reversed, and in a second run", async () => {
    const whole = (await evaluator.score(pairs)).map((r) => r.score);
    const single: number[] = [];
    for (const pair of pairs) single.push((await evaluator.score([pair]))[0]!.score);
    const reversed = (await evaluator.score([...pairs].reverse())).map((r) => r.score).reverse();
    assert.deepEqual(single, whole);
    assert.deepEqual(reversed, whole);
    assert.deepEqual((await evaluator.score(pairs)).map((r) => r.score), whole);
  });

  it("gives the same integers in a fresh process", async () => {
    const here = (await evaluator.score(SCORING_FIXTURE_PAIRS)).map((r) => r.score);
    const { stdout } = await run("npx", ["tsx", CHILD, CASCADE], { cwd: ROOT, maxBuffer: 16 * 1024 * 1024, env: { ...process.env, POQ_TEST_CHILD: "1" } });
    const child = JSON.parse(stdout.trim().split("\n").at(-1)!) as { id: string; results: { score: number }[] };
    assert.equal(child.id, evaluator.id);
    assert.deepEqual(child.results.map((r) => r.score), here);
  });

  it("refuses a judge whose id differs from the pinned one", async () => {
    const dir = path.join(scratch, "wrong-judge");
    await cp(CASCADE, dir, { recursive: true });
    const manifest = JSON.parse(await readFile(path.join(dir, "manifest.json"), "utf8"));
    manifest.cascade.first.path = path.relative(dir, path.join(ROOT, "models", "use-lite-checked"));
    manifest.cascade.judge = { path: path.relative(dir, path.join(ROOT, "models", "generated-minilm-l6-int8")), id: `0x${"ab".repeat(32)}` };
    await writeFile(path.join(dir, "manifest.json"), JSON.stringify(manifest));
    await assert.rejects(createEvaluator(dir), (err: unknown) => err instanceof ManifestInvalidError && /pins judge evaluator 0xabab/.test(err.message));
  });

  it("refuses a cascade that contains itself", async () => {
    const dir = path.join(scratch, "cycle");
    await cp(CASCADE, dir, { recursive: true });
    const manifest = JSON.parse(await readFile(path.join(dir, "manifest.json"), "utf8"));
    manifest.cascade.judge = { path: ".", id: `0x${"00".repeat(32)}` };
    manifest.cascade.first.path = path.relative(dir, path.join(ROOT, "models", "use-lite-checked"));
    await writeFile(path.join(dir, "manifest.json"), JSON.stringify(manifest));
    await assert.rejects(createEvaluator(dir), /cycle/);
  });
});
