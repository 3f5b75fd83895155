/**
 * What one check costs with a 0.6B decoder reward model (the shape of Skywork-Reward-V2-Qwen3-0.6B, RANDOM weights:
 * real latency and memory, meaningless scores), int8 as quantize.ts writes it, one conversation of exactly 256
 * tokens scored alone. The model is built on first use into .poq/bench-models/ (gitignored, about 0.6 GB; building
 * takes one to two minutes) and reused while its manifest still matches the recipe. The fp32 form is not measured:
 * at 2.4 GB it exceeds protobuf's 2 GB limit and would need ONNX external data, which the engines do not load.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { EvaluatorRuntimeError, type ScorePair } from "../../daemon/evaluation/evaluator.ts";
import { loadManifest, verifyFiles } from "../../daemon/evaluation/manifest.ts";
import { RewardModelEvaluator } from "../../daemon/evaluation/reward-model/reward-model-evaluator.ts";
import { writeModelFiles } from "../models/generated-models.ts";
import { BENCH_QWEN3_0_6B_INT8, buildRewardModelFiles, rewardModelManifest } from "../models/generated-reward-models.ts";
import { decoderParameters } from "../models/qwen3-reward-graph.ts";
import { SeededRandom } from "../models/seeded-random.ts";

const CACHE = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../.poq/bench-models/qwen3-0.6b-reward-int8");
const NAME = "bench-qwen3-0.6b-reward-int8";
const TOKENS = 256;
/** Words that are one GPT-2 token each with their leading space, so a conversation can be sized exactly. */
const WORDS = "the of and to in is was for that with as on by at from his her are were be this which or had an not but have they all".split(" ");

export interface JudgeFigures {
  model: string;
  params: number;
  ms_per_check_256: number;
  ms_per_check_256_p95: number;
  checks: number;
  load_s: number;
  build_s: number | null;
  peak_rss_mb: number;
}

/** The cached model folder, built when missing or stale. Returns how long building took (null when cached). */
async function ensureBenchJudge(log: (line: string) => void): Promise<number | null> {
  const manifestFile = path.join(CACHE, "manifest.json");
  if (existsSync(manifestFile)) {
    const cached = JSON.parse(readFileSync(manifestFile, "utf8")) as { source?: { shape?: string } };
    try {
      if (cached.source?.shape?.startsWith(BENCH_QWEN3_0_6B_INT8.shapeName)) {
        await verifyFiles(await loadManifest(CACHE), CACHE);
        return null;
      }
    } catch {
      // Stale or damaged: rebuild below.
    }
  }
  log(`building the 0.6B-shaped random-weight reward model into ${CACHE} (one to two minutes)...`);
  const started = performance.now();
  const files = buildRewardModelFiles(BENCH_QWEN3_0_6B_INT8);
  mkdirSync(CACHE, { recursive: true });
  writeModelFiles(CACHE, files);
  writeFileSync(manifestFile, `${JSON.stringify(rewardModelManifest(NAME, BENCH_QWEN3_0_6B_INT8, files), null, 2)}\n`);
  return (performance.now() - started) / 1000;
}

/** A conversation of exactly `tokens` tokens in the judge's template. */
function exactConversation(evaluator: RewardModelEvaluator, tokens: number, seed: number): ScorePair {
  const rng = new SeededRandom(seed);
  const prompt = "Write a short paragraph about the history of the city you know best.";
  const answer: string[] = [];
  const length = () => evaluator.encoder.encode(prompt, answer.join(" ")).inputIds.length;
  while (length() < tokens) answer.push(WORDS[rng.nextUint32() % WORDS.length]!);
  if (length() !== tokens) throw new EvaluatorRuntimeError(`bench conversation has ${length()} tokens, expected ${tokens}`);
  return { prompt, answer: answer.join(" ") };
}

export async function measureJudge(reps: number, log: (line: string) => void): Promise<JudgeFigures> {
  const buildS = await ensureBenchJudge(log);
  const loadStarted = performance.now();
  const evaluator = await RewardModelEvaluator.load(await loadManifest(CACHE), CACHE);
  const loadS = (performance.now() - loadStarted) / 1000;
  try {
    const pairs = Array.from({ length: reps }, (_, i) => exactConversation(evaluator, TOKENS, i + 1));
    await evaluator.score([pairs[0]!]); // warm-up: the first run sizes the memory arena
    const times: number[] = [];
    for (const pair of pairs) {
      const started = performance.now();
      await evaluator.score([pair]);
      times.push(performance.now() - started);
    }
    times.sort((a, b) => a - b);
    const at = (p: number) => times[Math.min(times.length - 1, Math.floor(p * times.length))]!;
    return {
      model: "generated Qwen3-0.6B-shaped reward model (RANDOM weights, Skywork-Reward-V2-Qwen3-0.6B layout), int8 per-channel 7-bit weights, per-row activations",
      params: decoderParameters(BENCH_QWEN3_0_6B_INT8.shape),
      ms_per_check_256: Number(at(0.5).toFixed(0)),
      ms_per_check_256_p95: Number(at(0.95).toFixed(0)),
      checks: reps,
      load_s: Number(loadS.toFixed(1)),
      build_s: buildS === null ? null : Number(buildS.toFixed(0)),
      peak_rss_mb: Math.round(process.resourceUsage().maxRSS / 1024),
    };
  } finally {
    await evaluator.close();
  }
}
