import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { parseEventLogs, type Hex, type PublicClient } from "viem";
import { setupProtocol } from "../contracts/protocol-fixture.ts";
import { signCommit, signCommitCompact, fromCompactSignature, taskMarketDomain } from "../../sdk/eip712.ts";
import { maskOf, mergeReport, readRound, readRoundScores, roundHash, seatsOf, stateArg } from "../../sdk/rounds.ts";
import { taskMarketAbi, TaskStatus } from "../../sdk/contracts.ts";

/** sdk/rounds.ts and the compact commit signatures against the real market on the in-process chain. */
describe("sdk/rounds: a round's state rebuilt from logs is the one the market holds", () => {
  it("roundHash of the drawn state, of one report and of two merged reports equals roundOf; the reveal report built from it settles", async () => {
    const env = await setupProtocol({ providers: 1, validators: 5 });
    const client = env.publicClient as unknown as PublicClient;
    const market = env.manifest.contracts.taskMarket;
    const taskId = await env.createTask();
    await env.answer(taskId);
    const { task, members } = await env.draw(taskId);
    const read = async () => (await readRound(client, market, taskId, 0, task.drawBlock)).state;
    assert.equal(roundHash(await read()), await env.read.market.read.roundOf([taskId]), "after the draw");

    const domain = taskMarketDomain(env.chainId, market);
    const scores = [7_000, 7_100, 6_900, 7_050, 7_000];
    const salts = members.map(() => env.randomSalt());
    const commitments = members.map((m, i) => env.commitment(scores[i]!, salts[i]!, m, taskId, 0));
    const deadline = (await client.getBlock()).timestamp + 3_600n;
    const report = async (seats: number[]) => ({
      taskId, round: 0n, mask: maskOf(seats), deadline, commitments: seats.map((i) => commitments[i]!),
      signatures: await Promise.all(seats.map((i) => signCommitCompact(env.walletOf(members[i]!), domain, { taskId, round: 0n, commitment: commitments[i]!, deadline }))),
    });
    // The compact form round-trips to the signature the wallet made.
    const full = await signCommit(env.walletOf(members[0]!), domain, { taskId, round: 0n, commitment: commitments[0]!, deadline });
    assert.equal(fromCompactSignature((await report([0])).signatures[0]!), full);

    // Two reports (seats 1 and 3 first, then the rest): the state merges them in seat order.
    await env.wait(await env.read.market.write.commitReport([stateArg(await read()), await report([1, 3])]));
    const afterFirst = await read();
    assert.equal(afterFirst.reportMask, 0b01010);
    assert.equal(roundHash(afterFirst), await env.read.market.read.roundOf([taskId]), "after one report");
    await env.wait(await env.read.market.write.commitReport([stateArg(afterFirst), await report([0, 2, 4])]));
    const merged = await read();
    assert.deepEqual(merged, mergeReport(afterFirst, 0b10101, [commitments[0]!, commitments[2]!, commitments[4]!]));
    assert.deepEqual(merged.reportCommitments, commitments, "seat order");
    assert.equal(roundHash(merged), await env.read.market.read.roundOf([taskId]), "after two reports");

    const seats = seatsOf(merged.reportMask);
    const hash: Hex = await env.read.market.write.revealReport([stateArg(merged), { taskId, revealMask: merged.reportMask, scores: seats.map((i) => scores[i]!), salts: seats.map((i) => salts[i]!) }]);
    const receipt = await env.wait(hash);
    assert.equal(parseEventLogs({ abi: taskMarketAbi, logs: receipt.logs, eventName: "TaskFinalized" }).length, 1, "the reveal report settled");
    assert.equal((await env.read.market.read.task([taskId])).status, TaskStatus.Finalized);
    const opened = await readRoundScores(client, market, taskId, 0, task.drawBlock);
    assert.deepEqual(opened.map((s) => s.score), scores);
  });
});
