import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import path from "node:path";
import { keccak256, stringToHex, type Hex, type PublicClient } from "viem";
import { startTestChain, type TestChain } from "../../helpers/chain.ts";
import { startTestRedis, type TestRedis } from "../../helpers/redis.ts";
import { startFakeChatServer, type FakeChatServer } from "../../helpers/openai-server.ts";
import { waitFor } from "../../helpers/child-process.ts";
import {
  STAKE, createTestAccount, createTestTask, deployTestProtocol, startBlockProducer, startTestContext, writeDaemonConfig,
  type TestAccount, type TestProtocol,
} from "../../helpers/daemon.ts";
import { ensureGeneratedModel } from "../../../scripts/models/generated-models.ts";
import { loadManifest, manifestId } from "../../../daemon/evaluation/manifest.ts";
import type { DaemonContext } from "../../../daemon/runtime/context.ts";
import type { RunningRole } from "../../../daemon/roles/role.ts";
import { EvaluatorNotRegisteredError, startValidatorRole } from "../../../daemon/roles/validator/validator-role.ts";
import type { Evaluator } from "../../../daemon/evaluation/evaluator.ts";
import { startProviderRole } from "../../../daemon/roles/provider/provider-role.ts";
import { listFailedJobs } from "../../../daemon/queue/failed-jobs.ts";
import { getProtocolContracts, TaskStatus } from "../../../sdk/contracts.ts";
import { parseAttestationRecords, verifyAttestationRecord } from "../../../sdk/attestation-record.ts";

const MODEL = "test-llm";
const PROMPT = "What is the capital of France?";

/**
 * One provider and five validator daemons, each with its own context, keystore and state folder, sharing one
 * Redis (queues kept apart by the per-account prefix), on the in-process Hardhat JSON-RPC server with a block
 * producer. The validators score with the generated tiny int8 cross-encoder registered on-chain.
 */
