/**
 * What the cascade costs per check on the shared human-judged data: `measureCascade()` (bench:scorer's `cascade`
 * figures) or `npx tsx scripts/bench/cascade.ts [--json] [--records N]` alone.
 *
 * Runs models/use-lite-checked-cascade (use-lite-checked first, the MiniLM-L6-shaped int8 judge on the pairs in the
 * band) on N records evenly spaced through each hh-rlhf split, both answers of each, in calls of 32 pairs, and
 * times the same pairs through the judge alone (what checking every pair with the judge costs: the baseline the
 * saving is read against) and through the first stage alone. The judge has random weights: its latency is the real
 * model's, and the escalated share depends only on the first stage, so both figures are real; its scores are not.
 */
import { existsSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { CascadeEvaluator } from "../../daemon/evaluation/cascade.ts";
import type { Evaluator, ScorePair } from "../../daemon/evaluation/evaluator.ts";
import { createEvaluator } from "../../daemon/evaluation/factory.ts";
import { evenlySpaced, readDataset, sharedDatasetFiles } from "../eval/datasets.ts";
import { ensureGeneratedModel, MODELS_ROOT } from "../models/generated-models.ts";

const DATASETS = path.join(MODELS_ROOT, "..", "..", "shared", "datasets");
const CASCADE = path.join(MODELS_ROOT, "use-lite-checked-cascade");
const PAIRS_PER_CALL = 32;

export interface CascadeFigures {
  evaluator: string;
  pairs: number;
  escalated_share: number | null;
  ms_per_check: number | null;
  first_stage_ms_per_check: number | null;
  judge_alone_ms_per_check: number | null;
  cost_vs_judge_alone: number | null;
  note?: string;
}

export async function measureCascade(recordsPerSplit = 64, datasetsDir = DATASETS): Promise<CascadeFigures> {
  const empty = (note: string): CascadeFigures => ({ evaluator: "use-lite-checked-cascade", pairs: 0, escalated_share: null, ms_per_check: null, first_stage_ms_per_check: null, judge_alone_ms_per_check: null, cost_vs_judge_alone: null, note });
  const files = sharedDatasetFiles(datasetsDir);
  if (files.length === 0) return empty(`no shared data under ${datasetsDir}`);
  const pairs: ScorePair[] = [];
  for (const { name, file, format } of files) {
    for (const r of evenlySpaced((await readDataset(name, file, format)).records, recordsPerSplit)) {
      pairs.push({ prompt: r.prompt, answer: r.chosen }, { prompt: r.prompt, answer: r.rejected });
    }
  }
  ensureGeneratedModel("generated-minilm-l6-int8");
  const cascade = await createEvaluator(CASCADE);
  if (!(cascade instanceof CascadeEvaluator)) throw new Error(`${CASCADE} is not a cascade`);
  try {
    await cascade.score(pairs.slice(0, 8)); // warm-up: session arenas, TF.js kernels
    const timed = async (evaluator: Evaluator) => {
      const started = performance.now();
      const results = [];
      for (let i = 0; i < pairs.length; i += PAIRS_PER_CALL) results.push(...(await evaluator.score(pairs.slice(i, i + PAIRS_PER_CALL))));
      return { msPerCheck: (performance.now() - started) / pairs.length, results };
    };
    const whole = await timed(cascade);
    const first = await timed(cascade.first);
    const judge = await timed(cascade.judge);
    const escalated = whole.results.filter((r) => r.detail?.escalated === true).length;
    return {
      evaluator: cascade.name,
      pairs: pairs.length,
      escalated_share: round(escalated / pairs.length, 3),
      ms_per_check: round(whole.msPerCheck, 2),
      first_stage_ms_per_check: round(first.msPerCheck, 2),
      judge_alone_ms_per_check: round(judge.msPerCheck, 2),
      cost_vs_judge_alone: round(whole.msPerCheck / judge.msPerCheck, 3),
    };
  } finally {
    await cascade.close();
  }
}

const round = (value: number, digits: number) => Number(value.toFixed(digits));

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const at = process.argv.indexOf("--records");
  const records = at > 0 ? Number(process.argv[at + 1]) : 64;
  if (!Number.isInteger(records) || records <= 0) {
    console.error(`--records must be a positive integer, got ${process.argv[at + 1]}`);
    process.exit(2);
  }
  if (!existsSync(CASCADE)) throw new Error(`${CASCADE} is missing`);
  const figures = await measureCascade(records);
  console.log(process.argv.includes("--json") ? JSON.stringify(figures) : Object.entries(figures).map(([k, v]) => `${k}: ${v}`).join("\n"));
}
