/**
 * `npm run bench:daemon [-- --json] [-- --tasks N]`
 * End-to-end throughput of the daemons on the local network (scripts/localnet): one provider behind a local
 * OpenAI-compatible server and five validator daemons scoring with the generated full-size int8 cross-encoder
 * (MiniLM-L6-H384 shape, random weights: real latency, meaningless scores), all honest, so tasks take the fast path
 * (finalized once every member revealed). Validators submit through a relayer run by the provider's daemon (the
 * shipped pattern: one transaction for a committee's commits, one for its reveals and the finalize); --direct makes
 * them send their own transactions (the finalize then a keeper's). Chain: a block every --block-ms (interval mining), served by this
 * harness process over HTTP and WebSocket (`--evm anvil`: anvil in its own process, its CPU counted apart). Each daemon runs as its own process (`poq ... start`, as in
 * production) over WebSocket (newHeads subscriptions). Figures per finalized task: CPU of every process of the
 * run (daemons from /proc, the harness with the chain from process.cpuUsage), split into scoring (the evaluator's
 * CPU per answer measured in this run, times the members) and everything else; gas from the receipts of every
 * transaction of the run (all parties); latency from the answer to the finalize in ms and blocks. Prints progress
 * on stderr and one JSON object as the last stdout line.
 */
import { loadavg } from "node:os";
import { Command } from "commander";
import { parseEther } from "viem";
import { createEvaluator } from "../../daemon/evaluation/factory.ts";
import { loadManifest, manifestId } from "../../daemon/evaluation/manifest.ts";
import { processCpu, startDaemonProcess, type DaemonProcess } from "./daemon-processes.ts";
import { createPoqClient } from "../../sdk/client.ts";
import { taskMarketAbi } from "../../sdk/contracts.ts";
import { decodeEventLog, type Hex, type TransactionReceipt } from "viem";
import { getProtocolContracts } from "../../sdk/contracts.ts";
import { mintTokens, waitOk } from "../localnet/actors.ts";
import { startLocalnet } from "../localnet/index.ts";
import { freePort } from "../localnet/redis.ts";
import { startDemoChatServers } from "../demo/chat-servers.ts";
import { questionAt } from "../demo/qa-set.ts";
import { ensureGeneratedModel } from "../models/generated-models.ts";

const opts = new Command()
  .option("--json", "print one JSON object as the last line")
  .option("--tasks <n>", "tasks to run end to end", (v) => Number(v), 30)
  .option("--block-ms <ms>", "block interval", (v) => Number(v), 250)
  .option("--automine", "also mine one block per transaction (windows then shrink with load: commits get missed)")
  .option("--commit-window <blocks>", "commit (and reveal) window in blocks", (v) => Number(v), 20)
  .option("--timeout <s>", "give up after this long", (v) => Number(v), 240)
  .option("--rate <tasks/s>", "posting rate (0 = as fast as the requesters can); above capacity commits are missed and rounds roll", (v) => Number(v), 1)
  .option("--requesters <n>", "requester accounts posting in parallel (one account posts one job at a time)", (v) => Number(v), 4)
  .option("--direct", "validators send their own commits and reveals instead of through the provider's relayer")
  .option("--keep", "keep the run's temp folder (daemon logs, state)")
  .option("--evm <name>", "the chain: hardhat (in this process) or anvil (its own process)", "hardhat")
  .option("--confirmations <n>", "blocks a log (and a receipt) must be buried under before the daemons act on it (0: the head block; reorgs are rewound either way)", (v) => Number(v), 1)
  .option("--idle-s <s>", "before posting, measure every process's CPU per second with blocks coming and no task", (v) => Number(v), 10)
  .option("--cpu-prof <dir>", "each daemon writes a V8 CPU profile (<name>.cpuprofile) into this folder when it stops")
  .parse()
  .opts<{ json?: boolean; tasks: number; blockMs: number; automine?: boolean; commitWindow: number; timeout: number; requesters: number; rate: number; direct?: boolean; keep?: boolean; evm: string; idleS: number; cpuProf?: string; confirmations: number }>();

const MODEL = "bench-chat";
const SHARED_CPU_SESSION = { intraOpNumThreads: 1, extra: { session: { intra_op: { allow_spinning: "0" } } } };
const FEE = parseEther("1");
const log = (line: string) => process.stderr.write(`${line}\n`);
const percentile = (values: number[], p: number) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted.length === 0 ? null : sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
};

