import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { startTestChain, type TestChain } from "../../helpers/chain.ts";
import { waitFor } from "../../helpers/child-process.ts";
import { createChainClient } from "../../../daemon/chain/client.ts";
import { createLogWatcher, type CreateLogWatcherParameters, type WatcherEvent } from "../../../daemon/chain/watcher.ts";
import { DeepReorgError } from "../../../daemon/chain/errors.ts";
import { watcherHealthCheck } from "../../../daemon/chain/health.ts";
import { bloomMayContain } from "../../../daemon/chain/bloom.ts";
import { CursorStore } from "../../../daemon/store/cursor-store.ts";
import { createLogger } from "../../../daemon/observe/logger.ts";
import { createMetrics } from "../../../daemon/observe/metrics.ts";

const logger = createLogger({ level: "silent" });
const hex32 = (n: number) => `0x${n.toString(16).padStart(64, "0")}` as const;

/** A consumer that keeps the state a role would: task ids seen, undone on reorg. */
function consumer() {
  const events: WatcherEvent[] = [];
  let tasks: { id: bigint; block: bigint }[] = [];
  let failNext = 0;
  return {
    events,
    tasks: () => tasks.map((t) => t.id),
    failOnNextLogs: (n: number) => (failNext = n),
    onEvent: async (event: WatcherEvent) => {
      if (event.type === "log" && failNext > 0 && --failNext === 0) throw new Error("consumer crashed (e.g. Redis down)");
      events.push(event);
      if (event.type === "log") tasks.push({ id: event.log.args.taskId as bigint, block: event.log.blockNumber });
      if (event.type === "reorg") tasks = tasks.filter((t) => t.block <= event.ancestor.number);
    },
  };
}

