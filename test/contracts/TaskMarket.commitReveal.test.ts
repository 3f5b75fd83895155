import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { getAddress, parseEventLogs } from "viem";
import { RefundReason, TaskStatus, taskMarketAbi } from "../../sdk/contracts.ts";
import { signCommitCompact, taskMarketDomain } from "../../sdk/eip712.ts";
import { DEFAULT_MARKET_PARAMS } from "../../sdk/deployment.ts";
import { nonRevealPenalty } from "../../sdk/protocol-math.ts";
import { expectRevert, FEE, type Protocol, setupProtocol } from "./protocol-fixture.ts";

async function committeeTask(env: Protocol) {
  const taskId = await env.createTask();
  await env.answer(taskId);
  const { members } = await env.draw(taskId);
  return { taskId, members };
}

/** The non-reveal penalty of one seat under the default parameters: a multiple of the seat's share. */
function seatPenalty(fee: bigint, k: number): bigint {
  // The SDK's port (used by the simulator), checked here against the chain.
  const p = DEFAULT_MARKET_PARAMS;
  return nonRevealPenalty(fee, k, BigInt(p.validatorPoolBps), BigInt(p.nonRevealPenaltyBps));
}

describe("TaskMarket commit-reveal matrix (each case has its own custom error)", () => {
  it("early, late, duplicate, wrong salt, wrong sender, copied commit, replay from another task", async () => {
    const env = await setupProtocol({ providers: 1, validators: 7 });
    const { taskId, members } = await committeeTask(env);
    const [a, b, c] = members;
    const asA = env.as(env.walletOf(a)).market;
    const asB = env.as(env.walletOf(b)).market;
    const asC = env.as(env.walletOf(c)).market;
    const saltA = env.randomSalt();
    const commitA = env.commitment(7_000, saltA, a, taskId, 0);
    await env.wait(await asA.write.commit([taskId, await env.roundState(taskId), 0n, commitA]));

    // wrong sender: a non-member, or a member using someone else's seat
    const outsider = env.validators.find((v) => !members.includes(getAddress(v.account.address)))!;
    await expectRevert(env.as(outsider).market.write.commit([taskId, await env.roundState(taskId), 0n, commitA]), "NotCommitteeMember");
    await expectRevert(asB.write.commit([taskId, await env.roundState(taskId), 0n, commitA]), "NotCommitteeMember");
    // duplicate commit
    await expectRevert(asA.write.commit([taskId, await env.roundState(taskId), 0n, commitA]), "AlreadyCommitted");
    // A marker-shaped value (top 96 bits zero) is no commitment: refused, as before the rounds ABI. A seat past the
    // committee, or another member's seat, is not the sender's (state.members[index] != msg.sender).
    const markerOf = (account: string) => `0x${"00".repeat(12)}${account.slice(2).toLowerCase()}` as const;
    await expectRevert(asB.write.commit([taskId, await env.roundState(taskId), 1n, markerOf(b)]), "ReservedCommitment");
    await expectRevert(asB.write.commit([taskId, await env.roundState(taskId), 1n, markerOf(a)]), "ReservedCommitment");
    await expectRevert(asB.write.commit([taskId, await env.roundState(taskId), 5n, commitA]), "NotCommitteeMember");
    await expectRevert(asB.write.commit([taskId, await env.roundState(taskId), 255n, commitA]), "NotCommitteeMember");
    // an index past 255 would reach into other rounds' keys (round << 8 | index): refused with the same error
    await expectRevert(asB.write.commit([taskId, await env.roundState(taskId), 256n + 1n, commitA]), "NotCommitteeMember");
    await expectRevert(asB.write.commit([taskId, await env.roundState(taskId), 2n ** 256n - 1n, commitA]), "NotCommitteeMember");
    await expectRevert(asB.write.commit([taskId, await env.roundState(taskId), 2n, commitA]), "NotCommitteeMember");
    assert.equal((await env.read.market.read.task([taskId])).committedCount, 1);
    // copied commit: B commits A's commitment verbatim, later tries A's opening
    await env.wait(await asB.write.commit([taskId, await env.roundState(taskId), 1n, commitA]));
    // C commits properly (for the wrong-salt case)
    const saltC = env.randomSalt();
    await env.wait(await asC.write.commit([taskId, await env.roundState(taskId), 2n, env.commitment(6_500, saltC, c, taskId, 0)]));

    // replay from another task: D's signed commit for task 99, put in a commit report of this task for D's seat,
    // recovers to another address (a report's seats past the committee: InvalidMask, test/contracts/Rounds.t.sol)
    const d0 = members[3];
    const domain = taskMarketDomain(env.chainId, env.manifest.contracts.taskMarket);
    const replayed = { taskId: 99n, round: 0n, commitment: env.commitment(6_000, env.randomSalt(), d0, taskId, 0), deadline: 2n ** 40n };
    const signature = [...(await signCommitCompact(env.walletOf(d0), domain, replayed))] as [`0x${string}`, `0x${string}`];
    await expectRevert(
      env.as(env.wallets[18]).market.write.commitReport([
        await env.roundState(taskId),
        { taskId, round: 0n, mask: 1 << 3, commitments: [replayed.commitment], deadline: replayed.deadline, signatures: [signature] },
      ]),
      "InvalidSigner",
    );

    // early: reveal during the commit phase
    await expectRevert(asA.write.reveal([taskId, await env.roundState(taskId), 0n, 7_000n, saltA]), "RevealTooEarly");
    await env.toRevealPhase(taskId);
    // late commit: the commit phase is over
    const d = members[3];
    await expectRevert(
      env.as(env.walletOf(d)).market.write.commit([taskId, await env.roundState(taskId), 3n, env.commitment(1, saltA, d, taskId, 0)]),
      "CommitPhaseClosed",
    );
    // reveal without commit
    await expectRevert(env.as(env.walletOf(d)).market.write.reveal([taskId, await env.roundState(taskId), 3n, 1n, saltA]), "NotCommitted");
    // wrong salt
    await expectRevert(asC.write.reveal([taskId, await env.roundState(taskId), 2n, 6_500n, env.randomSalt()]), "CommitmentMismatch");
    // out-of-range score
    await expectRevert(asC.write.reveal([taskId, await env.roundState(taskId), 2n, 10_001n, saltC]), "ScoreOutOfRange");
    // copied commitment: B learns A's opening after A reveals and replays it
    await env.wait(await asA.write.reveal([taskId, await env.roundState(taskId), 0n, 7_000n, saltA]));
    const [, , original] = await expectRevert(asB.write.reveal([taskId, await env.roundState(taskId), 1n, 7_000n, saltA]), "CopiedCommitment");
    assert.equal(original, a);
    // duplicate reveal
    await expectRevert(asA.write.reveal([taskId, await env.roundState(taskId), 0n, 7_000n, saltA]), "AlreadyRevealed");
    // late reveal
    await env.toAfterReveal(taskId);
    await env.mine(1);
    await expectRevert(asC.write.reveal([taskId, await env.roundState(taskId), 2n, 6_500n, saltC]), "RevealPhaseClosed");
  });

  it("a commitment bound to task 1, committed again in task 2, cannot be opened there", async () => {
    const env = await setupProtocol({ providers: 1, validators: 5 });
    const first = await committeeTask(env);
    const second = await committeeTask(env);
    // With 5 validators and k = 5 both committees are the whole pool; seats may differ.
    const v = first.members[0];
    const seat2 = BigInt(second.members.indexOf(v));
    const market = env.as(env.walletOf(v)).market;
    const salt = env.randomSalt();
    const commitFor1 = env.commitment(5_000, salt, v, first.taskId, 0);
    await env.wait(await market.write.commit([first.taskId, await env.roundState(first.taskId), 0n, commitFor1]));
    await env.wait(await market.write.commit([second.taskId, await env.roundState(second.taskId), seat2, commitFor1])); // replayed commitment
    await env.toRevealPhase(second.taskId);
    await expectRevert(market.write.reveal([second.taskId, await env.roundState(second.taskId), seat2, 5_000n, salt]), "CommitmentMismatch");
    await env.wait(await market.write.reveal([first.taskId, await env.roundState(first.taskId), 0n, 5_000n, salt]));
  });

  it("computeCommitment on-chain equals the SDK's", async () => {
    const env = await setupProtocol({ providers: 0, validators: 0 });
    const salt = env.randomSalt();
    const v = getAddress(env.wallets[5].account.address);
    assert.equal(
      await env.read.market.read.computeCommitment([1234n, salt, v, 42n, 3n]),
      env.commitment(1234, salt, v, 42n, 3),
    );
  });
});

