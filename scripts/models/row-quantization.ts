/**
 * Per-row dynamic quantization of activations: every row of an activation (one token of one pair) gets its own
 * scale, max|x| / 127 over the hidden axis, and is coded as uint8 round(x / scale) + 128 (QuantizeLinear). DynamicQuantizeLinear,
 * what `quantize_dynamic` emits, computes one scale over the whole tensor, i.e. over every pair of a padded batch,
 * so a pair's int8 score moves with its batch-mates; with one scale per row no pair can influence another, and an
 * int8 model can run real batches and still give every pair the same score in any batch.
 *
 * The fixed zero point (128) is what lets ONNX Runtime's integer GEMM take the rows as they are: its kernels accept
 * one zero point for A, not one per row. The integer product is exact, so the float result of a row is
 * (A_q - 128) . W_q * (row scale * column scale), computed by MatMulIntegerToFloat and one Mul.
 */
import type { GraphBuilder } from "./onnx-graph-builder.ts";

/** Zero-point value and quantization range of the symmetric activation code (-127..127 around 128). */
const ACTIVATION_ZERO_POINT = 128;
const ACTIVATION_QMAX = 127;
/** Floor of a row scale: a row of zeros codes as zeros instead of dividing 0 by 0. */
const MIN_ROW_SCALE = 1e-30;

export interface QuantizedRows {
  /** uint8 codes, same shape as the activation. */
  codes: string;
  /** float scale per row, shape [..., 1]. */
  rowScale: string;
}

export class RowQuantizer {
  private readonly cache = new Map<string, QuantizedRows>();
  private constantsAdded = false;

  /** @param opsetVersion the model's ONNX opset: ReduceMax takes its axes as an input from opset 18. */
  constructor(private readonly graph: GraphBuilder, private readonly opsetVersion: number) {}

  private constants(): void {
    if (this.constantsAdded) return;
    this.constantsAdded = true;
    this.graph.float("row_quant/qmax", [ACTIVATION_QMAX], true);
    this.graph.float("row_quant/min_scale", [MIN_ROW_SCALE], true);
    this.graph.initializer("row_quant/zero_point", "uint8", [], Uint8Array.of(ACTIVATION_ZERO_POINT));
    this.graph.float("row_quant/unit_scale", [1], true);
    if (this.opsetVersion >= 18) this.graph.int64("row_quant/last_axis", [-1]);
  }

  /** Codes and row scales of an activation, shared by every MatMul that reads it (Q, K and V share one). */
  quantize(activation: string): QuantizedRows {
    const cached = this.cache.get(activation);
    if (cached) return cached;
    this.constants();
    const g = this.graph;
    const base = `${activation}_row_quant`;
    const magnitude = g.node("Abs", [activation], `${base}/Abs`);
    const rowMax = this.opsetVersion >= 18
      ? g.node("ReduceMax", [magnitude, "row_quant/last_axis"], `${base}/ReduceMax`, { keepdims: 1 })
      : g.node("ReduceMax", [magnitude], `${base}/ReduceMax`, { axes: [-1], keepdims: 1 });
    const rowScale = g.node("Max", [g.node("Div", [rowMax, "row_quant/qmax"], `${base}/scale`), "row_quant/min_scale"], `${base}/scale_floor`);
    // x / scale is in [-127, 127]; QuantizeLinear with scale 1 and zero point 128 rounds it half to even and
    // shifts it into 1..255 in one pass (its per-tensor form is ONNX Runtime's vectorised MlasQuantizeLinear).
    const normalized = g.node("Div", [activation, rowScale], `${base}/Div`);
    const codes = g.node("QuantizeLinear", [normalized, "row_quant/unit_scale", "row_quant/zero_point"], `${base}/QuantizeLinear`);
    const result = { codes, rowScale };
    this.cache.set(activation, result);
    return result;
  }

  /**
   * Emits `output = activation . W` from the quantized rows and an int8 weight with per-column (or per-tensor)
   * scales and zero points.
   */
  matMul(activation: string, weight: string, weightScale: string, weightZeroPoint: string, output: string, name: string): void {
    const { codes, rowScale } = this.quantize(activation);
    const g = this.graph;
    const product = g.node("MatMulIntegerToFloat", [codes, weight, "row_quant/unit_scale", weightScale, "row_quant/zero_point", weightZeroPoint], `${name}_MatMulIntegerToFloat`, {}, 1, "com.microsoft");
    g.nodes.push({ opType: "Mul", name: `${name}_row_scale_Mul`, domain: "", input: [product, rowScale], output: [output], attribute: [] });
  }
}
