// Issue 10, finding 6 and issue 11 (exact estimates): the provider is drawn from the hash of the block after the
// task's creation over the pool of the creation block, and materialized at first touch. createTask draws nothing,
// so its gas is the same whatever the block or the pool, and an estimate sent as the gas limit always succeeds.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { encodeFunctionData, getAddress, keccak256, parseEventLogs, toHex, zeroAddress } from "viem";
import { RefundReason, Role, TaskStatus, taskMarketAbi } from "../../sdk/contracts.ts";
import { DEFAULT_MARKET_PARAMS } from "../../sdk/deployment.ts";
import { DRAW_HORIZON } from "../../sdk/deploy.ts";
import { EVALUATOR_ID, expectRevert, FEE, MODEL_ID, STAKE, setupProtocol } from "./protocol-fixture.ts";

const providerPenalty = (fee: bigint) =>
  ((fee - (fee * BigInt(DEFAULT_MARKET_PARAMS.validatorPoolBps)) / 10_000n) * BigInt(DEFAULT_MARKET_PARAMS.providerTimeoutPenaltyBps)) /
  10_000n;

describe("issue 10.6: the requester cannot choose its provider; createTask's gas is exact", () => {
  it("createTask uses the same gas over 20 blocks and pool shapes, and its estimate sent as the limit succeeds", async () => {
    const env = await setupProtocol({ providers: 1, validators: 5 });
    const requester = env.as(env.requester);
    await env.fund(env.requester, 1_000n * FEE, env.manifest.contracts.taskMarket);
    const args = [MODEL_ID, EVALUATOR_ID, FEE, toHex("What is the capital of France?")] as const;
    await env.wait(await requester.market.write.createTask(args)); // first task: taskCount and the escrow go 0 -> non-zero
    // Providers that will reshape the pool between creations (stake sizes, joins, unstake requests).
    const newcomers = env.wallets.slice(10, 16);
    const gasUsed: bigint[] = [];
    for (let i = 0; i < 20; i++) {
      const shape = i % 4;
      const who = newcomers[i % newcomers.length]!;
      const info = await env.read.registry.read.stakeInfo([who.account.address]);
      if (shape === 0 && info.unstakeBlock === 0n) await env.stake(who, Role.Provider, STAKE * BigInt(1 + i)); // join or top up
      if (shape === 1 && info.role === Role.Provider && info.unstakeBlock === 0n) {
        await env.wait(await env.as(who).registry.write.requestUnstake()); // leave
      }
      if (shape === 2) await env.mine(1 + (i % 7)); // another block, another prevrandao
      const estimate = await env.publicClient.estimateGas({
        account: env.requester.account,
        to: env.manifest.contracts.taskMarket,
        data: encodeFunctionData({ abi: taskMarketAbi, functionName: "createTask", args }),
      });
      const receipt = await env.wait(await requester.market.write.createTask(args, { gas: estimate }));
      gasUsed.push(receipt.gasUsed);
    }
    assert.equal(new Set(gasUsed).size, 1, `createTask gas differs between blocks or pools: ${gasUsed.join(", ")}`);
    assert.ok((await env.read.registry.read.activeProviders([MODEL_ID])) > 1n, "the pool really changed shape");
  });

  it("a drawn provider cannot escape its timeout penalty by unstaking: the cooldown outlasts the provable draw", async () => {
    const env = await setupProtocol({ providers: 2, validators: 5 });
    const cooldown = await env.read.registry.read.unstakeCooldown();
    assert.ok(cooldown > DRAW_HORIZON, "the cooldown exceeds the 256 blocks a draw stays provable");
    assert.ok((await env.read.market.read.maxTaskLifetime()) > DRAW_HORIZON);
    const taskId = await env.createTask();
    const drawn = await env.providerOf(taskId);
    const wallet = env.walletOf(drawn);
    // The drawn provider sees its draw and leaves at once: it is not locked yet (nothing was materialized).
    await env.wait(await env.as(wallet).registry.write.requestUnstake());
    assert.equal((await env.read.registry.read.stakeInfo([drawn])).locks, 0);
    const t = await env.read.market.read.task([taskId]);
    // Wait until the last block at which the draw can still be proven, trying to withdraw first.
    await env.mine(Number(t.seedBlock + DRAW_HORIZON - 1n - (await env.blockNumber())));
    await expectRevert(env.as(wallet).registry.write.withdraw(), "CooldownNotOver");
    assert.equal(await env.read.market.read.assignedProvider([taskId]), drawn, "still provable");
    const before = (await env.read.registry.read.stakeInfo([drawn])).amount;
    const receipt = await env.wait(await env.read.market.write.reassign([taskId])); // lands at seedBlock + 256
    assert.equal(receipt.blockNumber, t.seedBlock + DRAW_HORIZON);
    const [timedOut] = parseEventLogs({ abi: taskMarketAbi, logs: receipt.logs, eventName: "ProviderTimedOut" });
    assert.equal(getAddress(timedOut.args.provider), getAddress(drawn));
    assert.equal(timedOut.args.slashed, providerPenalty(FEE));
    assert.equal((await env.read.registry.read.stakeInfo([drawn])).amount, before - providerPenalty(FEE));
  });

  it("a draw whose hash is gone slashes nobody and redraws from a later hash; nobody can answer it", async () => {
    const env = await setupProtocol({ providers: 2, validators: 5, params: { maxReassignments: 1 } });
    const stakes = async () =>
      Promise.all(env.providers.map(async (p) => (await env.read.registry.read.stakeInfo([p.account.address])).amount));
    const before = await stakes();
    const taskId = await env.createTask();
    await env.mine(Number(DRAW_HORIZON) + 5); // nobody touched the task: blockhash(seedBlock) is gone
    assert.equal(await env.read.market.read.assignedProvider([taskId]), zeroAddress);
    for (const p of env.providers) {
      const output = toHex("late");
      await expectRevert(env.as(p).market.write.submitAnswer([taskId, keccak256(output), output, ""]), "NotAssignedProvider");
    }
    const receipt = await env.wait(await env.read.market.write.reassign([taskId]));
    assert.equal(parseEventLogs({ abi: taskMarketAbi, logs: receipt.logs, eventName: "ProviderTimedOut" }).length, 0);
    const [scheduled] = parseEventLogs({ abi: taskMarketAbi, logs: receipt.logs, eventName: "ProviderDrawScheduled" });
    // The redraw uses the hash of the block after the reassign: waiting chose nothing for the requester.
    assert.equal(scheduled.args.seedBlock, receipt.blockNumber + 1n);
    assert.equal(scheduled.args.answerDeadline, receipt.blockNumber + 1n + BigInt(DEFAULT_MARKET_PARAMS.answerWindow));
    assert.deepEqual(await stakes(), before, "nobody was slashed for a draw that cannot be proven");
    assert.equal(await env.read.market.read.claimable([env.manifest.treasury]), 0n);
    // The new attempt works as any other: its provider answers.
    await env.answer(taskId);
    assert.equal((await env.read.market.read.task([taskId])).status, TaskStatus.Answered);
    // And when the redraws are used up, the requester is refunded in full (it got no answer).
    const second = await env.createTask();
    await env.mine(Number(DRAW_HORIZON) + 5);
    await env.wait(await env.read.market.write.reassign([second]));
    await env.mine(Number(DRAW_HORIZON) + 5);
    const last = await env.wait(await env.read.market.write.reassign([second]));
    const [refund] = parseEventLogs({ abi: taskMarketAbi, logs: last.logs, eventName: "TaskRefunded" });
    assert.equal(refund.args.reason, RefundReason.NoProvider);
    assert.equal(refund.args.amount, FEE);
    assert.deepEqual(await stakes(), before);
  });

  it("the answer deadline is fixed at creation, before anyone knows the provider", async () => {
    const env = await setupProtocol({ providers: 2, validators: 5 });
    const taskId = await env.createTask();
    const t = await env.read.market.read.task([taskId]);
    assert.equal(t.answerDeadline, t.createdBlock + 1n + BigInt(DEFAULT_MARKET_PARAMS.answerWindow));
    const drawn = await env.providerOf(taskId);
    await env.mine(Number(t.answerDeadline - 1n - (await env.blockNumber()))); // the answer lands at the deadline
    const output = toHex("just in time");
    const receipt = await env.wait(await env.as(env.walletOf(drawn)).market.write.submitAnswer([taskId, keccak256(output), output, ""]));
    assert.equal(receipt.blockNumber, t.answerDeadline);
    const [assigned] = parseEventLogs({ abi: taskMarketAbi, logs: receipt.logs, eventName: "ProviderAssigned" });
    assert.equal(getAddress(assigned.args.provider), getAddress(drawn), "materialized by its own answer");
    assert.equal(assigned.args.answerDeadline, t.answerDeadline);
  });

  it("a draw that finds nobody (the only provider left in the creation block) refunds in full without slash", async () => {
    const env = await setupProtocol({ providers: 1, validators: 5 });
    const [only] = env.providers;
    await env.fund(env.requester, FEE, env.manifest.contracts.taskMarket);
    await env.testClient.setAutomine(false);
    const created = await env.as(env.requester).market.write.createTask([MODEL_ID, EVALUATOR_ID, FEE, toHex("q")]);
    const left = await env.as(only!).registry.write.requestUnstake();
    await env.mine(1);
    await env.testClient.setAutomine(true);
    await env.wait(created);
    await env.wait(left);
    const taskId = await env.read.market.read.taskCount();
    await env.mine(2); // the seed block and one more: a call now sees its hash
    assert.equal(await env.read.market.read.assignedProvider([taskId]), zeroAddress);
    const receipt = await env.wait(await env.read.market.write.assignProvider([taskId]));
    const [refund] = parseEventLogs({ abi: taskMarketAbi, logs: receipt.logs, eventName: "TaskRefunded" });
    assert.equal(refund.args.reason, RefundReason.NoProvider);
    assert.equal(refund.args.amount, FEE);
    assert.equal((await env.read.registry.read.stakeInfo([only!.account.address])).amount, STAKE);
  });
});

