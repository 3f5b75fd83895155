/**
 * `npm run bench:scorer [-- --json] [-- --quick]`
 * Speed of the cross-encoder engine on the full-size generated MiniLM-L6-H384 cross-encoder (random weights: the
 * real ms-marco-MiniLM-L-6-v2's shape and latency, meaningless scores), int8 and fp32, plus a mixed-length
 * workload against the transformers.js baseline on the same int8 file, the offline evaluator's throughput, and what one
 * check costs with a 0.6B-shaped decoder reward model at 256 tokens (scorer-judge.ts; `--skip-judge` leaves it out).
 * Prints a table; with --json, one JSON object as the last line. A benchmark, not a test: run it on a quiet machine
 * (the JSON records the load average before and after).
 */
import { existsSync } from "node:fs";
import { loadavg } from "node:os";
import path from "node:path";
import { Command } from "commander";
import { CrossEncoderEvaluator } from "../../daemon/evaluation/cross-encoder/cross-encoder-evaluator.ts";
import { defaultSessionOptions } from "../../daemon/evaluation/cross-encoder/session-options.ts";
import type { ScorePair } from "../../daemon/evaluation/evaluator.ts";
import { loadManifest } from "../../daemon/evaluation/manifest.ts";
import { ensureGeneratedModel, MODELS_ROOT, type GeneratedModelName, type GeneratedCrossEncoderName } from "../models/generated-models.ts";
import { measureCascade } from "./cascade.ts";
import { loadPerTensorReference } from "./scorer-reference.ts";
import { fixedLengthPairs, mixedLengthPairs } from "./scorer-workloads.ts";

const options = new Command()
  .option("--json", "print one JSON object as the last line")
  .option("--quick", "fewer repetitions (rough figures)")
  .option("--skip-judge", "leave out the 0.6B reward model (builds 0.6 GB on first use, seconds per check here)")
  .option("--skip-judge-fp32", "measure the 0.6B reward model in int8 only (fp32: 2.4 GB more on disk, about 6 GB of memory)")
  .parse()
  .opts<{ json?: boolean; quick?: boolean; skipJudge?: boolean; skipJudgeFp32?: boolean }>();
const REPS = options.quick ? { single: 8, batch: 2, mixed: 1, judge: 3 } : { single: 40, batch: 6, mixed: 3, judge: 7 };
const LENGTHS = [128, 256, 512] as const;
const MIXED_PAIRS = 96;
const BATCH = 16;

const log = (line: string) => process.stderr.write(`${line}\n`);
const round = (value: number, digits = 1) => Number(value.toFixed(digits));
function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}
async function timeMs(action: () => Promise<unknown>): Promise<number> {
  const started = performance.now();
  await action();
  return performance.now() - started;
}
const peakRssMb = () => round(process.resourceUsage().maxRSS / 1024, 0);

async function load(name: GeneratedCrossEncoderName): Promise<CrossEncoderEvaluator> {
  const dir = ensureGeneratedModel(name);
  return CrossEncoderEvaluator.load(await loadManifest(dir), dir);
}

interface LengthFigures { p50_ms_single: number; p95_ms_single: number; pairs_per_s_batch16: number }

async function measureLength(evaluator: CrossEncoderEvaluator, tokens: number): Promise<LengthFigures> {
  const pairs = fixedLengthPairs(tokens, BATCH, tokens);
  for (const p of pairs) {
    const length = evaluator.encoder.encode(p.prompt, p.answer).inputIds.length;
    if (length !== tokens) throw new Error(`workload pair has ${length} tokens, expected ${tokens}`);
  }
  await evaluator.score(pairs); // warm-up: first runs allocate the memory arena for this shape
  const single: number[] = [];
  for (let i = 0; i < 3 + REPS.single; i++) {
    const ms = await timeMs(() => evaluator.score([pairs[i % BATCH]!]));
    if (i >= 3) single.push(ms);
  }
  const batch: number[] = [];
  for (let i = 0; i < REPS.batch; i++) batch.push(await timeMs(() => evaluator.score(pairs)));
  return { p50_ms_single: round(percentile(single, 50), 2), p95_ms_single: round(percentile(single, 95), 2), pairs_per_s_batch16: round((BATCH * 1000) / percentile(batch, 50)) };
}

