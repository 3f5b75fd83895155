import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { createWalletClient, getAbiItem, http as viemHttp, type Hex, type PublicClient } from "viem";
import { generatePrivateKey, privateKeyToAccount } from "viem/accounts";
import { hardhat } from "viem/chains";
import { waitFor } from "../../helpers/child-process.ts";
import { STAKE } from "../../helpers/daemon.ts";
import { startTestNetwork, type TestDaemon, type TestNetwork } from "./helpers/network.ts";
import { listFailedJobs } from "../../../daemon/queue/failed-jobs.ts";
import { formatSignedItem } from "../../../daemon/roles/relayer/relay-messages.ts";
import { newSalt } from "../../../daemon/store/salt-store.ts";
import { getProtocolContracts, TaskStatus, type SigningWalletClient } from "../../../sdk/contracts.ts";
import { computeCommitment } from "../../../sdk/commitment.ts";
import { signCommit, taskMarketDomain } from "../../../sdk/eip712.ts";
import { taskMarketAbi } from "../../../daemon/roles/market.ts";

/** Transactions that carry more than one `eventName` log of `taskId`, with how many each carries. */
async function batchedTransactions(net: TestNetwork, eventName: "ScoreCommitted" | "ScoreRevealed", taskId: bigint): Promise<Map<Hex, number>> {
  const logs: { transactionHash: Hex | null }[] = await net.chain.publicClient.getLogs({ address: net.protocol.manifest.contracts.taskMarket, event: getAbiItem({ abi: taskMarketAbi, name: eventName }) as never, args: { taskId } as never, fromBlock: 0n }) as never;
  const perTx = new Map<Hex, number>();
  for (const log of logs) perTx.set(log.transactionHash!, (perTx.get(log.transactionHash!) ?? 0) + 1);
  return new Map([...perTx].filter(([, n]) => n > 1));
}

/** Who sent the transaction that carried `validator`'s `eventName` log of `taskId` (lower case), or undefined. */
async function senderOf(net: TestNetwork, eventName: "ScoreCommitted" | "ScoreRevealed", taskId: bigint, validator: Hex): Promise<string | undefined> {
  const logs: { transactionHash: Hex | null }[] = await net.chain.publicClient.getLogs({ address: net.protocol.manifest.contracts.taskMarket, event: getAbiItem({ abi: taskMarketAbi, name: eventName }) as never, args: { taskId, validator } as never, fromBlock: 0n }) as never;
  if (logs.length === 0) return undefined;
  return (await net.chain.publicClient.getTransaction({ hash: logs[0]!.transactionHash! })).from.toLowerCase();
}

/**
 * Validators submit commits and reveals as EIP-712 signed messages through a relayer daemon that batches them
 * into commitBySig / revealBySig, on the in-process chain with real validator daemons.
 */
