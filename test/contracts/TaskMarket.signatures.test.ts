import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { encodeFunctionData, getAddress, keccak256, numberToHex, parseEventLogs, toFunctionSelector, toHex, type Address, type Hex } from "viem";
import { relayBatcherAbi, taskMarketAbi, TaskStatus } from "../../sdk/contracts.ts";
import { signAttestation, signCommitCompact, taskMarketDomain, verifyAttestation } from "../../sdk/eip712.ts";
import { DEFAULT_MARKET_PARAMS } from "../../sdk/deployment.ts";
import { maskOf, mergeReport, readRound, reportCommitment } from "../../sdk/rounds.ts";
import { expectRevert, type Protocol, setupProtocol } from "./protocol-fixture.ts";

const SECP256K1_N = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n;
const FAR_DEADLINE = 2n ** 40n;

async function committeeTask(env: Protocol) {
  const taskId = await env.createTask();
  await env.answer(taskId);
  const { members } = await env.draw(taskId);
  return { taskId, members };
}

/** Member `seat`'s commit of `score` for `taskId`, signed (compact, EIP-2098) in `domain` (default: the real one). */
async function signedCommit(env: Protocol, taskId: bigint, members: Address[], seat: number, score: number, opts: {
  domain?: ReturnType<typeof taskMarketDomain>;
  deadline?: bigint;
  round?: bigint;
  signTaskId?: bigint;
} = {}) {
  const member = members[seat]!;
  const salt = env.randomSalt();
  const commitment = env.commitment(score, salt, member, taskId, 0);
  const deadline = opts.deadline ?? FAR_DEADLINE;
  const round = opts.round ?? 0n;
  const domain = opts.domain ?? taskMarketDomain(env.chainId, env.manifest.contracts.taskMarket);
  const signature = await signCommitCompact(env.walletOf(member), domain, { taskId: opts.signTaskId ?? taskId, round, commitment, deadline });
  return { taskId, seat, round, commitment, deadline, signature: [...signature] as [Hex, Hex], salt, score };
}
type SignedCommit = Awaited<ReturnType<typeof signedCommit>>;

/** The CommitReport of `commits` (one task and round, the same deadline, seats ascending). */
function commitReportOf(commits: SignedCommit[]) {
  const sorted = [...commits].sort((a, b) => a.seat - b.seat);
  const first = sorted[0]!;
  return {
    taskId: first.taskId, round: first.round, mask: maskOf(sorted.map((c) => c.seat)), deadline: first.deadline,
    commitments: sorted.map((c) => c.commitment), signatures: sorted.map((c) => c.signature),
  };
}

/** The RevealReport opening `commits` (seats ascending). */
function revealReportOf(commits: SignedCommit[]) {
  const sorted = [...commits].sort((a, b) => a.seat - b.seat);
  return { taskId: sorted[0]!.taskId, revealMask: maskOf(sorted.map((c) => c.seat)), scores: sorted.map((c) => c.score), salts: sorted.map((c) => c.salt) };
}

