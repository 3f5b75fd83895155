import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { keccak256, stringToHex } from "viem";
import { waitFor } from "../../helpers/child-process.ts";
import { MODEL, startTestNetwork, type TestDaemon, type TestNetwork } from "./helpers/network.ts";
import { listFailedJobs } from "../../../daemon/queue/failed-jobs.ts";
import { TaskStatus } from "../../../sdk/contracts.ts";

/**
 * The provider daemon against endpoints that fail the way real ones do, and against bad input: a prompt that
 * is not UTF-8 (a malformed payload in a real TaskCreated event: answered, never refused into a slash) and an
 * answer over the size cap (fails its job at once, typed, counted, never retried); endpoint faults fall back.
 */
describe("provider role: endpoint faults and bad input", () => {
  let net: TestNetwork;
  let first: TestDaemon;
  before(async () => {
    net = await startTestNetwork();
    await net.startBlocks();
  });
  after(async () => {
    await net?.close();
  });

  const failedFor = async (d: TestDaemon, taskId: bigint) => (await listFailedJobs(d.ctx.queues)).filter((j) => j.taskId === String(taskId));

  it("falls back past an endpoint answering 500 and one that times out, and answers in time", async () => {
    const provider = (first = await net.startProvider([
      { url: net.chat.base("500"), timeoutMs: 2_000 },
      { url: net.chat.base("hang"), timeoutMs: 300 },
      { url: net.chat.base("ok"), timeoutMs: 2_000 },
    ]));
    const hits = { ...net.chat.hits };
    try {
      const taskId = await net.createTask();
      await waitFor(async () => (await net.contracts.taskMarket.read.task([taskId])).status === TaskStatus.Answered, 30_000, "the answer");
      const [answered] = await net.contracts.taskMarket.getEvents.AnswerSubmitted({ taskId }, { fromBlock: 0n, strict: true });
      assert.equal(answered!.args.outputHash, keccak256(stringToHex(`answer from ${MODEL}`)));
      assert.equal(net.chat.hits["500"]! - (hits["500"] ?? 0), 2, "two tries on the failing endpoint");
      assert.equal(net.chat.hits.hang! - (hits.hang ?? 0), 2, "two tries on the hanging one");
      assert.deepEqual(await failedFor(provider, taskId), []);
      const metrics = () => fetch(`${provider.ctx.health.url}/metrics`).then((r) => r.text());
      // The answer counts once its confirmation is in, a moment after the chain shows it.
      await waitFor(async () => /poq_tasks_answered_total\{role="provider"\} 1/.test(await metrics()), 10_000, "the answer metric");
      assert.match(await metrics(), /poq_provider_requests_total\{model="test-llm",outcome="timeout"\} 2/);
    } finally {
      // Stopped for good: the next test runs another daemon of the same account (same queues).
      await provider.role.stop();
      await provider.ctx.close();
    }
  });

  it("answers a prompt that is not UTF-8 (decoded with U+FFFD) instead of refusing it and being slashed", async () => {
    // The same (only) provider account, restarted: every task is its. Answering what the model makes of the
    // decoded prompt keeps the stake and gives the requester what it paid for.
    const provider = await net.startProvider([{ url: net.chat.base("ok"), timeoutMs: 2_000 }], undefined, first.account);
    try {
      const malformed = await net.createTask({ hex: "0xfffe00c3" });
      await waitFor(async () => (await net.contracts.taskMarket.read.task([malformed])).status >= TaskStatus.Answered, 20_000, "the malformed prompt to be answered");
      assert.deepEqual(await failedFor(provider, malformed), []);
      const metrics = await (await fetch(`${provider.ctx.health.url}/metrics`)).text();
      assert.match(metrics, /poq_tasks_declined_total\{reason="prompt-not-utf8",outcome="answered-lossy"\} 1/);
    } finally {
      await provider.role.stop();
      await provider.ctx.close();
    }
  });

  it("declines an oversize answer at once (BadInputError, no retries, declineTask: no penalty)", async () => {
    const provider = await net.startProvider([{ url: net.chat.base("huge"), timeoutMs: 2_000 }], undefined, first.account);
    const hugeHits = net.chat.hits.huge ?? 0;
    const oversize = await net.createTask();
    await waitFor(async () => (await failedFor(provider, oversize)).length === 1, 20_000, "the oversize answer's job to fail");
    const [tooBig] = await failedFor(provider, oversize);
    assert.match(tooBig!.reason, /oversize|over \d+ bytes|over the \d+-byte cap/);
    assert.equal(tooBig!.attemptsMade, 1);
    assert.equal((net.chat.hits.huge ?? 0) - hugeHits, 1, "an oversize answer is not asked for again");
    const after = await net.contracts.taskMarket.read.task([oversize]);
    const movedOn = after.status === TaskStatus.Refunded || (after.status === TaskStatus.Assigned && after.provider.toLowerCase() !== first.account.address.toLowerCase());
    assert.ok(movedOn, "nothing submitted: the declined task went to another provider or back to the requester");
    const metrics = await (await fetch(`${provider.ctx.health.url}/metrics`)).text();
    assert.match(metrics, /poq_jobs_failed_total\{queue="poq-infer",reason="bad-input"\} 1/);
    assert.match(metrics, /poq_tasks_declined_total\{reason="answer-oversize",outcome="declined"\} 1/);
  });
});

