import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { createWalletClient, encodeFunctionData, getAbiItem, http as viemHttp, parseEventLogs, type Hex, type PublicClient } from "viem";
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

/** Transactions to the market calling finalize(taskId) between `fromBlock` and the head (anybody's). */
async function finalizeTransactions(net: TestNetwork, taskId: bigint, fromBlock: bigint): Promise<Hex[]> {
  const found: Hex[] = [];
  const head = await net.chain.publicClient.getBlockNumber();
  const call = encodeFunctionData({ abi: taskMarketAbi, functionName: "finalize", args: [taskId] });
  for (let n = fromBlock; n <= head; n++) {
    const block = await net.chain.publicClient.getBlock({ blockNumber: n, includeTransactions: true });
    for (const tx of block.transactions) if (tx.input === call) found.push(tx.hash);
  }
  return found;
}

/**
 * Validators submit commits and reveals as EIP-712 signed messages through a relayer daemon that sends each
 * committee's messages together, on the in-process chain with real validator and keeper daemons.
 */
describe("relayer: one transaction per committee and phase", () => {
  let net: TestNetwork;
  before(async () => {
    net = await startTestNetwork();
  });
  after(async () => {
    await net?.close();
  });

  it("sends the k commits as soon as it holds them all, then the k reveals with the finalize; no keeper finalize", async () => {
    // A timer far beyond the windows: only a complete committee (or a validator's fallback block) releases a batch.
    const relayer = await net.startRelayer({ batchMs: 600_000 });
    await net.startProvider([{ url: net.chat.base("ok"), timeoutMs: 5_000 }]);
    const validators: TestDaemon[] = [];
    for (let i = 0; i < 5; i++) validators.push(await net.startValidator(undefined, undefined, { submit: "relayer", relayerUrl: relayer.role.url }));
    await net.startBlocks();
    const c = net.contracts;
    const taskId = await net.createTask();
    await waitFor(async () => (await c.taskMarket.read.task([taskId])).status === TaskStatus.Finalized, 60_000, "finalization");

    const task = await c.taskMarket.read.task([taskId]);
    const commits = await batchedTransactions(net, "ScoreCommitted", taskId);
    const reveals = await batchedTransactions(net, "ScoreRevealed", taskId);
    assert.deepEqual([...commits.values()], [5], "the five commits in one transaction");
    assert.deepEqual([...reveals.values()], [5], "the five reveals in one transaction");
    const [commitTx] = commits.keys();
    const [revealTx] = reveals.keys();
    const commitReceipt = await net.chain.publicClient.getTransactionReceipt({ hash: commitTx! });
    // Released by completeness, not by the fallback margin (5 + 2 blocks before commitEnd) nor the timer.
    assert.ok(commitReceipt.blockNumber < task.commitEnd - 7n, `commits landed at ${commitReceipt.blockNumber}, commitEnd ${task.commitEnd}`);
    const revealReceipt = await net.chain.publicClient.getTransactionReceipt({ hash: revealTx! });
    assert.equal(parseEventLogs({ abi: taskMarketAbi, logs: revealReceipt.logs, eventName: "TaskFinalized" }).length, 1, "the reveal batch finalized the task");
    assert.deepEqual(await finalizeTransactions(net, taskId, task.drawBlock), [], "no keeper sent a finalize of its own");
    for (const hash of [commitTx!, revealTx!]) {
      assert.equal((await net.chain.publicClient.getTransaction({ hash })).from, relayer.account.address.toLowerCase(), "batches are sent by the relayer");
    }
    await relayer.role.batcher.flush(); // the batch's sender may still be waiting for its confirmation
    assert.deepEqual({ ...relayer.role.batcher.stats }, { batches: 2, relayed: 10, dropped: 0, finalized: 1, completeGroups: 2, incompleteGroups: 0 });
    for (const v of validators) {
      assert.equal((await c.stakeRegistry.read.stakeInfo([v.account.address])).amount, STAKE, "not slashed");
      assert.deepEqual(await listFailedJobs(v.ctx.queues), []);
    }
    checked = { relayerUrl: relayer.role.url, taskId, member: validators[0]!.account };
  });

  let checked: { relayerUrl: string; taskId: bigint; member: TestDaemon["account"] } | undefined;
  it("refuses malformed items, foreign signers, expired deadlines and closed phases with named errors", async () => {
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
    // A well-signed message of a settled task: nothing could land, the validator is told at once.
    assert.deepEqual(await post(await item(member.privateKey)), { status: 422, error: "PhaseClosed" });
  });
});