describe("TaskMarket commit and reveal reports (EIP-712 compact signatures)", () => {
  it("an aggregator sends five signed commits in one commitReport and the five openings in one revealReport, which settles", async () => {
    const env = await setupProtocol({ providers: 1, validators: 5 });
    const { taskId, members } = await committeeTask(env);
    const aggregator = env.as(env.wallets[18]).market;
    const scores = [7_000, 7_100, 6_900, 7_050, 7_200];
    const commits = [];
    for (let i = 0; i < 5; i++) commits.push(await signedCommit(env, taskId, members, i, scores[i]!));
    const committed = await env.wait(await aggregator.write.commitReport([await env.roundState(taskId), commitReportOf(commits)]));
    assert.equal(parseEventLogs({ abi: taskMarketAbi, logs: committed.logs, eventName: "CommitReported" }).length, 1);
    assert.equal((await env.read.market.read.task([taskId])).committedCount, 5);
    // Every seat committed: reveals open at once, and the report opening all five settles in the same transaction.
    const settled = await env.wait(await aggregator.write.revealReport([await env.roundState(taskId), revealReportOf(commits)]));
    assert.equal(parseEventLogs({ abi: taskMarketAbi, logs: settled.logs, eventName: "RevealReported" }).length, 1);
    assert.equal(parseEventLogs({ abi: taskMarketAbi, logs: settled.logs, eventName: "TaskFinalized" }).length, 1);
    assert.equal((await env.read.market.read.task([taskId])).status, TaskStatus.Finalized);
  });

  it("rejects replays: used message, other chain id, other deployment, other task, high-s twin, expired, other round", async () => {
    const env = await setupProtocol({ providers: 1, validators: 5 });
    const { taskId, members } = await committeeTask(env);
    const aggregator = env.as(env.wallets[18]).market;
    const market = env.manifest.contracts.taskMarket;
    const send = async (commits: SignedCommit[]) => aggregator.write.commitReport([await env.roundState(taskId), commitReportOf(commits)]);

    // used message: a seat commits once per round; the same report again (against the state it produced) is refused,
    // and against the state before it the round hash no longer matches
    const used = await signedCommit(env, taskId, members, 0, 5_000);
    const drawn = await env.roundState(taskId);
    await env.wait(await send([used]));
    await expectRevert(send([used]), "AlreadyCommitted");
    await expectRevert(aggregator.write.commitReport([drawn, commitReportOf([used])]), "RoundStateMismatch");

    // other chain id / other deployment: the domain differs, so the signature recovers to an unrelated address
    const otherChain = await signedCommit(env, taskId, members, 1, 5_000, { domain: taskMarketDomain(env.chainId + 1, market) });
    await expectRevert(send([otherChain]), "InvalidSigner");
    const otherDeployment = await signedCommit(env, taskId, members, 1, 5_000, {
      domain: taskMarketDomain(env.chainId, getAddress(keccak256(toHex("another market")).slice(0, 42))),
    });
    await expectRevert(send([otherDeployment]), "InvalidSigner");
    // replay from another task: signed for task 99, reported as this task
    const otherTask = await signedCommit(env, taskId, members, 1, 5_000, { signTaskId: 99n });
    await expectRevert(send([otherTask]), "InvalidSigner");

    // high-s: the malleable twin (n - s, other parity) of a valid signature cannot be written in the compact form
    // (its s needs the bit that holds the parity): it recovers to an unrelated address
    const valid = await signedCommit(env, taskId, members, 1, 5_000);
    const [r, yParityAndS] = valid.signature;
    const sLow = BigInt(yParityAndS) & ((1n << 255n) - 1n);
    const parity = BigInt(yParityAndS) >> 255n;
    const twin = ((SECP256K1_N - sLow) | ((1n - parity) << 255n)) & ((1n << 256n) - 1n);
    await expectRevert(send([{ ...valid, signature: [r, numberToHex(twin, { size: 32 })] }]), "InvalidSigner");
    // expired and wrong round
    const block = await env.publicClient.getBlock();
    const expired = await signedCommit(env, taskId, members, 1, 5_000, { deadline: block.timestamp - 1n });
    await expectRevert(send([expired]), "SignatureExpired");
    const wrongRound = await signedCommit(env, taskId, members, 1, 5_000, { round: 1n });
    await expectRevert(send([wrongRound]), "RoundMismatch");
    // the untouched valid one still works (nothing above used its seat)
    await env.wait(await send([valid]));
    assert.equal((await env.read.market.read.task([taskId])).committedCount, 2);
  });
});

