import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { readFileSync, rmSync } from "node:fs";
import path from "node:path";
import { keccak256, stringToHex, type Hex } from "viem";
import { waitFor } from "../../helpers/child-process.ts";
import { STAKE } from "../../helpers/daemon.ts";
import { MODEL, startTestNetwork, type TestDaemon, type TestNetwork } from "./helpers/network.ts";
import { roundSeats } from "./helpers/rounds.ts";
import type { Evaluator } from "../../../daemon/evaluation/evaluator.ts";
import { EvaluatorNotRegisteredError, startValidatorRole } from "../../../daemon/roles/validator/validator-role.ts";
import { listFailedJobs } from "../../../daemon/queue/failed-jobs.ts";
import { claimableNow, TaskStatus } from "../../../sdk/contracts.ts";
import { parseAttestationRecords, verifyAttestationRecord } from "../../../sdk/attestation-record.ts";
import { taskMarketDomain } from "../../../sdk/eip712.ts";

/**
 * One provider and five validator daemons, each with its own context, keystore and state folder, sharing one
 * Redis (queues kept apart by the per-account prefix), on the in-process Hardhat JSON-RPC server with a block
 * producer. The validators score with the generated tiny int8 cross-encoder registered on-chain.
 */
describe("roles: a full round with 1 provider and 5 validator daemons", () => {
  let net: TestNetwork;
  let provider: TestDaemon;
  const validators: TestDaemon[] = [];
  let taskId: bigint;

  before(async () => {
    net = await startTestNetwork();
  });
  after(async () => {
    await net?.close();
  });

  it("answers, draws, scores, commits, reveals, finalizes, pays and publishes verifiable attestations", async () => {
    provider = await net.startProvider([{ url: net.chat.base("ok"), timeoutMs: 5_000 }]);
    for (let i = 0; i < 5; i++) validators.push(await net.startValidator());
    await net.startBlocks();
    const c = net.contracts;
    taskId = await net.createTask();
    await waitFor(async () => (await c.taskMarket.read.task([taskId])).status === TaskStatus.Finalized, 60_000, "the task to be finalized");
    const task = await c.taskMarket.read.task([taskId]);
    const [answered] = await c.taskMarket.getEvents.AnswerSubmitted({ taskId }, { fromBlock: 0n, strict: true });
    const outputHash = keccak256(stringToHex(`answer from ${MODEL}`));
    assert.equal(answered!.args.outputHash, outputHash, "the provider submitted the endpoint's answer");
    const members = await roundSeats(net, taskId);
    assert.equal(members.length, 5);
    assert.ok(members.every((m) => m.revealed), "every member revealed");
    assert.equal(new Set(members.map((m) => m.score)).size, 1, "one deterministic evaluator: one score");
    // Every member committed (alone: no aggregator here), so the daemons revealed at once (on the round's last
    // ScoreCommitted), long before the commit window ended, and the keeper finalized as soon as all had revealed.
    const reveals = await c.taskMarket.getEvents.ScoreRevealed({ taskId }, { fromBlock: 0n });
    const [finalized] = await c.taskMarket.getEvents.TaskFinalized({ taskId }, { fromBlock: 0n });
    assert.equal(reveals.length, 5);
    for (const r of reveals) assert.ok(r.blockNumber! <= task.commitEnd, `reveal at block ${r.blockNumber}, commitEnd ${task.commitEnd}`);
    assert.ok(finalized!.blockNumber! <= task.commitEnd, `finalized at block ${finalized!.blockNumber}, commitEnd ${task.commitEnd}`);

    // Every honest validator is paid and claims; nobody is slashed; the provider claims its pay too.
    for (const v of [...validators, provider]) {
      await waitFor(async () => (await c.token.read.balanceOf([v.account.address])) > 0n && claimableNow(await c.taskMarket.read.claimable([v.account.address])) === 0n, 20_000, `${v.account.address} to claim`);
      assert.equal((await c.stakeRegistry.read.stakeInfo([v.account.address])).amount, STAKE, "stake untouched");
    }
    // Attestations: published after the reveal, on disk and over HTTP, signed by the validator, matching the chain.
    for (const v of validators) {
      const fromFile = parseAttestationRecords(readFileSync(path.join(v.ctx.config.stateDir, "attestations.jsonl"), "utf8"));
      const res = await fetch(`${v.ctx.health.url}/attestations?task=${taskId}`);
      assert.equal(res.headers.get("content-type"), "application/x-ndjson");
      const served = parseAttestationRecords(await res.text());
      assert.deepEqual(served, fromFile);
      assert.equal(served.length, 1);
      const record = served[0]!;
      assert.equal(record.score, members.find((m) => m.account === v.account.address)!.score);
      assert.equal(record.outputHash, outputHash, "the attestation signs the answer's hash");
      assert.equal(record.evaluatorId, net.evaluatorId);
      assert.ok(await verifyAttestationRecord(taskMarketDomain(net.chain.chainId, net.protocol.manifest.contracts.taskMarket), record));
      assert.deepEqual(await listFailedJobs(v.ctx.queues), []);
      const metrics = await (await fetch(`${v.ctx.health.url}/metrics`)).text();
      assert.match(metrics, /poq_tasks_revealed_total\{role="validator"\} 1/);
      assert.match(metrics, /poq_tasks_scored_total\{role="validator"\} 1/);
      assert.match(metrics, /poq_scoring_latency_seconds_count\{evaluator="[^"]+"\} 1/);
    }
    assert.deepEqual(await listFailedJobs(provider.ctx.queues), []);
  });

  it("handles every event delivered a second time (cursor lost) without sending anything again", async () => {
    const v = validators[0]!;
    const nonce = await net.chain.publicClient.getTransactionCount({ address: v.account.address });
    await v.role.stop();
    const cursorName = `validator-TaskMarket-${net.protocol.manifest.contracts.taskMarket}`;
    rmSync(path.join(v.ctx.cursors.dir, `${cursorName}.json`));
    v.role = await startValidatorRole(v.ctx); // replays every TaskMarket event from the deployment block
    const replayedTo = await net.chain.publicClient.getBlockNumber();
    // The replay is one backfill, whose cursor is written at once: up to its head (read around replayedTo, one
    // block either way) minus the one confirmation. Following the head afterwards writes it every 50 blocks only.
    await waitFor(() => (v.ctx.cursors.load(cursorName)?.block.number ?? 0n) >= replayedTo - 2n, 20_000, "the replay to reach the head");
    await new Promise((r) => setTimeout(r, 1_000)); // room for any (wrong) job the replay could have started
    assert.equal(await net.chain.publicClient.getTransactionCount({ address: v.account.address }), nonce, "no transaction sent again");
    assert.equal(parseAttestationRecords(readFileSync(path.join(v.ctx.config.stateDir, "attestations.jsonl"), "utf8")).length, 1);
    assert.deepEqual(await listFailedJobs(v.ctx.queues), []);
  });

  it("neverReveal (demo misbehaviour): the lazy validator commits, never reveals and is slashed; the others are not", async () => {
    const lazy = validators[2]!;
    await lazy.role.stop();
    lazy.role = await startValidatorRole(lazy.ctx, { neverReveal: true });
    const id = await net.createTask();
    const c = net.contracts;
    await waitFor(async () => (await c.taskMarket.read.task([id])).status === TaskStatus.Finalized, 60_000, "finalization after the reveal window");
    const members = await roundSeats(net, id);
    const lazyMember = members.find((m) => m.account === lazy.account.address)!;
    assert.ok(lazyMember.committed, "the lazy validator committed");
    assert.equal(lazyMember.revealed, false);
    assert.equal(members.filter((m) => m.revealed).length, 4);
    assert.ok((await c.stakeRegistry.read.stakeInfo([lazy.account.address])).amount < STAKE, "the non-revealer was slashed");
    for (const v of validators.filter((x) => x !== lazy)) assert.equal((await c.stakeRegistry.read.stakeInfo([v.account.address])).amount, STAKE);
    assert.equal((await (await fetch(`${lazy.ctx.health.url}/attestations?task=${id}`)).text()), "", "nothing published without a reveal");
  });

  it("refuses to start a validator whose evaluator is not registered on-chain (typed error)", async () => {
    const v = validators[1]!;
    const unregistered: Evaluator = { name: "unregistered", id: keccak256(stringToHex("not on chain")) as Hex, score: async () => [], close: async () => {} };
    await assert.rejects(startValidatorRole(v.ctx, { evaluator: unregistered }), (error: Error) => error instanceof EvaluatorNotRegisteredError && error.message.includes(unregistered.id));
  });
});