async function main(): Promise<void> {
  let rssMax = 0;
  const sampler = setInterval(() => (rssMax = Math.max(rssMax, process.memoryUsage().rss)), 100);
  const evaluatorDir = ensureGeneratedModel("generated-minilm-l6-int8");
  const evaluatorId = manifestId(await loadManifest(evaluatorDir)) as `0x${string}`;
  const loadBefore = loadavg()[0]!;
  if (opts.evm !== "hardhat" && opts.evm !== "anvil") throw new Error(`--evm: hardhat or anvil, not ${opts.evm}`);
  const net = await startLocalnet({
    evm: opts.evm,
    params: { answerWindow: 50, commitWindow: opts.commitWindow, revealWindow: opts.commitWindow, providerFloor: 0 },
    evaluators: [{ id: evaluatorId, uri: "models/generated-minilm-l6-int8" }],
    signals: true,
    keepDir: opts.keep,
  });
  log(`run folder ${net.dir}`);
  try {
    const chat = await startDemoChatServers();
    net.teardown.defer("chat server", () => chat.close());
    // Every daemon: WebSocket RPC (newHeads instead of polling), warn-level logs, and an economic claim policy priced
    // as a $1 token against a $2,000 coin (claims wait until worth 100x their gas, or a day).
    const daemonConfig = {
      chain: { chainId: net.chain.chainId, rpcUrls: [net.chain.wsUrl], confirmations: opts.confirmations, pollIntervalMs: opts.blockMs },
      observe: { port: 0, logLevel: "warn" as const },
      claim: { gasMargin: 100, tokenPerNative: 2_000 },
    };
    const daemons: DaemonProcess[] = [];
    net.teardown.defer("daemon processes", () => Promise.all(daemons.map((d) => d.stop())));
    const startDaemon = async (name: string, roles: Parameters<typeof net.daemon>[1], role: "validator" | "provider") => {
      const actor = await net.actor(name);
      await net.stake(actor, role === "provider" ? { role, amount: parseEther("1000"), models: [MODEL] } : { role, amount: parseEther("1000") });
      // Writes the config, keystore and state folder the way `poq` reads them; the harness's own context is not used.
      const written = await net.daemon(actor, roles, daemonConfig);
      await written.ctx.close();
      daemons.push(await startDaemonProcess(name, written.configPath, role, { cpuProfileDir: opts.cpuProf }));
    };
    // The provider's daemon runs the relayer role too (its pay waits on the finalize, and it holds ETH already).
    const relayerPort = opts.direct === true ? undefined : await freePort();
    const relayerUrl = relayerPort === undefined ? undefined : `http://127.0.0.1:${relayerPort}`;
    await startDaemon("provider", {
      provider: { claimBatchMs: 5_000, models: { [MODEL]: { endpoints: [{ url: chat.honestUrl, timeoutMs: 5_000 }] } } },
      ...(relayerPort === undefined ? {} : { relayer: { port: relayerPort } }),
    }, "provider");
    // One at a time: stakes change the sortition tree, so gas estimated for parallel stakes runs out.
    for (let i = 0; i < 5; i++) await startDaemon(`validator-${i + 1}`, { validator: { evaluatorDir, claimBatchMs: 5_000, ...(relayerUrl === undefined ? {} : { relayerUrl }) } }, "validator");
    // Scoring CPU per answer, measured here with the daemons' own session settings on the run's own prompts.
    const scorer = await createEvaluator(evaluatorDir);
    await scorer.score([{ prompt: "warm up", answer: "warm up" }]);
    const scoringCpuAt = process.cpuUsage();
    const CALIBRATION = 20;
    for (let i = 0; i < CALIBRATION; i++) await scorer.score([{ prompt: questionAt(i), answer: `An answer of some length to question ${i}, as a provider would give it.` }]);
    const scoringCpu = process.cpuUsage(scoringCpuAt);
    const scoringMsPerAnswer = (scoringCpu.user + scoringCpu.system) / 1000 / CALIBRATION;
    await scorer.close();
    const clients = [];
    for (let r = 0; r < opts.requesters; r++) {
      const requester = await net.actor(`requester-${r + 1}`);
      await mintTokens(net.chain, net.manifest, requester, FEE * BigInt(opts.tasks));
      const { token } = getProtocolContracts(net.manifest, { public: net.chain.publicClient, wallet: requester.wallet });
      await waitOk(net.chain.publicClient, await token.write.approve([net.manifest.contracts.taskMarket, FEE * BigInt(opts.tasks)]), "approve");
      clients.push(createPoqClient({ manifest: net.manifest, publicClient: net.chain.publicClient, walletClient: requester.wallet }));
    }
    const client = clients[0]!;
    await net.startBlocks(opts.blockMs, { automine: opts.automine === true });
    const idle = await idleCpu(daemons, net.chain.nodePid);
    log(`network up; posting ${opts.tasks} tasks`);

    const answeredAt = new Map<bigint, number>();
    const finalizedAt = new Map<bigint, number>();
    const answeredBlock = new Map<bigint, bigint>();
    const finalizedBlock = new Map<bigint, bigint>();
    // Per task, the block of its newest draw, commit and reveal: where the blocks from answer to finalize go.
    const stepBlocks = new Map<bigint, { draw?: bigint; commit?: bigint; reveal?: bigint }>();
    const stepOf = (id: bigint) => stepBlocks.get(id) ?? (stepBlocks.set(id, {}), stepBlocks.get(id)!);
    let missedReveals = 0;
    const follow = new AbortController();
    const from = await net.chain.publicClient.getBlockNumber();
    const following = (async () => {
      for await (const e of client.events({ fromBlock: from, pollIntervalMs: 25, signal: follow.signal })) {
        const block = (e as { blockNumber?: bigint }).blockNumber ?? 0n;
        if (e.eventName === "AnswerSubmitted") (answeredAt.set(e.args.taskId!, performance.now()), answeredBlock.set(e.args.taskId!, block));
        if (e.eventName === "TaskFinalized") (finalizedAt.set(e.args.taskId!, performance.now()), finalizedBlock.set(e.args.taskId!, block));
        if (e.eventName === "CommitteeDrawn") stepOf(e.args.taskId!).draw = block;
        // A seat commits or opens in the aggregator's report, or alone (fallback).
        if (e.eventName === "CommitReported" || e.eventName === "ScoreCommitted") stepOf(e.args.taskId!).commit = block;
        if (e.eventName === "RevealReported" || e.eventName === "ScoreRevealed") stepOf(e.args.taskId!).reveal = block;
        if (e.eventName === "NonRevealersSlashed") missedReveals += (e.args as { validators?: readonly unknown[] }).validators?.length ?? 0;
      }
    })();
    const started = performance.now();
    const cpuAtStart = process.cpuUsage();
    const daemonCpuAtStart = daemons.map((d) => d.cpuMs());
    // anvil runs apart: its CPU is counted like a daemon's (Hardhat's is inside the harness's own).
    const nodeCpu = net.chain.nodePid === undefined ? () => 0 : processCpu(net.chain.nodePid);
    const nodeCpuAtStart = nodeCpu();
    const ids: bigint[] = [];
    let next = 0;
    await Promise.all(clients.map(async (c) => {
      for (let i = next++; i < opts.tasks; i = next++) {
        const due = started + (opts.rate > 0 ? (i * 1000) / opts.rate : 0);
        if (due > performance.now()) await new Promise((r) => setTimeout(r, due - performance.now()));
        ids.push((await c.postJob({ model: MODEL, prompt: questionAt(i), fee: FEE, approve: "none" })).taskId);
      }
    }));
    const postedS = (performance.now() - started) / 1000;
    log(`posted ${ids.length} tasks in ${postedS.toFixed(1)} s`);
    const deadline = Date.now() + opts.timeout * 1000;
    let reported = 0;
    while (ids.some((id) => !finalizedAt.has(id)) && Date.now() < deadline) {
      if (finalizedAt.size >= reported + 10) log(`finalized ${(reported = finalizedAt.size)}/${ids.length}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    follow.abort();
    await following;
    const finished = ids.filter((id) => finalizedAt.has(id));
    const lastAt = finished.length === 0 ? started : Math.max(...finished.map((id) => finalizedAt.get(id)!));
    const latencies = finished.filter((id) => answeredAt.has(id)).map((id) => finalizedAt.get(id)! - answeredAt.get(id)!);
    clearInterval(sampler);
    const wallMs = performance.now() - started;
    const cpu = process.cpuUsage(cpuAtStart);
    const harnessCpuMs = (cpu.user + cpu.system) / 1000;
    const daemonCpuMs = daemons.map((d, i) => d.cpuMs() - daemonCpuAtStart[i]!);
    const nodeCpuMs = nodeCpu() - nodeCpuAtStart;
    const totalCpuMs = harnessCpuMs + nodeCpuMs + daemonCpuMs.reduce((a, b) => a + b, 0);
    const cpuCoresUsed = totalCpuMs / wallMs;
    const gas = await gasOfRun(net.chain.publicClient, from, await net.chain.publicClient.getBlockNumber());
    const perTask = (n: number) => (finished.length === 0 ? null : Math.round(n / finished.length));
    const blockLatencies = finished.filter((id) => answeredBlock.has(id)).map((id) => Number(finalizedBlock.get(id)! - answeredBlock.get(id)!));
    const scoringPerTask = scoringMsPerAnswer * 5;
    // Blocks of each step: answer -> draw, draw -> last commit, last commit -> last reveal, last reveal -> finalize.
    const stepLatency = (from: (id: bigint) => bigint | undefined, to: (id: bigint) => bigint | undefined) =>
      percentile(finished.flatMap((id) => { const a = from(id), b = to(id); return a === undefined || b === undefined ? [] : [Number(b - a)]; }), 50) ?? 0;
    const result = {
      bench: "daemon",
      tasks: ids.length,
      finalized: finished.length,
      tasks_per_s: finished.length === 0 ? 0 : Number((finished.length / ((lastAt - started) / 1000)).toFixed(2)),
      latency_ms: { p50: Math.round(percentile(latencies, 50) ?? 0), p95: Math.round(percentile(latencies, 95) ?? 0) },
      latency_blocks: { p50: percentile(blockLatencies, 50) ?? 0, p95: percentile(blockLatencies, 95) ?? 0 },
      latency_blocks_by_step_p50: {
        draw: stepLatency((id) => answeredBlock.get(id), (id) => stepBlocks.get(id)?.draw),
        commits: stepLatency((id) => stepBlocks.get(id)?.draw, (id) => stepBlocks.get(id)?.commit),
        reveals: stepLatency((id) => stepBlocks.get(id)?.commit, (id) => stepBlocks.get(id)?.reveal),
        finalize: stepLatency((id) => stepBlocks.get(id)?.reveal, (id) => finalizedBlock.get(id)),
      },
      core_ms_per_task: finished.length === 0 ? null : { scoring: Math.round(scoringPerTask), other: Math.round(totalCpuMs / finished.length - scoringPerTask) },
      core_ms_by_process: { ...(net.chain.nodePid === undefined ? { harness_with_chain: perTask(harnessCpuMs) } : { harness: perTask(harnessCpuMs), anvil: perTask(nodeCpuMs) }), ...Object.fromEntries(daemons.map((d, i) => [d.name, perTask(daemonCpuMs[i]!)])) },
      scoring_ms_per_answer: Number(scoringMsPerAnswer.toFixed(1)),
      idle_core_ms_per_s: idle,
      gas_per_finalized_task: perTask(gas.total),
      gas_by_operation_per_task: Object.fromEntries(Object.entries(gas.byOperation).map(([op, g]) => [op, perTask(g)])),
      claims: gas.claims,
      missed_reveals: missedReveals,
      processes: daemons.length,
      rss_mb_per_daemon: { max: Math.round(Math.max(...daemons.map((d) => d.peakRssMb()))) },
      rss_mb_max: Math.round(rssMax / 2 ** 20),
      post_s: Number(postedS.toFixed(2)),
      setup: { evm: net.chain.evm, providers: 1, validators: 5, submit: opts.direct === true ? "direct" : "relayer", requesters: opts.requesters, rate_per_s: opts.rate, evaluator: "generated-minilm-l6-int8", block_ms: opts.blockMs, automine: opts.automine === true, commit_window: opts.commitWindow, reveal_window: opts.commitWindow, confirmations: opts.confirmations, daemons_in_own_processes: true, rpc: "websocket" },
      load_avg_1m: { before: Number(loadBefore.toFixed(2)), after: Number(loadavg()[0]!.toFixed(2)) },
      // Measured, not assumed: near 2 means the cores bound the run; well below, the pipeline's waits do.
      cpu_cores_used: Number(cpuCoresUsed.toFixed(2)),
    };
    for (const d of daemons) await d.stop();
    if (opts.json) process.stdout.write(`${JSON.stringify(result)}\n`);
    else process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
  } finally {
    await net.teardown.run();
  }
}

/**
 * CPU per wall second of every process over --idle-s seconds with blocks coming and no task: the fixed cost that
 * `other` per task divides by the task rate. The harness's figure includes the chain serving the daemons' calls.
 */
async function idleCpu(daemons: readonly DaemonProcess[], nodePid: number | undefined): Promise<Record<string, number> | null> {
  if (opts.idleS <= 0) return null;
  const nodeCpu = nodePid === undefined ? () => 0 : processCpu(nodePid);
  const harness = process.cpuUsage();
  const before = daemons.map((d) => d.cpuMs());
  const nodeBefore = nodeCpu();
  log(`measuring idle CPU for ${opts.idleS} s`);
  const started = performance.now();
  await new Promise((r) => setTimeout(r, opts.idleS * 1000));
  const wallS = (performance.now() - started) / 1000;
  const harnessCpu = process.cpuUsage(harness);
  const perS = (ms: number) => Math.round(ms / wallS);
  return {
    [nodePid === undefined ? "harness_with_chain" : "harness"]: perS((harnessCpu.user + harnessCpu.system) / 1000),
    ...(nodePid === undefined ? {} : { anvil: perS(nodeCpu() - nodeBefore) }),
    ...Object.fromEntries(daemons.map((d, i) => [d.name, perS(d.cpuMs() - before[i]!)])),
  };
}

/** Gas of every transaction mined in [from, to], from receipts, with the market call each made (by its event). */
async function gasOfRun(client: { getBlock: (a: { blockNumber: bigint }) => Promise<{ transactions: readonly Hex[] }>; getTransactionReceipt: (a: { hash: Hex }) => Promise<TransactionReceipt> }, from: bigint, to: bigint) {
  const byOperation: Record<string, number> = {};
  let total = 0;
  let claims = 0;
  for (let n = from + 1n; n <= to; n++) {
    const { transactions } = await client.getBlock({ blockNumber: n });
    for (const receipt of await Promise.all(transactions.map((hash) => client.getTransactionReceipt({ hash })))) {
      const gasUsed = Number(receipt.gasUsed);
      total += gasUsed;
      const names = receipt.logs.flatMap((l) => {
        try {
          return [decodeEventLog({ abi: taskMarketAbi, data: l.data, topics: l.topics as [Hex, ...Hex[]] }).eventName as string];
        } catch {
          return [];
        }
      });
      const op = OPERATIONS.find(([event]) => names.includes(event))?.[1] ?? "other (token approvals, transfers)";
      if (op === "claim") claims++;
      byOperation[op] = (byOperation[op] ?? 0) + gasUsed;
    }
  }
  return { total, byOperation, claims };
}

/** The market call a receipt belongs to, by the first of these events it carries (a revealReport also carries
 * TaskFinalized, and a round's first commit report or commit CommitteeDrawn, since it draws: each is listed before;
 * so drawCommittee counts only a keeper's draw on its own; several tasks' reports in one RelayBatcher.relayEach
 * count as one). */
const OPERATIONS: [string, string][] = [
  ["TaskCreated", "createTask"], ["AnswerSubmitted", "submitAnswer"], ["CommitReported", "commitReport"], ["RevealReported", "revealReport"],
  ["ScoreCommitted", "commit"], ["ScoreRevealed", "reveal"], ["CommitteeDrawn", "drawCommittee"], ["TaskFinalized", "finalize"], ["TaskRolled", "finalize"], ["ProviderTimedOut", "reassign"], ["TaskRefunded", "refund"], ["Claimed", "claim"],
];

main().then(
  () => process.exit(0),
  (error: unknown) => {
    process.stderr.write(`bench:daemon failed: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  },
);
