/**
 * Measures an evaluator on human-judged pairwise data, beside its baselines:
 * `npm run eval:evaluator -- --evaluator <name> [--data file.jsonl ...] [--limit N] [--json] [--datasets DIR]`.
 *
 * Data: the shared hh-rlhf splits (`../shared/datasets/hh-rlhf/<split>/test.jsonl.gz` next to the repository, never
 * committed here; skipped with a message when absent) and every `--data` file (JSON lines of { prompt, chosen,
 * rejected }, gzip when the name ends in .gz). For each data set it reports, on the same records:
 * - `evaluator`: pairwise accuracy of the evaluator (a tie counts half; ties also reported) with a 95% interval;
 * - `random_control`: the same for a random-weights network of the same kind (scripts/eval/random-control.ts);
 * - `length_baseline`: the same for "the longer answer wins";
 * - paired differences evaluator minus each baseline, with their intervals (scripts/eval/statistics.ts);
 * - for composites and cascades, the inner model's or first stage's accuracy, the cascade's escalated share, and
 *   each cheap check's firing rate on the preferred answers (`check_false_positive_rate`) and on the others.
 * `--limit N` (default 200) takes N records evenly spaced through each data set; 0 takes all.
 */
import { existsSync, readdirSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { Command } from "commander";
import type { Evaluator, ScorePair, ScoreResult } from "../daemon/evaluation/evaluator.ts";
import { createEvaluator } from "../daemon/evaluation/factory.ts";
import { checkRates, checkThresholdsOf } from "./eval/check-rates.ts";
import { evenlySpaced, readDataset, sharedDatasetFiles, type Dataset, type PreferenceRecord } from "./eval/datasets.ts";
import { loadRandomControl } from "./eval/random-control.ts";
import { accuracyFigure, bootstrapSamples, differenceFigure, outcome, round, type Outcome } from "./eval/statistics.ts";

const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const DEFAULT_DATASETS = path.join(REPO_ROOT, "..", "shared", "datasets");
/** Records per data set by default: a few minutes for use-lite and its control over both hh-rlhf splits. */
const DEFAULT_LIMIT = 200;
/** Records scored per evaluator call (two pairs each). */
const RECORDS_PER_CALL = 16;

const METHOD = {
  accuracy: "(wins + ties / 2) / n: a tie counts half a win; ties are also reported apart",
  ci95: "percentile bootstrap over records, 2000 resamples, seeded (reproducible); differences use paired resamples",
  length_baseline: "the answer with more UTF-16 code units wins; equal lengths tie",
  random_control: "a network of the same kind and shape whose weights learned nothing (see random_control_how)",
  check_false_positive_rate: "share of the human-preferred answers on which a check fires (soft or hard), over every usable record of the data set",
};

const program = new Command()
  .name("eval:evaluator")
  .requiredOption("--evaluator <name>", "model folder name under models/ (e.g. use-lite, use-lite-checked) or a path to one")
  .option("--data <file>", "pairwise JSONL of { prompt, chosen, rejected } (repeatable)", (file: string, files: string[]) => [...files, file], [] as string[])
  .option("--limit <n>", `records per data set, evenly spaced (default ${DEFAULT_LIMIT}; 0 = all)`, String(DEFAULT_LIMIT))
  .option("--datasets <dir>", "shared datasets folder (default: ../shared/datasets next to the repository)")
  .option("--json", "print one JSON object as the last line")
  .parse();
const options = program.opts<{ evaluator: string; data: string[]; limit: string; datasets?: string; json?: boolean }>();

const fail = (message: string): never => {
  console.error(message);
  process.exit(2);
};
const limit = Number(options.limit);
if (!Number.isInteger(limit) || limit < 0) fail(`--limit must be a non-negative integer, got ${options.limit}`);
const evaluatorDir = options.evaluator.includes("/") || options.evaluator.includes(path.sep) ? path.resolve(options.evaluator) : path.join(REPO_ROOT, "models", options.evaluator);
if (!existsSync(path.join(evaluatorDir, "manifest.json"))) {
  const available = readdirSync(path.join(REPO_ROOT, "models")).filter((d) => existsSync(path.join(REPO_ROOT, "models", d, "manifest.json")));
  fail(`no manifest.json in ${evaluatorDir}; evaluators with a manifest: ${available.join(", ")}`);
}
for (const file of options.data) if (!existsSync(file)) fail(`--data ${file}: no such file`);

const datasetsDir = options.datasets ? path.resolve(options.datasets) : DEFAULT_DATASETS;
const sources = [
  ...sharedDatasetFiles(datasetsDir),
  ...options.data.map((file) => ({ name: path.basename(file).replace(/\.jsonl(\.gz)?$/, ""), file: path.resolve(file), format: "pairwise" as const })),
];
if (sources.length === 0) {
  const message = `skipped: no hh-rlhf data under ${datasetsDir} (expected hh-rlhf/<split>/test.jsonl.gz; see ../shared/datasets/README.md) and no --data file`;
  console.log(options.json ? JSON.stringify({ evaluator: options.evaluator, skipped: message }) : message);
  process.exit(0);
}

const evaluator = await createEvaluator(evaluatorDir);
const control = await loadRandomControl(evaluatorDir);
const thresholds = await checkThresholdsOf(evaluatorDir);
const datasets: Record<string, unknown> = {};
try {
  for (const source of sources) {
    const dataset = await readDataset(source.name, source.file, source.format);
    datasets[source.name] = await measure(dataset);
    if (!options.json) printReport(source.name, datasets[source.name] as Report);
  }
} finally {
  await evaluator.close();
  await control.evaluator?.close();
}
const summary = { evaluator: evaluator.name, id: evaluator.id, random_control_how: control.how, limit_per_dataset: limit, method: METHOD, datasets };
console.log(options.json ? JSON.stringify(summary) : `evaluator ${evaluator.name} (${evaluator.id}); random control: ${control.how}`);

type Report = Awaited<ReturnType<typeof measure>>;

async function measure(dataset: Dataset) {
  const records = evenlySpaced(dataset.records, limit);
  const started = performance.now();
  const results = await scoreRecords(evaluator, records);
  const seconds = (performance.now() - started) / 1000;
  const controlResults = control.evaluator ? await scoreRecords(control.evaluator, records) : undefined;
  const samples = bootstrapSamples(records.length);
  const outcomes = (scores: [ScoreResult, ScoreResult][], pick: (r: ScoreResult) => number) => scores.map(([c, r]) => outcome(pick(c), pick(r)));
  const mine = outcomes(results, (r) => r.score);
  const length: Outcome[] = records.map((r) => outcome(r.chosen.length, r.rejected.length));
  const random = controlResults && outcomes(controlResults, (r) => r.score);
  // Composites report their inner model's score, cascades their first stage's: the gain of the rule is read here.
  const stage = (key: string) => (results.length > 0 && results.every(([c, r]) => c.detail?.[key] !== undefined && r.detail?.[key] !== undefined) ? outcomes(results, (r) => Number(r.detail![key])) : undefined);
  const first = stage("first_score");
  const inner = first ? undefined : stage("model_score"); // a cascade passes its first stage's detail through

  const escalated = results.flat().filter((r) => r.detail?.escalated === true).length;
  return {
    n: records.length,
    records_in_file: dataset.recordsInFile,
    skipped: dataset.skipped,
    evaluator: accuracyFigure(mine, samples),
    random_control: random ? accuracyFigure(random, samples) : null,
    length_baseline: accuracyFigure(length, samples),
    evaluator_minus_random_control: random ? differenceFigure(mine, random, samples) : null,
    evaluator_minus_length_baseline: differenceFigure(mine, length, samples),
    ...(inner && { inner_model: accuracyFigure(inner, samples), evaluator_minus_inner_model: differenceFigure(mine, inner, samples) }),
    ...(first && { first_stage: accuracyFigure(first, samples), escalated_share: round(escalated / (2 * records.length)) }),
    ...(thresholds && checkRates(dataset.records, thresholds)),
    time_s: round(seconds, 1),
    pairs_per_s: round(seconds === 0 ? 0 : (2 * records.length) / seconds, 1),
  };
}

/** [preferred, other] results per record, scored in calls of RECORDS_PER_CALL records. */
async function scoreRecords(scorer: Evaluator, records: readonly PreferenceRecord[]): Promise<[ScoreResult, ScoreResult][]> {
  const out: [ScoreResult, ScoreResult][] = [];
  for (let i = 0; i < records.length; i += RECORDS_PER_CALL) {
    const chunk = records.slice(i, i + RECORDS_PER_CALL);
    const pairs: ScorePair[] = chunk.flatMap((r) => [{ prompt: r.prompt, answer: r.chosen }, { prompt: r.prompt, answer: r.rejected }]);
    const results = await scorer.score(pairs);
    for (let j = 0; j < chunk.length; j++) out.push([results[2 * j]!, results[2 * j + 1]!]);
  }
  return out;
}

function printReport(name: string, r: Report): void {
  const figure = (label: string, f: { accuracy: number; ties: number; ci95: [number, number] } | null | undefined) =>
    f ? `  ${label.padEnd(16)} ${f.accuracy.toFixed(3)} [${f.ci95[0].toFixed(3)}, ${f.ci95[1].toFixed(3)}] ties ${f.ties}` : `  ${label.padEnd(16)} n/a`;
  const lines = [
    `${name}: n=${r.n} (of ${r.records_in_file - r.skipped} usable; ${r.skipped} skipped) ${r.time_s}s ${r.pairs_per_s} pairs/s`,
    figure("evaluator", r.evaluator),
    figure("random control", r.random_control),
    figure("length baseline", r.length_baseline),
  ];
  if ("inner_model" in r) lines.push(figure("inner model", r.inner_model));
  if ("first_stage" in r) lines.push(figure("first stage", r.first_stage), `  escalated share  ${r.escalated_share}`);
  if (r.check_false_positive_rate) {
    const rates = Object.entries(r.check_false_positive_rate).map(([c, v]) => `${c} ${(100 * v).toFixed(2)}%`).join(", ");
    lines.push(`  checks firing on preferred answers (n=${r.check_false_positive_n}): ${rates}`);
  }
  console.log(lines.join("\n"));
}
