import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { createWalletClient, getAbiItem, http as viemHttp, parseEventLogs, toFunctionSelector, type Hex, type PublicClient } from "viem";
import { generatePrivateKey, privateKeyToAccount } from "viem/accounts";
import { hardhat } from "viem/chains";
import { waitFor } from "../../helpers/child-process.ts";
import { STAKE } from "../../helpers/daemon.ts";
import { startTestNetwork, type TestDaemon, type TestNetwork } from "./helpers/network.ts";
import { listFailedJobs } from "../../../daemon/queue/failed-jobs.ts";
import { formatSignedItem } from "../../../daemon/roles/relayer/relay-messages.ts";
import { COMMIT_SIGNATURE_LIFETIME_S } from "../../../daemon/roles/validator/relay-submit.ts";
import { newSalt } from "../../../daemon/store/salt-store.ts";
import { getProtocolContracts, TaskStatus, type SigningWalletClient } from "../../../sdk/contracts.ts";
import { computeCommitment } from "../../../sdk/commitment.ts";
import { signCommit, taskMarketDomain } from "../../../sdk/eip712.ts";
import { taskMarketAbi } from "../../../daemon/roles/market.ts";
import { maskOf, readCurrentRound, readRound, stateArg, type Round } from "../../../sdk/rounds.ts";
import { roundSeats } from "./helpers/rounds.ts";

type ReportEvent = "CommitReported" | "RevealReported";

/** The task's reports of one kind: the transaction, its sender and the seats each covers. */
async function reportsOf(net: TestNetwork, eventName: ReportEvent, taskId: bigint): Promise<{ hash: Hex; from: string; mask: number; blockNumber: bigint }[]> {
  const logs = await net.chain.publicClient.getLogs({ address: net.protocol.manifest.contracts.taskMarket, event: getAbiItem({ abi: taskMarketAbi, name: eventName }) as never, args: { taskId } as never, fromBlock: 0n }) as unknown as { transactionHash: Hex; blockNumber: bigint; args: { mask: number } }[];
  return Promise.all(logs.map(async (l) => ({ hash: l.transactionHash, blockNumber: l.blockNumber, mask: Number(l.args.mask), from: (await net.chain.publicClient.getTransaction({ hash: l.transactionHash })).from.toLowerCase() })));
}

/** Who sent the transaction that carried `validator`'s `eventName` log of `taskId` (lower case), or undefined:
 * the member's own commit or reveal, alone. */
async function senderOf(net: TestNetwork, eventName: "ScoreCommitted" | "ScoreRevealed", taskId: bigint, validator: Hex): Promise<string | undefined> {
  const logs: { transactionHash: Hex | null }[] = await net.chain.publicClient.getLogs({ address: net.protocol.manifest.contracts.taskMarket, event: getAbiItem({ abi: taskMarketAbi, name: eventName }) as never, args: { taskId, validator } as never, fromBlock: 0n }) as never;
  if (logs.length === 0) return undefined;
  return (await net.chain.publicClient.getTransaction({ hash: logs[0]!.transactionHash! })).from.toLowerCase();
}