/**
 * Deferred provider draws: each task's provider is drawn from the hash of the block after its creation, so a
 * provider daemon learns from the draw announcement (TaskCreated) and `assignedProvider` whether a task is its.
 * With two provider daemons on one model, every task is answered by the drawn one and the other sends nothing.
 */
describe("provider role: answers exactly the tasks drawn for it", () => {
  let net: TestNetwork;
  before(async () => {
    net = await startTestNetwork();
    await net.startBlocks();
  });
  after(async () => {
    await net?.close();
  });

  it("two provider daemons: each task is answered by its drawn provider, the other sends no transaction", async () => {
    const noKeeper = { keeper: { enabled: false } }; // no validators here: keep draws and reseeds out of the nonces
    const providers = [
      await net.startProvider([{ url: net.chat.base("ok"), timeoutMs: 2_000 }], undefined, undefined, noKeeper),
      await net.startProvider([{ url: net.chat.base("ok"), timeoutMs: 2_000 }], undefined, undefined, noKeeper),
    ];
    const nonce = (d: TestDaemon) => net.chain.publicClient.getTransactionCount({ address: d.account.address });
    const before = await Promise.all(providers.map(nonce));
    const taskIds: bigint[] = [];
    for (let i = 0; i < 6; i++) taskIds.push(await net.createTask());
    const market = net.contracts.taskMarket;
    await waitFor(async () => (await Promise.all(taskIds.map((id) => market.read.task([id])))).every((t) => t.status === TaskStatus.Answered), 60_000, "every task answered");
    const answeredBy = new Map<string, number>();
    for (const id of taskIds) {
      const [answer] = await market.getEvents.AnswerSubmitted({ taskId: id }, { fromBlock: 0n });
      const t = await market.read.task([id]);
      assert.equal(answer!.args.provider, t.provider, "answered by the materialized draw");
      answeredBy.set(t.provider.toLowerCase(), (answeredBy.get(t.provider.toLowerCase()) ?? 0) + 1);
    }
    const after = await Promise.all(providers.map(nonce));
    providers.forEach((d, i) => {
      assert.equal(after[i]! - before[i]!, answeredBy.get(d.account.address.toLowerCase()) ?? 0, "one transaction per task drawn for it, none for others");
    });
    for (const d of providers) {
      assert.deepEqual(await listFailedJobs(d.ctx.queues), []);
      await d.role.stop();
      await d.ctx.close();
    }
  });
});
