import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import path from "node:path";
import { describe, it } from "node:test";
import * as ort from "onnxruntime-node";
import { isBatchCoupled } from "../../../daemon/evaluation/onnx-evaluator.ts";
import { generateBertCrossEncoder, TINY_BERT } from "../../../scripts/models/bert-cross-encoder-graph.ts";
import { buildGeneratedModelFiles, MODELS_ROOT } from "../../../scripts/models/generated-models.ts";
import { onnx } from "../../../scripts/models/onnx-graph-builder.ts";
import { maxLogitGap } from "../../../scripts/models/compare-models.ts";
import { PruneError, pruneIfExact, pruneToClassToken } from "../../../scripts/models/prune-class-token.ts";
import { quantizeDynamic, quantizeWeightSymmetric, roundHalfEven } from "../../../scripts/models/quantize-dynamic.ts";

const sha256 = (bytes: Uint8Array) => createHash("sha256").update(bytes).digest("hex");
const opTypes = (bytes: Uint8Array) => new Set(onnx.ModelProto.decode(bytes).graph!.node!.map((n) => n.opType));

describe("generated cross-encoders and the int8 quantizer", () => {
  it("generates byte-identical files for the same seed, matching the committed manifest", () => {
    const first = buildGeneratedModelFiles("generated-tiny-int8");
    const second = buildGeneratedModelFiles("generated-tiny-int8");
    const manifest = JSON.parse(readFileSync(path.join(MODELS_ROOT, "generated-tiny-int8", "manifest.json"), "utf8")) as { files: { path: string; sha256: string; size: number }[] };
    for (const entry of manifest.files) {
      assert.equal(sha256(first.get(entry.path)!), entry.sha256, entry.path);
      assert.equal(sha256(second.get(entry.path)!), entry.sha256, entry.path);
      assert.equal(first.get(entry.path)!.length, entry.size);
    }
    assert.notEqual(sha256(generateBertCrossEncoder(TINY_BERT, 2)), sha256(generateBertCrossEncoder(TINY_BERT, 1)));
  });

  it("writes the HF cross-encoder interface: int64 [batch, sequence] inputs -> logits [batch, 1]", async () => {
    const session = await ort.InferenceSession.create(generateBertCrossEncoder(TINY_BERT, 1));
    try {
      assert.deepEqual(session.inputNames, ["input_ids", "attention_mask", "token_type_ids"]);
      assert.deepEqual(session.outputNames, ["logits"]);
      const feed = (values: bigint[]) => new ort.Tensor("int64", BigInt64Array.from(values), [3, 2]);
      const out = await session.run({ input_ids: feed([101n, 102n, 101n, 102n, 101n, 102n]), attention_mask: feed([1n, 1n, 1n, 1n, 1n, 1n]), token_type_ids: feed([0n, 0n, 0n, 0n, 0n, 0n]) });
      assert.deepEqual(out.logits!.dims, [3, 1]);
    } finally {
      await session.release();
    }
  });

  it("rewrites every weight MatMul as quantize_dynamic does and quantizes the embedding tables", () => {
    const fp32 = generateBertCrossEncoder(TINY_BERT, 1);
    assert.equal(isBatchCoupled(Buffer.from(fp32)), false);
    for (const options of [{}, { perChannel: true }, { perChannel: true, reduceRange: true }] as const) {
      const { bytes, report } = quantizeDynamic(fp32, options);
      // 2 layers x 6 dense layers + pooler + classifier; word and position embedding tables (token types are tiny).
      assert.equal(report.matmulsQuantized, 14);
      assert.equal(report.gathersQuantized, 2);
      assert.ok(report.bytesOut < report.bytesIn / 3);
      const ops = opTypes(bytes);
      for (const op of ["DynamicQuantizeLinear", "MatMulInteger", "DequantizeLinear"]) assert.ok(ops.has(op), op);
      assert.equal(isBatchCoupled(Buffer.from(bytes)), true);
    }
  });

  it("quantizes activations per row on request: no per-tensor operator, and every pair's logit is batch-invariant", async () => {
    const { bytes, report } = quantizeDynamic(generateBertCrossEncoder(TINY_BERT, 1), { perChannel: true, reduceRange: true, activations: "per-row" });
    assert.equal(report.matmulsQuantized, 14);
    const ops = opTypes(bytes);
    for (const op of ["ReduceMax", "QuantizeLinear", "MatMulIntegerToFloat", "DequantizeLinear"]) assert.ok(ops.has(op), op);
    assert.equal(ops.has("DynamicQuantizeLinear"), false);
    assert.equal(isBatchCoupled(Buffer.from(bytes)), false);
    // Three pairs of different lengths: alone (no padding) and together (padded to 9) give bit-identical logits.
    const pairs = [[101n, 2054n, 102n, 3000n, 102n], [101n, 7592n, 2088n, 102n, 4000n, 5000n, 6000n, 7000n, 102n], [101n, 102n, 102n]];
    const session = await ort.InferenceSession.create(bytes);
    try {
      const run = async (batch: bigint[][]) => {
        const length = Math.max(...batch.map((p) => p.length));
        const tensor = (value: (p: bigint[], i: number) => bigint) =>
          new ort.Tensor("int64", BigInt64Array.from(batch.flatMap((p) => Array.from({ length }, (_, i) => (i < p.length ? value(p, i) : 0n)))), [batch.length, length]);
        const out = await session.run({ input_ids: tensor((p, i) => p[i]!), attention_mask: tensor(() => 1n), token_type_ids: tensor((p, i) => (i > p.indexOf(102n) ? 1n : 0n)) });
        return Array.from(out.logits!.data as Float32Array);
      };
      const together = await run(pairs);
      for (const [i, pair] of pairs.entries()) assert.equal((await run([pair]))[0], together[i], `pair ${i}`);
      assert.notEqual(together[0], together[1]);
    } finally {
      await session.release();
    }
  });

  it("prunes the last layer to the [CLS] row without changing the logits, and refuses a graph without attention", async () => {
    const fp32 = generateBertCrossEncoder(TINY_BERT, 1);
    const result = await pruneIfExact(fp32);
    assert.equal(result.pruned, true, result.reason);
    const slices = onnx.ModelProto.decode(result.bytes).graph!.node!.filter((n) => n.opType === "Slice" && n.name!.endsWith("_class_token/Slice"));
    assert.equal(slices.length, 1);
    const gap = await maxLogitGap(fp32, result.bytes);
    assert.ok(gap < 1e-5, `pruned logits differ by ${gap}`);
    // The check can fail: a different model is far off.
    assert.ok((await maxLogitGap(fp32, generateBertCrossEncoder(TINY_BERT, 2))) > 1e-2);
    const noAttention = onnx.ModelProto.decode(fp32);
    noAttention.graph!.node = noAttention.graph!.node!.filter((n) => n.opType !== "Softmax");
    assert.throws(() => pruneToClassToken(onnx.ModelProto.encode(noAttention).finish()), PruneError);
  });

  it("keeps all tokens when the pruned graph cannot run (reshape targets computed from the layer input)", async () => {
    // As some exports do: the last query Reshape takes [batch, sequence] from the layer input's Shape, which no longer
    // matches once the queries are cut to the first rows.
    const model = onnx.ModelProto.decode(generateBertCrossEncoder(TINY_BERT, 1));
    const graph = model.graph!;
    const reshape = graph.node!.find((n) => n.name === "/bert.encoder.layer.1/query/Reshape")!;
    const layerInput = "bert.encoder.layer.0.output.LayerNorm/LayerNormalization_output_0";
    graph.initializer!.push({ name: "heads_and_size", dataType: onnx.TensorProto.DataType.INT64, dims: [2], int64Data: [TINY_BERT.heads, TINY_BERT.hidden / TINY_BERT.heads] });
    const ints = onnx.AttributeProto.AttributeType.INT;
    graph.node!.splice(graph.node!.indexOf(reshape), 0,
      { opType: "Shape", name: "leading_shape", domain: "", input: [layerInput], output: ["leading_dims"], attribute: [{ name: "start", type: ints, i: 0 }, { name: "end", type: ints, i: 2 }] },
      { opType: "Concat", name: "query_shape", domain: "", input: ["leading_dims", "heads_and_size"], output: ["query_shape_out"], attribute: [{ name: "axis", type: ints, i: 0 }] });
    reshape.input = [reshape.input![0]!, "query_shape_out"];
    const bytes = onnx.ModelProto.encode(model).finish();
    const result = await pruneIfExact(bytes);
    assert.equal(result.pruned, false);
    assert.match(result.reason, /does not run/);
    assert.equal(result.bytes, bytes);
  });

  it("quantizes weights symmetrically, per tensor or per output column, within the chosen range", () => {
    const weights = Float32Array.from([0.5, -2, 0.25, 1, -0.5, 4]); // 3 rows x 2 columns
    const perTensor = quantizeWeightSymmetric(weights, 3, 2, false, 127);
    assert.deepEqual([...perTensor.scales], [Math.fround(4 / 127)]);
    assert.equal(Math.max(...perTensor.quantized.map(Math.abs)), 127);
    const perChannel = quantizeWeightSymmetric(weights, 3, 2, true, 63);
    assert.deepEqual([...perChannel.scales], [Math.fround(0.5 / 63), Math.fround(4 / 63)]);
    // -2 / fround(4 / 63) is just above -31.5 in float32 arithmetic, so it rounds to -31.
    assert.deepEqual([...perChannel.quantized], [63, -31, 31, 16, -63, 63]);
    // Exact halves round to even, as numpy.rint in onnxruntime's quantizer does.
    assert.deepEqual([2.5, -2.5, 3.5, -0.5, 1.4].map(roundHalfEven), [2, -2, 4, -0, 1]);
  });
});
