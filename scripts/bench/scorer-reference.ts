/**
 * The in-run reference for the int8 figures: the same fp32 MiniLM graph quantized as onnxruntime's quantize_dynamic
 * does it (per-tensor activations, no [CLS] pruning; per-channel 7-bit weights as ours), loaded through the same
 * CrossEncoderEvaluator, which runs such a batch-coupled graph one pair at a time. Measured in the same run as our
 * int8 model, its ratio to ours is what the rewrites bought, whatever the machine's load.
 */
import { createHash } from "node:crypto";
import { copyFile, mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { CrossEncoderEvaluator } from "../../daemon/evaluation/cross-encoder/cross-encoder-evaluator.ts";
import { loadManifest } from "../../daemon/evaluation/manifest.ts";
import { ensureGeneratedModel } from "../models/generated-models.ts";
import { quantizeDynamic } from "../models/quantize-dynamic.ts";

export async function loadPerTensorReference(): Promise<{ evaluator: CrossEncoderEvaluator; dispose: () => Promise<void> }> {
  const source = ensureGeneratedModel("generated-minilm-l6-fp32");
  const dir = await mkdtemp(path.join(tmpdir(), "poq-scorer-reference-"));
  const manifest = JSON.parse(await readFile(path.join(source, "manifest.json"), "utf8"));
  const int8 = quantizeDynamic(await readFile(path.join(source, "onnx", "model.onnx")), { perChannel: true, reduceRange: true, activations: "per-tensor" }).bytes;
  await mkdir(path.join(dir, "onnx"));
  await writeFile(path.join(dir, "onnx", "model.onnx"), int8);
  for (const entry of manifest.files as { path: string; sha256: string; size: number }[]) {
    if (entry.path === "onnx/model.onnx") {
      entry.sha256 = createHash("sha256").update(int8).digest("hex");
      entry.size = int8.length;
    } else {
      await copyFile(path.join(source, entry.path), path.join(dir, entry.path));
    }
  }
  manifest.name = "reference-minilm-l6-int8-per-tensor";
  await writeFile(path.join(dir, "manifest.json"), JSON.stringify(manifest));
  const evaluator = await CrossEncoderEvaluator.load(await loadManifest(dir), dir);
  return { evaluator, dispose: async () => { await evaluator.close(); await rm(dir, { recursive: true, force: true }); } };
}
