/**
 * Measures an evaluator on human-judged data: `npm run eval:evaluator -- --evaluator <name> [--limit N] [--json]`.
 *
 * Data: `../shared/datasets/hh-rlhf/<split>/test.jsonl.gz` next to the repository (never committed here).
 * Each record is one dialogue with two final assistant replies, one preferred by a crowdworker. The prompt given
 * to the evaluator is the shared dialogue up to the final "Assistant:" turn; the answers are the two replies.
 * Pairwise accuracy = share of records whose preferred reply gets the strictly higher integer score; ties are
 * counted separately. hh-rlhf has no ratings, so no Pearson/Spearman figures exist for it.
 *
 * The sample is deterministic: `--limit N` takes N records evenly spaced through each file.
 */
import { existsSync, readdirSync } from "node:fs";
import path from "node:path";
import { createInterface } from "node:readline";
import { createReadStream } from "node:fs";
import { createGunzip } from "node:zlib";
import { fileURLToPath } from "node:url";
import { Command } from "commander";
import type { ScorePair } from "../daemon/evaluation/evaluator.ts";
import { createEvaluator } from "../daemon/evaluation/factory.ts";

const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const DEFAULT_DATASETS = path.join(REPO_ROOT, "..", "shared", "datasets");
/** Records per dataset by default: 2-3 minutes for use-lite over both hh-rlhf splits on a busy 2-core machine. */
const DEFAULT_LIMIT = 200;
/** Records scored per evaluator call (two pairs each). */
const RECORDS_PER_CALL = 16;
const FINAL_TURN = "\n\nAssistant:";

interface PreferenceRecord {
  prompt: string;
  preferred: string;
  other: string;
}

interface DatasetReport {
  n: number;
  wins: number;
  losses: number;
  ties: number;
  pairwise_accuracy: number;
  accuracy_excluding_ties: number | null;
  skipped: number;
  records_in_file: number;
  time_s: number;
  pairs_per_s: number;
  pearson: null;
  spearman: null;
  correlation_note: string;
}

const program = new Command()
  .name("eval:evaluator")
  .requiredOption("--evaluator <name>", "model folder name under models/ (e.g. use-lite, use-lite-checked) or a path to one")
  .option("--limit <n>", `records per dataset, evenly spaced (default ${DEFAULT_LIMIT}; 0 = all)`, String(DEFAULT_LIMIT))
  .option("--datasets <dir>", "datasets folder (default: ../shared/datasets next to the repository)")
  .option("--json", "print one JSON object as the last line")
  .parse();
const options = program.opts<{ evaluator: string; limit: string; datasets?: string; json?: boolean }>();

const limit = Number(options.limit);
if (!Number.isInteger(limit) || limit < 0) {
  console.error(`--limit must be a non-negative integer, got ${options.limit}`);
  process.exit(2);
}
const evaluatorDir = options.evaluator.includes("/") || options.evaluator.includes(path.sep) ? path.resolve(options.evaluator) : path.join(REPO_ROOT, "models", options.evaluator);
if (!existsSync(path.join(evaluatorDir, "manifest.json"))) {
  const available = readdirSync(path.join(REPO_ROOT, "models")).filter((d) => existsSync(path.join(REPO_ROOT, "models", d, "manifest.json")));
  console.error(`no manifest.json in ${evaluatorDir}; evaluators with a manifest: ${available.join(", ")}`);
  process.exit(2);
}

const datasetsDir = options.datasets ? path.resolve(options.datasets) : DEFAULT_DATASETS;
const hhDir = path.join(datasetsDir, "hh-rlhf");
const splits = existsSync(hhDir) ? readdirSync(hhDir).filter((d) => existsSync(path.join(hhDir, d, "test.jsonl.gz"))).sort() : [];
if (splits.length === 0) {
  const message = `skipped: no hh-rlhf data under ${datasetsDir} (expected hh-rlhf/<split>/test.jsonl.gz; see ../shared/datasets/README.md)`;
  console.log(options.json ? JSON.stringify({ evaluator: options.evaluator, skipped: message }) : message);
  process.exit(0);
}

