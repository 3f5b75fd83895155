import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { encodeFunctionData, getAddress, keccak256, parseEventLogs, toHex, zeroAddress, type Hex } from "viem";
import { RefundReason, TaskStatus, taskMarketAbi } from "../../sdk/contracts.ts";
import { DEFAULT_MARKET_PARAMS } from "../../sdk/deployment.ts";
import { aggregate, ConsensusRule, DEFAULT_REWARD_PARAMS, rewardSplit } from "../../sdk/protocol-math.ts";
import { EVALUATOR_ID, expectRevert, FEE, MODEL_ID, setupProtocol } from "./protocol-fixture.ts";

describe("TaskMarket life cycle", () => {
  it("create -> assign -> answer -> draw -> commit -> reveal -> finalize -> claim, with exact credits", async () => {
    const env = await setupProtocol({ providers: 2, validators: 6 });
    const taskId = await env.createTask();
    let t = await env.read.market.read.task([taskId]);
    assert.equal(t.status, TaskStatus.Assigned);
    assert.equal(t.fee, FEE);
    assert.equal(t.provider, zeroAddress, "createTask draws nothing");
    assert.equal(t.seedBlock, t.createdBlock + 1n);
    assert.equal(t.answerDeadline, t.createdBlock + 1n + BigInt(DEFAULT_MARKET_PARAMS.answerWindow));
    await expectRevert(env.as(env.providers[0]).market.write.assignProvider([taskId]), "ProviderNotDrawnYet");
    const drawn = await env.providerOf(taskId);
    assert.ok(env.providers.some((p) => getAddress(p.account.address) === drawn));
    await env.answer(taskId);
    t = await env.read.market.read.task([taskId]);
    assert.equal(t.provider, drawn, "materialized by its answer");
    await expectRevert(env.read.market.write.drawCommittee([taskId]), "SeedNotReady"); // seed block not yet mined
    const { members } = await env.draw(taskId);
    assert.equal(members.length, 5);
    assert.ok(!members.includes(t.provider));
    const scores = [8000, 8200, 7900, 6000, 8100];
    const salts = await env.commitScores(taskId, members, scores);
    await env.toRevealPhase(taskId);
    await env.revealScores(taskId, members, scores, salts);
    // Fast path: every member revealed, so finalize works before the reveal phase ends.
    const receipt = await env.wait(await env.read.market.write.finalize([taskId, await env.roundState(taskId)]));
    t = await env.read.market.read.task([taskId]);
    assert.equal(t.status, TaskStatus.Finalized);

    const big = scores.map(BigInt);
    const revealed = scores.map(() => true);
    const consensus = aggregate(ConsensusRule.Median, big, big.map(() => 0n), 2_000n);
    const split = rewardSplit(FEE, consensus, big, revealed, {
      ...DEFAULT_REWARD_PARAMS,
      refundBps: BigInt(DEFAULT_MARKET_PARAMS.refundBps),
    });
    assert.equal(BigInt(t.consensus), consensus);
    const [event] = parseEventLogs({ abi: taskMarketAbi, logs: receipt.logs, eventName: "TaskFinalized" });
    assert.equal(event.args.providerPay, split.provider);
    assert.equal(event.args.requesterRefund, split.requester);
    assert.equal(event.args.treasuryShare, split.treasury + split.dust);
    assert.deepEqual(event.args.validatorPay, split.validators);
    const treasury = env.manifest.treasury;
    assert.equal(await env.read.market.read.claimable([t.provider]), split.provider);
    assert.equal(await env.read.market.read.claimable([treasury]), split.treasury + split.dust);
    for (let i = 0; i < members.length; i++) {
      assert.equal(await env.read.market.read.claimable([members[i]]), split.validators[i]);
    }
    // Conservation: everything the market holds is claimable by someone.
    const creditors = [t.provider, treasury, env.requester.account.address, ...members];
    let owed = 0n;
    for (const c of new Set(creditors.map((a) => getAddress(a)))) owed += await env.read.market.read.claimable([c]);
    assert.equal(await env.read.token.read.balanceOf([env.manifest.contracts.taskMarket]), owed);
    // Locks released; pull payment works once.
    for (const m of [...members, t.provider]) {
      assert.equal((await env.read.registry.read.stakeInfo([m])).locks, 0);
    }
    const provider = env.as(env.walletOf(t.provider)).market;
    const before = await env.read.token.read.balanceOf([t.provider]);
    await env.wait(await provider.write.claim());
    // claim() pays all but 1 wei; the wei stays the provider's credit (its slot never returns to zero).
    assert.equal(await env.read.token.read.balanceOf([t.provider]), before + split.provider - 1n);
    assert.equal(await env.read.market.read.claimable([t.provider]), 1n);
    await expectRevert(provider.write.claim(), "NothingToClaim");
    await expectRevert(env.read.market.write.finalize([taskId, await env.roundState(taskId)]), "InvalidStatus");
  });

  it("rejects bad task creation with typed errors", async () => {
    const env = await setupProtocol({ providers: 1, validators: 5 });
    const market = env.as(env.requester).market;
    await env.fund(env.requester, FEE * 10n, env.manifest.contracts.taskMarket);
    await expectRevert(market.write.createTask([MODEL_ID, EVALUATOR_ID, 0n, "0x"]), "FeeBelowMinimum");
    await expectRevert(market.write.createTask([MODEL_ID, EVALUATOR_ID, DEFAULT_MARKET_PARAMS.minFee - 1n, "0x"]), "FeeBelowMinimum");
    await expectRevert(market.write.createTask([MODEL_ID, EVALUATOR_ID, 1n << 96n, "0x"]), "FeeTooLarge");
    const tooLong = toHex(new Uint8Array(DEFAULT_MARKET_PARAMS.maxPromptBytes + 1));
    await expectRevert(market.write.createTask([MODEL_ID, EVALUATOR_ID, FEE, tooLong]), "PromptTooLarge");
    await expectRevert(
      market.write.createTask([MODEL_ID, keccak256(toHex("unregistered")), FEE, "0x"]),
      "EvaluatorNotActive",
    );
    await expectRevert(
      market.write.createTask([keccak256(toHex("no-such-model")), EVALUATOR_ID, FEE, "0x"]),
      "NoProviderAvailable",
    );
    await expectRevert(env.read.market.read.task([99n]), "UnknownTask");
  });

  it("answer checks: only the provider, before the deadline, hash matches, size capped, not empty", async () => {
    const env = await setupProtocol({ providers: 1, validators: 5 });
    const taskId = await env.createTask();
    const provider = env.as(env.walletOf(await env.providerOf(taskId))).market;
    const output = toHex("Paris.");
    await expectRevert(
      env.as(env.requester).market.write.submitAnswer([taskId, keccak256(output), output, ""]),
      "NotAssignedProvider",
    );
    await expectRevert(provider.write.submitAnswer([taskId, keccak256(toHex("x")), output, ""]), "OutputHashMismatch");
    await expectRevert(provider.write.submitAnswer([taskId, `0x${"00".repeat(32)}`, output, ""]), "ZeroOutputHash");
    await expectRevert(provider.write.submitAnswer([taskId, keccak256(output), "0x", ""]), "AnswerBytesRequired");
    const big = toHex(new Uint8Array(DEFAULT_MARKET_PARAMS.maxOutputBytes + 1));
    await expectRevert(provider.write.submitAnswer([taskId, keccak256(big), big, ""]), "OutputTooLarge");
    // A URI alone is refused (validators could not all score it); beside the bytes it is optional metadata.
    await expectRevert(provider.write.submitAnswer([taskId, keccak256(output), "0x", "ipfs://answer"]), "AnswerBytesRequired");
    await env.wait(await provider.write.submitAnswer([taskId, keccak256(output), output, "ipfs://answer"]));
    await expectRevert(provider.write.submitAnswer([taskId, keccak256(output), output, ""]), "InvalidStatus");
  });

  it("late provider: slashed, task reassigned, then refunded after maxReassignments", async () => {
    const env = await setupProtocol({ providers: 2, validators: 5, params: { maxReassignments: 1 } });
    const taskId = await env.createTask();
    const first = { provider: await env.providerOf(taskId) };
    await expectRevert(env.read.market.write.reassign([taskId]), "AnswerDeadlineNotPassed");
    await env.toAfterAnswerDeadline(taskId);
    const provider = env.as(env.walletOf(first.provider)).market;
    const output = toHex("late");
    await expectRevert(provider.write.submitAnswer([taskId, keccak256(output), output, ""]), "AnswerDeadlinePassed");
    const stakeBefore = (await env.read.registry.read.stakeInfo([first.provider])).amount;
    await env.wait(await env.read.market.write.reassign([taskId]));
    const providerPool = FEE - (FEE * BigInt(DEFAULT_MARKET_PARAMS.validatorPoolBps)) / 10_000n;
    const slashed = (providerPool * BigInt(DEFAULT_MARKET_PARAMS.providerTimeoutPenaltyBps)) / 10_000n;
    assert.equal((await env.read.registry.read.stakeInfo([first.provider])).amount, stakeBefore - slashed);
    assert.equal(await env.read.market.read.claimable([env.manifest.treasury]), slashed);
    assert.notEqual(await env.providerOf(taskId), first.provider);
    assert.equal((await env.read.market.read.task([taskId])).reassignments, 1);
    await env.toAfterAnswerDeadline(taskId);
    const receipt = await env.wait(await env.read.market.write.reassign([taskId]));
    const [refund] = parseEventLogs({ abi: taskMarketAbi, logs: receipt.logs, eventName: "TaskRefunded" });
    assert.equal(refund.args.reason, RefundReason.NoProvider);
    assert.equal((await env.read.market.read.task([taskId])).status, TaskStatus.Refunded);
    assert.equal(await env.read.market.read.claimable([env.requester.account.address]), FEE);
    for (const p of env.providers) assert.equal((await env.read.registry.read.stakeInfo([p.account.address])).locks, 0);
  });

  it("a pool too small to seat a committee is waited for (reseeding), then the task settles unjudged", async () => {
    const env = await setupProtocol({ providers: 1, validators: 4 }); // k = 5
    const taskId = await env.createTask();
    await env.answer(taskId);
    await env.mine(1);
    let receipt = await env.wait(await env.read.market.write.drawCommittee([taskId]));
    const [reseed] = parseEventLogs({ abi: taskMarketAbi, logs: receipt.logs, eventName: "CommitteeReseeded" });
    assert.equal(reseed.args.seedBlock, receipt.blockNumber + 1n);
    let t = await env.read.market.read.task([taskId]);
    assert.equal(t.status, TaskStatus.Answered, "no free refund while the pool may still grow");
    await env.mine(Number(t.drawDeadline - (await env.blockNumber())));
    receipt = await env.wait(await env.read.market.write.drawCommittee([taskId]));
    const [refund] = parseEventLogs({ abi: taskMarketAbi, logs: receipt.logs, eventName: "TaskRefunded" });
    assert.equal(refund.args.reason, RefundReason.NoCommittee);
    // Unjudged: the requester gets refundBps of the provider pool, never the whole fee; the provider is unpaid.
    const providerPool = FEE - (FEE * BigInt(DEFAULT_MARKET_PARAMS.validatorPoolBps)) / 10_000n;
    const refunded = (providerPool * BigInt(DEFAULT_MARKET_PARAMS.refundBps)) / 10_000n;
    assert.equal(refund.args.amount, refunded);
    assert.equal(await env.read.market.read.claimable([env.requester.account.address]), refunded);
    assert.equal(await env.read.market.read.claimable([env.manifest.treasury]), FEE - refunded);
    t = await env.read.market.read.task([taskId]);
    assert.equal(await env.read.market.read.claimable([t.provider]), 0n);
    assert.equal((await env.read.registry.read.stakeInfo([t.provider])).locks, 0);
  });

  it("parameters: governance only, every bound enforced, lifetime below the cooldown", async () => {
    const env = await setupProtocol({ providers: 0, validators: 0 });
    const gov = env.read.market;
    assert.deepEqual({ ...(await gov.read.params()) }, DEFAULT_MARKET_PARAMS);
    await expectRevert(
      env.as(env.wallets[9]).market.write.setParams([DEFAULT_MARKET_PARAMS]),
      "OwnableUnauthorizedAccount",
    );
    const outOfBounds: [keyof typeof DEFAULT_MARKET_PARAMS, number | bigint][] = [
      ["committeeSize", 0],
      ["committeeSize", 33],
      ["maxRounds", 0],
      ["maxReassignments", 9],
      ["consensusRule", 3],
      ["quorumBps", 4_999],
      ["trimBps", 4_001],
      ["validatorPoolBps", 5_001],
      ["providerFloor", 9_001],
      ["tolerance", 99],
      ["refundBps", 5_001],
      ["nonRevealPenaltyBps", 9_999],
      ["nonRevealPenaltyBps", 1_000_001],
      ["providerTimeoutPenaltyBps", 100_001],
      ["equivocationSlashBps", 999],
      ["reporterBountyBps", 5_001],
      ["answerWindow", 0],
      ["commitWindow", 50_401],
      ["revealWindow", 0],
      ["drawWindow", 0],
      ["maxPromptBytes", 0],
      ["maxOutputBytes", 131_073],
      ["minFee", 0n],
    ];
    for (const [name, value] of outOfBounds) {
      const args = await expectRevert(
        gov.write.setParams([{ ...DEFAULT_MARKET_PARAMS, [name]: value }]),
        "ParameterOutOfBounds",
      );
      assert.equal(args[0], name);
    }
    await expectRevert(
      gov.write.setParams([{ ...DEFAULT_MARKET_PARAMS, commitWindow: 50_000 }]),
      "LifetimeExceedsCooldown",
    );
    await env.wait(await gov.write.setParams([{ ...DEFAULT_MARKET_PARAMS, committeeSize: 7, consensusRule: 2 }]));
    assert.equal((await gov.read.params()).committeeSize, 7);
    await expectRevert(gov.write.setTreasury(["0x0000000000000000000000000000000000000000"]), "ZeroAddress");
  });

  it("parameters: stored as SettlementMath packs them, logged as sent; a dirty or short encoding is refused", async () => {
    const env = await setupProtocol({ providers: 0, validators: 0 });
    const gov = env.read.market;
    // Every field away from its default and inside its bounds, so a field stored in another's bits would show.
    const next = {
      committeeSize: 9, maxRounds: 2, maxReassignments: 3, consensusRule: 1, quorumBps: 6_700, trimBps: 1_500,
      validatorPoolBps: 2_100, providerFloor: 2_900, tolerance: 1_400, refundBps: 2_400, nonRevealPenaltyBps: 30_001,
      providerTimeoutPenaltyBps: 10_002, equivocationSlashBps: 5_003, reporterBountyBps: 1_004, answerWindow: 21,
      commitWindow: 11, revealWindow: 12, drawWindow: 51, maxPromptBytes: 8_193, maxOutputBytes: 16_385,
      minFee: 10n ** 16n + 7n,
    };
    const receipt = await env.wait(await gov.write.setParams([next]));
    const [log] = parseEventLogs({ abi: taskMarketAbi, eventName: "ParamsSet", logs: receipt.logs });
    assert.deepEqual({ ...log!.args.params }, next, "ParamsSet carries the parameters sent");
    assert.equal(await gov.read.paramsVersion(), 1n);
    assert.deepEqual({ ...(await gov.read.paramsAt([1n])) }, next, "stored field by field");
    assert.deepEqual({ ...(await gov.read.params()) }, next);
    assert.deepEqual({ ...(await gov.read.paramsAt([0n])) }, DEFAULT_MARKET_PARAMS, "version 0 untouched");
    // The same call with a field outside its type (committeeSize, a uint8, as 256), and one cut short.
    const data = encodeFunctionData({ abi: taskMarketAbi, functionName: "setParams", args: [next] });
    const dirty = (data.slice(0, 10) + (256).toString(16).padStart(64, "0") + data.slice(74)) as Hex;
    const call = (calldata: Hex) => env.publicClient.call({ account: env.deployer.account!, to: gov.address, data: calldata });
    await call(data); // the clean encoding passes
    await assert.rejects(call(dirty), "a uint8 of 256 refused");
    await assert.rejects(call(data.slice(0, -64) as Hex), "an encoding cut short refused");
  });
});