describe("relayer: batched signed commits and reveals", () => {
  let net: TestNetwork;
  before(async () => {
    net = await startTestNetwork();
  });
  after(async () => {
    await net?.close();
  });

  it("relays a full round in batches; a bad item is dropped by bisection and the rest still land", async () => {
    const relayer = await net.startRelayer({ batchMs: 3_000 });
    await net.startProvider([{ url: net.chat.base("ok"), timeoutMs: 5_000 }]);
    const validators: TestDaemon[] = [];
    for (let i = 0; i < 4; i++) validators.push(await net.startValidator(undefined, undefined, { submit: "relayer", relayerUrl: relayer.role.url }));
    // The fifth member is driven by the test: its signed commit is accepted, then made stale before the batch.
    const manual = await net.validatorAccount();
    const wallet = createWalletClient({ chain: hardhat, transport: viemHttp(net.chain.httpUrl), account: privateKeyToAccount(manual.privateKey) });
    const mine = getProtocolContracts(net.protocol.manifest, { public: net.chain.publicClient as PublicClient, wallet: wallet as SigningWalletClient });
    const c = net.contracts;
    await net.startBlocks();
    const taskId = await net.createTask();
    await waitFor(async () => (await c.taskMarket.read.task([taskId])).status === TaskStatus.Committee, 30_000, "the committee draw");

    const index = BigInt((await c.taskMarket.read.committee([taskId, 0n])).findIndex((m) => m.account === manual.address));
    const salt = newSalt();
    const score = 5_000;
    const commitment = computeCommitment({ score, salt, validator: manual.address, taskId, round: 0, chainId: net.chain.chainId, market: net.protocol.manifest.contracts.taskMarket });
    const deadline = (await net.chain.publicClient.getBlock()).timestamp + 600n;
    const domain = taskMarketDomain(net.chain.chainId, net.protocol.manifest.contracts.taskMarket);
    const signature = await signCommit(privateKeyToAccount(manual.privateKey), domain, { taskId, round: 0n, commitment, deadline });
    const res = await fetch(`${relayer.role.url}/relay/commit`, { method: "POST", body: JSON.stringify(formatSignedItem({ taskId, round: 0n, index, commitment, deadline, signature })) });
    assert.equal(res.status, 202, await res.text());
    // The same member commits directly first: its relayed copy would now revert (AlreadyCommitted).
    await net.chain.publicClient.waitForTransactionReceipt({ hash: await mine.taskMarket.write.commit([taskId, index, commitment]) });
    const task = await c.taskMarket.read.task([taskId]);
    await waitFor(async () => (await net.chain.publicClient.getBlockNumber()) > task.commitEnd, 30_000, "the reveal phase");
    await net.chain.publicClient.waitForTransactionReceipt({ hash: await mine.taskMarket.write.reveal([taskId, index, BigInt(score), salt]) });
    await waitFor(async () => (await c.taskMarket.read.task([taskId])).status === TaskStatus.Finalized, 60_000, "finalization");

    assert.ok(relayer.role.batcher.stats.dropped >= 1, `the stale item was dropped (${JSON.stringify(relayer.role.batcher.stats)})`);
    assert.equal(await senderOf(net, "ScoreCommitted", taskId, manual.address), manual.address.toLowerCase(), "the dropped signed commit never executed");
    const commitBatches = await batchedTransactions(net, "ScoreCommitted", taskId);
    const revealBatches = await batchedTransactions(net, "ScoreRevealed", taskId);
    assert.ok(commitBatches.size >= 1 && revealBatches.size >= 1, "one transaction carried several commits, one several reveals");
    for (const hash of [...commitBatches.keys(), ...revealBatches.keys()]) {
      assert.equal((await net.chain.publicClient.getTransaction({ hash })).from, relayer.account.address.toLowerCase(), "batches are sent by the relayer");
    }
    const members = await c.taskMarket.read.committee([taskId, 0n]);
    for (const v of validators) {
      assert.equal(members.find((m) => m.account === v.account.address)?.revealed, true);
      for (const event of ["ScoreCommitted", "ScoreRevealed"] as const) {
        assert.equal(await senderOf(net, event, taskId, v.account.address), relayer.account.address.toLowerCase(), `${event} went through the relayer`);
      }
      assert.equal((await c.stakeRegistry.read.stakeInfo([v.account.address])).amount, STAKE, "not slashed");
      assert.deepEqual(await listFailedJobs(v.ctx.queues), []);
    }
    checked = { relayerUrl: relayer.role.url, taskId, member: validators[0]!.account };
  });

  let checked: { relayerUrl: string; taskId: bigint; member: TestDaemon["account"] } | undefined;
  it("refuses malformed items, foreign signers and expired deadlines with named errors", async () => {
    assert.ok(checked !== undefined, "runs after the round above");
    const { relayerUrl, taskId, member } = checked;
    const c = net.contracts;
    const domain = taskMarketDomain(net.chain.chainId, net.protocol.manifest.contracts.taskMarket);
    const index = BigInt((await c.taskMarket.read.committee([taskId, 0n])).findIndex((m) => m.account === member.address));
    const now = (await net.chain.publicClient.getBlock()).timestamp;
    const post = async (body: unknown) => {
      const res = await fetch(`${relayerUrl}/relay/commit`, { method: "POST", body: JSON.stringify(body) });
      return { status: res.status, error: ((await res.json()) as { error: string }).error };
    };
    const item = async (key: Hex, fields: { deadline?: bigint } = {}) => {
      const message = { taskId, round: 0n, commitment: `0x${"ab".repeat(32)}` as Hex, deadline: fields.deadline ?? now + 600n };
      return formatSignedItem({ ...message, index, signature: await signCommit(privateKeyToAccount(key), domain, message) });
    };
    assert.deepEqual(await post({ taskId: "1" }), { status: 400, error: "malformed" });
    assert.deepEqual(await post(await item(generatePrivateKey())), { status: 403, error: "InvalidSigner" });
    assert.deepEqual(await post(await item(member.privateKey, { deadline: now - 1n })), { status: 422, error: "SignatureExpired" });
  });
});