describe("relayer: an incomplete committee and a raced item", () => {
  let net: TestNetwork;
  before(async () => {
    net = await startTestNetwork();
  });
  after(async () => {
    await net?.close();
  });

  const daemons: TestDaemon[] = [];
  it("sends an incomplete committee on its timer; an item the member front-ran is dropped by bisection, the rest land", async () => {
    const relayer = await net.startRelayer({ batchMs: 3_000 });
    await net.startProvider([{ url: net.chat.base("ok"), timeoutMs: 5_000 }]);
    const validators = daemons;
    for (let i = 0; i < 3; i++) validators.push(await net.startValidator(undefined, undefined, { submit: "relayer", relayerUrl: relayer.role.url }));
    // Two members are driven by the test: A hands its signed commit to the relayer, then commits directly first
    // (its relayed copy would revert: AlreadyCommitted); B commits directly, after A.
    const manual = [await net.validatorAccount(), await net.validatorAccount()];
    const contractsOf = (key: Hex) => getProtocolContracts(net.protocol.manifest, {
      public: net.chain.publicClient as PublicClient,
      wallet: createWalletClient({ chain: hardhat, transport: viemHttp(net.chain.httpUrl), account: privateKeyToAccount(key) }) as SigningWalletClient,
    });
    const c = net.contracts;
    await net.startBlocks();
    const taskId = await net.createTask();
    await waitFor(async () => (await c.taskMarket.read.task([taskId])).status === TaskStatus.Committee, 30_000, "the committee draw");

    const members = await c.taskMarket.read.committee([taskId, 0n]);
    const domain = taskMarketDomain(net.chain.chainId, net.protocol.manifest.contracts.taskMarket);
    const score = 5_000;
    const sealed = manual.map((m) => {
      const salt = newSalt();
      const index = BigInt(members.findIndex((x) => x.account === m.address));
      return { m, salt, index, commitment: computeCommitment({ score, salt, validator: m.address, taskId, round: 0, chainId: net.chain.chainId, market: net.protocol.manifest.contracts.taskMarket }) };
    });
    const [a, b] = sealed as [typeof sealed[number], typeof sealed[number]];
    const deadline = (await net.chain.publicClient.getBlock()).timestamp + 600n;
    const signature = await signCommit(privateKeyToAccount(a.m.privateKey), domain, { taskId, round: 0n, commitment: a.commitment, deadline });
    const res = await fetch(`${relayer.role.url}/relay/commit`, { method: "POST", body: JSON.stringify(formatSignedItem({ taskId, round: 0n, index: a.index, commitment: a.commitment, deadline, signature })) });
    assert.equal(res.status, 202, await res.text());
    for (const x of [a, b]) {
      await net.chain.publicClient.waitForTransactionReceipt({ hash: await contractsOf(x.m.privateKey).taskMarket.write.commit([taskId, x.index, x.commitment]) });
    }
    await waitFor(async () => (await c.taskMarket.read.task([taskId])).committedCount === 5, 30_000, "every commit");
    for (const x of [a, b]) {
      await net.chain.publicClient.waitForTransactionReceipt({ hash: await contractsOf(x.m.privateKey).taskMarket.write.reveal([taskId, x.index, BigInt(score), x.salt]) });
    }
    await waitFor(async () => (await c.taskMarket.read.task([taskId])).status === TaskStatus.Finalized, 60_000, "finalization");

    assert.ok(relayer.role.batcher.stats.dropped >= 1, `the stale item was dropped (${JSON.stringify(relayer.role.batcher.stats)})`);
    assert.equal(await senderOf(net, "ScoreCommitted", taskId, a.m.address), a.m.address.toLowerCase(), "the dropped signed commit never executed");
    assert.deepEqual([...(await batchedTransactions(net, "ScoreCommitted", taskId)).values()], [3], "the three daemons' commits in one transaction");
    for (const v of validators) {
      for (const event of ["ScoreCommitted", "ScoreRevealed"] as const) {
        assert.equal(await senderOf(net, event, taskId, v.account.address), relayer.account.address.toLowerCase(), `${event} went through the relayer`);
      }
      assert.equal((await c.stakeRegistry.read.stakeInfo([v.account.address])).amount, STAKE, "not slashed");
      assert.deepEqual(await listFailedJobs(v.ctx.queues), []);
    }
  });

  it("never holds an incomplete committee past its validators' fallback: sent in time with a timer far beyond the windows", async () => {
    // The three daemons again, through a relayer whose timer never fires within a phase; the two test-driven
    // members do nothing, so neither set can complete: only the validators' fallback blocks release them.
    const slow = await net.startRelayer({ batchMs: 600_000 });
    for (const v of daemons) await v.role.stop();
    const validators: TestDaemon[] = [];
    for (const v of daemons) validators.push(await net.startValidator(v.account, undefined, { relayerUrl: slow.role.url }));
    const c = net.contracts;
    const taskId = await net.createTask();
    await waitFor(async () => (await c.taskMarket.read.task([taskId])).status === TaskStatus.Finalized, 60_000, "finalization (after revealEnd)");
    const task = await c.taskMarket.read.task([taskId]);
    for (const [event, phaseEnd] of [["ScoreCommitted", task.commitEnd], ["ScoreRevealed", task.revealEnd]] as const) {
      const batches = await batchedTransactions(net, event, taskId);
      assert.deepEqual([...batches.values()], [3], `${event}: the three daemons' messages in one transaction`);
      const receipt = await net.chain.publicClient.getTransactionReceipt({ hash: [...batches.keys()][0]! });
      // The validators' default relayFallbackBlocks is 5: on chain before phaseEnd - 5, so none of them sent its own.
      assert.ok(receipt.blockNumber < phaseEnd - 5n, `${event} landed at ${receipt.blockNumber}, fallback at ${phaseEnd - 5n}`);
      assert.equal((await net.chain.publicClient.getTransaction({ hash: receipt.transactionHash })).from, slow.account.address.toLowerCase());
    }
    await slow.role.batcher.flush();
    assert.deepEqual({ ...slow.role.batcher.stats }, { batches: 2, relayed: 6, dropped: 0, finalized: 0, completeGroups: 0, incompleteGroups: 2 });
    for (const v of validators) {
      assert.equal((await c.stakeRegistry.read.stakeInfo([v.account.address])).amount, STAKE, "not slashed");
      assert.deepEqual(await listFailedJobs(v.ctx.queues), []);
    }
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
  /**
   * A hostile relay endpoint: answers 202 to every message exactly as an honest relayer does, keeps what it is
   * given, and forwards to `forwardTo` only the paths `forward` names (nothing by default).
   */
  async function startWithholder(forwardTo?: string, forward: readonly string[] = []) {
    const received: { path: string; body: Record<string, string> }[] = [];
    const server = http.createServer((req, res) => {
      let body = "";
      req.on("data", (chunk: Buffer) => (body += chunk.toString("utf8")));
      req.on("end", () => {
        const path = req.url ?? "";
        received.push({ path, body: JSON.parse(body) as Record<string, string> });
        const forwarded = forwardTo !== undefined && forward.includes(path)
          ? fetch(`${forwardTo}${path}`, { method: "POST", body }).then((r) => r.status)
          : Promise.resolve(202);
        void forwarded.then((status) => {
          res.writeHead(status, { "content-type": "application/json" });
          res.end(JSON.stringify({ accepted: status === 202 }));
        });
      });
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    return {
      url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
      received,
      async close() {
        server.closeAllConnections();
        await new Promise<void>((resolve) => server.close(() => resolve()));
      },
    };
  }

  /** Restarts the round's validators against `relayerUrl` (8 blocks of fallback margin: blocks come every 200 ms
   * here, and a direct transaction needs a block plus a confirmation). */
  async function restartValidators(relayerUrl: string): Promise<TestDaemon[]> {
    const validators: TestDaemon[] = [];
    for (const v of previous) await v.role.stop();
    for (const v of previous) validators.push(await net.startValidator(v.account, undefined, { relayerUrl, relayFallbackBlocks: 8 }));
    previous.splice(0, previous.length, ...validators);
    return validators;
  }

  it("a relayer that accepts every message and never sends it: validators commit and reveal directly in time, nobody is slashed", async () => {
    const withholder = await startWithholder();
    try {
      const validators = await restartValidators(withholder.url);
      const c = net.contracts;
      const taskId = await net.createTask();
      await waitFor(async () => (await c.taskMarket.read.task([taskId])).status === TaskStatus.Finalized, 60_000, "finalization");
      const task = await c.taskMarket.read.task([taskId]);
      const members = await c.taskMarket.read.committee([taskId, 0n]);
      assert.ok(members.every((m) => m.revealed), `every member revealed (directly, at the margin): ${JSON.stringify(members.map((m) => [m.revealed, m.commitment.slice(0, 10)]))}`);
      const ofTask = withholder.received.filter((r) => r.body.taskId === String(taskId));
      assert.equal(ofTask.filter((r) => r.path === "/relay/commit").length, 5, "the withholder was handed every commit");
      assert.equal(ofTask.filter((r) => r.path === "/relay/reveal").length, 5, "and every reveal (too late to copy: the commits were fixed)");
      for (const r of ofTask) assert.equal(r.body.sendBy, String((r.path === "/relay/commit" ? task.commitEnd : task.revealEnd) - 8n), "each message said when its validator falls back");
      for (const v of validators) {
        for (const event of ["ScoreCommitted", "ScoreRevealed"] as const) {
          assert.equal(await senderOf(net, event, taskId, v.account.address), v.account.address.toLowerCase(), `${event} sent directly`);
        }
        assert.equal((await c.stakeRegistry.read.stakeInfo([v.account.address])).amount, STAKE);
        assert.deepEqual(await listFailedJobs(v.ctx.queues), []);
      }
    } finally {
      await withholder.close();
    }
  });

  it("a relayer that relays the commits and drops every reveal: the reveals go directly in time, a keeper finalizes, nobody is slashed", async () => {
    const relayer = await net.startRelayer();
    const dropper = await startWithholder(relayer.role.url, ["/relay/commit"]);
    try {
      const validators = await restartValidators(dropper.url);
      const c = net.contracts;
      const taskId = await net.createTask();
      await waitFor(async () => (await c.taskMarket.read.task([taskId])).status === TaskStatus.Finalized, 60_000, "finalization");
      assert.deepEqual([...(await batchedTransactions(net, "ScoreCommitted", taskId)).values()], [5], "the commits relayed in one transaction");
      assert.equal(dropper.received.filter((r) => r.path === "/relay/reveal" && r.body.taskId === String(taskId)).length, 5, "every reveal handed over, none relayed");
      for (const v of validators) {
        assert.equal(await senderOf(net, "ScoreCommitted", taskId, v.account.address), relayer.account.address.toLowerCase(), "commit relayed");
        assert.equal(await senderOf(net, "ScoreRevealed", taskId, v.account.address), v.account.address.toLowerCase(), "reveal sent directly");
        assert.equal((await c.stakeRegistry.read.stakeInfo([v.account.address])).amount, STAKE);
        assert.deepEqual(await listFailedJobs(v.ctx.queues), []);
      }
    } finally {
      await dropper.close();
    }
  });
});
