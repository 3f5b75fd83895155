import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import path from "node:path";
import { parseEther, parseEventLogs } from "viem";
import { startTestChain, type TestChain } from "../../helpers/chain.ts";
import { startTestRedis, type TestRedis } from "../../helpers/redis.ts";
import { spawnTsChild, waitFor } from "../../helpers/child-process.ts";
import { writeDaemonConfig } from "../../helpers/daemon.ts";
import { createRedisConnection } from "../../../daemon/queue/connection.ts";
import { closeStepQueues, createStepQueues, enqueueStep } from "../../../daemon/queue/queues.ts";
import { SaltStore } from "../../../daemon/store/salt-store.ts";

const childUrl = new URL("./children/commit-worker.ts", import.meta.url);

describe("runtime crash recovery: SIGKILL after the salt is saved, before the commit is sent", () => {
  let chain: TestChain;
  let redis: TestRedis;
  before(async () => {
    [chain, redis] = await Promise.all([startTestChain(), startTestRedis()]);
  });
  after(async () => {
    await chain?.close();
    await redis?.dispose();
  });

  it("a restarted worker commits with the salt saved before the crash", async () => {
    const { dir, configPath, address } = await writeDaemonConfig({
      chain, redisUrl: redis.url, fundWei: parseEther("1"),
      config: { chain: { chainId: chain.chainId, rpcUrls: [chain.httpUrl], confirmations: 0 }, roles: { validator: { evaluatorDir: "models/e" } } },
    });
    const producer = createRedisConnection(redis.url, "producer");
    const queues = createStepQueues(producer, { attempts: 5, backoffMs: 100 });
    const env = { POQ_TEST_CHILD: "commit-worker" };
    try {
      const first = spawnTsChild(childUrl, [configPath, chain.emitter, "7"], () => {}, env);
      await enqueueStep(queues, { step: "commit", data: { taskId: "7", round: 0 } });
      await first.exited;
      assert.equal(first.child.signalCode, "SIGKILL", first.stderr());
      const saved = new SaltStore(path.join(dir, "state")).get("7", 0);
      assert.ok(saved, "the salt was on disk before the process died");

      const lines: string[] = [];
      const second = spawnTsChild(childUrl, [configPath, chain.emitter, "none"], (l) => lines.push(l), env);
      try {
        await waitFor(() => lines.some((l) => l.startsWith("committed 7")), 20_000, `the restarted worker to commit ${second.stderr()}`);
        const logs = parseEventLogs({ abi: chain.emitterAbi, logs: await chain.publicClient.getLogs({ address: chain.emitter, fromBlock: 0n }), eventName: "ScoreCommitted" }) as unknown as { args: { taskId: bigint; commitment: string; validator: string } }[];
        const mine = logs.filter((l) => l.args.taskId === 7n && l.args.validator === address);
        assert.equal(mine.length, 1);
        assert.equal(mine[0]!.args.commitment, saved.commitment, "committed with the pre-crash salt, so it can be revealed");
      } finally {
        second.child.kill("SIGTERM");
        await second.exited;
      }
    } finally {
      await closeStepQueues(queues);
      producer.disconnect();
    }
  });
});
