import assert from "node:assert/strict";
import { existsSync, statSync } from "node:fs";
import { connect } from "node:net";
import { describe, it } from "node:test";
import { parseEther } from "viem";
import { startLocalnet } from "../../scripts/localnet/index.ts";
import { startLocalRedis } from "../../scripts/localnet/redis.ts";
import { createTeardown } from "../../scripts/localnet/teardown.ts";
import { getProtocolContracts } from "../../sdk/contracts.ts";
import { modelId } from "../../sdk/model-id.ts";

const portOpen = (port: number) =>
  new Promise<boolean>((resolve) => {
    const socket = connect(port, "127.0.0.1");
    socket.once("connect", () => (socket.destroy(), resolve(true)));
    socket.once("error", () => resolve(false));
  });

describe("scripts/localnet (the local network harness)", () => {
  it("starts chain + Redis, deploys, makes staked actors with keystores and daemon contexts, and tears all of it down", async () => {
    const previous = process.env.REDIS_URL;
    delete process.env.REDIS_URL;
    const net = await startLocalnet({ params: { commitWindow: 15 } });
    let redisPort = 0;
    try {
      redisPort = Number(new URL(net.redisUrl).port);
      assert.ok(await portOpen(redisPort), "private redis-server is up");
      assert.equal(net.manifest.parameters.market.commitWindow, 15);
      const alice = await net.actor("alice");
      assert.equal(statSync(alice.passwordFile).mode & 0o777, 0o600);
      await net.stake(alice, { role: "provider", amount: parseEther("500"), models: ["demo-model"] });
      const { stakeRegistry } = getProtocolContracts(net.manifest, { public: net.chain.publicClient });
      assert.equal(await stakeRegistry.read.activeProviders([modelId("demo-model")]), 1n);
      const daemon = await net.daemon(alice, { provider: { models: { "demo-model": { endpoints: [{ url: "http://127.0.0.1:9/v1" }] } } } });
      assert.equal(daemon.ctx.account.address, alice.address, "the context unlocked the actor's keystore");
      const health = await fetch(`${daemon.healthUrl}/metrics`);
      assert.equal(health.status, 200);
      const before = await net.chain.publicClient.getBlockNumber();
      await net.startBlocks(20);
      await new Promise((r) => setTimeout(r, 200));
      assert.ok((await net.chain.publicClient.getBlockNumber()) > before + 2n, "the block producer mines");
    } finally {
      await net.teardown.run();
      if (previous !== undefined) process.env.REDIS_URL = previous;
    }
    assert.equal(await portOpen(redisPort), false, "redis-server stopped");
    assert.equal(existsSync(net.dir), false, "temp folder removed");
    await assert.rejects(net.chain.publicClient.getBlockNumber(), "chain server closed");
  });

  it("teardown runs cleanups last-first, once, and reports a failing one without skipping the rest", async () => {
    const order: string[] = [];
    const failures: string[] = [];
    const teardown = createTeardown({ onError: (label) => failures.push(label), stepTimeoutMs: 100 });
    teardown.defer("a", () => order.push("a"));
    teardown.defer("boom", () => {
      throw new Error("boom");
    });
    teardown.defer("stuck", () => new Promise(() => {}));
    teardown.defer("c", async () => order.push("c"));
    await Promise.all([teardown.run(), teardown.run()]);
    assert.deepEqual(order, ["c", "a"]);
    assert.deepEqual(failures, ["stuck", "boom"]);
  });

  it("a Redis can be stopped and restarted on the same port with its data", async () => {
    const redis = await startLocalRedis();
    try {
      await redis.stop();
      assert.equal(await portOpen(redis.port), false);
      await redis.start();
      assert.ok(await portOpen(redis.port));
    } finally {
      await redis.dispose();
    }
    assert.equal(existsSync(redis.dir), false);
  });
});
