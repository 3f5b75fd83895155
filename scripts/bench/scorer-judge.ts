/**
 * What one check costs with a 0.6B decoder reward model (the shape of Skywork-Reward-V2-Qwen3-0.6B, RANDOM weights:
 * real latency and memory, meaningless scores), int8 as quantize.ts writes it, one conversation of exactly 256
 * tokens scored alone. The model is built on first use into .poq/bench-models/ (gitignored, about 0.6 GB; building
 * takes minutes) and reused while its manifest still matches the recipe. The fp32 form (2.4 GB, over protobuf's 2 GB
 * limit, so its weights are in ONNX external data as in a real export) is measured the same way unless skipped.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { EvaluatorRuntimeError, type ScorePair } from "../../daemon/evaluation/evaluator.ts";
import { loadManifest, verifyFiles } from "../../daemon/evaluation/manifest.ts";
import { RewardModelEvaluator } from "../../daemon/evaluation/reward-model/reward-model-evaluator.ts";
import { writeModelFiles } from "../models/generated-models.ts";
import { BENCH_QWEN3_0_6B_FP32, BENCH_QWEN3_0_6B_INT8, buildRewardModelFiles, rewardModelManifest, type RewardRecipe } from "../models/generated-reward-models.ts";
import { decoderParameters } from "../models/qwen3-reward-graph.ts";
import { SeededRandom } from "../models/seeded-random.ts";

const CACHE_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../.poq/bench-models");
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
  /** The same model in fp32 (weights in ONNX external data, 2.4 GB), measured the same way; null when skipped. */
  fp32: { ms_per_check_256: number; ms_per_check_256_p95: number; load_s: number; build_s: number | null; peak_rss_mb: number } | null;
}

/** The cached model folder for a recipe, built when missing or stale. Returns how long building took (null when cached). */
async function ensureBenchJudge(recipe: RewardRecipe, name: string, log: (line: string) => void): Promise<{ dir: string; buildS: number | null }> {
  const dir = path.join(CACHE_ROOT, name);
  const manifestFile = path.join(dir, "manifest.json");
  const expected = rewardModelManifestShape(recipe);
  if (existsSync(manifestFile)) {
    const cached = JSON.parse(readFileSync(manifestFile, "utf8")) as { source?: { shape?: string } };
    try {
      if (cached.source?.shape === expected) {
        await verifyFiles(await loadManifest(dir), dir);
        return { dir, buildS: null };
      }
    } catch {
      // Stale or damaged: rebuild below.
    }
  }
  log(`building ${name} (random weights) into ${dir} (minutes)...`);
  const started = performance.now();
  const files = buildRewardModelFiles(recipe);
  mkdirSync(dir, { recursive: true });
  writeModelFiles(dir, files);
  writeFileSync(manifestFile, `${JSON.stringify(rewardModelManifest(name, recipe, files), null, 2)}\n`);
  return { dir, buildS: (performance.now() - started) / 1000 };
}

function rewardModelManifestShape(recipe: RewardRecipe): string {
  return (rewardModelManifest("probe", recipe, new Map()) as { source: { shape: string } }).source.shape;
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

async function measureOne(recipe: RewardRecipe, name: string, reps: number, log: (line: string) => void) {
  const { dir, buildS } = await ensureBenchJudge(recipe, name, log);
  const loadStarted = performance.now();
  const evaluator = await RewardModelEvaluator.load(await loadManifest(dir), dir);
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
    const at = (p: number) => Number(times[Math.min(times.length - 1, Math.floor(p * times.length))]!.toFixed(0));
    return {
      ms_per_check_256: at(0.5),
      ms_per_check_256_p95: at(0.95),
      load_s: Number(loadS.toFixed(1)),
      build_s: buildS === null ? null : Number(buildS.toFixed(0)),
      peak_rss_mb: Math.round(process.resourceUsage().maxRSS / 1024),
    };
  } finally {
    await evaluator.close();
  }
}

export async function measureJudge(reps: number, withFp32: boolean, log: (line: string) => void): Promise<JudgeFigures> {
  const int8 = await measureOne(BENCH_QWEN3_0_6B_INT8, "qwen3-0.6b-reward-int8", reps, log);
  log(`judge int8: ${JSON.stringify(int8)}`);
  const fp32 = withFp32 ? await measureOne(BENCH_QWEN3_0_6B_FP32, "qwen3-0.6b-reward-fp32", reps, log) : null;
  if (fp32) log(`judge fp32: ${JSON.stringify(fp32)}`);
  return {
    model: "generated Qwen3-0.6B-shaped reward model (RANDOM weights, Skywork-Reward-V2-Qwen3-0.6B layout), int8 per-channel 7-bit weights, per-row activations",
    params: decoderParameters(BENCH_QWEN3_0_6B_INT8.shape),
    ...int8,
    checks: reps,
    fp32,
  };
}