const evaluator = await createEvaluator(evaluatorDir);
const datasets: Record<string, DatasetReport> = {};
try {
  for (const split of splits) {
    const { records, total, skipped } = await readRecords(path.join(hhDir, split, "test.jsonl.gz"), limit);
    const report = await measure(records);
    datasets[`hh-rlhf/${split}`] = { ...report, skipped, records_in_file: total };
    if (!options.json) printReport(`hh-rlhf/${split}`, datasets[`hh-rlhf/${split}`]!);
  }
} finally {
  await evaluator.close();
}
const summary = { evaluator: evaluator.name, id: evaluator.id, limit_per_dataset: limit, datasets };
console.log(options.json ? JSON.stringify(summary) : `evaluator ${evaluator.name} (${evaluator.id})`);

async function measure(records: PreferenceRecord[]): Promise<Omit<DatasetReport, "skipped" | "records_in_file">> {
  let wins = 0;
  let losses = 0;
  let ties = 0;
  const started = performance.now();
  for (let i = 0; i < records.length; i += RECORDS_PER_CALL) {
    const chunk = records.slice(i, i + RECORDS_PER_CALL);
    const pairs: ScorePair[] = chunk.flatMap((r) => [
      { prompt: r.prompt, answer: r.preferred },
      { prompt: r.prompt, answer: r.other },
    ]);
    const results = await evaluator.score(pairs);
    for (let j = 0; j < chunk.length; j++) {
      const [preferred, other] = [results[2 * j]!.score, results[2 * j + 1]!.score];
      if (preferred > other) wins++;
      else if (preferred < other) losses++;
      else ties++;
    }
  }
  const seconds = (performance.now() - started) / 1000;
  const n = records.length;
  return {
    n,
    wins,
    losses,
    ties,
    pairwise_accuracy: round(n === 0 ? 0 : wins / n),
    accuracy_excluding_ties: wins + losses === 0 ? null : round(wins / (wins + losses)),
    time_s: round(seconds, 1),
    pairs_per_s: round(seconds === 0 ? 0 : (2 * n) / seconds, 1),
    pearson: null,
    spearman: null,
    correlation_note: "hh-rlhf has preference pairs only, no ratings: correlations do not apply",
  };
}

/** Reads the file, keeps records whose two dialogues share everything but the final reply, then samples. */
async function readRecords(file: string, wanted: number): Promise<{ records: PreferenceRecord[]; total: number; skipped: number }> {
  const all: PreferenceRecord[] = [];
  let total = 0;
  let skipped = 0;
  const lines = createInterface({ input: createReadStream(file).pipe(createGunzip()), crlfDelay: Infinity });
  for await (const line of lines) {
    if (line.trim() === "") continue;
    total++;
    const record = toPreferenceRecord(line);
    if (record === undefined) skipped++;
    else all.push(record);
  }
  if (wanted === 0 || wanted >= all.length) return { records: all, total, skipped };
  const records = Array.from({ length: wanted }, (_, i) => all[Math.floor((i * all.length) / wanted)]!);
  return { records, total, skipped };
}

/** undefined for records the comparison cannot use: unparsable, different dialogue prefixes, identical replies. */
function toPreferenceRecord(line: string): PreferenceRecord | undefined {
  let parsed: { chosen?: unknown; rejected?: unknown };
  try {
    parsed = JSON.parse(line);
  } catch {
    return undefined;
  }
  if (typeof parsed.chosen !== "string" || typeof parsed.rejected !== "string") return undefined;
  const split = (text: string) => {
    const at = text.lastIndexOf(FINAL_TURN);
    return at < 0 ? undefined : { prompt: text.slice(0, at).trim(), reply: text.slice(at + FINAL_TURN.length).trim() };
  };
  const chosen = split(parsed.chosen);
  const rejected = split(parsed.rejected);
  if (!chosen || !rejected || chosen.prompt !== rejected.prompt || chosen.reply === rejected.reply) return undefined;
  return { prompt: chosen.prompt, preferred: chosen.reply, other: rejected.reply };
}

function printReport(name: string, r: DatasetReport): void {
  console.log(
    `${name}: n=${r.n} accuracy=${r.pairwise_accuracy} (wins ${r.wins}, losses ${r.losses}, ties ${r.ties}; ` +
      `excluding ties ${r.accuracy_excluding_ties}) skipped=${r.skipped}/${r.records_in_file} time=${r.time_s}s ${r.pairs_per_s} pairs/s`,
  );
}

function round(value: number, decimals = 4): number {
  const factor = 10 ** decimals;
  return Math.round(value * factor) / factor;
}
