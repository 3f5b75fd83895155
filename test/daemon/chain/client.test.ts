import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { socketClientCache } from "viem/utils";
import { startTestChain, type TestChain } from "../../helpers/chain.ts";
import { startLocalNode } from "../../../scripts/localnet/chain.ts";
import { startTcpProxy, type TcpProxy } from "../../helpers/tcp-proxy.ts";
import { waitFor } from "../../helpers/child-process.ts";
import { assertChainId, createChainClient } from "../../../daemon/chain/client.ts";
import { backoffDelayMs, retryWithBackoff } from "../../../daemon/chain/backoff.ts";
import { WrongChainError } from "../../../daemon/chain/errors.ts";
import { rpcHealthCheck } from "../../../daemon/chain/health.ts";
import { createLogWatcher, type WatcherEvent } from "../../../daemon/chain/watcher.ts";
import { createHeadFollower } from "../../../daemon/chain/heads.ts";
import { CursorStore } from "../../../daemon/store/cursor-store.ts";
import { createLogger } from "../../../daemon/observe/logger.ts";
import { createMetrics } from "../../../daemon/observe/metrics.ts";

const logger = createLogger({ level: "silent" });

describe("chain/backoff", () => {
  it("grows exponentially with jitter and never passes the ceiling", () => {
    const low = (a: number) => backoffDelayMs(a, { baseMs: 100, maxMs: 5_000, random: () => 0 });
    const high = (a: number) => backoffDelayMs(a, { baseMs: 100, maxMs: 5_000, random: () => 1 });
    assert.deepEqual([0, 1, 2, 3].map(low), [50, 100, 200, 400]);
    assert.deepEqual([0, 1, 2, 3].map(high), [100, 200, 400, 800]);
    assert.equal(high(50), 5_000);
    assert.equal(low(50), 2_500);
  });

  it("retries until success, but not errors marked non-retryable", async () => {
    let calls = 0;
    const value = await retryWithBackoff(async () => (++calls < 3 ? Promise.reject(new Error("flaky")) : "ok"), { attempts: 5, baseMs: 1 });
    assert.equal(value, "ok");
    assert.equal(calls, 3);
    calls = 0;
    await assert.rejects(
      retryWithBackoff(async () => (calls++, Promise.reject(new TypeError("bad input"))), { attempts: 5, baseMs: 1, isRetryable: (e) => !(e instanceof TypeError) }),
      TypeError,
    );
    assert.equal(calls, 1);
  });
});

/** A test chain behind a TCP proxy for the enclosing describe: started before its tests, closed after them. */
function chainBehindProxy(): { chain: TestChain; proxy: TcpProxy } {
  const held = {} as { chain: TestChain; proxy: TcpProxy };
  before(async () => {
    held.chain = await startTestChain();
    held.proxy = await startTcpProxy(held.chain.port);
  });
  after(async () => {
    await held.proxy?.close();
    await held.chain?.close();
  });
  return held;
}

describe("chain/client and watcher through RPC outages", () => {
  const net = chainBehindProxy();

  it("fails over to the next URL when the first is down, counting the error", async () => {
    const metrics = createMetrics({ withProcessMetrics: false });
    const down = await startTcpProxy(net.chain.port);
    await down.drop();
    const { client } = createChainClient({ chainId: net.chain.chainId, rpcUrls: [down.url("http"), net.chain.httpUrl], metrics, logger });
    assert.equal(await client.getBlockNumber({ cacheTime: 0 }), await net.chain.publicClient.getBlockNumber());
    await assertChainId(client, net.chain.chainId);
    await assert.rejects(assertChainId(client, 1), WrongChainError);
    await rpcHealthCheck(client, net.chain.chainId)();
    await assert.rejects(rpcHealthCheck(client, 1)(), /config expects 1/);
    assert.match(await metrics.registry.metrics(), /poq_rpc_errors_total\{operation="eth_blockNumber"\} [1-9]/);
  });

  for (const scheme of ["ws", "http"] as const) {
    it(`keeps following events over ${scheme} when the RPC drops and comes back, losing none`, async () => {
      const { client, subscribes, close } = createChainClient({ chainId: net.chain.chainId, rpcUrls: [net.proxy.url(scheme)], pollingIntervalMs: 100, requestTimeoutMs: 1_000 });
      assert.equal(subscribes, scheme === "ws");
      const seen: bigint[] = [];
      const startBlock = (await net.chain.publicClient.getBlockNumber()) + 1n;
      // Over WebSocket the daemon's head follower (one newHeads subscription, renewed after a quiet period) wakes the watcher.
      const heads = subscribes ? createHeadFollower({ client, subscribe: true, pollIntervalMs: 60_000, quietPeriodMs: 1_500, logger }) : undefined;
      const watcher = createLogWatcher({
        name: `drop-${scheme}`, client, address: net.chain.emitter, abi: net.chain.emitterAbi,
        cursorStore: new CursorStore(mkdtempSync(path.join(tmpdir(), "poq-drop-"))),
        onEvent: async (e: WatcherEvent) => void (e.type === "log" && seen.push(e.log.args.taskId as bigint)),
        confirmations: 0, finalityDepth: 20, maxBlockRange: 50, startBlock,
        // Over WebSocket the heads must do the waking: polling only happens after a quiet period.
        pollIntervalMs: scheme === "ws" ? 60_000 : 100, quietPeriodMs: 1_500, heads, logger,
      });
      watcher.start();
      try {
        await net.chain.emit("postTask", [101n, "0x01"]);
        await waitFor(() => seen.length === 1, 5_000, "the first event");
        await net.proxy.drop();
        await net.chain.emit("postTask", [102n, "0x01"]);
        await net.chain.emit("postTask", [103n, "0x01"]);
        await new Promise((r) => setTimeout(r, 500));
        assert.deepEqual(seen, [101n]);
        await net.proxy.restore();
        await waitFor(() => seen.length === 3, 10_000, `events after the outage (have ${seen})`);
        await net.chain.emit("postTask", [104n, "0x01"]);
        await waitFor(() => seen.length === 4, 10_000, "an event after recovery");
        assert.deepEqual(seen, [101n, 102n, 103n, 104n]);
      } finally {
        await watcher.stop();
        heads?.stop();
        await net.proxy.restore();
        await close();
      }
    });
  }
});