describe("TaskMarket non-reveal, quorum, roll and refund", () => {
  it("one of five never reveals: slashed, task finalizes on quorum, locks released", async () => {
    const env = await setupProtocol({ providers: 1, validators: 6 });
    const { taskId, members } = await committeeTask(env);
    const scores = [8_000, 8_000, 7_500, 8_200, 9_000];
    const salts = await env.commitScores(taskId, members, scores);
    await env.toRevealPhase(taskId);
    await env.revealScores(taskId, members, scores, salts, new Set([4]));
    await expectRevert(env.read.market.write.finalize([taskId, await env.roundState(taskId)]), "FinalizeTooEarly");
    await env.toAfterReveal(taskId);
    const stakeBefore = (await env.read.registry.read.stakeInfo([members[4]])).amount;
    const receipt = await env.wait(await env.read.market.write.finalize([taskId, await env.roundState(taskId)]));
    const slashed = seatPenalty(FEE, 5);
    assert.equal((await env.read.registry.read.stakeInfo([members[4]])).amount, stakeBefore - slashed);
    const [slashEvent] = parseEventLogs({ abi: taskMarketAbi, logs: receipt.logs, eventName: "NonRevealersSlashed" });
    assert.deepEqual(slashEvent.args.validators, [members[4]]);
    const [fin] = parseEventLogs({ abi: taskMarketAbi, logs: receipt.logs, eventName: "TaskFinalized" });
    assert.equal(fin.args.validatorPay[4], 0n); // the non-revealer earns nothing
    assert.equal((await env.read.market.read.task([taskId])).status, TaskStatus.Finalized);
    // the slash went to the treasury, never to validators
    assert.ok((await env.read.market.read.claimable([env.manifest.treasury])) >= slashed);
    for (const m of members) assert.equal((await env.read.registry.read.stakeInfo([m])).locks, 0);
  });

  it("below quorum: rolls to a new committee (round + 1), then refunds after maxRounds", async () => {
    const env = await setupProtocol({ providers: 1, validators: 6, params: { maxRounds: 2 } });
    const { taskId, members } = await committeeTask(env);
    const scores = [8_000, 8_000, 8_000, 8_000, 8_000];
    const salts = await env.commitScores(taskId, members, scores);
    await env.toRevealPhase(taskId);
    await env.revealScores(taskId, members, scores, salts, new Set([2, 3, 4])); // 2 of 5 < quorum 3
    await env.toAfterReveal(taskId);
    let receipt = await env.wait(await env.read.market.write.finalize([taskId, await env.roundState(taskId)]));
    assert.equal(parseEventLogs({ abi: taskMarketAbi, logs: receipt.logs, eventName: "TaskRolled" }).length, 1);
    let t = await env.read.market.read.task([taskId]);
    assert.equal(t.status, TaskStatus.Answered);
    assert.equal(t.round, 1);
    assert.equal((await env.read.registry.read.stakeInfo([t.provider])).locks, 1); // provider stays locked
    const round1 = await env.draw(taskId);
    // The round-0 commitment does not open in round 1 (it binds the round).
    const seat = round1.members.indexOf(members[0]);
    if (seat >= 0) {
      const market = env.as(env.walletOf(members[0])).market;
      await env.wait(await market.write.commit([taskId, await env.roundState(taskId), BigInt(seat), env.commitment(8_000, salts[0], members[0], taskId, 0)]));
      await env.toRevealPhase(taskId);
      await expectRevert(market.write.reveal([taskId, await env.roundState(taskId), BigInt(seat), 8_000n, salts[0]]), "CommitmentMismatch");
    }
    await env.toAfterReveal(taskId);
    receipt = await env.wait(await env.read.market.write.finalize([taskId, await env.roundState(taskId)])); // nobody revealed: refund
    const [refund] = parseEventLogs({ abi: taskMarketAbi, logs: receipt.logs, eventName: "TaskRefunded" });
    assert.equal(refund.args.reason, RefundReason.NoQuorum);
    t = await env.read.market.read.task([taskId]);
    assert.equal(t.status, TaskStatus.Refunded);
    assert.equal(await env.read.market.read.claimable([env.requester.account.address]), t.fee);
    for (const v of env.validators) assert.equal((await env.read.registry.read.stakeInfo([v.account.address])).locks, 0);
    assert.equal((await env.read.registry.read.stakeInfo([t.provider])).locks, 0);
  });

  it("slash escape: unstake while assigned cannot withdraw before settlement, and the slash still applies", async () => {
    const env = await setupProtocol({ providers: 1, validators: 5 });
    const { taskId, members } = await committeeTask(env);
    const lazy = members[0];
    const registry = env.as(env.walletOf(lazy)).registry;
    await env.wait(await registry.write.requestUnstake());
    const scores = [undefined, 8_000, 8_000, 8_000, 8_000];
    const salts = await env.commitScores(taskId, members, scores);
    await env.toRevealPhase(taskId);
    await env.revealScores(taskId, members, scores, salts);
    await env.mine(Number(await env.read.registry.read.unstakeCooldown())); // cooldown over, task still open
    const [locks] = await expectRevert(registry.write.withdraw(), "StakeLocked");
    assert.equal(locks, 1n);
    const before = (await env.read.registry.read.stakeInfo([lazy])).amount;
    await env.wait(await env.read.market.write.finalize([taskId, await env.roundState(taskId)]));
    const after = (await env.read.registry.read.stakeInfo([lazy])).amount;
    assert.equal(after, before - seatPenalty(FEE, 5));
    // Its task just settled: an equivocation report may still come, so the stake stays for the window.
    await expectRevert(registry.write.withdraw(), "EquivocationWindowOpen");
    await env.mine(Number(await env.read.registry.read.equivocationWindow()));
    const balance = await env.read.token.read.balanceOf([lazy]);
    await env.wait(await registry.write.withdraw());
    assert.equal(await env.read.token.read.balanceOf([lazy]), balance + after);
  });
});
