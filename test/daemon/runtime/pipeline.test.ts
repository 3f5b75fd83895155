import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { encodeAbiParameters, encodeFunctionData, keccak256, parseEther, parseEventLogs, type Hex } from "viem";
import { startTestChain, type TestChain } from "../../helpers/chain.ts";
import { startTestRedis, type TestRedis } from "../../helpers/redis.ts";
import { startTcpProxy, type TcpProxy } from "../../helpers/tcp-proxy.ts";
import { waitFor } from "../../helpers/child-process.ts";
import { loadConfig } from "../../../daemon/config/load.ts";
import { writeDaemonConfig } from "../../helpers/daemon.ts";
import { createDaemonContext, type DaemonContext } from "../../../daemon/runtime/context.ts";
import { createLogWatcher } from "../../../daemon/chain/watcher.ts";
import { enqueueStep } from "../../../daemon/queue/queues.ts";
import { createStepWorker } from "../../../daemon/queue/worker.ts";
import { listFailedJobs } from "../../../daemon/queue/failed-jobs.ts";
import { newSalt } from "../../../daemon/store/salt-store.ts";
import { createLogger } from "../../../daemon/observe/logger.ts";

/**
 * The infrastructure composed the way a role will use it (watcher -> queue -> worker -> durable salt ->
 * sender), on a real chain and a real Redis, while the RPC drops and Redis restarts. The "score" here is a
 * stand-in computed from the task id; the point is that no task is lost and each commit is proven by its event.
 */
describe("runtime pipeline: watcher -> BullMQ -> worker -> salt -> sender, under faults", () => {
  let chain: TestChain;
  let redis: TestRedis;
  let proxy: TcpProxy;
  let context: DaemonContext | undefined;
  before(async () => {
    [chain, redis] = await Promise.all([startTestChain(), startTestRedis()]);
    proxy = await startTcpProxy(chain.port);
  });
  after(async () => {
    await context?.close();
    await proxy?.close();
    await chain?.close();
    await redis?.dispose();
  });

  it("commits every posted task with the commitment saved on disk, despite an RPC drop and a Redis restart", async () => {
    const startBlock = (await chain.publicClient.getBlockNumber()) + 1n;
    const { configPath, address } = await writeDaemonConfig({
      chain, redisUrl: redis.url, fundWei: parseEther("5"),
      config: {
        chain: { chainId: chain.chainId, rpcUrls: [proxy.url("http")], confirmations: 0, pollIntervalMs: 100, startBlock: Number(startBlock) },
        queue: { lockDurationMs: 2_000, stalledIntervalMs: 2_000, backoffMs: 100, attempts: 20 },
        roles: { validator: { evaluatorDir: "models/e" } },
      },
    });
    const config = loadConfig({ file: configPath, env: {} });
    const logger = createLogger({ level: "silent" });
    context = await createDaemonContext({ config, logger, sender: { receiptPollMs: 50 } });
    const ctx = context;

    const watcher = createLogWatcher({
      name: "pipeline", client: ctx.chain.client, address: chain.emitter, abi: chain.emitterAbi, cursorStore: ctx.cursors,
      confirmations: 0, finalityDepth: 64, maxBlockRange: 100, startBlock, pollIntervalMs: 100, quietPeriodMs: 5_000, logger,
      onEvent: async (event) => {
        if (event.type !== "log" || event.log.eventName !== "TaskPosted") return;
        // Throws while Redis is down: the watcher keeps its cursor and delivers the event again later.
        await enqueueStep(ctx.queues, { step: "score", data: { taskId: String(event.log.args.taskId), round: 0 } });
      },
    });
    const worker = createStepWorker({
      step: "score", connection: ctx.workerConnection(), timing: ctx.workerTiming, concurrency: 3, logger, prefix: ctx.queuePrefix,
      handler: async (job) => {
        const { taskId, round } = job.data;
        const score = (Number(taskId) * 37) % 10_001;
        const outputHash = keccak256(`0x${Number(taskId).toString(16).padStart(2, "0")}`);
        ctx.equivocation.checkAndRecord({ taskId, outputHash, score });
        // Idempotent: a re-run (stall, retry) reuses the salt already on disk instead of making a new one.
        const existing = ctx.salts.get(taskId, round);
        const salt: Hex = existing?.salt ?? newSalt();
        const commitment = keccak256(encodeAbiParameters([{ type: "uint256" }, { type: "bytes32" }], [BigInt(score), salt]));
        if (existing === undefined) ctx.salts.save({ taskId, round, score, salt, commitment });
        const sent = await ctx.sender.send({
          label: `commit:${taskId}:${round}`, to: chain.emitter,
          data: encodeFunctionData({ abi: chain.emitterAbi, functionName: "commitScore", args: [BigInt(taskId), commitment] }),
          expect: { abi: chain.emitterAbi, eventName: "ScoreCommitted", where: (args) => args.taskId === BigInt(taskId) },
        });
        return sent.hash;
      },
    });
    watcher.start();
    try {
      const tasks = Array.from({ length: 12 }, (_, i) => BigInt(1_000 + i));
      for (const id of tasks.slice(0, 4)) await chain.emit("postTask", [id, "0x01"]);
      await proxy.drop(); // RPC outage: the watcher backs off, sends fail and are retried
      for (const id of tasks.slice(4, 8)) await chain.emit("postTask", [id, "0x01"]);
      await new Promise((r) => setTimeout(r, 800));
      await proxy.restore();
      await redis.stop(); // Redis outage: enqueues fail, workers wait
      await new Promise((r) => setTimeout(r, 800));
      await redis.start();
      for (const id of tasks.slice(8)) await chain.emit("postTask", [id, "0x01"]);
      // Twelve distinct commits, each carrying the commitment saved on disk before it was sent.
      const committed = async () => {
        const logs = await chain.publicClient.getLogs({ address: chain.emitter, fromBlock: startBlock });
        return parseEventLogs({ abi: chain.emitterAbi, logs, eventName: "ScoreCommitted" }) as unknown as { args: { taskId: bigint; validator: string; commitment: Hex } }[];
      };
      await waitFor(async () => new Set((await committed()).map((l) => l.args.taskId)).size === tasks.length, 60_000, "all tasks committed");
      for (const log of await committed()) {
        assert.equal(log.args.validator, address);
        assert.equal(ctx.salts.get(String(log.args.taskId), 0)?.commitment, log.args.commitment, "the chain holds the saved commitment");
      }
      assert.deepEqual(await listFailedJobs(ctx.queues), []);
    } finally {
      await watcher.stop();
      await worker.close();
    }
  });
});
