/**
 * `npx tsx scripts/models/quantize.ts <fp32.onnx> <int8.onnx> [--per-tensor] [--full-range] [--per-tensor-activations] [--all-tokens]`
 * Dynamic int8 quantization of any fp32 BERT-style ONNX file (e.g. a Hugging Face export of a cross-encoder), as
 * onnxruntime's Python quantize_dynamic does it. Defaults: per-channel, 7-bit weights, per-row activation scales
 * (batch-invariant scores; see quantize-dynamic.ts and row-quantization.ts), and the last layer pruned to the [CLS]
 * row (prune-class-token.ts) when the pruned fp32 graph gives the same logits as the original.
 */
import { readFileSync, renameSync, writeFileSync } from "node:fs";
import { Command } from "commander";
import { pruneIfExact } from "./prune-class-token.ts";
import { quantizeDynamic } from "./quantize-dynamic.ts";

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

let fp32: Uint8Array = readFileSync(input);
if (!options.allTokens) {
  const result = await pruneIfExact(fp32);
  fp32 = result.bytes;
  if (result.pruned) console.log(`last layer pruned to the [CLS] row (${result.reason})`);
  else console.warn(`not pruned, all tokens kept: ${result.reason}`);
}
const { bytes, report } = quantizeDynamic(fp32, {
  perChannel: !options.perTensor,
  reduceRange: !options.fullRange,
  activations: options.perTensorActivations ? "per-tensor" : "per-row",
});
const partial = `${output}.${process.pid}.partial`;
writeFileSync(partial, bytes);
renameSync(partial, output);
console.log(`${output}: ${report.matmulsQuantized} MatMul and ${report.gathersQuantized} Gather quantized, ${report.bytesIn} -> ${report.bytesOut} bytes`);
