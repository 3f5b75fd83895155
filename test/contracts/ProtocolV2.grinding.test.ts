// Issue 10, finding 2 (committee grinding): the seed of a committee is public one block before anyone can draw,
// so a draw that read the pool as it is when drawCommittee runs could be re-rolled by changing the pool after
// seeing the seed (a 1-wei top-up, requestUnstake + cancel, a new stake). The draw now reads the pool as of the
// block before the seed block. Each test replays the grinding moves between the seed block and the draw and
// checks the committee is the one the seed fixed.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { getAddress, parseEventLogs } from "viem";
import { Role, TaskStatus, taskMarketAbi } from "../../sdk/contracts.ts";
import { setupProtocol, STAKE } from "./protocol-fixture.ts";

async function drawnMembers(env: Awaited<ReturnType<typeof setupProtocol>>, taskId: bigint) {
  const receipt = await env.wait(await env.read.market.write.drawCommittee([taskId]));
  const [drawn] = parseEventLogs({ abi: taskMarketAbi, logs: receipt.logs, eventName: "CommitteeDrawn" });
  return drawn.args.members.map((m) => getAddress(m));
}

describe("issue 10.2: no committee draw can be ground", () => {
  it("top-ups, unstake + cancel and new stakes after the seed block do not change the committee", async () => {
    const env = await setupProtocol({ providers: 1, validators: 10 });
    const taskId = await env.createTask();
    await env.answer(taskId);
    await env.mine(1); // the seed block exists: its hash (the seed) is public from here on
    const snapshot = await env.testClient.snapshot();
    const fair = await drawnMembers(env, taskId);
    await env.testClient.revert({ id: snapshot });

    // The coalition grinds: one member tops up 1 wei, one leaves and comes back, a fresh key joins with a big stake.
    const [a, b] = env.validators;
    await env.stake(a, Role.Validator, 1n);
    await env.wait(await env.as(b).registry.write.requestUnstake());
    await env.wait(await env.as(b).registry.write.cancelUnstake());
    const newcomer = env.wallets[env.wallets.length - 1];
    await env.stake(newcomer, Role.Validator, 50n * STAKE);
    const ground = await drawnMembers(env, taskId);
    assert.deepEqual(ground, fair, "the committee is the one the seed and the earlier pool fixed");
    assert.ok(!ground.includes(getAddress(newcomer.account.address)), "a stake added after the seed block is not drawn");
  });

  it("a member that requests an unstake after the seed block is still drawn (and locked)", async () => {
    const env = await setupProtocol({ providers: 1, validators: 5 }); // k = 5: everyone is drawn
    const taskId = await env.createTask();
    await env.answer(taskId);
    await env.mine(1);
    const leaver = env.validators[2];
    await env.wait(await env.as(leaver).registry.write.requestUnstake()); // trying to dodge the draw
    const members = await drawnMembers(env, taskId);
    assert.ok(members.includes(getAddress(leaver.account.address)));
    assert.equal((await env.read.registry.read.stakeInfo([leaver.account.address])).locks, 1);
  });

  it("a seed older than 256 blocks is replaced by a fresh one, never by one the caller picks", async () => {
    const env = await setupProtocol({ providers: 1, validators: 6 });
    const taskId = await env.createTask();
    await env.answer(taskId);
    await env.mine(300);
    const receipt = await env.wait(await env.read.market.write.drawCommittee([taskId]));
    const [reseed] = parseEventLogs({ abi: taskMarketAbi, logs: receipt.logs, eventName: "CommitteeReseeded" });
    assert.equal(reseed.args.seedBlock, receipt.blockNumber + 1n);
    assert.equal((await env.read.market.read.task([taskId])).status, TaskStatus.Answered);
    await env.mine(1);
    await drawnMembers(env, taskId);
    assert.equal((await env.read.market.read.task([taskId])).status, TaskStatus.Committee);
  });

  it("the registry refuses to draw over the current block's pool", async () => {
    const env = await setupProtocol({ providers: 1, validators: 5 });
    const now = await env.blockNumber();
    // eth_call runs against a pending block (now + 1): the block after it is not final.
    await assert.rejects(env.read.registry.read.drawCommittee([
      "0x0000000000000000000000000000000000000000000000000000000000000000", 1n, 1n, env.requester.account.address, now + 5n,
    ]));
  });
});
