/**
 * Dynamic int8 quantization of an fp32 BERT-style ONNX graph, written in TypeScript because onnxruntime's
 * quantizer is Python-only and Python is not available here. It rewrites the graph the way
 * `onnxruntime.quantization.quantize_dynamic` does:
 *
 * - every MatMul whose second input is a 2-D float initializer W [K, N] becomes
 *   DynamicQuantizeLinear(A) -> MatMulInteger(A_q, W_q, A_zp, W_zp) -> Cast(float) -> Mul(A_scale * W_scale),
 *   with W symmetric int8 (zero point 0), one scale per tensor or per output column;
 *   ONNX Runtime fuses that chain into its DynamicQuantizeMatMul kernel.
 * - every Gather whose data is a float initializer (the embedding tables) gets uint8 asymmetric data followed by
 *   DequantizeLinear, which cuts the file (and resident memory) by about 4x.
 * Everything else (LayerNorm, Softmax, activation-by-activation MatMuls of attention) stays fp32.
 * Works on any graph with weights stored inline (not ONNX external data), including real HF exports.
 */
import type { onnx as OnnxTypes } from "onnx-proto";
import { GraphBuilder, makeTensor, onnx, type TensorProto } from "./onnx-graph-builder.ts";
import { RowQuantizer } from "./row-quantization.ts";

export interface QuantizeOptions {
  /** One weight scale per output column instead of one per tensor (lower drift, same speed). */
  perChannel?: boolean;
  /**
   * 7-bit weights (-64..63) as quantize_dynamic's reduce_range: avoids int16 saturation in the u8 x s8 kernels
   * of x86 CPUs without VNNI (AVX2 only) at the cost of one bit of precision.
   */
  reduceRange?: boolean;
  /**
   * "per-tensor" (default): DynamicQuantizeLinear, exactly as quantize_dynamic; one scale per activation tensor,
   * so a pair's score depends on the other pairs of its batch. "per-row": one scale per token row
   * (row-quantization.ts), so batches can be run without coupling pairs.
   */
  activations?: "per-tensor" | "per-row";
}

const FLOAT = onnx.TensorProto.DataType.FLOAT;
type OnnxModel = OnnxTypes.ModelProto;

function floatValues(tensor: TensorProto): Float32Array {
  if (tensor.dataLocation === onnx.TensorProto.DataLocation.EXTERNAL) {
    throw new Error(`initializer ${tensor.name} uses ONNX external data, which this quantizer does not read`);
  }
  if (tensor.rawData && tensor.rawData.length > 0) {
    // Copy: protobuf byte fields are not 4-byte aligned.
    return new Float32Array(Uint8Array.from(tensor.rawData).buffer);
  }
  return Float32Array.from(tensor.floatData ?? []);
}

const dimsOf = (tensor: TensorProto) => (tensor.dims ?? []).map(Number);

/** Round half to even, as numpy.rint in onnxruntime's quantizer (and ONNX QuantizeLinear) does. */
export function roundHalfEven(x: number): number {
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 ? 2 * Math.round(x / 2) : r;
}

/** Symmetric int8 for weights [K, N]: scale = max|w| / qmax per tensor or per column N. */
export function quantizeWeightSymmetric(values: Float32Array, rows: number, cols: number, perChannel: boolean, qmax: number) {
  const channels = perChannel ? cols : 1;
  const absMax = new Float32Array(channels);
  for (let i = 0; i < values.length; i++) {
    const c = perChannel ? i % cols : 0;
    const magnitude = Math.abs(values[i]!);
    if (magnitude > absMax[c]!) absMax[c] = magnitude;
  }
  const scales = Float32Array.from(absMax, (m) => (m > 0 ? m / qmax : 1));
  const quantized = new Int8Array(rows * cols);
  for (let i = 0; i < values.length; i++) {
    const q = roundHalfEven(values[i]! / scales[perChannel ? i % cols : 0]!);
    quantized[i] = Math.max(-qmax, Math.min(qmax, q));
  }
  return { quantized, scales };
}

