/**
 * `npx tsx scripts/models/quantize.ts <fp32.onnx> <int8.onnx> [--per-tensor] [--full-range] [--per-tensor-activations] [--all-tokens]`
 * Dynamic int8 quantization of any fp32 BERT-style ONNX file (e.g. a Hugging Face export of a cross-encoder), as
 * onnxruntime's Python quantize_dynamic does it. Defaults: per-channel, 7-bit weights, per-row activation scales
 * (batch-invariant scores; see quantize-dynamic.ts and row-quantization.ts), and the last layer pruned to the [CLS]
 * row (prune-class-token.ts) when the pruned fp32 graph gives the same logits as the original. A model whose weights
 * live in ONNX external data (exports over 2 GB, such as a 0.6B reward model) is read with them and written as one
 * int8 file.
 */
import { readFileSync, renameSync, writeFileSync } from "node:fs";
import path from "node:path";
import { Command } from "commander";
import { inlineExternalData } from "./external-data.ts";
import { onnx } from "./onnx-graph-builder.ts";
import { pruneIfExact } from "./prune-class-token.ts";
import { quantizeDynamic, quantizeDynamicModel, type QuantizeOptions, type QuantizeReport } from "./quantize-dynamic.ts";

const program = new Command()
  .name("quantize")
  .argument("<input>", "fp32 ONNX model")
  .argument("<output>", "where to write the int8 model")
  .option("--per-tensor", "one weight scale per tensor instead of per output column")
  .option("--full-range", "8-bit weights (-127..127); only for CPUs with VNNI, else the int8 kernels saturate")
  .option("--per-tensor-activations", "DynamicQuantizeLinear exactly as quantize_dynamic (a pair's score then depends on its batch-mates)")
  .option("--all-tokens", "do not prune the last layer to the [CLS] row")
  .parse();
const [input, output] = program.args as [string, string];
const options = program.opts<{ perTensor?: boolean; fullRange?: boolean; perTensorActivations?: boolean; allTokens?: boolean }>();

const quantizeOptions: QuantizeOptions = {
  perChannel: !options.perTensor,
  reduceRange: !options.fullRange,
  activations: options.perTensorActivations ? "per-tensor" : "per-row",
};
let fp32: Uint8Array = readFileSync(input);
let bytes: Uint8Array;
let report: QuantizeReport;
const decoded = onnx.ModelProto.decode(fp32);
if (inlineExternalData(decoded, path.dirname(input)) > 0) {
  // Over 2 GB with its weights (e.g. a 0.6B decoder export with model.onnx_data): quantized as an object, never
  // re-encoded in fp32. Class-token pruning does not apply to decoders (their score is read at the last token).
  console.log("weights read from ONNX external data; last-layer pruning skipped");
  const result = quantizeDynamicModel(decoded, quantizeOptions);
  bytes = onnx.ModelProto.encode(result.model).finish();
  report = { ...result.report, bytesOut: bytes.length };
} else {
  if (!options.allTokens) {
    const result = await pruneIfExact(fp32);
    fp32 = result.bytes;
    if (result.pruned) console.log(`last layer pruned to the [CLS] row (${result.reason})`);
    else console.warn(`not pruned, all tokens kept: ${result.reason}`);
  }
  ({ bytes, report } = quantizeDynamic(fp32, quantizeOptions));
}
const partial = `${output}.${process.pid}.partial`;
writeFileSync(partial, bytes);
renameSync(partial, output);
console.log(`${output}: ${report.matmulsQuantized} MatMul and ${report.gathersQuantized} Gather quantized, ${report.bytesIn} -> ${report.bytesOut} bytes`);