/** measureLength for several evaluators at once, alternating calls so that all see the same machine load. */
async function measureInterleaved(evaluators: readonly CrossEncoderEvaluator[], tokens: number): Promise<LengthFigures[]> {
  const pairs = fixedLengthPairs(tokens, BATCH, tokens);
  for (const evaluator of evaluators) await evaluator.score(pairs);
  const single = evaluators.map(() => [] as number[]);
  const batch = evaluators.map(() => [] as number[]);
  for (let i = 0; i < REPS.single; i++) for (const [k, e] of evaluators.entries()) single[k]!.push(await timeMs(() => e.score([pairs[i % BATCH]!])));
  for (let i = 0; i < REPS.batch; i++) for (const [k, e] of evaluators.entries()) batch[k]!.push(await timeMs(() => e.score(pairs)));
  return evaluators.map((_, k) => ({
    p50_ms_single: round(percentile(single[k]!, 50), 2),
    p95_ms_single: round(percentile(single[k]!, 95), 2),
    pairs_per_s_batch16: round((BATCH * 1000) / percentile(batch[k]!, 50)),
  }));
}

async function measureModel(name: GeneratedCrossEncoderName, afterLength?: (tokens: number) => void) {
  const evaluator = await load(name);
  const figures: Record<string, LengthFigures> = {};
  for (const tokens of LENGTHS) {
    figures[String(tokens)] = await measureLength(evaluator, tokens);
    log(`${name} ${tokens} tokens: ${JSON.stringify(figures[String(tokens)])}`);
    afterLength?.(tokens);
  }
  return { evaluator, figures };
}

/** Median pairs/s of `score` over the whole workload. */
async function throughput(pairs: readonly ScorePair[], score: (p: readonly ScorePair[]) => Promise<unknown>): Promise<number> {
  await score(pairs.slice(0, BATCH));
  const times: number[] = [];
  for (let i = 0; i < REPS.mixed; i++) times.push(await timeMs(() => score(pairs)));
  return round((pairs.length * 1000) / percentile(times, 50));
}

async function offlineThroughput(): Promise<{ evaluator: string; pairs_per_s: number | null; note?: string }> {
  const dir = path.join(MODELS_ROOT, "use-lite");
  if (!existsSync(path.join(dir, "manifest.json"))) return { evaluator: "use-lite", pairs_per_s: null, note: "models/use-lite is absent" };
  try {
    const { createEvaluator } = await import("../../daemon/evaluation/factory.ts");
    const evaluator = await createEvaluator(dir);
    const pairs = mixedLengthPairs(32, 7);
    const pairsPerS = await throughput(pairs, (p) => evaluator.score(p));
    await evaluator.close();
    return { evaluator: evaluator.name, pairs_per_s: pairsPerS };
  } catch (error) {
    return { evaluator: "use-lite", pairs_per_s: null, note: `could not run: ${(error as Error).message}` };
  }
}

const loadBefore = loadavg().map((l) => round(l, 2));
let rssMb = 0;
const int8 = await measureModel("generated-minilm-l6-int8", (tokens) => {
  if (tokens === 256) rssMb = peakRssMb(); // peak resident memory up to and including 256 tokens x 16
});

// In-run reference: the same model quantized per tensor (quantize_dynamic's form, run one pair at a time), timed
// interleaved with ours at 128 tokens so both see the same machine load.
const reference = await loadPerTensorReference();
const [oursInterleaved, referenceFigures] = await measureInterleaved([int8.evaluator, reference.evaluator], 128);
log(`128 tokens interleaved: ours ${JSON.stringify(oursInterleaved)}, per-tensor reference ${JSON.stringify(referenceFigures)}`);
await reference.dispose();

