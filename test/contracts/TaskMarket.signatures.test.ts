import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  concat,
  encodeFunctionData,
  getAddress,
  keccak256,
  numberToHex,
  parseEventLogs,
  parseSignature,
  toFunctionSelector,
  toHex,
  type Address,
  type Hex,
} from "viem";
import { relayBatcherAbi, taskMarketAbi, TaskStatus } from "../../sdk/contracts.ts";
import { signAttestation, signCommit, signReveal, taskMarketDomain, verifyAttestation } from "../../sdk/eip712.ts";
import { DEFAULT_MARKET_PARAMS } from "../../sdk/deployment.ts";
import { expectRevert, type Protocol, setupProtocol } from "./protocol-fixture.ts";

const SECP256K1_N = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n;
const FAR_DEADLINE = 2n ** 40n;

async function committeeTask(env: Protocol) {
  const taskId = await env.createTask();
  await env.answer(taskId);
  const { members } = await env.draw(taskId);
  return { taskId, members };
}

/** Builds the relayed commit for member `index` of `taskId`, signed in `domain` (default: the real one). */
async function signedCommit(env: Protocol, taskId: bigint, members: Address[], index: number, score: number, opts: {
  domain?: ReturnType<typeof taskMarketDomain>;
  deadline?: bigint;
  round?: bigint;
  signTaskId?: bigint;
} = {}) {
  const member = members[index];
  const salt = env.randomSalt();
  const commitment = env.commitment(score, salt, member, taskId, 0);
  const deadline = opts.deadline ?? FAR_DEADLINE;
  const round = opts.round ?? 0n;
  const domain = opts.domain ?? taskMarketDomain(env.chainId, env.manifest.contracts.taskMarket);
  const signature = await signCommit(env.walletOf(member), domain, {
    taskId: opts.signTaskId ?? taskId,
    round,
    commitment,
    deadline,
  });
  return { item: { taskId, round, index: BigInt(index), commitment, deadline, signature }, salt };
}

describe("TaskMarket relayed commits and reveals (EIP-712)", () => {
  it("a relayer batches five commits and five reveals; the task settles", async () => {
    const env = await setupProtocol({ providers: 1, validators: 5 });
    const { taskId, members } = await committeeTask(env);
    const relayer = env.as(env.wallets[18]).market;
    const scores = [7_000, 7_100, 6_900, 7_050, 7_200];
    const commits = [];
    for (let i = 0; i < 5; i++) commits.push(await signedCommit(env, taskId, members, i, scores[i]));
    await env.wait(await relayer.write.commitBySig([commits.map((c) => c.item)]));
    await env.toRevealPhase(taskId);
    const domain = taskMarketDomain(env.chainId, env.manifest.contracts.taskMarket);
    const reveals = [];
    for (let i = 0; i < 5; i++) {
      const message = {
        taskId,
        round: 0n,
        score: BigInt(scores[i]),
        salt: commits[i].salt,
        deadline: FAR_DEADLINE,
      };
      const signature = await signReveal(env.walletOf(members[i]), domain, message);
      reveals.push({ ...message, index: BigInt(i), signature });
    }
    await env.wait(await relayer.write.revealBySig([reveals]));
    assert.equal((await env.read.market.read.task([taskId])).revealedCount, 5);
    await env.wait(await relayer.write.finalize([taskId]));
    await expectRevert(relayer.write.commitBySig([[]]), "EmptyBatch");
  });

  it("rejects replays: used message, other chain id, other deployment, other task, high-s, expired, other round", async () => {
    const env = await setupProtocol({ providers: 1, validators: 5 });
    const { taskId, members } = await committeeTask(env);
    const relayer = env.as(env.wallets[18]).market;
    const market = env.manifest.contracts.taskMarket;

    // used message: a commit is single-use per member, task and round; the same message again is rejected
    const used = await signedCommit(env, taskId, members, 0, 5_000);
    await env.wait(await relayer.write.commitBySig([[used.item]]));
    await expectRevert(relayer.write.commitBySig([[used.item]]), "AlreadyCommitted");

    // other chain id / other deployment: the domain differs, so the signature recovers to an unrelated address
    const otherChain = await signedCommit(env, taskId, members, 1, 5_000, {
      domain: taskMarketDomain(env.chainId + 1, market),
    });
    await expectRevert(relayer.write.commitBySig([[otherChain.item]]), "InvalidSigner");
    const otherDeployment = await signedCommit(env, taskId, members, 1, 5_000, {
      domain: taskMarketDomain(env.chainId, getAddress(keccak256(toHex("another market")).slice(0, 42))),
    });
    await expectRevert(relayer.write.commitBySig([[otherDeployment.item]]), "InvalidSigner");
    // replay from another task: signed for task 99, relayed as this task
    const otherTask = await signedCommit(env, taskId, members, 1, 5_000, { signTaskId: 99n });
    await expectRevert(relayer.write.commitBySig([[otherTask.item]]), "InvalidSigner");

    // high-s: the malleable twin (n - s, flipped v) of a valid signature
    const valid = await signedCommit(env, taskId, members, 1, 5_000);
    const { r, s, yParity } = parseSignature(valid.item.signature);
    const highS: Hex = concat([r, numberToHex(SECP256K1_N - BigInt(s), { size: 32 }), yParity === 0 ? "0x1c" : "0x1b"]);
    await expectRevert(
      relayer.write.commitBySig([[{ ...valid.item, signature: highS }]]),
      "ECDSAInvalidSignatureS",
    );
    // expired and wrong round
    const block = await env.publicClient.getBlock();
    const expired = await signedCommit(env, taskId, members, 1, 5_000, { deadline: block.timestamp - 1n });
    await expectRevert(relayer.write.commitBySig([[expired.item]]), "SignatureExpired");
    const wrongRound = await signedCommit(env, taskId, members, 1, 5_000, { round: 1n });
    await expectRevert(relayer.write.commitBySig([[wrongRound.item]]), "RoundMismatch");
    // the untouched valid one still works (nothing above used its slot)
    await env.wait(await relayer.write.commitBySig([[valid.item]]));
  });
});