describe("roles: a full round with 1 provider and 5 validator daemons", () => {
  let chain: TestChain;
  let redis: TestRedis;
  let chat: FakeChatServer;
  let protocol: TestProtocol;
  let evaluatorDir: string;
  let evaluatorId: Hex;
  let stopBlocks: () => void = () => {};
  const contexts: DaemonContext[] = [];
  const roles: RunningRole[] = [];

  before(async () => {
    evaluatorDir = ensureGeneratedModel("generated-tiny-int8");
    evaluatorId = manifestId(await loadManifest(evaluatorDir)) as Hex;
    [chain, redis, chat] = await Promise.all([startTestChain(), startTestRedis(), startFakeChatServer()]);
    // providerFloor 0: the generated tiny model scores at random, and the provider must earn something to claim.
    protocol = await deployTestProtocol(chain, { evaluatorIds: [evaluatorId], params: { answerWindow: 40, commitWindow: 20, revealWindow: 20, providerFloor: 0 } });
  });
  after(async () => {
    stopBlocks();
    for (const role of roles) await role.stop();
    for (const ctx of contexts) await ctx.close();
    await chat?.close();
    await chain?.close();
    await redis?.dispose();
  });

  it("answers, draws, scores, commits, reveals, finalizes, pays and publishes verifiable attestations", async () => {
    const provider = await createTestAccount(chain, protocol, { role: "provider", models: [MODEL] });
    const validators: TestAccount[] = [];
    for (let i = 0; i < 5; i++) validators.push(await createTestAccount(chain, protocol, { role: "validator" }));
    const daemon = async (account: TestAccount, roleConfig: object) => {
      const { configPath } = await writeDaemonConfig({ chain, redisUrl: redis.url, privateKey: account.privateKey, config: { deployment: protocol.manifestPath, roles: roleConfig } });
      const ctx = await startTestContext(configPath);
      contexts.push(ctx);
      return ctx;
    };
    const providerCtx = await daemon(provider, { provider: { claimBatchMs: 0, models: { [MODEL]: { endpoints: [{ url: chat.base("ok"), timeoutMs: 5_000 }] } } } });
    roles.push(await startProviderRole(providerCtx));
    const validatorCtxs: DaemonContext[] = [];
    for (const v of validators) {
      const ctx = await daemon(v, { validator: { evaluatorDir, claimBatchMs: 0, drawStaggerMs: 300 } });
      validatorCtxs.push(ctx);
      roles.push(await startValidatorRole(ctx));
    }
    stopBlocks = startBlockProducer(chain, 150);

    const taskId = await createTestTask(chain, protocol, MODEL, evaluatorId, PROMPT);
    const c = getProtocolContracts(protocol.manifest, { public: chain.publicClient as PublicClient });
    await waitFor(async () => (await c.taskMarket.read.task([taskId])).status === TaskStatus.Finalized, 60_000, "the task to be finalized");
    const task = await c.taskMarket.read.task([taskId]);
    const expectedOutput = stringToHex(`answer from ${MODEL}`);
    assert.equal(task.outputHash, keccak256(expectedOutput), "the provider submitted the endpoint's answer");
    const members = await c.taskMarket.read.committee([taskId, 0n]);
    assert.equal(members.length, 5);
    assert.ok(members.every((m) => m.revealed), "every member revealed");
    assert.equal(new Set(members.map((m) => m.score)).size, 1, "one deterministic evaluator: one score");

    // Every honest validator is paid and claims; nobody is slashed.
    for (const v of validators) {
      await waitFor(async () => (await c.token.read.balanceOf([v.address])) > 0n && (await c.taskMarket.read.claimable([v.address])) === 0n, 20_000, `validator ${v.address} to claim`);
      assert.equal((await c.stakeRegistry.read.stakeInfo([v.address])).amount, STAKE, "stake untouched");
    }
    // Attestations: published after the reveal, on disk and over HTTP, signed by the validator, matching the chain.
    for (const [i, ctx] of validatorCtxs.entries()) {
      const fromFile = parseAttestationRecords(readFileSync(path.join(ctx.config.stateDir, "attestations.jsonl"), "utf8"));
      const res = await fetch(`${ctx.health.url}/attestations?task=${taskId}`);
      assert.equal(res.headers.get("content-type"), "application/x-ndjson");
      const served = parseAttestationRecords(await res.text());
      assert.deepEqual(served, fromFile);
      assert.equal(served.length, 1);
      const record = served[0]!;
      const member = members.find((m) => m.account === validators[i]!.address)!;
      assert.equal(record.score, member.score);
      assert.equal(record.outputHash, task.outputHash);
      assert.equal(record.evaluatorId, evaluatorId);
      assert.ok(await verifyAttestationRecord({ name: "PoQ TaskMarket", version: "1", chainId: chain.chainId, verifyingContract: protocol.manifest.contracts.taskMarket }, record));
      assert.deepEqual(await listFailedJobs(ctx.queues), []);
      const metrics = await (await fetch(`${ctx.health.url}/metrics`)).text();
      assert.match(metrics, /poq_tasks_revealed_total\{role="validator"\} 1/);
      assert.match(metrics, /poq_tasks_scored_total\{role="validator"\} 1/);
    }
    await waitFor(async () => (await c.token.read.balanceOf([provider.address])) > 0n, 20_000, "the provider to claim its pay");
    assert.equal(await c.taskMarket.read.claimable([provider.address]), 0n);
    assert.deepEqual(await listFailedJobs(providerCtx.queues), []);
  });

  it("refuses to start a validator whose evaluator is not registered on-chain (typed error)", async () => {
    const account = await createTestAccount(chain, protocol, { role: "validator" });
    const { configPath } = await writeDaemonConfig({ chain, redisUrl: redis.url, privateKey: account.privateKey, config: { deployment: protocol.manifestPath, roles: { validator: { evaluatorDir } } } });
    const ctx = await startTestContext(configPath);
    contexts.push(ctx);
    const unregistered: Evaluator = { name: "unregistered", id: keccak256(stringToHex("not on chain")), score: async () => [], close: async () => {} };
    await assert.rejects(startValidatorRole(ctx, { evaluator: unregistered }), (error: Error) => error instanceof EvaluatorNotRegisteredError && error.message.includes(unregistered.id));
  });
});