// Mixed-length workload, same int8 file and pairs: our engine (whole backlog, and requests of 16) vs transformers.js.
const mixed = mixedLengthPairs(MIXED_PAIRS, 42);
const ours = await throughput(mixed, (p) => int8.evaluator.score(p));
const oursPer16 = await throughput(mixed, async (p) => {
  for (let i = 0; i < p.length; i += BATCH) await int8.evaluator.score(p.slice(i, i + BATCH));
});
const ourLogits = (await int8.evaluator.score(mixed)).map((r) => r.raw[0]!);
// Batch invariance on the same pairs: the whole backlog (bucketed, padded batches) vs every pair alone.
let differingLogits = 0;
for (const [i, pair] of mixed.entries()) if ((await int8.evaluator.score([pair]))[0]!.raw[0] !== ourLogits[i]) differingLogits++;
await int8.evaluator.close();
// Imported only now: transformers.js alone adds about 145 MB of resident memory, which rss_mb must not count.
const { loadBaseline } = await import("./scorer-baseline.ts");
const baseline = await loadBaseline(ensureGeneratedModel("generated-minilm-l6-int8"), true);
const baselinePairsPerS = await throughput(mixed, (p) => baseline.score(p, BATCH));
const baselineLogits = await baseline.score(mixed, BATCH);
await baseline.close();
const logitGap = Math.max(...ourLogits.map((v, i) => Math.abs(v - baselineLogits[i]!)));
log(`mixed: ours ${ours} pairs/s (requests of 16: ${oursPer16}), baseline ${baselinePairsPerS} pairs/s, max logit gap ${logitGap.toExponential(2)}`);

const fp32 = await measureModel("generated-minilm-l6-fp32");
// int8 drift on the mixed workload: logit gap, and how often the two agree on which of two answers is better.
const fp32Logits = (await fp32.evaluator.score(mixed)).map((r) => r.raw[0]!);
await fp32.evaluator.close();
const drift = ourLogits.map((v, i) => Math.abs(v - fp32Logits[i]!));
let agree = 0;
let compared = 0;
for (let i = 0; i < mixed.length; i++) {
  for (let j = i + 1; j < mixed.length; j++) {
    compared++;
    if (Math.sign(ourLogits[i]! - ourLogits[j]!) === Math.sign(fp32Logits[i]! - fp32Logits[j]!)) agree++;
  }
}
const offline = await offlineThroughput();
const cascade = await measureCascade(options.quick ? 16 : 64);
// Last, so its 0.6 GB model and arena do not weigh on the figures above.
const { measureJudge } = await import("./scorer-judge.ts");
const judge = options.skipJudge ? null : await measureJudge(REPS.judge, !options.skipJudgeFp32, log);
if (judge) log(`judge: ${JSON.stringify(judge)}`);

const { executionProviders: _providers, ...sessionOptions } = defaultSessionOptions();
const report = {
  model: "generated MiniLM-L6-H384 cross-encoder (random weights, ms-marco-MiniLM-L-6-v2 shape)",
  int8: int8.figures,
  fp32: fp32.figures,
  rss_mb: rssMb,
  mixed_pairs_per_s: ours,
  mixed_pairs_per_s_requests_of_16: oursPer16,
  baseline_pairs_per_s_batch16: baselinePairsPerS,
  mixed_vs_baseline: round(ours / baselinePairsPerS, 2),
  baseline_max_logit_gap: Number(logitGap.toExponential(2)),
  int8_vs_per_tensor_reference_128: {
    ours: oursInterleaved,
    reference: referenceFigures,
    single_speedup: round(referenceFigures.p50_ms_single / oursInterleaved.p50_ms_single, 2),
    batch16_speedup: round(oursInterleaved.pairs_per_s_batch16 / referenceFigures.pairs_per_s_batch16, 2),
  },
  int8_max_batch_size: int8.evaluator.limits.maxBatchSize,
  int8_batch_invariance: { pairs: mixed.length, logits_differing_from_single_pair_runs: differingLogits },
  int8_vs_fp32: { max_logit_drift: round(Math.max(...drift), 4), mean_logit_drift: round(drift.reduce((a, b) => a + b, 0) / drift.length, 4), pairwise_order_agreement: round(agree / compared, 3) },
  offline: offline,
  cascade,
  judge: judge && { ...judge, baseline_minilm_int8_ms_256: int8.figures["256"]!.p50_ms_single, vs_baseline: round(judge.ms_per_check_256 / int8.figures["256"]!.p50_ms_single, 0) },
  session_options: sessionOptions,
  load_average_before: loadBefore,
  load_average_after: loadavg().map((l) => round(l, 2)),
  quick: Boolean(options.quick),
};

