/**
 * Child-process half of the cross-encoder determinism test: loads a cross-encoder from a manifest folder, scores
 * CROSS_ENCODER_PAIRS and prints one JSON line { id, results }. Usage: npx tsx cross-encoder-child.ts <dir>.
 * The test runner imports every file under test/, so the work only happens when this file is the entry point.
 */
import path from "node:path";
import { fileURLToPath } from "node:url";
import type { ScorePair } from "../../../../daemon/evaluation/evaluator.ts";

export const CROSS_ENCODER_PAIRS: ScorePair[] = [
  { prompt: "What is the capital of France?", answer: "Paris is the capital and largest city of France." },
  { prompt: "What is the capital of France?", answer: "Bananas are yellow and rich in potassium." },
  { prompt: "How do plants make food?", answer: "Photosynthesis turns light, water and carbon dioxide into sugar. ".repeat(60) },
  { prompt: "", answer: "" },
  { prompt: "Bad bytes \u0000\u0007\uD800", answer: "caf\uFFFD \u202e \uDFFF text" },
  { prompt: "Explain recursion briefly.", answer: "A function that calls itself on a smaller input until a base case." },
];

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const { loadManifest } = await import("../../../../daemon/evaluation/manifest.ts");
  const { CrossEncoderEvaluator } = await import("../../../../daemon/evaluation/cross-encoder/cross-encoder-evaluator.ts");
  const dir = process.argv[2]!;
  const evaluator = await CrossEncoderEvaluator.load(await loadManifest(dir), dir);
  const results = await evaluator.score(CROSS_ENCODER_PAIRS);
  await evaluator.close();
  process.stdout.write(`${JSON.stringify({ id: evaluator.id, results })}\n`);
}