describe("relayer down: validators fall back to direct transactions in time", () => {
  let net: TestNetwork;
  before(async () => {
    net = await startTestNetwork();
  });
  after(async () => {
    await net?.close();
  });

  it("commits and reveals directly when the relayer is unreachable; nobody is slashed", async () => {
    const closed = http.createServer();
    await new Promise<void>((resolve) => closed.listen(0, "127.0.0.1", resolve));
    const deadUrl = `http://127.0.0.1:${(closed.address() as AddressInfo).port}`;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    await net.startProvider([{ url: net.chat.base("ok"), timeoutMs: 5_000 }]);
    const validators: TestDaemon[] = [];
    for (let i = 0; i < 5; i++) validators.push(await net.startValidator(undefined, undefined, { submit: "relayer", relayerUrl: deadUrl }));
    await net.startBlocks();
    const c = net.contracts;
    const taskId = await net.createTask();
    await waitFor(async () => (await c.taskMarket.read.task([taskId])).status === TaskStatus.Finalized, 60_000, "finalization");
    const members = await c.taskMarket.read.committee([taskId, 0n]);
    assert.ok(members.every((m) => m.revealed));
    for (const v of validators) {
      assert.equal(await senderOf(net, "ScoreCommitted", taskId, v.account.address), v.account.address.toLowerCase(), "nothing was relayed");
      assert.equal((await c.stakeRegistry.read.stakeInfo([v.account.address])).amount, STAKE);
      assert.deepEqual(await listFailedJobs(v.ctx.queues), []);
    }
    previous.push(...validators);
  });

  const previous: TestDaemon[] = [];
  it("sends directly before the phase ends when the relayer accepts but never sends", async () => {
    const silent = await net.startRelayer({ batchMs: 600_000 });
    for (const v of previous) await v.role.stop();
    const validators: TestDaemon[] = [];
    // 8 blocks of margin: blocks come every 200 ms here, and the direct transaction needs a block plus a confirmation.
    for (const v of previous) validators.push(await net.startValidator(v.account, undefined, { submit: "relayer", relayerUrl: silent.role.url, relayFallbackBlocks: 8 }));
    const c = net.contracts;
    const taskId = await net.createTask();
    await waitFor(async () => (await c.taskMarket.read.task([taskId])).status === TaskStatus.Finalized, 60_000, "finalization");
    const members = await c.taskMarket.read.committee([taskId, 0n]);
    assert.ok(members.every((m) => m.revealed), `every member revealed (directly, at the margin): ${JSON.stringify(members.map((m) => [m.revealed, m.commitment.slice(0, 10)]))}`);
    for (const v of validators) {
      assert.equal(await senderOf(net, "ScoreRevealed", taskId, v.account.address), v.account.address.toLowerCase(), "nothing relayed");
      assert.equal((await c.stakeRegistry.read.stakeInfo([v.account.address])).amount, STAKE);
      assert.deepEqual(await listFailedJobs(v.ctx.queues), []);
    }
  });
});