describe("issue 11: reveals open as soon as every member committed", () => {
  it("a full committee reveals before commitEnd and finalizes at once; no commit can follow a reveal", async () => {
    const env = await setupProtocol({ providers: 1, validators: 6, params: { commitWindow: 20 } });
    const taskId = await env.createTask();
    await env.answer(taskId);
    const answeredAt = await env.blockNumber();
    const { members, task: drawn } = await env.draw(taskId);
    const scores = [8_000, 8_100, 7_900, 8_050, 7_950];
    // Four of five committed: the fifth could still choose its score, so nobody may reveal yet.
    const salts = await env.commitScores(taskId, members, [...scores.slice(0, 4), undefined]);
    assert.equal((await env.read.market.read.task([taskId])).committedCount, 4);
    const first = env.as(env.walletOf(members[0]!)).market;
    await expectRevert(first.write.reveal([taskId, await env.roundState(taskId), 0n, BigInt(scores[0]!), salts[0]!]), "RevealTooEarly");
    // The marker of an empty slot is refused: it would count the member without closing its slot.
    await expectRevert(
      env.as(env.walletOf(members[4]!)).market.write.commit([taskId, await env.roundState(taskId), 4n, `0x${"00".repeat(31)}01`]),
      "ReservedCommitment",
    );
    const last = env.commitment(scores[4]!, salts[4]!, members[4]!, taskId, 0);
    await env.wait(await env.as(env.walletOf(members[4]!)).market.write.commit([taskId, await env.roundState(taskId), 4n, last]));
    assert.equal((await env.read.market.read.task([taskId])).committedCount, 5);
    await env.revealScores(taskId, members, scores, salts);
    const finalized = await env.wait(await env.read.market.write.finalize([taskId, await env.roundState(taskId)]));
    assert.ok(finalized.blockNumber <= drawn.commitEnd, "settled before the commit window would have ended");
    assert.equal((await env.read.market.read.task([taskId])).status, TaskStatus.Finalized);
    // Automine: one block per transaction (draw, 5 commits, 5 reveals, finalize) after the answer and its seed block.
    assert.equal(finalized.blockNumber - answeredAt, 2n + 5n + 5n + 1n);
  });

  it("a round with a missing commit still waits for commitEnd before anyone reveals", async () => {
    const env = await setupProtocol({ providers: 1, validators: 6 });
    const taskId = await env.createTask();
    await env.answer(taskId);
    const { members } = await env.draw(taskId);
    const scores = [8_000, 8_100, 7_900, 8_050, undefined];
    const salts = await env.commitScores(taskId, members, scores);
    const t = await env.read.market.read.task([taskId]);
    const now = await env.blockNumber();
    await env.mine(Number(t.commitEnd - now - 1n)); // the next transaction lands at commitEnd
    await expectRevert(env.as(env.walletOf(members[0]!)).market.write.reveal([taskId, await env.roundState(taskId), 0n, 8_000n, salts[0]!]), "RevealTooEarly");
    await env.toRevealPhase(taskId);
    await env.revealScores(taskId, members, scores, salts); // from commitEnd + 1, as before
    await expectRevert(
      env.as(env.walletOf(members[4]!)).market.write.commit([taskId, await env.roundState(taskId), 4n, env.commitment(8_000, salts[4]!, members[4]!, taskId, 0)]),
      "CommitPhaseClosed",
    );
  });
});
