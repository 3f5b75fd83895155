import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { encodeFunctionData, parseEther, keccak256 } from "viem";
import { startTestChain, type TestChain } from "../../helpers/chain.ts";
import { startTestRedis, type TestRedis } from "../../helpers/redis.ts";
import { loadConfig } from "../../../daemon/config/load.ts";
import { writeDaemonConfig } from "../../helpers/daemon.ts";
import { createDaemonContext } from "../../../daemon/runtime/context.ts";
import { createLogger } from "../../../daemon/observe/logger.ts";
import type { HealthReport } from "../../../daemon/observe/health-server.ts";

describe("runtime/createDaemonContext", () => {
  let chain: TestChain;
  let redis: TestRedis;
  before(async () => {
    [chain, redis] = await Promise.all([startTestChain(), startTestRedis()]);
  });
  after(async () => {
    await chain?.close();
    await redis?.dispose();
  });

  it("builds the shared infrastructure from a config file, serves honest /health, sends, and closes cleanly, once", async () => {
    const { configPath, address } = await writeDaemonConfig({
      chain, redisUrl: redis.url, fundWei: parseEther("1"),
      rpcUrls: [chain.httpUrl, chain.wsUrl], config: { roles: { validator: { evaluatorDir: "models/e" } } },
    });
    let evaluatorUp = true;
    const context = await createDaemonContext({
      config: loadConfig({ file: configPath, env: {} }),
      logger: createLogger({ level: "silent" }),
      checks: { evaluator: async () => void assert.ok(evaluatorUp, "evaluator files missing") },
      sender: { receiptPollMs: 50 },
    });
    let mining: NodeJS.Timeout | undefined;
    try {
      assert.equal(context.account.address, address);
      let res = await fetch(`${context.health.url}/health`);
      assert.equal(res.status, 200);
      assert.deepEqual(Object.keys(((await res.json()) as HealthReport).checks).sort(), ["evaluator", "redis", "rpc"]);
      evaluatorUp = false;
      res = await fetch(`${context.health.url}/health`);
      assert.equal(res.status, 503);

      // confirmations: 1, and automine makes no block on its own: mine one once the commit is in.
      mining = setInterval(() => void chain.mine(1), 200);
      const sent = await context.sender.send({
        label: "commit:1:0", to: chain.emitter,
        data: encodeFunctionData({ abi: chain.emitterAbi, functionName: "commitScore", args: [1n, keccak256("0x01")] }),
        expect: { abi: chain.emitterAbi, eventName: "ScoreCommitted" },
      });
      clearInterval(mining);
      assert.equal(sent.event.args.validator, address);
      assert.ok((await chain.publicClient.getBlockNumber()) >= sent.receipt.blockNumber + 1n, "waited for a confirmation");
      const metrics = await (await fetch(`${context.health.url}/metrics`)).text();
      assert.match(metrics, new RegExp(`poq_balance_wei\\{address="${address}",token="native"\\} (1e\\+18|1000000000000000000)\n`));
      assert.match(metrics, /poq_queue_depth\{queue="poq-commit",state="waiting"\} 0/);
    } finally {
      clearInterval(mining);
      await context.close();
    }
    await context.close(); // a second close (a harness's teardown after the daemon's own) is the same close
  });

  it("refuses to start against the wrong chain", async () => {
    const dir = mkdtempSync(path.join(tmpdir(), "poq-ctx-"));
    const config = loadConfig({ env: {
      POQ_CHAIN_ID: "1", POQ_RPC_URLS: chain.httpUrl, POQ_REDIS_URL: redis.url, POQ_KEYSTORE: path.join(dir, "k.json"),
      POQ_STATE_DIR: dir, POQ_EVALUATOR_DIR: dir, POQ_METRICS_PORT: "0",
    } });
    await assert.rejects(createDaemonContext({ config, logger: createLogger({ level: "silent" }) }), /RPC serves chain id 31337 but the config expects 1/);
  });
});
