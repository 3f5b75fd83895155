// Issue 10, finding 1 (forced abstention): a counterparty must not be able to make an honest participant abstain
// and then be slashed for it. Each test plays the attack of the review against the contracts and checks that the
// input is refused on chain or that the participant has a free way out.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { getAddress, keccak256, parseEventLogs, toHex } from "viem";
import { RefundReason, Role, TaskStatus, taskMarketAbi } from "../../sdk/contracts.ts";
import { DEFAULT_MARKET_PARAMS } from "../../sdk/deployment.ts";
import { EVALUATOR_ID, expectRevert, FEE, MODEL_ID, setupProtocol } from "./protocol-fixture.ts";

const OTHER_EVALUATOR = keccak256(toHex("evaluator:other-manifest"));

describe("issue 10.1: forced abstention", () => {
  it("a URI-only answer (which validators would refuse to score) is rejected on chain", async () => {
    const env = await setupProtocol({ providers: 1, validators: 5 });
    const taskId = await env.createTask();
    const provider = env.as(env.walletOf(await env.providerOf(taskId))).market;
    const hash = keccak256(toHex("an answer hidden behind a link"));
    // Before the fix this was accepted, every member abstained and all were slashed.
    await expectRevert(provider.write.submitAnswer([taskId, hash, "0x", "https://attacker.example/answer"]), "AnswerBytesRequired");
    assert.equal((await env.read.market.read.task([taskId])).status, TaskStatus.Assigned);
  });

  it("a provider declines an unanswerable prompt without slash; the task moves on and is refunded when all decline", async () => {
    const env = await setupProtocol({ providers: 2, validators: 5 }); // maxReassignments = 2
    // Not valid UTF-8: the shipped provider daemon refuses it.
    const taskId = await env.createTask(FEE, "0xc3281234ff");
    const stakes = async () =>
      Promise.all(env.providers.map(async (p) => (await env.read.registry.read.stakeInfo([p.account.address])).amount));
    const before = await stakes();
    const first = await env.providerOf(taskId);
    await expectRevert(env.as(env.requester).market.write.declineTask([taskId]), "NotAssignedProvider");
    let receipt = await env.wait(await env.as(env.walletOf(first)).market.write.declineTask([taskId]));
    const [declined] = parseEventLogs({ abi: taskMarketAbi, logs: receipt.logs, eventName: "ProviderDeclined" });
    assert.equal(getAddress(declined.args.provider), getAddress(first));
    const [scheduled] = parseEventLogs({ abi: taskMarketAbi, logs: receipt.logs, eventName: "ProviderDrawScheduled" });
    assert.equal(scheduled.args.attempt, 1n);
    assert.equal(scheduled.args.seedBlock, receipt.blockNumber + 1n, "the next provider is drawn from a later hash");
    const second = await env.providerOf(taskId);
    assert.notEqual(getAddress(second), getAddress(first), "the decliner is never drawn again at once");
    assert.equal((await env.read.market.read.task([taskId])).reassignments, 1);
    assert.equal((await env.read.registry.read.stakeInfo([first])).locks, 0);
    receipt = await env.wait(await env.as(env.walletOf(second)).market.write.declineTask([taskId]));
    const third = await env.providerOf(taskId);
    assert.equal(getAddress(third), getAddress(first)); // only two providers serve the model
    receipt = await env.wait(await env.as(env.walletOf(third)).market.write.declineTask([taskId]));
    const [refund] = parseEventLogs({ abi: taskMarketAbi, logs: receipt.logs, eventName: "TaskRefunded" });
    assert.equal(refund.args.reason, RefundReason.Declined);
    assert.equal(refund.args.amount, FEE, "the requester gets its fee back and no answer: it gains nothing");
    assert.deepEqual(await stakes(), before, "nobody was slashed");
    for (const p of env.providers) assert.equal((await env.read.registry.read.stakeInfo([p.account.address])).locks, 0);
    assert.equal(await env.read.market.read.claimable([env.manifest.treasury]), 0n);
  });

  it("decline is refused after the deadline (then reassign slashes as before)", async () => {
    const env = await setupProtocol({ providers: 2, validators: 5 });
    const taskId = await env.createTask();
    const provider = await env.providerOf(taskId);
    await env.toAfterAnswerDeadline(taskId);
    await expectRevert(env.as(env.walletOf(provider)).market.write.declineTask([taskId]), "AnswerDeadlinePassed");
  });

  it("committees are drawn only from validators that run the task's evaluator", async () => {
    const env = await setupProtocol({ providers: 1, validators: 9 });
    await env.wait(await env.read.evaluators.write.register([OTHER_EVALUATOR, "ipfs://other"]));
    // Validators 0..3 leave the default evaluator and run only the other one: 5 run the default evaluator.
    for (const v of env.validators.slice(0, 4)) {
      const r = env.as(v).registry;
      await env.wait(await r.write.unregisterEvaluator([EVALUATOR_ID]));
      await env.wait(await r.write.registerEvaluator([OTHER_EVALUATOR]));
    }
    const runners = new Set(env.validators.slice(4).map((v) => getAddress(v.account.address)));
    for (let i = 0; i < 3; i++) {
      const taskId = await env.createTask();
      await env.answer(taskId);
      const { members } = await env.draw(taskId);
      for (const m of members) assert.ok(runners.has(getAddress(m)), `${m} does not run the task's evaluator`);
    }
    // A task pinning the other evaluator has 4 runners for k = 5: no committee from the rest.
    await env.fund(env.requester, FEE, env.manifest.contracts.taskMarket);
    await env.wait(await env.as(env.requester).market.write.createTask([MODEL_ID, OTHER_EVALUATOR, FEE, toHex("q")]));
    const taskId = await env.read.market.read.taskCount();
    await env.answer(taskId);
    await env.mine(1);
    await env.wait(await env.read.market.write.drawCommittee([taskId]));
    assert.notEqual((await env.read.market.read.task([taskId])).status, TaskStatus.Committee);
    assert.equal(await env.read.registry.read.activeValidators([OTHER_EVALUATOR]), 4n);
  });

  it("an evaluator deactivated mid-task blocks new tasks only; the running task settles with its pinned evaluator", async () => {
    const env = await setupProtocol({ providers: 1, validators: 5 });
    const taskId = await env.createTask();
    await env.wait(await env.read.evaluators.write.setActive([EVALUATOR_ID, false]));
    await env.fund(env.requester, FEE, env.manifest.contracts.taskMarket);
    await expectRevert(
      env.as(env.requester).market.write.createTask([MODEL_ID, EVALUATOR_ID, FEE, toHex("q")]),
      "EvaluatorNotActive",
    );
    await env.answer(taskId);
    const { members } = await env.draw(taskId);
    const scores = [7000, 7100, 7200, 7300, 7400];
    const salts = await env.commitScores(taskId, members, scores);
    await env.toRevealPhase(taskId);
    await env.revealScores(taskId, members, scores, salts);
    await env.wait(await env.read.market.write.finalize([taskId, await env.roundState(taskId)]));
    const t = await env.read.market.read.task([taskId]);
    assert.equal(t.status, TaskStatus.Finalized);
    assert.equal(t.evaluatorId, EVALUATOR_ID);
  });

  it("the task view names its creation block, so a daemon fetches TaskCreated of any age directly", async () => {
    const env = await setupProtocol({ providers: 1, validators: 5 });
    const taskId = await env.createTask();
    const t = await env.read.market.read.task([taskId]);
    await env.mine(5_000); // far beyond any lifetime-based look-back
    const logs = await env.publicClient.getContractEvents({
      address: env.manifest.contracts.taskMarket,
      abi: taskMarketAbi,
      eventName: "TaskCreated",
      args: { taskId },
      fromBlock: t.createdBlock,
      toBlock: t.createdBlock,
    });
    assert.equal(logs.length, 1);
    assert.equal(logs[0].args.prompt, toHex("What is the capital of France?"));
  });

  it("a validator can run several evaluators, bounded; a provider cannot register one", async () => {
    const env = await setupProtocol({ providers: 1, validators: 1 });
    const v = env.validators[0];
    assert.deepEqual(await env.read.registry.read.evaluatorsOf([v.account.address]), [EVALUATOR_ID]);
    assert.deepEqual(await env.read.registry.read.modelsOf([v.account.address]), []);
    for (let i = 1; i < 8; i++) await env.wait(await env.as(v).registry.write.registerEvaluator([keccak256(toHex(`e${i}`))]));
    await expectRevert(env.as(v).registry.write.registerEvaluator([OTHER_EVALUATOR]), "TooManyRegistrations");
    await expectRevert(env.as(env.providers[0]).registry.write.registerEvaluator([OTHER_EVALUATOR]), "WrongRole");
    await env.stake(v, Role.Validator, 1n); // a top-up moves the weight in every pool it runs
    assert.equal(await env.read.registry.read.totalValidatorWeight([keccak256(toHex("e7"))]), (await env.read.registry.read.stakeInfo([v.account.address])).amount);
  });
});
