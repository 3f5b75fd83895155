// Gas of one task (k = 5, or --k N up to 32) through the round calls of docs/design/ROUNDS.md (not a test):
// `npx hardhat build --quiet && npx tsx scripts/bench/gas-rounds.ts [--json] [--k N]`. bench:gas includes its
// figures (measureRounds, k = 5) under `rounds`: what it adds to bench:gas's per-task phases is the reports of
// several tasks batched in one RelayBatcher.relayEach, the calldata share of each report and the views' delegation.
// Measured in one run on Hardhat's in-process EVM, from receipts (total transaction gas, 21,000 base included), in
// steady state (every payee was paid by a warm-up task first): the report path (commitReport, revealReport that
// settles) against the per-member fallback path of the same contracts (5 commits, 5 reveals, finalize). The
// per-member path of the previous protocol (main before this branch) is quoted from docs/BENCHMARKS.md, which
// measured it with scripts/bench/gas.ts before the port. The chain, accounts, task and reports are gas-scenarios.ts's
// (benchChain, taskToCommittee, roundReports, runDirectTask), as bench:gas's other scenarios use them.
import { fileURLToPath } from "node:url";
import { encodeAbiParameters, encodeFunctionData, keccak256, parseEventLogs, type Address, type Hex } from "viem";
import { APPROVE_KEEPS_WEI } from "../../sdk/client.ts";
import { relayBatcherAbi, Role, taskMarketAbi } from "../../sdk/contracts.ts";
import { benchChain, calldataGas, confirmed, FEE, gasOf, revealAlone, roundReports, runDirectTask, sumGas, taskToCommittee, type Ballots } from "./gas-scenarios.ts";

/** Measured by scripts/bench/gas.ts on main before this branch (docs/BENCHMARKS.md, "Where the gas of a k = 5 task
 * goes"): the per-member flow with member and commitment slots, k = 5, warm. */
const PREVIOUS_PROTOCOL = {
  approve: 29_278,
  createTask: 187_135,
  submitAnswer: 103_462,
  drawCommittee: 388_490,
  commits: 176_966,
  revealsAndFinalize: 346_198,
  total: 1_231_529,
};
/** The same, as the shipped relayer sent it (docs/BENCHMARKS.md, perTaskParts k = 5): the committee's commits in one
 * commitBySig, its reveals and the finalize in one RelayBatcher.revealAndFinalize. */
const PREVIOUS_RELAYED = {
  ...PREVIOUS_PROTOCOL,
  commits: 121_995,
  revealsAndFinalize: 270_825,
  total: PREVIOUS_PROTOCOL.total - PREVIOUS_PROTOCOL.commits - PREVIOUS_PROTOCOL.revealsAndFinalize + 121_995 + 270_825,
};

/** Tasks whose reports share one RelayBatcher.relayEach transaction in the batched figure. */
const BATCH = 10;

/** Scores 6,000 + 10 a seat, salts derived from the task and the member: the same calldata on every run. */
const benchBallots = (members: readonly Address[], taskId: bigint): Ballots => ({
  scores: members.map((_, i) => 6_000 + i * 10),
  salts: members.map((m) => keccak256(encodeAbiParameters([{ type: "string" }, { type: "uint256" }, { type: "address" }], ["bench salt", taskId, m]))),
});