describe("issue 10.8: reports relayed across tasks", () => {
  it("RelayBatcher.relayEach skips a front-run report with an event naming its error; the other task's report lands", async () => {
    const env = await setupProtocol({ providers: 1, validators: 5 });
    const stale = await committeeTask(env);
    const fresh = await committeeTask(env);
    const signAll = async (t: { taskId: bigint; members: Address[] }) => {
      const commits = [];
      for (let i = 0; i < 5; i++) commits.push(await signedCommit(env, t.taskId, t.members, i, 6_000 + i));
      return commits;
    };
    const staleCommits = await signAll(stale);
    const freshCommits = await signAll(fresh);
    const calls = [
      encodeFunctionData({ abi: taskMarketAbi, functionName: "commitReport", args: [await env.roundState(stale.taskId), commitReportOf(staleCommits)] }),
      encodeFunctionData({ abi: taskMarketAbi, functionName: "commitReport", args: [await env.roundState(fresh.taskId), commitReportOf(freshCommits)] }),
    ];
    // Member 2 of the first task commits alone first (a front-run of its own signed commit): that report must not
    // sink the other task's.
    const alone = staleCommits[2]!;
    await env.wait(await env.as(env.walletOf(stale.members[2]!)).market.write.commit([stale.taskId, await env.roundState(stale.taskId), 2n, alone.commitment]));
    const relayer = env.wallets[18];
    const receipt = await env.wait(await relayer.writeContract({
      address: env.manifest.contracts.relayBatcher!, abi: relayBatcherAbi, functionName: "relayEach", args: [env.manifest.contracts.taskMarket, calls],
      account: relayer.account!, chain: relayer.chain,
    }));
    const [skipped] = parseEventLogs({ abi: relayBatcherAbi, logs: receipt.logs, eventName: "RelayedItemSkipped" });
    assert.equal(skipped!.args.index, 0n);
    assert.equal(skipped!.args.reason, toFunctionSelector("AlreadyCommitted(uint256,address)"));
    const reported = parseEventLogs({ abi: taskMarketAbi, logs: receipt.logs, eventName: "CommitReported" });
    assert.deepEqual(reported.map((e) => e.args.taskId), [fresh.taskId]);
  });

  it("a reveal report missing an opening stores its openings without settling; the member reveals alone and finalize settles at once", async () => {
    const env = await setupProtocol({ providers: 1, validators: 5 });
    const { taskId, members } = await committeeTask(env);
    const aggregator = env.as(env.wallets[18]).market;
    const commits = [];
    for (let i = 0; i < 5; i++) commits.push(await signedCommit(env, taskId, members, i, 7_000 + i));
    await env.wait(await aggregator.write.commitReport([await env.roundState(taskId), commitReportOf(commits)]));
    const receipt = await env.wait(await aggregator.write.revealReport([await env.roundState(taskId), revealReportOf(commits.slice(0, 4))]));
    const [reported] = parseEventLogs({ abi: taskMarketAbi, logs: receipt.logs, eventName: "RevealReported" });
    assert.equal(reported!.args.mask, 0b1111, "the partial mask");
    assert.deepEqual(parseEventLogs({ abi: taskMarketAbi, logs: receipt.logs, eventName: "TaskFinalized" }), [], "no settlement");
    const stored = await env.read.market.read.task([taskId]);
    assert.deepEqual([stored.status, stored.revealedCount], [TaskStatus.Committee, 4], "four openings stored, round open");
    const last = commits[4]!;
    await env.wait(await env.as(env.walletOf(members[4]!)).market.write.reveal([taskId, await env.roundState(taskId), 4n, BigInt(last.score), last.salt]));
    await env.wait(await aggregator.write.finalize([taskId, await env.roundState(taskId)]));
    assert.equal((await env.read.market.read.task([taskId])).status, TaskStatus.Finalized, "every committed seat open: settled before revealEnd");
  });

  it("messages carry no nonce: a withheld commit does not block the signer's commits on other tasks", async () => {
    const env = await setupProtocol({ providers: 1, validators: 5 });
    const first = await committeeTask(env);
    const second = await committeeTask(env);
    const member = first.members[0]!;
    const seat = second.members.findIndex((m) => getAddress(m) === getAddress(member));
    const withheld = await signedCommit(env, first.taskId, first.members, 0, 5_000); // never sent
    const later = await signedCommit(env, second.taskId, second.members, seat, 5_000);
    await env.wait(await env.as(env.wallets[18]).market.write.commitReport([await env.roundState(second.taskId), commitReportOf([later])]));
    const t = await env.read.market.read.task([second.taskId]);
    const { state } = await readRound(env.publicClient, env.manifest.contracts.taskMarket, second.taskId, 0, t.drawBlock);
    assert.equal(reportCommitment(state, seat), later.commitment);
    assert.notEqual(reportCommitment(state, seat), withheld.commitment);
    assert.deepEqual(state, mergeReport({ members: state.members, reportMask: 0, reportCommitments: [] }, maskOf([seat]), [later.commitment]));
  });
});

describe("TaskMarket equivocation", () => {
  it("two signed scores for one task: slashed once, bounded bounty to the reporter, rest to the treasury", async () => {
    const env = await setupProtocol({ providers: 1, validators: 5 });
    const { taskId, members } = await committeeTask(env);
    const v = members[0];
    const domain = taskMarketDomain(env.chainId, env.manifest.contracts.taskMarket);
    const outputHash = await env.answerHash(taskId);
    const evaluatorId = (await env.read.market.read.task([taskId])).evaluatorId;
    const a1 = { taskId, outputHash, evaluatorId, score: 8_000 };
    const a2 = { ...a1, score: 2_000 };
    const s1 = await signAttestation(env.walletOf(v), domain, a1);
    const s2 = await signAttestation(env.walletOf(v), domain, a2);
    assert.ok(await verifyAttestation(domain, a1, s1, v));
    assert.equal(await env.read.market.read.attestationSigner([a1, s1]), v);
    const reporter = env.wallets[18];
    const market = env.as(reporter).market;
    await expectRevert(market.write.reportEquivocation([a1, s1, a1, s1]), "NotEquivocation");
    const other = await signAttestation(env.walletOf(members[1]), domain, a2);
    await expectRevert(market.write.reportEquivocation([a1, s1, a2, other]), "NotEquivocation");
    const stakeBefore = (await env.read.registry.read.stakeInfo([v])).amount;
    await env.wait(await market.write.reportEquivocation([a1, s1, a2, s2]));
    const slashed = (stakeBefore * BigInt(DEFAULT_MARKET_PARAMS.equivocationSlashBps)) / 10_000n;
    const bounty = (slashed * BigInt(DEFAULT_MARKET_PARAMS.reporterBountyBps)) / 10_000n;
    assert.equal((await env.read.registry.read.stakeInfo([v])).amount, stakeBefore - slashed);
    assert.equal(await env.read.market.read.claimable([reporter.account.address]), bounty);
    assert.equal(await env.read.market.read.claimable([env.manifest.treasury]), slashed - bounty);
    await expectRevert(market.write.reportEquivocation([a1, s1, a2, s2]), "EquivocationAlreadyReported");
  });
});