const table = [
  "| model | tokens | p50 single (ms) | p95 single (ms) | pairs/s (batch 16) |",
  "|---|---|---|---|---|",
  ...(["int8", "fp32"] as const).flatMap((variant) => LENGTHS.map((t) => {
    const f = report[variant][String(t)]!;
    return `| ${variant} | ${t} | ${f.p50_ms_single} | ${f.p95_ms_single} | ${f.pairs_per_s_batch16} |`;
  })),
  "",
  `int8 128 tokens, interleaved with the per-tensor (quantize_dynamic-style, one pair at a time) int8 of the same model:`,
  `  single p50 ${oursInterleaved.p50_ms_single} vs ${referenceFigures.p50_ms_single} ms (${report.int8_vs_per_tensor_reference_128.single_speedup}x), 16 pairs ${oursInterleaved.pairs_per_s_batch16} vs ${referenceFigures.pairs_per_s_batch16} pairs/s (${report.int8_vs_per_tensor_reference_128.batch16_speedup}x)`,
  `peak RSS up to int8 256 tokens x 16: ${rssMb} MB`,
  `mixed-length workload (${MIXED_PAIRS} pairs, prompts 10-60 / answers 20-400 tokens), int8:`,
  `  ours, whole backlog      ${ours} pairs/s  (${report.mixed_vs_baseline}x baseline)`,
  `  ours, requests of 16     ${oursPer16} pairs/s  (${round(oursPer16 / baselinePairsPerS, 2)}x baseline)`,
  `  transformers.js baseline ${baselinePairsPerS} pairs/s  (same file and pairs; max logit gap ${report.baseline_max_logit_gap})`,
  `int8 batch invariance: ${differingLogits} of ${mixed.length} logits differ between the batched backlog and single-pair runs`,
  `int8 vs fp32 on the mixed pairs: max logit drift ${report.int8_vs_fp32.max_logit_drift}, mean ${report.int8_vs_fp32.mean_logit_drift}, pairwise order agreement ${report.int8_vs_fp32.pairwise_order_agreement}`,
  `offline evaluator (${offline.evaluator}): ${offline.pairs_per_s ?? `n/a (${offline.note})`} pairs/s`,
  `cascade (${cascade.evaluator}, ${cascade.pairs} shared-data pairs): ${cascade.note ?? `escalated ${cascade.escalated_share}, ${cascade.ms_per_check} ms per check vs judge alone ${cascade.judge_alone_ms_per_check} ms (${cascade.cost_vs_judge_alone}x), first stage alone ${cascade.first_stage_ms_per_check} ms`}`,
  report.judge
    ? `0.6B reward model judge (random weights), one check of 256 tokens, int8: p50 ${report.judge.ms_per_check_256} ms, p95 ${report.judge.ms_per_check_256_p95} ms over ${report.judge.checks} checks (${report.judge.vs_baseline}x the MiniLM int8 cross-encoder's ${report.judge.baseline_minilm_int8_ms_256} ms; the paper's bar: under 1,000 ms); load ${report.judge.load_s} s; fp32: ${report.judge.fp32 ? `p50 ${report.judge.fp32.ms_per_check_256} ms, p95 ${report.judge.fp32.ms_per_check_256_p95} ms, load ${report.judge.fp32.load_s} s` : "skipped"}; peak RSS ${report.judge.fp32?.peak_rss_mb ?? report.judge.peak_rss_mb} MB`
    : "0.6B reward model judge: skipped (--skip-judge)",
  `load average before ${loadBefore.join(" ")}, after ${report.load_average_after.join(" ")} (2 cores)`,
];
console.log(table.join("\n"));
if (options.json) console.log(JSON.stringify(report));
