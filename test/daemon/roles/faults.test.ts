import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { startTcpProxy, type TcpProxy } from "../../helpers/tcp-proxy.ts";
import { waitFor } from "../../helpers/child-process.ts";
import { STAKE } from "../../helpers/daemon.ts";
import { startTestNetwork, type TestDaemon, type TestNetwork } from "./helpers/network.ts";
import { roundSeats } from "./helpers/rounds.ts";
import { listFailedJobs } from "../../../daemon/queue/failed-jobs.ts";
import { claimableNow, TaskStatus } from "../../../sdk/contracts.ts";


/**
 * Chain and Redis faults in the middle of real rounds (1 provider + 5 validator daemons talking to the chain
 * through a TCP proxy that can cut the RPC). Each round must end finalized with every honest validator revealed,
 * nobody slashed, nothing in the failed-jobs views and every attestation published.
 */
describe("roles under faults: RPC outage, Redis restart, reorg around the commits", () => {
  let net: TestNetwork;
  let proxy: TcpProxy;
  let validators: TestDaemon[] = [];
  let provider: TestDaemon;

  before(async () => {
    net = await startTestNetwork();
    proxy = await startTcpProxy(net.chain.port);
    const rpc = [proxy.url("http")];
    provider = await net.startProvider([{ url: net.chat.base("ok"), timeoutMs: 5_000 }], rpc);
    validators = [];
    for (let i = 0; i < 5; i++) validators.push(await net.startValidator(undefined, rpc));
    await net.startBlocks();
  });
  after(async () => {
    await net?.close();
    await proxy?.close();
  });

  const status = async (taskId: bigint) => (await net.contracts.taskMarket.read.task([taskId])).status;

  async function expectHealthyEnd(taskId: bigint): Promise<void> {
    await waitFor(async () => (await status(taskId)) === TaskStatus.Finalized, 60_000, `task ${taskId} to be finalized`);
    const members = await roundSeats(net, taskId, 0);
    assert.ok(members.every((m) => m.revealed), "every member revealed");
    for (const v of validators) {
      assert.equal((await net.contracts.stakeRegistry.read.stakeInfo([v.account.address])).amount, STAKE, "no honest validator slashed");
      await waitFor(() => v.ctx.salts.get(String(taskId), 0)?.revealedTxHash !== undefined, 10_000, "the salt marked revealed");
      const published = await (await fetch(`${v.ctx.health.url}/attestations?task=${taskId}`)).text();
      assert.equal(published.trim().split("\n").length, 1, "attestation published once");
      assert.deepEqual(await listFailedJobs(v.ctx.queues), []);
    }
    // Claims done: nothing left in flight when the next fault starts.
    for (const d of [...validators, provider]) {
      await waitFor(async () => claimableNow(await net.contracts.taskMarket.read.claimable([d.account.address])) === 0n, 20_000, `${d.account.address} to claim`);
    }
    assert.deepEqual(await listFailedJobs(provider.ctx.queues), []);
  }

  it("survives an RPC outage in the middle of the round", async () => {
    const taskId = await net.createTask();
    await waitFor(async () => (await status(taskId)) === TaskStatus.Committee, 30_000, "the committee draw");
    await proxy.drop();
    await new Promise((r) => setTimeout(r, 1_500)); // about 8 blocks without RPC
    await proxy.restore();
    await expectHealthyEnd(taskId);
  });

  it("survives a Redis stop and restart in the middle of the round", async () => {
    const taskId = await net.createTask();
    await waitFor(async () => (await status(taskId)) === TaskStatus.Committee, 30_000, "the committee draw");
    await net.redis.stop();
    await new Promise((r) => setTimeout(r, 1_000));
    await net.redis.start();
    await expectHealthyEnd(taskId);
  });

  it("commits again, with the saved salts, after a reorg drops every commit", async () => {
    const taskId = await net.createTask();
    await waitFor(async () => (await status(taskId)) === TaskStatus.Answered, 30_000, "the answer");
    // Taken right after the answer block: the committee exists only from the seed block (the next one) on, and its
    // first commit draws it, so the reorg drops the draw and every commit.
    const snapshot = await net.chain.testClient.snapshot();
    const committed = async () => {
      const seats = await roundSeats(net, taskId, 0); // none before the draw
      return seats.length > 0 && seats.every((m) => m.committed);
    };
    await waitFor(committed, 20_000, "all five commits");
    const before = await roundSeats(net, taskId, 0);
    await new Promise((r) => setTimeout(r, 300)); // let the senders see their confirmations
    const withCommits = await net.chain.publicClient.getBlock({ blockTag: "latest" });
    await net.chain.testClient.revert({ id: snapshot });
    // The block that held the commits (and the draw their first one carried) is gone: the daemons may already be
    // sending them again, so the proof is that block's hash, not a read of the round that could race them.
    const replaced = await net.chain.publicClient.getBlock({ blockNumber: withCommits.number }).catch(() => undefined);
    assert.notEqual(replaced?.hash, withCommits.hash, "the reorg removed the block with the commits");
    await waitFor(committed, 20_000, "the commits sent again");
    const after = await roundSeats(net, taskId, 0);
    // By member, not seat: the new chain's seed block has another hash, so the committee may sit in another order.
    const byMember = (seats: typeof before) => Object.fromEntries(seats.map((m) => [m.account, m.commitment]));
    assert.deepEqual(byMember(after), byMember(before), "the same commitments (same salts)");
    await expectHealthyEnd(taskId);
  });
});
