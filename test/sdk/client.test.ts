import assert from "node:assert/strict";
import { before, describe, it } from "node:test";
import { createWalletClient, custom, defineChain, keccak256, toHex, zeroAddress, type PublicClient } from "viem";
import {
  APPROVE_KEEPS_WEI,
  STANDING_ALLOWANCE_JOBS,
  createPoqClient,
  EvaluatorNotActiveError,
  InsufficientAllowanceError,
  InsufficientBalanceError,
  InvalidFeeError,
  JobTimeoutError,
  MissingWalletError,
  PromptTooLargeError,
  UnknownModelError,
  UnknownTaskError,
  WrongChainError,
  type MarketEvent,
  type PoqClient,
} from "../../sdk/client.ts";
import { EVALUATOR_ID, FEE, setupProtocol, type Protocol } from "../contracts/protocol-fixture.ts";

// The fixture registers MODEL_ID = keccak256("model:llama-3-8b-instruct"), i.e. the model of this name.
const MODEL = "model:llama-3-8b-instruct";

describe("sdk/client (requester SDK) on the in-process chain", () => {
  let env: Protocol;
  let client: PoqClient;
  let publicClient: PublicClient;

  before(async () => {
    env = await setupProtocol({ providers: 2, validators: 5 });
    publicClient = env.publicClient as unknown as PublicClient;
    client = createPoqClient({ manifest: env.manifest, publicClient, walletClient: env.requester });
    await env.wait(await env.as(env.requester).token.write.mint([env.requester.account.address, 100n * FEE]));
  });

  it("postJob approves fees, creates the task and returns its id and draw; getTask names the drawn provider", async () => {
    const market = env.manifest.contracts.taskMarket;
    const allowance = () => env.read.token.read.allowance([env.requester.account.address, market]);
    await env.wait(await env.as(env.requester).token.write.approve([market, 0n]));
    const exact = await client.postJob({ model: MODEL, prompt: "Name a colour.", fee: FEE, approve: "exact" });
    // "exact" approved this fee plus 1 wei: the wei stays approved, so the next approve rewrites a non-zero slot.
    assert.equal(await allowance(), APPROVE_KEEPS_WEI);
    const nonce = await env.publicClient.getTransactionCount({ address: env.requester.account.address });
    const posted = await client.postJob({ model: MODEL, prompt: "What is the capital of France?", fee: FEE });
    assert.equal(posted.taskId, exact.taskId + 1n);
    assert.equal(posted.taskId, await env.read.market.read.taskCount());
    // The default "standing" approve covered ten fees (plus the wei): the next job at this fee sends createTask alone.
    assert.equal(await allowance(), (STANDING_ALLOWANCE_JOBS - 1n) * FEE + APPROVE_KEEPS_WEI);
    assert.equal(await env.publicClient.getTransactionCount({ address: env.requester.account.address }), nonce + 2, "approve + createTask");
    assert.equal(posted.seedBlock, posted.blockNumber + 1n, "drawn from the hash of the next block");
    assert.equal((await env.read.market.read.task([posted.taskId])).answerDeadline, posted.answerDeadline);
    assert.equal(posted.evaluatorId, EVALUATOR_ID, "defaults to the manifest's active evaluator");
    assert.equal((await client.getTask(posted.taskId)).provider, zeroAddress, "unknown until the seed block exists");
    const drawn = await env.providerOf(posted.taskId);
    const task = await client.getTask(posted.taskId);
    assert.equal(task.provider, drawn);
    assert.ok(env.providers.some((p) => p.account.address.toLowerCase() === task.provider.toLowerCase()));
    assert.equal(task.status, "Assigned");
    assert.equal(task.fee, FEE);
    assert.equal(task.consensus, undefined);
    assert.equal(task.requester.toLowerCase(), env.requester.account.address.toLowerCase());
  });

  it("waitForResult returns the answer text, consensus and payouts that add up to the fee", async () => {
    const { taskId } = await client.postJob({ model: MODEL, prompt: "Name a prime number.", fee: FEE });
    await env.answer(taskId, toHex("Seven is prime."));
    const { members } = await env.draw(taskId);
    const scores = [7_000, 7_100, 6_900, 7_050, 2_000];
    const salts = await env.commitScores(taskId, members, scores);
    const during = await client.getScore(taskId);
    assert.equal(during.status, "Committee");
    assert.equal(during.members.length, 5);
    assert.ok(during.members.every((m) => !m.revealed && m.score === undefined));
    await env.toRevealPhase(taskId);
    await env.revealScores(taskId, members, scores, salts, new Set([4]));
    await env.toAfterReveal(taskId);
    await env.finalize(taskId);

    const result = await client.waitForResult(taskId, { timeoutMs: 5_000, pollIntervalMs: 50 });
    assert.equal(result.status, "Finalized");
    assert.equal(result.answer?.text, "Seven is prime.");
    assert.equal(result.consensus, 7_025, "median of the four revealed scores");
    assert.deepEqual(result.nonRevealers.map((a) => a.toLowerCase()), [members[4]!.toLowerCase()]);
    const p = result.payouts!;
    const validatorTotal = p.validators.reduce((sum, v) => sum + v.pay, 0n);
    const fromEvents = await env.read.market.getEvents.TaskFinalized({ taskId }, { fromBlock: 0n });
    const settled = fromEvents[0]!.args;
    assert.equal(p.provider, settled.providerPay);
    // Conservation: provider + refund + treasury (which includes the rounding dust) + validators == fee, exactly.
    assert.equal(settled.validatorPay!.reduce((a, b) => a + b, 0n), validatorTotal);
    assert.equal(p.provider + p.requesterRefund + p.treasury + validatorTotal, FEE);
    assert.equal(p.validators[4]!.revealed, false);
    assert.equal(p.validators[4]!.pay, 0n);
    const score = await client.getScore(taskId);
    assert.equal(score.consensus, 7_025);
    assert.deepEqual(score.members.map((m) => m.score), [7_000, 7_100, 6_900, 7_050, undefined]);
  });

  it("refuses bad jobs with typed errors before sending anything", async () => {
    const nonce = () => env.publicClient.getTransactionCount({ address: env.requester.account.address });
    const before = await nonce();
    await assert.rejects(client.postJob({ model: "no-such-model", prompt: "hi", fee: FEE }), UnknownModelError);
    await assert.rejects(client.postJob({ model: MODEL, prompt: "hi", fee: 0n }), InvalidFeeError);
    await assert.rejects(client.postJob({ model: MODEL, prompt: "hi", fee: 1n << 96n }), InvalidFeeError);
    const max = env.manifest.parameters.market.maxPromptBytes;
    await assert.rejects(client.postJob({ model: MODEL, prompt: "é".repeat(max / 2) + "x", fee: FEE }), (e: unknown) =>
      e instanceof PromptTooLargeError && e.bytes === max + 1 && e.maxBytes === max);
    await assert.rejects(client.postJob({ model: MODEL, prompt: "hi", fee: FEE, evaluatorId: keccak256(toHex("nope")) }), EvaluatorNotActiveError);
    const rich = await env.read.token.read.balanceOf([env.requester.account.address]);
    await assert.rejects(client.postJob({ model: MODEL, prompt: "hi", fee: rich + 1n }), (e: unknown) =>
      e instanceof InsufficientBalanceError && e.balance === rich);
    await env.wait(await env.as(env.requester).token.write.approve([env.manifest.contracts.taskMarket, 0n]));
    const afterApprove = await nonce();
    await assert.rejects(client.postJob({ model: MODEL, prompt: "hi", fee: FEE, approve: "none" }), InsufficientAllowanceError);
    assert.equal(afterApprove, before + 1, "only the test's own approve was sent");
    assert.equal(await nonce(), afterApprove);

    const readOnly = createPoqClient({ manifest: env.manifest, publicClient });
    await assert.rejects(readOnly.postJob({ model: MODEL, prompt: "hi", fee: FEE }), MissingWalletError);
    const otherChain = createPoqClient({ manifest: { ...env.manifest, chainId: 999 }, publicClient });
    await assert.rejects(otherChain.getTask(1n), (e: unknown) => e instanceof WrongChainError && e.actual === env.chainId && e.where === "rpc");
    const wrongWallet = createWalletClient({
      chain: defineChain({ id: 5, name: "elsewhere", nativeCurrency: { name: "E", symbol: "E", decimals: 18 }, rpcUrls: { default: { http: [] } } }),
      account: env.requester.account,
      transport: custom({ request: () => Promise.reject(new Error("must not be called")) }),
    });
    const mismatched = createPoqClient({ manifest: env.manifest, publicClient, walletClient: wrongWallet });
    await assert.rejects(mismatched.postJob({ model: MODEL, prompt: "hi", fee: FEE }), (e: unknown) => e instanceof WrongChainError && e.where === "wallet");
    await assert.rejects(client.getTask(0n), UnknownTaskError);
    await assert.rejects(client.getTask(10_000n), UnknownTaskError);
  });

  it("waitForResult times out with the last status", async () => {
    const { taskId } = await client.postJob({ model: MODEL, prompt: "Slow one?", fee: FEE });
    await assert.rejects(client.waitForResult(taskId, { timeoutMs: 150, pollIntervalMs: 50 }), (e: unknown) =>
      e instanceof JobTimeoutError && e.lastStatus === "Assigned" && e.taskId === taskId);
  });

  it("events() yields the market's events in chain order and follows the head until aborted", async () => {
    const history: MarketEvent[] = [];
    const head = await env.publicClient.getBlockNumber();
    for await (const event of client.events({ toBlock: head, maxBlockRange: 3n })) history.push(event);
    const created = history.filter((e) => e.eventName === "TaskCreated");
    assert.equal(BigInt(created.length), await env.read.market.read.taskCount());
    for (let i = 1; i < history.length; i++) {
      const [a, b] = [history[i - 1]!, history[i]!];
      assert.ok(a.blockNumber < b.blockNumber || (a.blockNumber === b.blockNumber && a.logIndex < b.logIndex), "chain order");
    }
    assert.ok(history.some((e) => e.eventName === "TaskFinalized"));

    const controller = new AbortController();
    const seen: string[] = [];
    const follow = (async () => {
      for await (const event of client.events({ fromBlock: head + 1n, pollIntervalMs: 20, signal: controller.signal })) {
        seen.push(event.eventName);
        if (event.eventName === "ProviderAssigned") controller.abort();
      }
    })();
    const { taskId } = await client.postJob({ model: MODEL, prompt: "Follow me", fee: FEE });
    // The provider is drawn from the next block's hash and written at the first touch: anyone may make it.
    await env.mine(1);
    await env.wait(await env.read.market.write.assignProvider([taskId]));
    await follow;
    assert.deepEqual(seen, ["TaskCreated", "ProviderAssigned"]);
    assert.ok(taskId > 0n);
  });

  it("a provider that unstakes leaves the model unknown to postJob", async () => {
    const fresh = await setupProtocol({ providers: 1, validators: 0 });
    const c = createPoqClient({ manifest: fresh.manifest, publicClient: fresh.publicClient as unknown as PublicClient, walletClient: fresh.requester });
    await fresh.wait(await fresh.as(fresh.requester).token.write.mint([fresh.requester.account.address, FEE]));
    await fresh.wait(await fresh.as(fresh.providers[0]!).registry.write.requestUnstake());
    await assert.rejects(c.postJob({ model: MODEL, prompt: "anyone?", fee: FEE }), UnknownModelError);
  });
});