describe("chain/client close: WebSocket connections", () => {
  const net = chainBehindProxy();

  it("closes its socket and never opens one to close it", async () => {
    const url = net.proxy.url("ws");
    const a = createChainClient({ chainId: net.chain.chainId, rpcUrls: [url] });
    const b = createChainClient({ chainId: net.chain.chainId, rpcUrls: [url] });
    const openedBefore = net.proxy.opened();
    assert.equal(await a.client.getChainId(), net.chain.chainId);
    assert.equal(net.proxy.opened(), openedBefore + 1, "a's socket");
    await a.close();
    assert.equal(openSocketsTo(url), 0, "closed");
    await b.close(); // never used: before, this opened a socket to close it (and under load, left it open)
    assert.equal(net.proxy.opened(), openedBefore + 1, "closing opened no socket");
    assert.equal(openSocketsTo(url), 0);
  });

  it("a local node stops although a WebSocket client of this process was never closed", { timeout: 30_000 }, async () => {
    const node = await startLocalNode("hardhat");
    const url = `ws://127.0.0.1:${node.port}`;
    const forgotten = createChainClient({ chainId: net.chain.chainId, rpcUrls: [url] });
    assert.equal(await forgotten.client.getChainId(), net.chain.chainId);
    assert.equal(openSocketsTo(url), 1);
    await node.stop(); // hung for good before: the server waits for its WebSocket connections, viem keeps them alive
    assert.equal(openSocketsTo(url), 0);
  });

  it("a local node stops although a WebSocket nobody can reach through viem's cache is still open: cut from the server's side", { timeout: 30_000 }, async () => {
    const node = await startLocalNode("hardhat");
    const orphan = new WebSocket(`ws://127.0.0.1:${node.port}`); // as viem's unreachable second socket for one key
    await new Promise((resolve, reject) => { orphan.onopen = resolve; orphan.onerror = reject; });
    const closed = new Promise((resolve) => { orphan.onclose = resolve; });
    await node.stop();
    await closed;
    assert.equal(orphan.readyState, WebSocket.CLOSED);
  });

  it("a daemon's chain client has sockets of its own: another client's close leaves them open", async () => {
    const url = net.proxy.url("ws");
    const a = createChainClient({ chainId: net.chain.chainId, rpcUrls: [url] });
    const b = createChainClient({ chainId: net.chain.chainId, rpcUrls: [url] });
    await Promise.all([a.connect(), b.connect()]);
    assert.equal(openSocketsTo(url), 2, "one socket each");
    await a.close();
    assert.equal(openSocketsTo(url), 1, "b's socket is still open");
    assert.equal(await b.client.getChainId(), net.chain.chainId);
    await b.close();
    assert.equal(openSocketsTo(url), 0);
  });
});

/** viem's open WebSocket clients of this process to `url`. */
function openSocketsTo(url: string): number {
  return [...socketClientCache.values()].filter((c) => c.url.replace(/\/+$/, "") === url).length;
}