/** Asymmetric uint8 over the whole tensor (for embedding tables), with the real zero exactly representable. */
export function quantizeAsymmetricUint8(values: Float32Array) {
  let min = 0;
  let max = 0;
  for (const v of values) {
    if (v < min) min = v;
    if (v > max) max = v;
  }
  const scale = max > min ? (max - min) / 255 : 1;
  const zeroPoint = Math.max(0, Math.min(255, roundHalfEven(-min / scale)));
  // A plain loop: TypedArray.from with a map function collects into a JS array first (out of heap for a 150M-entry table).
  const quantized = new Uint8Array(values.length);
  for (let i = 0; i < values.length; i++) quantized[i] = Math.max(0, Math.min(255, roundHalfEven(values[i]! / scale) + zeroPoint));
  return { quantized, scale, zeroPoint };
}

export interface QuantizeReport {
  matmulsQuantized: number;
  gathersQuantized: number;
  bytesIn: number;
  bytesOut: number;
}

export function quantizeDynamic(modelBytes: Uint8Array, options: QuantizeOptions = {}): { bytes: Uint8Array; report: QuantizeReport } {
  const { model, report } = quantizeDynamicModel(onnx.ModelProto.decode(modelBytes), options);
  const bytes = onnx.ModelProto.encode(model).finish();
  return { bytes, report: { ...report, bytesIn: modelBytes.length, bytesOut: bytes.length } };
}

/**
 * Quantizes a decoded model in place and returns it. Works on a ModelProto that was never encoded, which a graph over
 * protobuf's 2 GB limit (a 0.6B-parameter fp32 decoder) has to be. Report sizes are initializer bytes.
 */