/** Measures the figures of committee size `K` on a fresh in-process chain. */
export async function measureRounds(K: number) {
  // As many validators as seats (as scripts/bench/gas.ts does): every committee is the same K, so the warm-up
  // task pays every member once and the measured task rewrites non-zero credit slots only. Windows wide enough for
  // k one-transaction-per-block fallback calls (automine) in each phase, and for the batched figure's tasks (about
  // 5 blocks each to reach their committee) to wait for one another.
  const window = Math.max(10, K + 5, 5 * BATCH + 10);
  const env = await benchChain(K, { committeeSize: K, commitWindow: window, revealWindow: window });
  const market = env.manifest.contracts.taskMarket;
  const requester = env.as(env.requester).taskMarket;
  const receipt = (hash: Hex) => confirmed(env.publicClient, hash);
  /** What the transaction's calldata costs of its gas. */
  const calldataOf = async (hash: Hex) => calldataGas((await env.publicClient.getTransaction({ hash })).input);
  // As the SDK approves (fee + APPROVE_KEEPS_WEI): the allowance slot never returns to zero, as in the previous figures.
  const approveFee = async () => gasOf(env, await env.as(env.requester).token.write.approve([market, FEE + APPROVE_KEEPS_WEI]));

  /** approve, then createTask, submitAnswer, drawCommittee; the committee and its ballots. */
  const toCommittee = async () => {
    const approve = await approveFee();
    const { taskId, members, gas } = await taskToCommittee(env);
    return { taskId, members, ballots: benchBallots(members, taskId), gas: { approve, createTask: gas.create, submitAnswer: gas.answer, drawCommittee: gas.draw } };
  };

  /** The whole committee through the two reports (sent by the requester's wallet: anyone may). */
  const reportTask = async () => {
    const { taskId, members, ballots, gas } = await toCommittee();
    const reports = await roundReports(env, taskId, members, ballots);
    const commitReport = await receipt(await requester.write.commitReport(reports.commit));
    const revealReport = await receipt(await requester.write.revealReport(reports.reveal));
    return {
      ...gas,
      commitReport: commitReport.gasUsed,
      revealReport: revealReport.gasUsed,
      calldata: { commitReport: await calldataOf(commitReport.transactionHash), revealReport: await calldataOf(revealReport.transactionHash) },
    };
  };

  /** BATCH tasks' commit reports in one RelayBatcher.relayEach, then their reveal reports in another: per task. */
  const batchedTasks = async () => {
    const tasks = [];
    for (let b = 0; b < BATCH; b++) {
      const { taskId, members, ballots } = await toCommittee();
      tasks.push(await roundReports(env, taskId, members, ballots));
    }
    const relay = async (calls: Hex[]) => {
      const relayed = await receipt(await env.requester.writeContract({ address: env.manifest.contracts.relayBatcher!, abi: relayBatcherAbi, functionName: "relayEach", args: [market, calls] }));
      const skipped = parseEventLogs({ abi: relayBatcherAbi, logs: relayed.logs, eventName: "RelayedItemSkipped" });
      if (skipped.length !== 0) throw new Error(`a batched report was skipped: ${JSON.stringify(skipped[0]!.args, (_, v) => (typeof v === "bigint" ? String(v) : v))}`);
      return relayed.gasUsed;
    };
    const commits = await relay(tasks.map((t) => encodeFunctionData({ abi: taskMarketAbi, functionName: "commitReport", args: t.commit })));
    const reveals = await relay(tasks.map((t) => encodeFunctionData({ abi: taskMarketAbi, functionName: "revealReport", args: t.reveal })));
    return { tasks: BATCH, commitReportPerTask: Number(commits) / BATCH, revealReportPerTask: Number(reveals) / BATCH };
  };

  /** The same task with every member committing and revealing alone (each reveal as soon as all committed, as a
   * daemon does), then finalize (by the requester). */
  const fallbackTask = async () => {
    const approve = await approveFee();
    const task = await runDirectTask(env, { ballotsOf: benchBallots, finalizer: env.requester, revealEarly: true });
    return { approve, createTask: task.create, submitAnswer: task.answer, drawCommittee: task.draw, commits: sumGas(task.commits), reveals: sumGas(task.reveals), finalize: task.finalize };
  };

  // Always the same account is silent (its slash then updates the same stake-tree path in every run).
  const silentWallet = env.validators[0]!;
  /**
   * The silent seat: every member commits in the commit report, one never opens. Before partial reveal
   * reports the other k-1 had to reveal alone (a report had to open every committed seat); now their openings go in
   * one partial revealReport. Either way the round settles by finalize after revealEnd, slashing the silent one.
   */
  const silentSeatTask = async (partial: boolean) => {
    const { taskId, members, ballots } = await toCommittee();
    const silent = members.findIndex((m) => m.toLowerCase() === silentWallet.account.address.toLowerCase());
    const seats = members.map((_, i) => i);
    const open = seats.filter((i) => i !== silent);
    const reports = await roundReports(env, taskId, members, ballots, seats, open);
    const commitReport = await receipt(await requester.write.commitReport(reports.commit));
    const [state] = reports.reveal;
    let reveals = 0n;
    if (partial) reveals = (await receipt(await requester.write.revealReport(reports.reveal))).gasUsed;
    else for (const i of open) reveals += await revealAlone(env, taskId, state, ballots, i);
    const { revealEnd } = await requester.read.task([taskId]);
    await env.testClient.mine({ blocks: Number(revealEnd - (await env.publicClient.getBlockNumber())) + 1 });
    const finalize = await receipt(await requester.write.finalize([taskId, state]));
    const slashed = parseEventLogs({ abi: taskMarketAbi, logs: finalize.logs, eventName: "NonRevealersSlashed" });
    if (slashed.length !== 1) throw new Error("the silent seat was not slashed");
    // It stakes back what it lost, so that it stays eligible and the next committee is the same k accounts.
    await env.stake(silentWallet, Role.Validator, slashed[0]!.args.total);
    await reportTask(); // a round it opens clears its miss (three in a row would jail it)
    return { commitReport: commitReport.gasUsed, reveals, finalize: finalize.gasUsed, total: commitReport.gasUsed + reveals + finalize.gasUsed };
  };

  try {
    await reportTask(); // warm-up: every payee gets a non-zero credit slot
    await fallbackTask();
    const reports = await reportTask();
    const fallback = await fallbackTask();
    const batched = await batchedTasks();
    // A warm-up first: the first slash of the run writes slots no later one does.
    const silentSeat = K < 2 ? undefined : (await silentSeatTask(true), { alone: await silentSeatTask(false), partialReport: await silentSeatTask(true) });
    // The price of serving views from the TaskViews module (EIP-170): a view through the market's fallback
    // (DELEGATECALL) against the same view called on the module itself (same slots, its own empty storage). No
    // state-changing call goes through the fallback.
    const views = await requester.read.views();
    const estimate = (to: Address) => env.publicClient.estimateGas({ to, data: encodeFunctionData({ abi: taskMarketAbi, functionName: "paramsAt", args: [0n] }) });
    const viewThroughMarket = await estimate(market);
    const viewOnModule = await estimate(views);
    return { reports, fallback, batched, silentSeat, viewThroughMarket, viewOnModule };
  } finally {
    await env.close();
  }
}