describe("chain/watcher on a real Hardhat JSON-RPC server", () => {
  let chain: TestChain;
  before(async () => (chain = await startTestChain()));
  after(async () => chain?.close());

  function watcherFor(stateDir: string, c: ReturnType<typeof consumer>, overrides: Partial<CreateLogWatcherParameters> = {}) {
    const { client } = createChainClient({ chainId: chain.chainId, rpcUrls: [chain.httpUrl], pollingIntervalMs: 50 });
    return createLogWatcher({
      name: "emitter", client, address: chain.emitter, abi: chain.emitterAbi, cursorStore: new CursorStore(stateDir),
      onEvent: c.onEvent, confirmations: 0, finalityDepth: 20, maxBlockRange: 3, pollIntervalMs: 50, quietPeriodMs: 1_000,
      logger, ...overrides,
    });
  }
  const freshState = () => mkdtempSync(path.join(tmpdir(), "poq-watch-"));

  it("backfills in bounded ranges, waits for confirmations, resumes from the saved cursor", async () => {
    const dir = freshState();
    const startBlock = (await chain.publicClient.getBlockNumber()) + 1n;
    for (let i = 1; i <= 7; i++) await chain.emit("postTask", [BigInt(i), "0x01"]);
    const c = consumer();
    const watcher = watcherFor(dir, c, { confirmations: 2, startBlock });
    await watcher.syncOnce();
    assert.deepEqual(c.tasks(), [1n, 2n, 3n, 4n, 5n], "the last two blocks are not confirmed yet");
    assert.ok(c.events.filter((e) => e.type === "checkpoint").length >= 2, "several bounded ranges");
    await chain.mine(2);
    await watcher.syncOnce();
    assert.deepEqual(c.tasks(), [1n, 2n, 3n, 4n, 5n, 6n, 7n]);

    // A daemon stopped and restarted resumes from the persisted cursor: nothing old again, only what is new.
    await watcher.stop();
    const c2 = consumer();
    const restarted = watcherFor(dir, c2, { confirmations: 0, startBlock });
    await chain.emit("postTasks", [[8n, 9n, 10n]]);
    await restarted.syncOnce();
    assert.deepEqual(c2.tasks(), [8n, 9n, 10n], "several logs of one transaction, in log order");
  });

  it("reads a block's bloom right: the emitter's block holds it, an empty block and another address do not", async () => {
    const withLog = await chain.publicClient.getBlock({ blockNumber: await chain.emit("postTask", [11n, "0x01"]) });
    assert.equal(bloomMayContain(withLog.logsBloom, chain.emitter), true);
    assert.equal(bloomMayContain(withLog.logsBloom, "0x000000000000000000000000000000000000dEaD"), false);
    await chain.mine(1);
    const empty = await chain.publicClient.getBlock({ blockTag: "latest" });
    assert.equal(bloomMayContain(empty.logsBloom, chain.emitter), false);
    assert.equal(bloomMayContain(null, chain.emitter), true, "no bloom: maybe (read the logs)");
    assert.equal(bloomMayContain("0x00", chain.emitter), true, "a malformed bloom: maybe");
  });

  it("following one block at a time (the bloom decides which blocks' logs are read), misses no event", async () => {
    const startBlock = (await chain.publicClient.getBlockNumber()) + 1n;
    const c = consumer();
    const watcher = watcherFor(freshState(), c, { startBlock, maxBlockRange: 1 });
    for (const id of [12n, 13n]) {
      await chain.emit("postTask", [id, "0x01"]);
      await chain.mine(2);
    }
    await chain.emit("postTasks", [[14n, 15n]]);
    await watcher.syncOnce();
    assert.deepEqual(c.tasks(), [12n, 13n, 14n, 15n]);
  });

  it("delivers each (txHash, logIndex) once when the consumer fails midway and the range is retried", async () => {
    const startBlock = (await chain.publicClient.getBlockNumber()) + 1n;
    await chain.emit("postTasks", [[21n, 22n, 23n]]);
    const c = consumer();
    const watcher = watcherFor(freshState(), c, { startBlock });
    c.failOnNextLogs(2);
    await assert.rejects(watcher.syncOnce(), /consumer crashed/);
    await watcher.syncOnce();
    assert.deepEqual(c.tasks(), [21n, 22n, 23n]);
    const keys = c.events.flatMap((e) => (e.type === "log" ? [`${e.log.transactionHash}:${e.log.logIndex}`] : []));
    assert.equal(new Set(keys).size, keys.length);
  });

  it("reports a malformed log and carries on", async () => {
    const startBlock = (await chain.publicClient.getBlockNumber()) + 1n;
    await chain.emit("emitMalformedTaskPosted", [31n]);
    await chain.emit("postTask", [32n, "0x02"]);
    const c = consumer();
    await watcherFor(freshState(), c, { startBlock }).syncOnce();
    const malformed = c.events.filter((e) => e.type === "malformed");
    assert.equal(malformed.length, 1);
    assert.deepEqual(c.tasks(), [32n]);
  });

  it("detects a reorg by parent hash, rewinds to the common ancestor and re-delivers the new fork", async () => {
    const startBlock = (await chain.publicClient.getBlockNumber()) + 1n;
    const metrics = createMetrics({ withProcessMetrics: false });
    const c = consumer();
    const watcher = watcherFor(freshState(), c, { startBlock, maxBlockRange: 1, metrics });
    await chain.emit("postTask", [41n, "0x01"]);
    await watcher.syncOnce();
    const snapshot = await chain.testClient.snapshot();
    const forkBase = await chain.publicClient.getBlockNumber();
    await chain.emit("postTask", [42n, "0x01"]);
    await chain.emit("postTask", [43n, "0x01"]);
    await watcher.syncOnce();
    assert.deepEqual(c.tasks(), [41n, 42n, 43n]);

    await chain.testClient.revert({ id: snapshot });
    await chain.emit("postTask", [52n, "0x02"]);
    await chain.emit("commitScore", [52n, hex32(1)]);
    await chain.emit("postTask", [53n, "0x02"]);
    await watcher.syncOnce();
    const reorg = c.events.find((e) => e.type === "reorg");
    assert.ok(reorg && reorg.type === "reorg");
    assert.equal(reorg.ancestor.number, forkBase);
    assert.deepEqual(c.tasks(), [41n, 52n, 52n, 53n], "the consumer ends on the new fork only");
    assert.match(await metrics.registry.metrics(), /poq_reorgs_total\{kind="shallow"\} 1/);
  });

  it("raises a reorg deeper than the finality depth as an alert and halts", async () => {
    const startBlock = (await chain.publicClient.getBlockNumber()) + 1n;
    const c = consumer();
    const watcher = watcherFor(freshState(), c, { startBlock, maxBlockRange: 1, finalityDepth: 3 });
    const health = watcherHealthCheck(watcher, 60_000);
    await assert.rejects(health(), /not synced yet/);
    const snapshot = await chain.testClient.snapshot();
    for (let i = 0; i < 5; i++) await chain.emit("postTask", [BigInt(60 + i), "0x01"]);
    await watcher.syncOnce();
    await health();
    await chain.testClient.revert({ id: snapshot });
    for (let i = 0; i < 6; i++) await chain.emit("postTask", [BigInt(70 + i), "0x02"]);
    await assert.rejects(watcher.syncOnce(), DeepReorgError);
    assert.ok(c.events.some((e) => e.type === "deepReorg"));
    assert.equal(watcher.status().halted, true);
    await assert.rejects(watcher.syncOnce(), DeepReorgError, "stays halted until an operator acts");
    await assert.rejects(health(), /halted/, "and /health says so");
  });
});
