import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { concat, getAddress, keccak256, numberToHex, parseSignature, toHex, type Address, type Hex } from "viem";
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
  nonce?: bigint;
  deadline?: bigint;
  round?: bigint;
  signTaskId?: bigint;
} = {}) {
  const member = members[index];
  const salt = env.randomSalt();
  const commitment = env.commitment(score, salt, member, taskId, 0);
  const nonce = opts.nonce ?? (await env.read.market.read.nonces([member]));
  const deadline = opts.deadline ?? FAR_DEADLINE;
  const round = opts.round ?? 0n;
  const domain = opts.domain ?? taskMarketDomain(env.chainId, env.manifest.contracts.taskMarket);
  const signature = await signCommit(env.walletOf(member), domain, {
    taskId: opts.signTaskId ?? taskId,
    round,
    commitment,
    nonce,
    deadline,
  });
  return { item: { taskId, round, index: BigInt(index), commitment, nonce, deadline, signature }, salt };
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
        nonce: await env.read.market.read.nonces([members[i]]),
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

    // used message: the first relay consumes the nonce; the same message again is rejected
    const used = await signedCommit(env, taskId, members, 0, 5_000);
    await env.wait(await relayer.write.commitBySig([[used.item]]));
    await expectRevert(relayer.write.commitBySig([[used.item]]), "InvalidAccountNonce");

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
    // the untouched valid one still works (nothing above consumed its nonce)
    await env.wait(await relayer.write.commitBySig([[valid.item]]));
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