export function quantizeDynamicModel(model: OnnxModel, options: QuantizeOptions = {}): { model: OnnxModel; report: QuantizeReport } {
  const perChannel = options.perChannel ?? false;
  const qmax = options.reduceRange ? 63 : 127;
  const graph = model.graph;
  if (!graph) throw new Error("ONNX model has no graph");
  const opset = (model.opsetImport ?? []).find((o) => (o.domain ?? "") === "");
  if (!opset || Number(opset.version) < 10) throw new Error("model must use ONNX opset >= 10 for MatMulInteger");
  const initializers = new Map((graph.initializer ?? []).map((t) => [t.name ?? "", t]));
  const useCount = new Map<string, number>();
  for (const node of graph.node ?? []) for (const input of node.input ?? []) useCount.set(input, (useCount.get(input) ?? 0) + 1);

  const out = new GraphBuilder();
  const rowQuantizer = options.activations === "per-row" ? new RowQuantizer(out, Number(opset.version)) : undefined;
  const replaced = new Set<string>();
  const quantizedActivations = new Map<string, [string, string, string]>();
  let matmulsQuantized = 0;
  let gathersQuantized = 0;

  const quantizedActivation = (name: string): [string, string, string] => {
    // One DynamicQuantizeLinear per activation, shared by every MatMul that reads it (Q, K and V share one).
    let triple = quantizedActivations.get(name);
    if (!triple) {
      const q = out.node("DynamicQuantizeLinear", [name], `${name}_DynamicQuantizeLinear`, {}, 3);
      triple = [q, `${name}_DynamicQuantizeLinear_output_1`, `${name}_DynamicQuantizeLinear_output_2`];
      quantizedActivations.set(name, triple);
    }
    return triple;
  };

  for (const node of graph.node ?? []) {
    const [first = "", second = ""] = node.input ?? [];
    const weight = initializers.get(second);
    if (node.opType === "MatMul" && (node.domain ?? "") === "" && weight?.dataType === FLOAT && dimsOf(weight).length === 2) {
      const [rows, cols] = dimsOf(weight) as [number, number];
      const { quantized, scales } = quantizeWeightSymmetric(floatValues(weight), rows, cols, perChannel, qmax);
      const wName = `${second}_quantized`;
      if (!initializers.has(wName)) {
        out.initializers.push(makeTensor(wName, "int8", [rows, cols], quantized));
        out.initializers.push(makeTensor(`${second}_scale`, "float32", perChannel ? [cols] : [], scales));
        out.initializers.push(makeTensor(`${second}_zero_point`, "int8", perChannel ? [cols] : [], new Int8Array(perChannel ? cols : 1)));
        initializers.set(wName, {});
      }
      const base = node.name || `${second}_MatMul`;
      if (rowQuantizer) {
        rowQuantizer.matMul(first, wName, `${second}_scale`, `${second}_zero_point`, node.output![0]!, base);
        replaced.add(second);
        matmulsQuantized++;
        continue;
      }
      const [aQuantized, aScale, aZeroPoint] = quantizedActivation(first);
      const integer = out.node("MatMulInteger", [aQuantized, wName, aZeroPoint, `${second}_zero_point`], `${base}_MatMulInteger`);
      const asFloat = out.node("Cast", [integer], `${base}_Cast`, { to: FLOAT });
      const scale = out.node("Mul", [aScale, `${second}_scale`], `${base}_scale_Mul`);
      out.nodes.push({ opType: "Mul", name: `${base}_output_Mul`, domain: "", input: [asFloat, scale], output: [...(node.output ?? [])], attribute: [] });
      replaced.add(second);
      matmulsQuantized++;
      continue;
    }
    const table = initializers.get(first);
    if (node.opType === "Gather" && (node.domain ?? "") === "" && table?.dataType === FLOAT && useCount.get(first) === 1 && floatValues(table).length >= 1024) {
      const { quantized, scale, zeroPoint } = quantizeAsymmetricUint8(floatValues(table));
      out.initializers.push(makeTensor(`${first}_quantized`, "uint8", dimsOf(table), quantized));
      const scaleName = out.float(`${first}_scale`, [scale], true);
      const zeroName = out.initializer(`${first}_zero_point`, "uint8", [], Uint8Array.of(zeroPoint));
      const base = node.name || `${first}_Gather`;
      const gathered = out.node("Gather", [`${first}_quantized`, second], `${base}_quantized`, Object.fromEntries((node.attribute ?? []).map((a) => [a.name ?? "", Number(a.i ?? 0)])));
      out.nodes.push({ opType: "DequantizeLinear", name: `${base}_DequantizeLinear`, domain: "", input: [gathered, scaleName, zeroName], output: [...(node.output ?? [])], attribute: [] });
      replaced.add(first);
      gathersQuantized++;
      continue;
    }
    out.nodes.push(node);
  }
  // Keep float initializers still used by nodes that were not rewritten (a weight shared with an fp32 op stays).
  const stillUsed = new Set(out.nodes.flatMap((n) => n.input ?? []));
  const kept = (graph.initializer ?? []).filter((t) => !replaced.has(t.name ?? "") || stillUsed.has(t.name ?? ""));

  if (rowQuantizer && !(model.opsetImport ?? []).some((o) => o.domain === "com.microsoft")) {
    model.opsetImport = [...(model.opsetImport ?? []), { domain: "com.microsoft", version: 1 }];
  }
  const initializerBytes = (tensors: readonly TensorProto[]) => tensors.reduce((n, t) => n + (t.rawData?.length ?? 0), 0);
  const bytesIn = initializerBytes(graph.initializer ?? []);
  graph.node = out.nodes;
  graph.initializer = [...kept, ...out.initializers];
  model.producerName = `${model.producerName ?? ""} + poq-network int8 dynamic quantizer`;
  return { model, report: { matmulsQuantized, gathersQuantized, bytesIn, bytesOut: initializerBytes(graph.initializer) } };
}

