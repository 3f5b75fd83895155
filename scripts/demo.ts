// `npm run demo`: the whole Proof-of-Quality network on one machine, with no network access and no configuration.
// A local chain and Redis, the protocol deployed, two providers (honest and lazy) behind real OpenAI-compatible HTTP
// servers, six validator daemons (4 honest, 1 lazy, 1 that never reveals) submitting through a relayer run by the
// honest provider's daemon (--direct: their own transactions), N jobs posted through the requester SDK, and a final
// table of who earned what. Exits 1 when one of the protocol's expectations fails.
//
//   npm run demo -- --jobs 20 --report demo-report.json
import { writeFileSync } from "node:fs";
import { Command, InvalidArgumentError } from "commander";
import { parseUnits } from "viem";
import { buildLedger } from "./demo/ledger.ts";
import { defaultEvaluatorDir, MAX_JOBS, startDemoNetwork } from "./demo/network.ts";
import { holdInstructions } from "./demo/hold.ts";

import { createProgressView } from "./demo/progress.ts";
import { checkExpectations, renderSummary, reportJson } from "./demo/report.ts";
import { runJobs } from "./demo/run-jobs.ts";
import { visibleText } from "../daemon/cli/visible-text.ts";

/**
 * Fees funded beyond the jobs the run may post (up to 2x --jobs, when the first ones all go to one provider): the
 * `job post` commands printed by --hold must work however many extra jobs the run needed.
 */
const SPARE_JOBS = 5;

const positiveInt = (max: number) => (value: string) => {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > max) throw new InvalidArgumentError(`expected an integer from 1 to ${max}`);
  return n;
};

async function main(): Promise<number> {
  const opts = new Command()
    .name("npm run demo --")
    .description("Run a local Proof-of-Quality network end to end and check that honest participants come out ahead")
    .option("--jobs <n>", `jobs to post (1-${MAX_JOBS})`, positiveInt(MAX_JOBS), 20)
    .option("--fee <tokens>", "fee per job, in POQ test tokens", "10")
    .option("--report <file>", "write a JSON report (tasks, finalized, providers, validators, escrowIn, creditsOut, ...)")
    .option("--evaluator <dir>", "evaluator model folder (default: a fetched cross-encoder if present, else models/use-lite-checked)")
    .option("--timeout <seconds>", "give up when the jobs have not settled after this long", positiveInt(3600), 150)
    .option("--direct", "validators send their own commit and reveal transactions instead of through the honest provider's relayer")
    .option("--keep", "keep the temp folder (keystores, configs, daemon state and logs) for inspection")
    .option("--hold", "after the table, keep the network running for `poq audit` / `poq job` until Ctrl-C")
    .parse()
    .opts<{ jobs: number; fee: string; report?: string; evaluator?: string; timeout: number; direct?: boolean; keep?: boolean; hold?: boolean }>();

  const started = performance.now();
  const say = (line: string) => process.stdout.write(`${line}\n`);
  const fee = parseUnits(opts.fee, 18);
  const evaluatorDir = opts.evaluator ?? defaultEvaluatorDir();
  say(`Proof-of-Quality demo: ${opts.jobs} jobs, fee ${opts.fee} POQ each`);
  const demo = await startDemoNetwork({ evaluatorDir, requesterFunds: fee * BigInt(opts.jobs * 2 + SPARE_JOBS), signals: true, keepDir: opts.keep, submit: opts.direct ? "direct" : "relayer", onStep: (m) => say(`  ${m}`) });
  const progress = createProgressView();
  try {
    say(`  daemon logs: ${demo.net.logFile}${opts.keep ? "" : " (removed at the end; --keep keeps them)"}`);
    const run = await runJobs(demo, {
      jobs: opts.jobs,
      fee,
      postGapMs: 750,
      timeoutMs: opts.timeout * 1000,
      onProgress: (p) => progress.update(p),
      onLine: (line) => progress.log(`  ${visibleText(line)}`),
    });
    progress.stop();
    const ledger = await buildLedger(demo.net.manifest, demo.net.chain.publicClient, demo.participants, run.results, demo.requester.address);
    const input = {
      ledger,
      expectations: checkExpectations(ledger),
      token: { symbol: demo.net.manifest.token.symbol, decimals: demo.net.manifest.token.decimals },
      evaluator: demo.evaluatorName,
      wallTimeS: (performance.now() - started) / 1000,
      extraJobs: run.extraJobs,
      reassignments: run.reassignments,
    };
    say("");
    say(renderSummary(input));
    if (opts.report !== undefined) {
      writeFileSync(opts.report, `${JSON.stringify(reportJson(input), null, 2)}\n`);
      say(`\nreport written to ${opts.report}`);
    }
    const ok = input.expectations.every((e) => e.ok);
    say(ok ? "\nAll expectations hold." : "\nSome expectations FAILED (see above).");
    if (opts.hold) await holdForAudit(demo, evaluatorDir);
    return ok ? 0 : 1;
  } finally {
    progress.stop();
    await demo.net.teardown.run();
  }
}

/** Prints how to reach the still-running network, then waits for Ctrl-C (the teardown's signal handler exits). */
async function holdForAudit(demo: Awaited<ReturnType<typeof startDemoNetwork>>, evaluatorDir: string): Promise<never> {
  process.stdout.write(holdInstructions(demo, evaluatorDir));
  return new Promise<never>(() => {});
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`demo failed: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  },
);