/** The seats of `accounts` in the task's round 0. */
async function seatMask(net: TestNetwork, taskId: bigint, accounts: readonly Hex[]): Promise<number> {
  const seats = await roundSeats(net, taskId);
  return maskOf(accounts.map((a) => seats.findIndex((s) => s.account === a)));
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

  it("sends the k signed commits as one commitReport as soon as it holds them all, then the k openings as one revealReport that settles", async () => {
    // A timer far beyond the windows: only a complete committee (or a validator's fallback block) releases a report.
    const relayer = await net.startRelayer({ batchMs: 600_000 });
    await net.startProvider([{ url: net.chat.base("ok"), timeoutMs: 5_000 }]);
    const validators: TestDaemon[] = [];
    for (let i = 0; i < 5; i++) validators.push(await net.startValidator(undefined, undefined, { submit: "relayer", relayerUrl: relayer.role.url }));
    await net.startBlocks();
    const c = net.contracts;
    const taskId = await net.createTask();
    await waitFor(async () => (await c.taskMarket.read.task([taskId])).status === TaskStatus.Finalized, 60_000, "finalization");

    const commits = await reportsOf(net, "CommitReported", taskId);
    const reveals = await reportsOf(net, "RevealReported", taskId);
    assert.deepEqual(commits.map((r) => r.mask), [0b11111], "the five commits in one report");
    assert.deepEqual(reveals.map((r) => r.mask), [0b11111], "the five openings in one report");
    // The members learnt their seats from pendingCommittee and the commit report drew the committee: no draw
    // transaction of its own (docs/PROTOCOL.md, step 6).
    const commitReceipt = await net.chain.publicClient.getTransactionReceipt({ hash: commits[0]!.hash });
    assert.equal(parseEventLogs({ abi: taskMarketAbi, logs: commitReceipt.logs, eventName: "CommitteeDrawn" }).length, 1, "the commit report drew the committee");
    const draws = await net.chain.publicClient.getLogs({ address: net.protocol.manifest.contracts.taskMarket, event: getAbiItem({ abi: taskMarketAbi, name: "CommitteeDrawn" }), args: { taskId }, fromBlock: 0n });
    assert.deepEqual(draws.map((l) => l.transactionHash), [commits[0]!.hash], "no other draw");
    const revealReceipt = await net.chain.publicClient.getTransactionReceipt({ hash: reveals[0]!.hash });
    assert.equal(parseEventLogs({ abi: taskMarketAbi, logs: revealReceipt.logs, eventName: "TaskFinalized" }).length, 1, "the reveal report settled the task");
    for (const r of [...commits, ...reveals]) assert.equal(r.from, relayer.account.address.toLowerCase(), "reports are sent by the aggregator");
    for (const v of validators) {
      assert.equal(await senderOf(net, "ScoreCommitted", taskId, v.account.address), undefined, "nobody committed alone");
      assert.equal(await senderOf(net, "ScoreRevealed", taskId, v.account.address), undefined, "nobody revealed alone");
    }
    assert.ok((await roundSeats(net, taskId)).every((seat) => seat.revealed), "every seat opened");
    await relayer.role.batcher.flush(); // the report's sender may still be waiting for its confirmation
    // completeGroups 2, incompleteGroups 0: released by completeness, not by the land margin nor the timer.
    assert.deepEqual({ ...relayer.role.batcher.stats }, { batches: 2, relayed: 10, dropped: 0, finalized: 1, partialReveals: 0, completeGroups: 2, incompleteGroups: 0 });
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
    const index = BigInt((await roundSeats(net, taskId)).findIndex((m) => m.account === member.address));
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
    const reveal = await fetch(`${relayerUrl}/relay/reveal`, { method: "POST", body: JSON.stringify({ taskId: String(taskId), round: "0", index: String(index), score: "1", salt: `0x${"cd".repeat(32)}`, deadline: "1" }) });
    assert.equal(reveal.status, 400, "an opening carries no deadline nor signature");
    void c;
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
  it("sends an incomplete committee on its timer; a seat its member committed alone meanwhile is left out of the report; a wrong opening is refused; the openings settle once the others revealed alone", async () => {
    const relayer = await net.startRelayer({ batchMs: 3_000 });
    await net.startProvider([{ url: net.chat.base("ok"), timeoutMs: 5_000 }]);
    const validators = daemons;
    for (let i = 0; i < 3; i++) validators.push(await net.startValidator(undefined, undefined, { submit: "relayer", relayerUrl: relayer.role.url }));
    // Two members are driven by the test: A hands its signed commit to the aggregator, then commits alone first
    // (its seat in a report would revert: AlreadyCommitted); B commits alone. Both reveal alone.
    const manual = [await net.validatorAccount(), await net.validatorAccount()];
    const contractsOf = (key: Hex) => getProtocolContracts(net.protocol.manifest, {
      public: net.chain.publicClient as PublicClient,
      wallet: createWalletClient({ chain: hardhat, transport: viemHttp(net.chain.httpUrl), account: privateKeyToAccount(key) }) as SigningWalletClient,
    });
    const c = net.contracts;
    await net.startBlocks();
    const taskId = await net.createTask();
    await waitFor(async () => (await c.taskMarket.read.task([taskId])).status === TaskStatus.Committee, 30_000, "the committee draw");

    const members = await roundSeats(net, taskId);
    const market = net.protocol.manifest.contracts.taskMarket;
    const state = async () => stateArg((await readRound(net.chain.publicClient as PublicClient, market, taskId, 0, 0n)).state);
    const domain = taskMarketDomain(net.chain.chainId, market);
    const score = 5_000;
    const sealed = manual.map((m) => {
      const salt = newSalt();
      const index = BigInt(members.findIndex((x) => x.account === m.address));
      return { m, salt, index, commitment: computeCommitment({ score, salt, validator: m.address, taskId, round: 0, chainId: net.chain.chainId, market }) };
    });
    const [a, b] = sealed as [typeof sealed[number], typeof sealed[number]];
    const deadline = (await net.chain.publicClient.getBlock()).timestamp + 600n;
    const signature = await signCommit(privateKeyToAccount(a.m.privateKey), domain, { taskId, round: 0n, commitment: a.commitment, deadline });
    const res = await fetch(`${relayer.role.url}/relay/commit`, { method: "POST", body: JSON.stringify(formatSignedItem({ taskId, round: 0n, index: a.index, commitment: a.commitment, deadline, signature })) });
    assert.equal(res.status, 202, await res.text());
    for (const x of [a, b]) {
      await net.chain.publicClient.waitForTransactionReceipt({ hash: await contractsOf(x.m.privateKey).taskMarket.write.commit([taskId, await state(), x.index, x.commitment]) });
    }
    await waitFor(async () => (await c.taskMarket.read.task([taskId])).committedCount === 5, 30_000, "every commit");
    // A member hands over a wrong opening (another score under its salt): refused at once, so it can never make
    // the reveal report revert; the member must reveal alone (it does below) or be slashed as a non-revealer.
    const wrong = await fetch(`${relayer.role.url}/relay/reveal`, { method: "POST", body: JSON.stringify({ taskId: String(taskId), round: "0", index: String(b.index), score: String(score + 1), salt: b.salt }) });
    assert.deepEqual([wrong.status, ((await wrong.json()) as { error: string }).error], [422, "CommitmentMismatch"]);
    for (const x of [a, b]) {
      await net.chain.publicClient.waitForTransactionReceipt({ hash: await contractsOf(x.m.privateKey).taskMarket.write.reveal([taskId, await state(), x.index, BigInt(score), x.salt]) });
    }
    await waitFor(async () => (await c.taskMarket.read.task([taskId])).status === TaskStatus.Finalized, 60_000, "finalization");

    const daemonSeats = await seatMask(net, taskId, validators.map((v) => v.account.address));
    assert.deepEqual((await reportsOf(net, "CommitReported", taskId)).map((r) => r.mask), [daemonSeats], "one commit report: the three daemons' seats, not A's");
    assert.deepEqual((await reportsOf(net, "RevealReported", taskId)).map((r) => r.mask), [daemonSeats], "one reveal report: the seats not opened alone");
    assert.equal(await senderOf(net, "ScoreCommitted", taskId, a.m.address), a.m.address.toLowerCase(), "A's seat committed alone, once");
    for (const v of validators) {
      assert.equal(await senderOf(net, "ScoreCommitted", taskId, v.account.address), undefined, "the daemons' commits went through the report");
      assert.equal((await c.stakeRegistry.read.stakeInfo([v.account.address])).amount, STAKE, "not slashed");
      assert.deepEqual(await listFailedJobs(v.ctx.queues), []);
    }
    assert.ok((await roundSeats(net, taskId)).every((seat) => seat.revealed), "all five seats opened");
  });

  it("never holds an incomplete committee past its validators' fallback: its reports sent in time with a timer far beyond the windows", async () => {
    // The three daemons again, through a relayer whose timer never fires within a phase; the two test-driven
    // members do nothing, so neither set can complete: only the validators' fallback blocks release them.
    const slow = await net.startRelayer({ batchMs: 600_000 });
    for (const v of daemons) await v.role.stop();
    const validators: TestDaemon[] = [];
    for (const v of daemons) validators.push(await net.startValidator(v.account, undefined, { relayerUrl: slow.role.url }));
    daemons.splice(0, daemons.length, ...validators);
    const c = net.contracts;
    const taskId = await net.createTask();
    await waitFor(async () => (await c.taskMarket.read.task([taskId])).status === TaskStatus.Finalized, 60_000, "finalization");
    const task = await c.taskMarket.read.task([taskId]);
    const daemonSeats = await seatMask(net, taskId, validators.map((v) => v.account.address));
    for (const [event, phaseEnd] of [["CommitReported", task.commitEnd], ["RevealReported", task.revealEnd]] as const) {
      const reports = await reportsOf(net, event, taskId);
      assert.deepEqual(reports.map((r) => r.mask), [daemonSeats], `${event}: the three daemons' seats in one report`);
      // The validators' default relayFallbackBlocks is 5: on chain before phaseEnd - 5, so none of them sent its own.
      assert.ok(reports[0]!.blockNumber < phaseEnd - 5n, `${event} landed at ${reports[0]!.blockNumber}, fallback at ${phaseEnd - 5n}`);
      assert.equal(reports[0]!.from, slow.account.address.toLowerCase());
    }
    await slow.role.batcher.flush();
    // The reveal report settles at once: the two silent seats never committed, so nobody is left to wait for.
    assert.deepEqual({ ...slow.role.batcher.stats }, { batches: 2, relayed: 6, dropped: 0, finalized: 1, partialReveals: 0, completeGroups: 0, incompleteGroups: 2 });
    for (const v of validators) {
      assert.equal((await c.stakeRegistry.read.stakeInfo([v.account.address])).amount, STAKE, "not slashed");
      assert.deepEqual(await listFailedJobs(v.ctx.queues), []);
    }
  });

  it("sends the commit reports of two tasks ready together in one RelayBatcher.relayEach transaction", async () => {
    const batcher = await net.startRelayer({ batchMs: 600_000 });
    for (const v of daemons) await v.role.stop();
    const validators: TestDaemon[] = [];
    for (const v of daemons) validators.push(await net.startValidator(v.account, undefined, { relayerUrl: batcher.role.url }));
    daemons.splice(0, daemons.length, ...validators);
    const c = net.contracts;
    const ids = [await net.createTask(), await net.createTask()];
    // The two silent members keep both committees incomplete: the aggregator holds three commits of each.
    await waitFor(() => batcher.role.batcher.held === 6, 30_000, `six commits held (${batcher.role.batcher.held})`);
    await batcher.role.batcher.flush(); // both groups released in one turn: one relayEach
    const reports = await Promise.all(ids.map((id) => reportsOf(net, "CommitReported", id)));
    assert.deepEqual(reports.map((r) => r.length), [1, 1], "one commit report per task");
    assert.equal(reports[0]![0]!.hash, reports[1]![0]!.hash, "both in one transaction");
    const tx = await net.chain.publicClient.getTransaction({ hash: reports[0]![0]!.hash });
    assert.equal(tx.to?.toLowerCase(), net.protocol.manifest.contracts.relayBatcher!.toLowerCase(), "through RelayBatcher.relayEach");
    assert.equal(tx.from.toLowerCase(), batcher.account.address.toLowerCase());
    for (const id of ids) await waitFor(async () => (await c.taskMarket.read.task([id])).status === TaskStatus.Finalized, 60_000, `task ${id} settled`);
    for (const v of validators) assert.equal((await c.stakeRegistry.read.stakeInfo([v.account.address])).amount, STAKE, "not slashed");
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
    assert.ok((await roundSeats(net, taskId)).every((m) => m.revealed));
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
   * given, and forwards to `forwardTo` only the paths `forward` names (nothing by default), except the items `keep`
   * picks.
   */
  async function startWithholder(forwardTo?: string, forward: readonly string[] = [], keep: (path: string, body: Record<string, string>) => boolean = () => false) {
    const received: { path: string; body: Record<string, string> }[] = [];
    const server = http.createServer((req, res) => {
      let body = "";
      req.on("data", (chunk: Buffer) => (body += chunk.toString("utf8")));
      req.on("end", () => {
        const path = req.url ?? "";
        received.push({ path, body: JSON.parse(body) as Record<string, string> });
        const forwarded = forwardTo !== undefined && forward.includes(path) && !keep(path, JSON.parse(body) as Record<string, string>)
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
      const members = await roundSeats(net, taskId);
      assert.ok(members.every((m) => m.revealed), `every member revealed (alone, at the margin): ${JSON.stringify(members)}`);
      const ofTask = withholder.received.filter((r) => r.body.taskId === String(taskId));
      assert.equal(ofTask.filter((r) => r.path === "/relay/commit").length, 5, "the withholder was handed every commit");
      assert.equal(ofTask.filter((r) => r.path === "/relay/reveal").length, 5, "and every opening (too late to copy: the commits were fixed)");
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

  it("attack: an aggregator that relays the commits and withholds the reveal report: every member reveals alone before revealEnd, a keeper finalizes, nobody honest is slashed", async () => {
    const relayer = await net.startRelayer();
    const dropper = await startWithholder(relayer.role.url, ["/relay/commit"]);
    try {
      const validators = await restartValidators(dropper.url);
      const c = net.contracts;
      const taskId = await net.createTask();
      await waitFor(async () => (await c.taskMarket.read.task([taskId])).status === TaskStatus.Finalized, 60_000, "finalization");
      const task = await c.taskMarket.read.task([taskId]);
      const commits = await reportsOf(net, "CommitReported", taskId);
      assert.equal(commits.reduce((all, r) => all | r.mask, 0), 0b11111, "every commit went through the aggregator's reports (the default 1 s timer may split them)");
      for (const r of commits) assert.equal(r.from, relayer.account.address.toLowerCase());
      assert.deepEqual(await reportsOf(net, "RevealReported", taskId), [], "no reveal report");
      assert.equal(dropper.received.filter((r) => r.path === "/relay/reveal" && r.body.taskId === String(taskId)).length, 5, "every opening handed over, none reported");
      for (const v of validators) {
        assert.equal(await senderOf(net, "ScoreCommitted", taskId, v.account.address), undefined, "commit through the report");
        assert.equal(await senderOf(net, "ScoreRevealed", taskId, v.account.address), v.account.address.toLowerCase(), "revealed alone");
        assert.equal((await c.stakeRegistry.read.stakeInfo([v.account.address])).amount, STAKE, "not slashed");
        assert.deepEqual(await listFailedJobs(v.ctx.queues), []);
      }
      const revealed = await net.chain.publicClient.getLogs({ address: net.protocol.manifest.contracts.taskMarket, event: getAbiItem({ abi: taskMarketAbi, name: "ScoreRevealed" }), args: { taskId }, fromBlock: 0n });
      for (const l of revealed) assert.ok(l.blockNumber <= task.revealEnd, `revealed alone at ${l.blockNumber}, revealEnd ${task.revealEnd}`);
      assert.equal((await c.taskMarket.getEvents.NonRevealersSlashed({ taskId }, { fromBlock: 0n })).length, 0, "no non-revealer");
    } finally {
      await dropper.close();
    }
  });

  it("attack: an aggregator that leaves one member out of both reports: it commits and reveals alone in time, its vote counts and is paid, nobody is slashed", async () => {
    const relayer = await net.startRelayer();
    // Every item of seat 0 is answered 202 and kept back; everything else reaches the real aggregator.
    const dropper = await startWithholder(relayer.role.url, ["/relay/commit", "/relay/reveal"], (_path, body) => body.index === "0");
    try {
      const validators = await restartValidators(dropper.url);
      const c = net.contracts;
      const taskId = await net.createTask();
      await waitFor(async () => (await c.taskMarket.read.task([taskId])).status === TaskStatus.Finalized, 60_000, "finalization");
      const seats = await roundSeats(net, taskId);
      const left = seats[0]!.account;
      const commits = await reportsOf(net, "CommitReported", taskId);
      const reveals = await reportsOf(net, "RevealReported", taskId);
      assert.equal(commits.reduce((all, r) => all | r.mask, 0), 0b11110, "the reports committed every seat but 0");
      // Seat 0 reveals alone only at its fallback block; the others' openings go in a partial report on the
      // aggregator's timer, long before theirs, so none of them reveals alone; a keeper settles once seat 0 is open.
      for (const r of reveals) assert.equal(r.mask & 1, 0, "seat 0 is never in a reveal report");
      assert.equal(reveals.reduce((all, r) => all | r.mask, 0), 0b11110, "every other seat opened by a report");
      for (const s of seats.slice(1)) assert.equal(await senderOf(net, "ScoreRevealed", taskId, s.account), undefined, "nobody else revealed alone");
      assert.equal(await senderOf(net, "ScoreCommitted", taskId, left), left.toLowerCase(), "seat 0 committed alone");
      assert.equal(await senderOf(net, "ScoreRevealed", taskId, left), left.toLowerCase(), "seat 0 revealed alone");
      assert.ok(seats.every((s) => s.revealed), "all five votes counted");
      const [finalized] = await c.taskMarket.getEvents.TaskFinalized({ taskId }, { fromBlock: 0n });
      assert.ok(finalized!.args.validatorPay![0]! > 0n, "seat 0 is paid like the others");
      assert.equal((await c.taskMarket.getEvents.NonRevealersSlashed({ taskId }, { fromBlock: 0n })).length, 0);
      for (const v of validators) {
        assert.equal((await c.stakeRegistry.read.stakeInfo([v.account.address])).amount, STAKE, "not slashed");
        assert.deepEqual(await listFailedJobs(v.ctx.queues), []);
      }
    } finally {
      await dropper.close();
    }
  });
});

describe("relayer: a member that commits and never opens (the silent seat)", () => {
  let net: TestNetwork;
  before(async () => {
    net = await startTestNetwork();
  });
  after(async () => {
    await net?.close();
  });

  const validators: TestDaemon[] = [];
  let silent: Awaited<ReturnType<TestNetwork["validatorAccount"]>>;

  /**
   * One task whose committee is the four daemons and `silent`, which hands its signed commit to the aggregator (so
   * every seat commits in one report) and then never opens. Checks that the four openings landed in reveal reports
   * (partial: no settlement), that no daemon sent a commit or reveal of its own, that a keeper's finalize after
   * revealEnd settled with the silent seat slashed exactly its penalty and nobody else; returns the task's round
   * transactions and their gas.
   */
  async function silentSeatRound(relayer: TestDaemon & { role: { url: string } }): Promise<{ taskId: bigint; reveals: Awaited<ReturnType<typeof reportsOf>>; gas: Record<string, bigint> }> {
    const c = net.contracts;
    const client = net.chain.publicClient;
    const market = net.protocol.manifest.contracts.taskMarket;
    const taskId = await net.createTask();
    // Its seat is known from the seed block on, before any draw (the daemons' commit report draws the committee).
    let round: Round | undefined;
    await waitFor(async () => (round = await readCurrentRound(client as PublicClient, market, taskId, 0, 0n).catch(() => undefined)) !== undefined, 30_000, "the committee");
    const index = BigInt(round!.state.members.findIndex((m) => m === silent.address));
    assert.ok(index >= 0n, "the silent account sits on the committee (five staked validators, k = 5)");
    const drawn = await c.taskMarket.read.task([taskId]);
    // Signed like the daemons' (the round's deadline, from its seed block), so that its commit goes in the same
    // report as theirs.
    const deadline = (await client.getBlock({ blockNumber: drawn.seedBlock })).timestamp + COMMIT_SIGNATURE_LIFETIME_S;
    const commitment = computeCommitment({ score: 5_000, salt: newSalt(), validator: silent.address, taskId, round: 0, chainId: net.chain.chainId, market });
    const signature = await signCommit(privateKeyToAccount(silent.privateKey), taskMarketDomain(net.chain.chainId, market), { taskId, round: 0n, commitment, deadline });
    const res = await fetch(`${relayer.role.url}/relay/commit`, { method: "POST", body: JSON.stringify(formatSignedItem({ taskId, round: 0n, index, commitment, deadline, signature })) });
    assert.equal(res.status, 202, await res.text());
    await waitFor(async () => (await c.taskMarket.read.task([taskId])).status === TaskStatus.Finalized, 90_000, "finalization");

    const task = await c.taskMarket.read.task([taskId]);
    const fourSeats = await seatMask(net, taskId, validators.map((v) => v.account.address));
    const commits = await reportsOf(net, "CommitReported", taskId);
    const reveals = await reportsOf(net, "RevealReported", taskId);
    assert.deepEqual(commits.map((r) => r.mask), [0b11111], "every seat committed in one report, the silent one too");
    assert.equal(reveals.reduce((all, r) => all | r.mask, 0), fourSeats, "the four openings in reveal reports, never the silent seat");
    for (const r of reveals) {
      assert.equal(r.from, relayer.account.address.toLowerCase(), "sent by the aggregator");
      // Before the validators' fallback (relayFallbackBlocks 5): none of them had reason to reveal alone.
      assert.ok(r.blockNumber < task.revealEnd - 5n, `reveal report at ${r.blockNumber}, fallback at ${task.revealEnd - 5n}`);
      const receipt = await client.getTransactionReceipt({ hash: r.hash });
      assert.equal(parseEventLogs({ abi: taskMarketAbi, logs: receipt.logs, eventName: "TaskFinalized" }).length, 0, "a partial report does not settle");
    }
    // Nobody paid for a commit or a reveal of its own: no daemon transaction to the market carries either call.
    const own = new Set(validators.map((v) => v.account.address.toLowerCase()));
    const [finalized] = await c.taskMarket.getEvents.TaskFinalized({ taskId }, { fromBlock: drawn.drawBlock });
    const roundCalls = new Set([toFunctionSelector(getAbiItem({ abi: taskMarketAbi, name: "commit" })), toFunctionSelector(getAbiItem({ abi: taskMarketAbi, name: "reveal" }))]);
    for (let b = drawn.drawBlock; b <= finalized!.blockNumber; b++) {
      for (const tx of (await client.getBlock({ blockNumber: b, includeTransactions: true })).transactions) {
        if (own.has(tx.from.toLowerCase()) && tx.to?.toLowerCase() === market.toLowerCase()) {
          assert.ok(!roundCalls.has(tx.input.slice(0, 10) as Hex), `a daemon sent its own ${tx.input.slice(0, 10)} at block ${b}`);
        }
      }
    }
    for (const v of validators) {
      assert.equal(await senderOf(net, "ScoreRevealed", taskId, v.account.address), undefined, "no reveal alone");
      // The validator took the report's transaction for its reveal (it read its seat in RevealReported).
      await waitFor(() => reveals.some((r) => r.hash === v.ctx.salts.get(String(taskId), 0)?.revealedTxHash), 10_000, "the salt marked revealed by the report");
    }
    // Settled by finalize after revealEnd (until then the silent member could still reveal alone).
    const finalizeTx = await client.getTransaction({ hash: finalized!.transactionHash });
    assert.equal(finalizeTx.input.slice(0, 10), toFunctionSelector(getAbiItem({ abi: taskMarketAbi, name: "finalize" })), "a keeper's finalize settled");
    assert.ok(finalized!.blockNumber > task.revealEnd, `finalized at ${finalized!.blockNumber}, revealEnd ${task.revealEnd}`);
    const [slashed] = await c.taskMarket.getEvents.NonRevealersSlashed({ taskId }, { fromBlock: drawn.seedBlock });
    const params = await c.taskMarket.read.paramsAt([BigInt(task.paramsVersion)]);
    const penalty = (((task.fee * BigInt(params.validatorPoolBps)) / 10_000n / 5n) * BigInt(params.nonRevealPenaltyBps)) / 10_000n;
    assert.deepEqual(slashed!.args.validators, [silent.address], "only the silent seat is a non-revealer");
    assert.equal(slashed!.args.total, penalty, "slashed exactly its seat's penalty");
    for (const v of validators) {
      assert.equal((await c.stakeRegistry.read.stakeInfo([v.account.address])).amount, STAKE, "honest members keep their stake");
      assert.deepEqual(await listFailedJobs(v.ctx.queues), []);
    }
    const gasOf = async (hash: Hex) => (await client.getTransactionReceipt({ hash })).gasUsed;
    let revealReports = 0n;
    for (const r of reveals) revealReports += await gasOf(r.hash);
    const gas = { commitReport: await gasOf(commits[0]!.hash), revealReports, finalize: await gasOf(finalized!.transactionHash) };
    return { taskId, reveals, gas };
  }

  it("before the validators' fallback block the aggregator sends the four openings it holds as one partial revealReport: nobody reveals alone, a keeper finalizes after revealEnd, the silent member alone is slashed", async (t) => {
    const relayer = await net.startRelayer({ batchMs: 2_000 });
    await net.startProvider([{ url: net.chat.base("ok"), timeoutMs: 5_000 }]);
    for (let i = 0; i < 4; i++) validators.push(await net.startValidator(undefined, undefined, { submit: "relayer", relayerUrl: relayer.role.url }));
    silent = await net.validatorAccount();
    await net.startBlocks();
    const { reveals, gas } = await silentSeatRound(relayer);
    assert.equal(reveals.length, 1, "one partial report");
    await relayer.role.batcher.flush();
    assert.equal(relayer.role.batcher.stats.partialReveals, 1);
    assert.equal(relayer.role.batcher.stats.finalized, 0, "the aggregator settled nothing");
    // Gas of the round from the commit report on (bench:gas-rounds compares it with the four revealing alone).
    t.diagnostic(`silent seat: commitReport ${gas.commitReport}, partial revealReport ${gas.revealReports}, finalize ${gas.finalize}, total ${gas.commitReport! + gas.revealReports! + gas.finalize!}`);
  });
});
