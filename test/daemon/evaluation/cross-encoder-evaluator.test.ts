import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { cp, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { after, before, describe, it } from "node:test";
import { CrossEncoderEvaluator } from "../../../daemon/evaluation/cross-encoder/cross-encoder-evaluator.ts";
import { EvaluatorClosedError, EvaluatorRuntimeError, ManifestMismatchError, SCORE_MAX, type ScoreResult } from "../../../daemon/evaluation/evaluator.ts";
import { loadManifest } from "../../../daemon/evaluation/manifest.ts";
import { onnx } from "../../../scripts/models/onnx-graph-builder.ts";
import { ensureGeneratedModel } from "../../../scripts/models/generated-models.ts";
import { quantizeDynamic } from "../../../scripts/models/quantize-dynamic.ts";
import { CROSS_ENCODER_PAIRS } from "./helpers/cross-encoder-child.ts";

const run = promisify(execFile);
const load = async (dir: string) => CrossEncoderEvaluator.load(await loadManifest(dir), dir);
const sha256 = async (file: string) => (await import("node:crypto")).createHash("sha256").update(await readFile(file)).digest("hex");

describe("CrossEncoderEvaluator on the generated tiny models", () => {
  let fp32Dir: string;
  let int8Dir: string;
  let fp32: CrossEncoderEvaluator;
  let int8: CrossEncoderEvaluator;
  let scratch: string;

  before(async () => {
    fp32Dir = ensureGeneratedModel("generated-tiny-fp32");
    int8Dir = ensureGeneratedModel("generated-tiny-int8");
    [fp32, int8] = await Promise.all([load(fp32Dir), load(int8Dir)]);
    scratch = await mkdtemp(path.join(tmpdir(), "poq-cross-encoder-"));
  });
  /** A copy of the tiny fp32 folder whose model file is `bytes`, with the manifest re-pinned to them. */
  async function modelVariant(name: string, bytes: Uint8Array): Promise<string> {
    const dir = path.join(scratch, name);
    await cp(fp32Dir, dir, { recursive: true });
    const file = path.join(dir, "onnx", "model.onnx");
    await writeFile(file, bytes);
    const manifest = JSON.parse(await readFile(path.join(dir, "manifest.json"), "utf8"));
    const entry = manifest.files.find((f: { path: string }) => f.path === "onnx/model.onnx");
    entry.sha256 = await sha256(file);
    entry.size = bytes.length;
    await writeFile(path.join(dir, "manifest.json"), JSON.stringify(manifest));
    return dir;
  }

  after(async () => {
    await Promise.all([fp32?.close(), int8?.close()]);
    if (scratch) await rm(scratch, { recursive: true, force: true });
  });

  it("returns integer scores in range with raw logits, one per pair, in input order", async () => {
    const results = await fp32.score(CROSS_ENCODER_PAIRS);
    assert.equal(results.length, CROSS_ENCODER_PAIRS.length);
    for (const r of results) {
      assert.ok(Number.isInteger(r.score) && r.score >= 0 && r.score <= SCORE_MAX);
      assert.equal(r.raw.length, 1);
      assert.ok(Number.isFinite(r.raw[0]));
    }
    // Order restored: scoring each pair alone gives the same logits (up to float noise from padding shapes).
    for (const [i, pair] of CROSS_ENCODER_PAIRS.entries()) {
      const [alone] = await fp32.score([pair]);
      assert.ok(Math.abs(alone!.raw[0]! - results[i]!.raw[0]!) < 1e-4, `pair ${i}: ${alone!.raw[0]} vs ${results[i]!.raw[0]}`);
    }
    // Reversed input gives reversed output.
    const reversed = await fp32.score([...CROSS_ENCODER_PAIRS].reverse());
    assert.deepEqual(reversed.map((r) => r.score), results.map((r) => r.score).reverse());
    assert.deepEqual(await fp32.score([]), []);
  });

  it("gives clearly different answers different scores (a constant score would be a fault)", async () => {
    const [good, bad] = await fp32.score(CROSS_ENCODER_PAIRS.slice(0, 2));
    assert.notEqual(good!.raw[0], bad!.raw[0]);
    assert.notEqual(good!.score, bad!.score);
  });

  it("is deterministic across separate processes, fp32 and int8 (same integers and same raw logits)", async () => {
    const child = path.join(import.meta.dirname, "helpers", "cross-encoder-child.ts");
    const evaluators = [fp32, int8];
    const outputs = await Promise.all([fp32Dir, int8Dir].map((dir) => run("npx", ["tsx", child, dir], { timeout: 60_000 })));
    for (const [i, { stdout }] of outputs.entries()) {
      const inProcess = await evaluators[i]!.score(CROSS_ENCODER_PAIRS);
      const parsed = JSON.parse(stdout.trim().split("\n").at(-1)!) as { id: string; results: ScoreResult[] };
      assert.equal(parsed.id, evaluators[i]!.id);
      assert.deepEqual(parsed.results.map((r) => r.score), inProcess.map((r) => r.score));
      assert.deepEqual(parsed.results.map((r) => r.raw), inProcess.map((r) => r.raw));
    }
  });

  it("keeps int8 drift from fp32 small on the same inputs (and reports it)", async () => {
    const [a, b] = await Promise.all([fp32.score(CROSS_ENCODER_PAIRS), int8.score(CROSS_ENCODER_PAIRS)]);
    const drift = a.map((r, i) => Math.abs(r.raw[0]! - b[i]!.raw[0]!));
    const scoreDrift = a.map((r, i) => Math.abs(r.score - b[i]!.score));
    console.log(`    int8 vs fp32 (tiny model): max |logit drift| ${Math.max(...drift).toFixed(4)}, mean ${(drift.reduce((x, y) => x + y, 0) / drift.length).toFixed(4)}, max score drift ${Math.max(...scoreDrift)} / ${SCORE_MAX}`);
    assert.ok(Math.max(...drift) < 0.25, `int8 drift ${Math.max(...drift)}`);
    assert.notEqual(int8.id, fp32.id);
  });

  it("never crashes on empty, huge, invalid UTF-16 or control-character input", async () => {
    const hostile = [
      { prompt: "", answer: "" },
      { prompt: "x".repeat(2_000_000), answer: "word ".repeat(500_000) },
      { prompt: "\uD800\uDBFF", answer: "\uDC00 lone \uDFFF" },
      { prompt: "\u0000\u0001\u0008\u001b[0m\u007f", answer: "\u202e\u2066\uFEFF\u200b\r\n\t" },
      { prompt: null as unknown as string, answer: 42 as unknown as string },
    ];
    const results = await int8.score(hostile);
    assert.equal(results.length, hostile.length);
    for (const r of results) assert.ok(Number.isInteger(r.score) && r.score >= 0 && r.score <= SCORE_MAX);
    assert.equal(results[1]!.detail?.tokens, 512);
    assert.equal(results[1]!.detail?.truncated, true);
  });

  it("refuses a model file whose sha256 differs from the manifest", async () => {
    const dir = path.join(scratch, "tampered");
    await cp(fp32Dir, dir, { recursive: true });
    const model = path.join(dir, "onnx", "model.onnx");
    const bytes = await readFile(model);
    bytes[bytes.length - 5]! ^= 0xff;
    await writeFile(model, bytes);
    const manifest = await loadManifest(dir);
    await assert.rejects(CrossEncoderEvaluator.load(manifest, dir), (error: unknown) => {
      assert.ok(error instanceof ManifestMismatchError);
      assert.equal(error.file, "onnx/model.onnx");
      return true;
    });
    await rm(path.join(dir, "tokenizer.json"));
    await writeFile(model, await readFile(path.join(fp32Dir, "onnx", "model.onnx")));
    await assert.rejects(CrossEncoderEvaluator.load(manifest, dir), (e: unknown) => e instanceof ManifestMismatchError && e.actual === "missing");
  });

  it("refuses at load a model whose output ignores its input (softmax over one logit)", async () => {
    const model = onnx.ModelProto.decode(await readFile(path.join(fp32Dir, "onnx", "model.onnx")));
    const graph = model.graph!;
    const last = graph.node!.at(-1)!;
    last.output = ["logits_raw"];
    graph.node!.push({ opType: "Softmax", name: "/softmax_bug", domain: "", input: ["logits_raw"], output: ["logits"], attribute: [{ name: "axis", type: onnx.AttributeProto.AttributeType.INT, i: -1 }] });
    const dir = await modelVariant("softmaxed", onnx.ModelProto.encode(model).finish());
    await assert.rejects(load(dir), (e: unknown) => {
      assert.ok(e instanceof EvaluatorRuntimeError);
      assert.match(String((e as Error & { cause?: Error }).cause?.message), /identical for 2 different inputs/);
      return true;
    });
  });

  it("batches the per-row int8 model and still gives every pair the score it gets alone, padded or not", async () => {
    assert.equal(int8.limits.maxBatchSize, 16);
    assert.equal(fp32.limits.maxBatchSize, 16);
    // The pairs have different lengths, so in one call they are padded; alone, they are not.
    const inBatch = await int8.score(CROSS_ENCODER_PAIRS);
    for (const [i, pair] of CROSS_ENCODER_PAIRS.entries()) assert.deepEqual((await int8.score([pair]))[0]!.raw, inBatch[i]!.raw);
    const reversed = await int8.score([...CROSS_ENCODER_PAIRS].reverse());
    assert.deepEqual(reversed.map((r) => r.raw), inBatch.map((r) => r.raw).reverse());
  });

  it("runs a per-tensor (quantize_dynamic) int8 graph one pair at a time, because batching it couples pairs", async () => {
    const dir = await modelVariant("per-tensor-int8", quantizeDynamic(await readFile(path.join(fp32Dir, "onnx", "model.onnx")), { perChannel: true, reduceRange: true }).bytes);
    const perTensor = await load(dir);
    const coupled = await CrossEncoderEvaluator.load(await loadManifest(dir), dir, { allowBatchCoupledScores: true });
    try {
      assert.equal(perTensor.limits.maxBatchSize, 1);
      const alone = await perTensor.score(CROSS_ENCODER_PAIRS);
      for (const [i, pair] of CROSS_ENCODER_PAIRS.entries()) assert.deepEqual((await perTensor.score([pair]))[0]!.raw, alone[i]!.raw);
      // The coupling is real: allowed to batch, the same graph gives a pair a different logit next to other pairs.
      const batched = await coupled.score(CROSS_ENCODER_PAIRS);
      const gaps = batched.map((r, i) => Math.abs(r.raw[0]! - alone[i]!.raw[0]!));
      assert.ok(Math.max(...gaps) > 1e-3, `max gap ${Math.max(...gaps)}`);
    } finally {
      await Promise.all([perTensor.close(), coupled.close()]);
    }
  });

  it("throws EvaluatorClosedError after close", async () => {
    const evaluator = await load(int8Dir);
    await evaluator.close();
    await assert.rejects(evaluator.score(CROSS_ENCODER_PAIRS), EvaluatorClosedError);
  });
});