async function main(): Promise<void> {
  const kArg = process.argv.indexOf("--k");
  const K = kArg === -1 ? 5 : Number(process.argv[kArg + 1]);
  if (!Number.isInteger(K) || K < 1 || K > 32) {
    console.error("--k takes a committee size from 1 to 32");
    process.exit(2);
  }
  const json = process.argv.includes("--json");
  const { reports, fallback, batched, silentSeat, viewThroughMarket, viewOnModule } = await measureRounds(K);
  const n = (v: bigint) => Number(v);
  const { calldata, ...reportGas } = reports;
  const reportsTotal = n(reports.approve + reports.createTask + reports.submitAnswer + reports.drawCommittee + reports.commitReport + reports.revealReport);
  const fallbackTotal = n(fallback.approve + fallback.createTask + fallback.submitAnswer + fallback.drawCommittee + fallback.commits + fallback.reveals + fallback.finalize);
  const figures = {
    k: K,
    reports: { ...Object.fromEntries(Object.entries(reportGas).map(([key, v]) => [key, n(v)])), total: reportsTotal },
    /** Of the two reports' gas, what their calldata costs. */
    reportsCalldata: calldata,
    fallback: { ...Object.fromEntries(Object.entries(fallback).map(([key, v]) => [key, n(v)])), total: fallbackTotal },
    /** The two reports of BATCH tasks sent as two RelayBatcher.relayEach transactions, per task. */
    batched: { ...batched, reportsPerTask: batched.commitReportPerTask + batched.revealReportPerTask },
    /** One committed member never opens (commit report, the others' openings, finalize after revealEnd): the
     * others revealing alone (the only way before partial reveal reports) against one partial revealReport. */
    ...(silentSeat === undefined
      ? {}
      : {
          silentSeat: {
            alone: Object.fromEntries(Object.entries(silentSeat.alone).map(([f, g]) => [f, n(g)])),
            partialReport: Object.fromEntries(Object.entries(silentSeat.partialReport).map(([f, g]) => [f, n(g)])),
          },
        }),
    /** paramsAt(0) through the market (delegated) and on the module: the split's overhead on a view. */
    viewDelegation: { throughMarket: Number(viewThroughMarket), onModule: Number(viewOnModule), overhead: Number(viewThroughMarket - viewOnModule) },
    ...(K === 5 ? { previousProtocol: PREVIOUS_PROTOCOL, previousRelayed: PREVIOUS_RELAYED } : {}),
    ratios: {
      reportsToFallback: reportsTotal / fallbackTotal,
      ...(K === 5
        ? { reportsToPrevious: reportsTotal / PREVIOUS_PROTOCOL.total, reportsToPreviousRelayed: reportsTotal / PREVIOUS_RELAYED.total }
        : {}),
    },
  };
  const previous = K === 5; // the quoted figures are k = 5's
  const row = (name: string, ...cells: (number | string)[]) =>
    console.log(name.padEnd(26) + cells.map((c) => (typeof c === "number" ? c.toLocaleString("en-US") : c).padStart(14)).join(""));
  const [p, r] = [PREVIOUS_PROTOCOL, PREVIOUS_RELAYED];
  const prev = (...cells: number[]) => (previous ? cells : []);
  row(`k = ${K}, warm (gas)`, "reports", "fallback", ...(previous ? ["prev. direct", "prev. relayed"] : []));
  row("approve", n(reports.approve), n(fallback.approve), ...prev(p.approve, r.approve));
  row("createTask", n(reports.createTask), n(fallback.createTask), ...prev(p.createTask, r.createTask));
  row("submitAnswer", n(reports.submitAnswer), n(fallback.submitAnswer), ...prev(p.submitAnswer, r.submitAnswer));
  row("drawCommittee", n(reports.drawCommittee), n(fallback.drawCommittee), ...prev(p.drawCommittee, r.drawCommittee));
  row("commits", n(reports.commitReport), n(fallback.commits), ...prev(p.commits, r.commits));
  row("reveals + settlement", n(reports.revealReport), n(fallback.reveals + fallback.finalize), ...prev(p.revealsAndFinalize, r.revealsAndFinalize));
  row("total", reportsTotal, fallbackTotal, ...prev(p.total, r.total));
  console.log(`of which calldata: commitReport ${calldata.commitReport.toLocaleString("en-US")}, revealReport ${calldata.revealReport.toLocaleString("en-US")}`);
  const ratio = (x: number) => x.toFixed(3);
  const single = n(reports.commitReport + reports.revealReport);
  const perTask = Math.round(figures.batched.reportsPerTask);
  console.log(`${BATCH} tasks' reports in two RelayBatcher.relayEach transactions: ${perTask.toLocaleString("en-US")} gas a task for both reports (commit ${Math.round(batched.commitReportPerTask).toLocaleString("en-US")}, reveal ${Math.round(batched.revealReportPerTask).toLocaleString("en-US")}) against ${single.toLocaleString("en-US")} sent alone (-${(single - perTask).toLocaleString("en-US")})`);
  if (silentSeat !== undefined) {
    const [a, b] = [silentSeat.alone, silentSeat.partialReport];
    console.log(`one silent seat (commits, never opens), commit report to settlement: the other ${K - 1} reveal alone ${n(a.reveals).toLocaleString("en-US")} + finalize ${n(a.finalize).toLocaleString("en-US")} = ${n(a.total).toLocaleString("en-US")}; in one partial revealReport ${n(b.reveals).toLocaleString("en-US")} + finalize ${n(b.finalize).toLocaleString("en-US")} = ${n(b.total).toLocaleString("en-US")} (-${n(a.total - b.total).toLocaleString("en-US")}, x${ratio(n(b.total) / n(a.total))})`);
  }
  console.log(`a view through the market's fallback (paramsAt): ${figures.viewDelegation.throughMarket.toLocaleString("en-US")} gas, on the module ${figures.viewDelegation.onModule.toLocaleString("en-US")} (+${figures.viewDelegation.overhead.toLocaleString("en-US")}); no transaction of a task goes through it`);
  if (previous) {
    console.log(`reports / fallback ${ratio(figures.ratios.reportsToFallback)}, reports / previous direct ${ratio(reportsTotal / p.total)}, / previous relayed ${ratio(reportsTotal / r.total)} (previous: docs/BENCHMARKS.md, not this run)`);
  } else {
    console.log(`reports / fallback ${ratio(figures.ratios.reportsToFallback)}; largest report ${Math.max(n(reports.commitReport), n(reports.revealReport)).toLocaleString("en-US")} gas, ${((100 * Math.max(n(reports.commitReport), n(reports.revealReport))) / 30_000_000).toFixed(2)}% of a 30M block`);
  }
  if (json) console.log(JSON.stringify(figures));
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  main().catch((error: unknown) => {
    console.error(error instanceof Error ? error.message : error);
    process.exit(1);
  });
}
