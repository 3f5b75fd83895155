/**
 * `npx tsx scripts/models/quantize.ts <fp32.onnx> <int8.onnx> [--per-tensor] [--full-range]`
 * Dynamic int8 quantization of any fp32 BERT-style ONNX file (e.g. a Hugging Face export of a cross-encoder), as
 * onnxruntime's Python quantize_dynamic does it. Defaults: per-channel, 7-bit weights (see quantize-dynamic.ts).
 */
import { readFileSync, renameSync, writeFileSync } from "node:fs";
import { Command } from "commander";
import { quantizeDynamic } from "./quantize-dynamic.ts";

const program = new Command()
  .name("quantize")
  .argument("<input>", "fp32 ONNX model")
  .argument("<output>", "where to write the int8 model")
  .option("--per-tensor", "one weight scale per tensor instead of per output column")
  .option("--full-range", "8-bit weights (-127..127); only for CPUs with VNNI, else the int8 kernels saturate")
  .parse();
const [input, output] = program.args as [string, string];
const options = program.opts<{ perTensor?: boolean; fullRange?: boolean }>();

const { bytes, report } = quantizeDynamic(readFileSync(input), { perChannel: !options.perTensor, reduceRange: !options.fullRange });
const partial = `${output}.${process.pid}.partial`;
writeFileSync(partial, bytes);
renameSync(partial, output);
console.log(`${output}: ${report.matmulsQuantized} MatMul and ${report.gathersQuantized} Gather quantized, ${report.bytesIn} -> ${report.bytesOut} bytes`);