describe("issue 10.8: relayed batches", () => {
  it("RelayBatcher skips a front-run item with an event naming its error; the other items land", async () => {
    const env = await setupProtocol({ providers: 1, validators: 5 });
    const { taskId, members } = await committeeTask(env);
    const items = [];
    for (let i = 0; i < 5; i++) items.push((await signedCommit(env, taskId, members, i, 6_000 + i)).item);
    // Member 2 commits directly first (a front-run of its own relayed message): that item must not sink the batch.
    await env.wait(await env.as(env.walletOf(members[2])).market.write.commit([taskId, 2n, items[2].commitment]));
    const relayer = env.wallets[18];
    const batcher = env.manifest.contracts.relayBatcher!;
    const hash = await relayer.writeContract({
      address: batcher, abi: relayBatcherAbi, functionName: "commitEach", args: [env.manifest.contracts.taskMarket, items],
      account: relayer.account!, chain: relayer.chain,
    });
    const receipt = await env.wait(hash);
    const [skipped] = parseEventLogs({ abi: relayBatcherAbi, logs: receipt.logs, eventName: "RelayedItemSkipped" });
    assert.equal(skipped.args.index, 2n);
    assert.equal(skipped.args.taskId, taskId);
    assert.equal(skipped.args.reason, toFunctionSelector("AlreadyCommitted(uint256,address)"));
    const committed = parseEventLogs({ abi: taskMarketAbi, logs: receipt.logs, eventName: "ScoreCommitted" });
    assert.equal(committed.length, 4);
  });

  it("revealAndFinalize: a committee's reveals and its finalize in one transaction; a refused finalize keeps the reveals", async () => {
    const env = await setupProtocol({ providers: 1, validators: 5 });
    const domain = taskMarketDomain(env.chainId, env.manifest.contracts.taskMarket);
    const relayer = env.wallets[18];
    const batcher = env.manifest.contracts.relayBatcher!;
    const committed = async () => {
      const { taskId, members } = await committeeTask(env);
      const commits = [];
      for (let i = 0; i < 5; i++) commits.push(await signedCommit(env, taskId, members, i, 7_000 + i));
      await env.wait(await env.as(relayer).market.write.commitBySig([commits.map((c) => c.item)]));
      const reveals = [];
      for (let i = 0; i < 5; i++) {
        const message = { taskId, round: 0n, score: BigInt(7_000 + i), salt: commits[i].salt, deadline: FAR_DEADLINE };
        reveals.push({ ...message, index: BigInt(i), signature: await signReveal(env.walletOf(members[i]), domain, message) });
      }
      return { taskId, reveals };
    };
    const send = async (args: readonly unknown[], gas?: bigint) => env.wait(await relayer.writeContract({
      address: batcher, abi: relayBatcherAbi, functionName: "revealAndFinalize", args: [env.manifest.contracts.taskMarket, ...args] as never,
      account: relayer.account!, chain: relayer.chain, gas,
    }));

    // Every member's reveal in the batch: the task is finalized by the same transaction (all revealed: no wait).
    const full = await committed();
    const receipt = await send([full.reveals, [full.taskId]]);
    assert.equal(parseEventLogs({ abi: taskMarketAbi, logs: receipt.logs, eventName: "ScoreRevealed" }).length, 5);
    assert.equal(parseEventLogs({ abi: taskMarketAbi, logs: receipt.logs, eventName: "TaskFinalized" }).length, 1);
    assert.equal((await env.read.market.read.task([full.taskId])).status, TaskStatus.Finalized);

    // One reveal missing: the finalize is refused (FinalizeTooEarly), skipped with an event; the four reveals land.
    const partial = await committed();
    const skippedReceipt = await send([partial.reveals.slice(0, 4), [partial.taskId]]);
    const [skipped] = parseEventLogs({ abi: relayBatcherAbi, logs: skippedReceipt.logs, eventName: "FinalizeSkipped" });
    assert.equal(skipped.args.taskId, partial.taskId);
    assert.equal(skipped.args.reason, toFunctionSelector("FinalizeTooEarly(uint256,uint256)"));
    assert.equal((await env.read.market.read.task([partial.taskId])).revealedCount, 4);

    // A gas limit that covers the reveals but not the finalize reverts the whole call (FinalizeOutOfGas) instead of
    // landing the reveals alone: the lowest limit that does not revert, what eth_estimateGas finds, finalizes.
    const tight = await committed();
    const estimate = await env.publicClient.estimateGas({
      account: relayer.account!, to: batcher,
      data: encodeFunctionData({ abi: relayBatcherAbi, functionName: "revealAndFinalize", args: [env.manifest.contracts.taskMarket, tight.reveals, [tight.taskId]] }),
    });
    await expectRevert(send([tight.reveals, [tight.taskId]], estimate - 30_000n), "FinalizeOutOfGas");
    assert.equal((await env.read.market.read.task([tight.taskId])).revealedCount, 0);
    await send([tight.reveals, [tight.taskId]], estimate);
    assert.equal((await env.read.market.read.task([tight.taskId])).status, TaskStatus.Finalized);
  });

  it("messages carry no nonce: a withheld message does not block the signer's messages on other tasks", async () => {
    const env = await setupProtocol({ providers: 1, validators: 5 });
    const first = await committeeTask(env);
    const second = await committeeTask(env);
    const member = first.members[0];
    const index = second.members.findIndex((m) => getAddress(m) === getAddress(member));
    const withheld = await signedCommit(env, first.taskId, first.members, 0, 5_000); // never relayed
    const later = await signedCommit(env, second.taskId, second.members, index, 5_000);
    await env.wait(await env.as(env.wallets[18]).market.write.commitBySig([[later.item]]));
    assert.notEqual((await env.read.market.read.committee([second.taskId, 0n]))[index].commitment, withheld.item.commitment);
    assert.equal((await env.read.market.read.committee([second.taskId, 0n]))[index].commitment, later.item.commitment);
  });
});

describe("TaskMarket equivocation", () => {
  it("two signed scores for one task: slashed once, bounded bounty to the reporter, rest to the treasury", async () => {
    const env = await setupProtocol({ providers: 1, validators: 5 });
    const { taskId, members } = await committeeTask(env);
    const v = members[0];
    const domain = taskMarketDomain(env.chainId, env.manifest.contracts.taskMarket);
    const outputHash = (await env.read.market.read.task([taskId])).outputHash;
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
