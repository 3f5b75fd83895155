/**
 * `npm run bench:daemon [-- --json] [-- --tasks N]`
 * End-to-end throughput of the daemon on the local network (scripts/localnet): one provider behind a local
 * OpenAI-compatible server and five validator daemons scoring with the generated full-size int8 cross-encoder
 * (MiniLM-L6-H384 shape, random weights: real latency, meaningless scores), all honest, so tasks take the fast path
 * (finalized once every member revealed). Chain: a block every --block-ms (interval mining). With --automine every
 * transaction mines a block too, so under load the windows (counted in blocks) pass in a fraction of a second and
 * validators miss their commits: block-paced windows and automine do not mix.
 * Everything runs in ONE Node process (chain, Redis client, 6 daemons); `cpu_cores_used` (process CPU time over
 * wall time, measured) says whether the 2 cores are the bound or the pipeline's waiting is. Prints progress on
 * stderr and one JSON object as the last stdout line.
 */
import { loadavg } from "node:os";
import { Command } from "commander";
import { parseEther } from "viem";
import { createEvaluator } from "../../daemon/evaluation/factory.ts";
import { loadManifest, manifestId } from "../../daemon/evaluation/manifest.ts";
import { startProviderRole } from "../../daemon/roles/provider/provider-role.ts";
import { startValidatorRole } from "../../daemon/roles/validator/validator-role.ts";
import { createPoqClient } from "../../sdk/client.ts";
import { getProtocolContracts } from "../../sdk/contracts.ts";
import { mintTokens, waitOk } from "../localnet/actors.ts";
import { startLocalnet } from "../localnet/index.ts";
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
  .option("--keep", "keep the run's temp folder (daemon logs, state)")
  .parse()
  .opts<{ json?: boolean; tasks: number; blockMs: number; automine?: boolean; commitWindow: number; timeout: number; requesters: number; rate: number; keep?: boolean }>();

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
  const net = await startLocalnet({
    params: { answerWindow: 50, commitWindow: opts.commitWindow, revealWindow: opts.commitWindow, providerFloor: 0 },
    evaluators: [{ id: evaluatorId, uri: "models/generated-minilm-l6-int8" }],
    signals: true,
    keepDir: opts.keep,
  });
  log(`run folder ${net.dir}`);
  try {
    const chat = await startDemoChatServers();
    net.teardown.defer("chat server", () => chat.close());
    const provider = await net.actor("provider");
    await net.stake(provider, { role: "provider", amount: parseEther("1000"), models: [MODEL] });
    const providerDaemon = await net.daemon(provider, { provider: { claimBatchMs: 5_000, models: { [MODEL]: { endpoints: [{ url: chat.honestUrl, timeoutMs: 5_000 }] } } } });
    const providerRole = await startProviderRole(providerDaemon.ctx, {});
    net.teardown.defer("provider role", () => providerRole.stop());
    for (let i = 0; i < 5; i++) {
      const validator = await net.actor(`validator-${i + 1}`);
      await net.stake(validator, { role: "validator", amount: parseEther("1000") });
      const daemon = await net.daemon(validator, { validator: { evaluatorDir, claimBatchMs: 5_000 } });
      // Loaded here (hashes verified by the factory) and warmed up, so the first task does not pay the start-up.
      // Five sessions share 2 cores here: one intra-op thread each and no spinning (spinning threads of five
      // sessions starve each other and the event loop; see defaultSessionOptions). A real validator owns its cores.
      const evaluator = await createEvaluator(evaluatorDir, { crossEncoder: { sessionOptions: SHARED_CPU_SESSION } });
      await evaluator.score([{ prompt: "warm up", answer: "warm up" }]);
      const role = await startValidatorRole(daemon.ctx, { evaluator });
      net.teardown.defer(`validator-${i + 1} role`, async () => {
        await role.stop();
        await evaluator.close();
      });
    }
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
    log(`network up; posting ${opts.tasks} tasks`);

    const answeredAt = new Map<bigint, number>();
    const finalizedAt = new Map<bigint, number>();
    const follow = new AbortController();
    const from = await net.chain.publicClient.getBlockNumber();
    const following = (async () => {
      for await (const e of client.events({ fromBlock: from, pollIntervalMs: 25, signal: follow.signal })) {
        if (e.eventName === "AnswerSubmitted") answeredAt.set(e.args.taskId!, performance.now());
        if (e.eventName === "TaskFinalized") finalizedAt.set(e.args.taskId!, performance.now());
      }
    })();
    const started = performance.now();
    const cpuAtStart = process.cpuUsage();
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
    const cpu = process.cpuUsage(cpuAtStart);
    const cpuCoresUsed = (cpu.user + cpu.system) / 1000 / (performance.now() - started);
    const result = {
      bench: "daemon",
      tasks: ids.length,
      finalized: finished.length,
      tasks_per_s: finished.length === 0 ? 0 : Number((finished.length / ((lastAt - started) / 1000)).toFixed(2)),
      latency_ms: { p50: Math.round(percentile(latencies, 50) ?? 0), p95: Math.round(percentile(latencies, 95) ?? 0) },
      rss_mb_max: Math.round(rssMax / 2 ** 20),
      post_s: Number(postedS.toFixed(2)),
      setup: { providers: 1, validators: 5, requesters: opts.requesters, rate_per_s: opts.rate, evaluator: "generated-minilm-l6-int8", block_ms: opts.blockMs, automine: opts.automine === true, commit_window: opts.commitWindow, reveal_window: opts.commitWindow, one_process: true },
      load_avg_1m: { before: Number(loadBefore.toFixed(2)), after: Number(loadavg()[0]!.toFixed(2)) },
      // Measured, not assumed: near 2 means the cores bound the run; well below, the pipeline's waits do.
      cpu_cores_used: Number(cpuCoresUsed.toFixed(2)),
    };
    if (opts.json) process.stdout.write(`${JSON.stringify(result)}\n`);
    else process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
  } finally {
    await net.teardown.run();
  }
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    process.stderr.write(`bench:daemon failed: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  },
);
