// Gas benchmark of the protocol (not a test): `npm run bench:gas -- [--json] [--update-docs]`.
// Prints a table, the ratio of each figure to the committed one in docs/BENCHMARKS.md, and with --json one JSON
// object as the last line. --update-docs rewrites the gas section of docs/BENCHMARKS.md with the new figures.
// Targets (issue 2): commit <= 50k, reveal <= 60k, finalize with k = 5 <= 200k, committee draw O(k log n);
// (issue 11): a task with k = 5 as the daemons send it <= 500k gas and <= 6 blocks, createTask's estimate exact.
// commit, reveal and finalize are the per-member fallback calls (docs/design/ROUNDS.md); the daemons send a round
// as the aggregator's two reports (perTask.*.daemonPattern); perTask.*.daemonPatternFallback is the same task with
// every member alone, measured in the same run; `rounds` (scripts/bench/gas-rounds.ts, k = 5) adds the reports of
// several tasks in one RelayBatcher.relayEach, each report's calldata share and the views' delegation.
import { readFileSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { benchChain, claimAll, commitReportOf, runDirectTask, taskToCommittee } from "./gas-scenarios.ts";
import { measureRounds } from "./gas-rounds.ts";
import { claimScenario, COMMITTEE_SIZES, measureEstimateExact, measurePerTask, type CommitteeSize, type EstimateExactFigures, type PerTaskFigures, type PerTaskParts } from "./gas-per-task.ts";

export interface GasFigures {
  commit: number;
  reveal: number;
  /** (one commitReport of 5 seats - one of 1 seat) / 4: the marginal gas of a seat in a commit report. */
  commitReportPerItem: number;
  finalize: Record<"3" | "5" | "7" | "15", number>;
  lifecycle: Record<"5", number>;
  /** k = 5 when every payee claimed since its last task (credit slots written from zero). */
  finalizeCold: Record<"5", number>;
  lifecycleCold: Record<"5", number>;
  drawCommittee: Record<"100" | "1000", number>;
  /** One task as the shipped daemons and SDK send it, by committee size (issue 11; gas-per-task.ts). */
  perTask: Record<CommitteeSize, PerTaskFigures>;
  perTaskParts: Record<CommitteeSize, PerTaskParts>;
  /** The assumptions behind daemonPattern's claim amortization (daemon config defaults + gas price, fee, rate). */
  perTaskClaimScenario: ReturnType<typeof claimScenario>;
  /** k = 32 against a 30M-gas block: the whole task, and its largest single transaction. */
  perTaskK32BlockFraction: { daemonPattern: number; largestTransaction: number };
  createTaskEstimateExact: EstimateExactFigures;
  /** k = 5, from gas-rounds.ts: the two reports of `tasks` tasks sent as two RelayBatcher.relayEach transactions,
   * per task, against both sent alone (`alone`); the calldata of each report sent alone; paramsAt(0) through the
   * market's delegating fallback against on the TaskViews module. */
  rounds: {
    batched: { tasks: number; commitReportPerTask: number; revealReportPerTask: number; reportsPerTask: number; alone: number };
    reportsCalldata: { commitReport: number; revealReport: number };
    viewDelegation: { throughMarket: number; onModule: number; overhead: number };
  };
}

const BLOCK_GAS = 30_000_000;

const ESTIMATE_TRIES = 100;
const TARGETS: ({ path: string } & ({ max: number } | { min: number }))[] = [
  { path: "commit", max: 50_000 },
  { path: "reveal", max: 60_000 },
  { path: "finalize.5", max: 200_000 },
  // issue 11
  { path: "perTask.5.daemonPattern", max: 500_000 },
  { path: "perTask.5.blocksAnswerToFinalized", max: 6 },
  { path: "createTaskEstimateExact.succeeded", min: ESTIMATE_TRIES },
];
const DOCS = fileURLToPath(new URL("../../docs/BENCHMARKS.md", import.meta.url));
const BEGIN = "<!-- gas:begin (written by npm run bench:gas -- --update-docs) -->";
const END = "<!-- gas:end -->";

const num = (v: bigint) => Number(v);
const max = (values: bigint[]) => values.reduce((a, b) => (a > b ? a : b));

async function measure(log: (line: string) => void): Promise<GasFigures> {
  const finalize = {} as GasFigures["finalize"];
  let commit = 0;
  let reveal = 0;
  let lifecycle = 0;
  let perItem = 0;
  let finalizeCold = 0;
  let lifecycleCold = 0;
  for (const k of [3, 5, 7, 15] as const) {
    log(`committee k=${k}: ${k} validators, warm-up task, measured task`);
    // Windows wide enough for k one-transaction-per-block commits (automine) in each phase.
    const env = await benchChain(k, { committeeSize: k, commitWindow: 40, revealWindow: 40 });
    await runDirectTask(env); // warm-up: every account gets paid once, so credits below are non-zero -> non-zero
    const task = await runDirectTask(env);
    finalize[String(k) as keyof GasFigures["finalize"]] = num(task.finalize);
    if (k === 5) {
      commit = num(max(task.commits));
      reveal = num(max(task.reveals));
      const sum = (t: typeof task) =>
        num([...t.commits, ...t.reveals].reduce((a, b) => a + b, t.create + t.answer + t.draw + t.finalize));
      lifecycle = sum(task);
      await claimAll(env);
      const cold = await runDirectTask(env);
      finalizeCold = num(cold.finalize);
      lifecycleCold = sum(cold);
      await commitReportOf(env, 5); // warm-up: the same code paths and accounts as the measured reports
      const one = await commitReportOf(env, 1);
      const five = await commitReportOf(env, 5);
      perItem = num((five - one) / 4n);
    }
    await env.close();
  }
  const drawCommittee = {} as GasFigures["drawCommittee"];
  for (const n of [100, 1000] as const) {
    log(`committee draw: staking ${n} validators (takes a while)`);
    const env = await benchChain(n, { committeeSize: 5 });
    await taskToCommittee(env); // warm-up
    drawCommittee[String(n) as keyof GasFigures["drawCommittee"]] = num((await taskToCommittee(env)).gas.draw);
    await env.close();
  }
  const perTask = {} as GasFigures["perTask"];
  const perTaskParts = {} as GasFigures["perTaskParts"];
  for (const k of COMMITTEE_SIZES) {
    const { figures, parts } = await measurePerTask(Number(k), log);
    perTask[k] = figures;
    perTaskParts[k] = parts;
  }
  log("rounds k=5 (gas-rounds.ts): reports alone and batched in RelayBatcher.relayEach, the views' delegation");
  const r = await measureRounds(5);
  const rounds: GasFigures["rounds"] = {
    batched: {
      tasks: r.batched.tasks,
      commitReportPerTask: Math.round(r.batched.commitReportPerTask),
      revealReportPerTask: Math.round(r.batched.revealReportPerTask),
      reportsPerTask: Math.round(r.batched.commitReportPerTask + r.batched.revealReportPerTask),
      alone: num(r.reports.commitReport + r.reports.revealReport),
    },
    reportsCalldata: r.reports.calldata,
    viewDelegation: { throughMarket: num(r.viewThroughMarket), onModule: num(r.viewOnModule), overhead: num(r.viewThroughMarket - r.viewOnModule) },
  };
  const { failedGasUsedOfLimit, ...createTaskEstimateExact } = await measureEstimateExact(ESTIMATE_TRIES, log);
  log(`createTask with exactly its estimate: ${createTaskEstimateExact.succeeded}/${ESTIMATE_TRIES} succeeded; gas used / limit of the failed ones: ${failedGasUsedOfLimit.join(", ") || "-"}`);
  return {
    commit,
    reveal,
    commitReportPerItem: perItem,
    finalize,
    lifecycle: { "5": lifecycle },
    finalizeCold: { "5": finalizeCold },
    lifecycleCold: { "5": lifecycleCold },
    drawCommittee,
    perTask,
    perTaskParts,
    perTaskClaimScenario: claimScenario(),
    perTaskK32BlockFraction: {
      daemonPattern: Number((perTask["32"].daemonPattern / BLOCK_GAS).toFixed(4)),
      largestTransaction: Number((perTaskParts["32"].largestTransaction / BLOCK_GAS).toFixed(4)),
    },
    createTaskEstimateExact,
    rounds,
  };
}

/** Every numeric figure under its dotted path (perTask.5.daemonPattern); text values are left out. */
function flatten(figures: object, prefix = "", out = new Map<string, number>()): Map<string, number> {
  for (const [key, value] of Object.entries(figures)) {
    if (typeof value === "number") out.set(`${prefix}${key}`, value);
    else if (value !== null && typeof value === "object") flatten(value as object, `${prefix}${key}.`, out);
  }
  return out;
}

/** The committed figures: the JSON block inside the gas section of docs/BENCHMARKS.md (undefined if absent). */
export function readCommittedFigures(markdown: string): GasFigures | undefined {
  const start = markdown.indexOf(BEGIN);
  const end = markdown.indexOf(END);
  if (start < 0 || end < start) return undefined;
  const json = /```json\n([\s\S]*?)\n```/.exec(markdown.slice(start, end));
  return json ? (JSON.parse(json[1]) as GasFigures) : undefined;
}

function renderSection(figures: GasFigures): string {
  return [
    BEGIN,
    "```json",
    JSON.stringify(figures),
    "```",
    END,
  ].join("\n");
}

function updateDocs(figures: GasFigures): void {
  let markdown: string;
  try {
    markdown = readFileSync(DOCS, "utf8");
  } catch {
    markdown = "# Benchmarks\n\n## Gas\n\n";
  }
  const start = markdown.indexOf(BEGIN);
  const end = markdown.indexOf(END);
  const section = renderSection(figures);
  markdown =
    start >= 0 && end > start
      ? markdown.slice(0, start) + section + markdown.slice(end + END.length)
      : `${markdown.trimEnd()}\n\n${section}\n`;
  writeFileSync(DOCS, markdown);
}

async function main(): Promise<void> {
  const json = process.argv.includes("--json");
  const log = (line: string) => console.error(`bench:gas ${line}`);
  const started = Date.now();
  const figures = await measure(log);
  let committed: GasFigures | undefined;
  try {
    committed = readCommittedFigures(readFileSync(DOCS, "utf8"));
  } catch {
    committed = undefined;
  }
  const before = committed ? flatten(committed) : new Map<string, number>();
  console.log(`\n${"figure".padEnd(44)}${"gas".padStart(12)}${"committed".padStart(12)}${"ratio".padStart(8)}  target`);
  for (const [key, value] of flatten(figures)) {
    const old = before.get(key);
    const ratio = old ? (value / old).toFixed(3) : "-";
    const target = TARGETS.find((t) => t.path === key);
    const verdict = target === undefined ? "" : "max" in target
      ? `<= ${target.max} ${value <= target.max ? "ok" : "MISSED"}`
      : `>= ${target.min} ${value >= target.min ? "ok" : "MISSED"}`;
    console.log(`${key.padEnd(44)}${String(value).padStart(12)}${String(old ?? "-").padStart(12)}${ratio.padStart(8)}  ${verdict}`);
  }
  const growth = figures.drawCommittee["1000"] / figures.drawCommittee["100"];
  console.log(`drawCommittee growth n=100 -> n=1000: x${growth.toFixed(3)} (O(k log n): must stay well under 2)`);
  const s = figures.perTaskClaimScenario;
  console.log(`\nper task, all parties (claims amortized at ${s.gasPriceGwei} gwei, fee ${s.fee} tokens, one task per ${s.taskEveryMs / 1000} s, policy margin ${s.gasMargin}, tokenPerNative ${s.tokenPerNative ?? "unset (claims once per maxIntervalMs)"}):`);
  console.log("daemonPattern: the aggregator's commitReport and settling revealReport (the daemons' path); fallback: each member commits and reveals alone, a keeper finalizes");
  console.log(`${"k".padStart(4)}${"daemonPattern".padStart(15)}${"fallback".padStart(11)}${"ratio".padStart(7)}${"cold".padStart(11)}${"warm".padStart(11)}${"requester".padStart(11)}${"blocks".padStart(8)}${"fallbk".padStart(8)}${"tasks/claim (prov, val)".padStart(26)}`);
  for (const k of COMMITTEE_SIZES) {
    const t = figures.perTask[k];
    const p = figures.perTaskParts[k];
    console.log(`${k.padStart(4)}${String(t.daemonPattern).padStart(15)}${String(t.daemonPatternFallback).padStart(11)}${(t.daemonPattern / t.daemonPatternFallback).toFixed(3).padStart(7)}${String(t.cold).padStart(11)}${String(t.warm).padStart(11)}${String(t.requester).padStart(11)}${String(t.blocksAnswerToFinalized).padStart(8)}${String(t.blocksAnswerToFinalizedFallback).padStart(8)}${`${p.tasksPerClaim.provider}, ${p.tasksPerClaim.validator}`.padStart(26)}`);
  }
  console.log("the committee drawn by the round's first commit (daemonPattern) vs by a drawCommittee of its own first (separateDraw):");
  for (const k of COMMITTEE_SIZES) {
    const t = figures.perTask[k];
    const d = figures.perTaskParts[k].separateDraw;
    console.log(`${k.padStart(4)}  in first commit ${t.daemonPattern} (${t.blocksAnswerToFinalized} blocks), separate draw ${d.daemonPattern} (${d.blocksAnswerToFinalized} blocks): ${t.daemonPattern - d.daemonPattern} gas`);
  }
  console.log("who pays the commit and reveal phases (gas per task): the aggregator, vs what it spares validators and the keeper:");
  for (const k of COMMITTEE_SIZES) {
    const p = figures.perTaskParts[k];
    console.log(`${k.padStart(4)}  aggregator ${p.relayerPays} (commitReport ${p.commits} + revealReport ${p.revealsAndFinalize}); validators spared ${p.validatorsSpared}, keeper spared ${p.keeperSpared}`);
  }
  console.log(`the same at tokenPerNative ${s.realisticTokenPerNative} (the fee worth ${(s.fee / s.realisticTokenPerNative).toFixed(2)} ETH), daemonPatternRealisticPrice (tasks per claim: provider, validator):`);
  for (const k of COMMITTEE_SIZES) {
    const p = figures.perTaskParts[k];
    console.log(`${k.padStart(4)}${String(figures.perTask[k].daemonPatternRealisticPrice).padStart(15)}${`${p.tasksPerClaimRealisticPrice.provider}, ${p.tasksPerClaimRealisticPrice.validator}`.padStart(26)}`);
  }
  console.log(`k = 32 in a 30M block: whole task ${(figures.perTaskK32BlockFraction.daemonPattern * 100).toFixed(1)}%, largest transaction ${(figures.perTaskK32BlockFraction.largestTransaction * 100).toFixed(1)}%`);
  const b = figures.rounds.batched;
  console.log(`k = 5, ${b.tasks} tasks' reports in two RelayBatcher.relayEach transactions: ${b.reportsPerTask} gas a task for both (commit ${b.commitReportPerTask}, reveal ${b.revealReportPerTask}) against ${b.alone} sent alone (x${(b.reportsPerTask / b.alone).toFixed(3)})`);
  const e = figures.createTaskEstimateExact;
  console.log(`createTask sent with exactly its eth_estimateGas on ${e.chain}: ${e.succeeded}/${e.tries} succeeded (goal ${e.tries}/${e.tries})`);
  console.log(`measured in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  if (process.argv.includes("--update-docs")) {
    updateDocs(figures);
    console.log(`updated the gas section of ${DOCS}`);
  }
  if (json) console.log(JSON.stringify(figures));
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  main().catch((error: unknown) => {
    console.error(error);
    process.exit(1);
  });
}
