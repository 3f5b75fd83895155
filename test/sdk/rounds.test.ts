import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { createPublicClient, custom, parseEventLogs, type Hex, type PublicClient } from "viem";
import { setupProtocol } from "../contracts/protocol-fixture.ts";
import { signCommit, signCommitCompact, fromCompactSignature, taskMarketDomain } from "../../sdk/eip712.ts";
import { maskOf, mergeReport, readCurrentRound, readPendingRound, readRound, readRoundScores, roundHash, RoundNotDrawnError, seatsOf, stateArg } from "../../sdk/rounds.ts";
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

  it("readCurrentRound: an undrawn round from pendingCommittee (from the seed block on, read at the pending block), whose first commit report draws exactly those members; then from the logs", async () => {
    const env = await setupProtocol({ providers: 1, validators: 5 });
    const client = env.publicClient as unknown as PublicClient;
    const market = env.manifest.contracts.taskMarket;
    const taskId = await env.createTask();
    await env.answer(taskId);
    const { seedBlock } = await env.read.market.read.task([taskId]);
    // The head is the answer's block: the pending one is the seed block, whose hash nobody knows yet.
    assert.equal(await readPendingRound(client, market, taskId, 0), undefined, "nothing before the seed block is mined");
    await assert.rejects(readCurrentRound(client, market, taskId, 0, seedBlock), RoundNotDrawnError);
    await env.mine(1); // the seed block: a commit sent now lands in seedBlock + 1 and draws
    const pending = await readCurrentRound(client, market, taskId, 0, seedBlock);
    assert.equal(pending.drawn, false);
    assert.equal(pending.state.members.length, 5);
    assert.equal(pending.drawBlock, seedBlock + 1n, "the first block the draw can land in");
    const params = await env.read.market.read.params();
    assert.equal(pending.commitEnd, seedBlock + 1n + BigInt(params.commitWindow));
    assert.equal(await readPendingRound(client, market, taskId, 1), undefined, "another round: nothing");

    const domain = taskMarketDomain(env.chainId, market);
    const members = pending.state.members;
    const commitments = members.map((m, i) => env.commitment(7_000 + i, env.randomSalt(), m, taskId, 0));
    const deadline = (await client.getBlock()).timestamp + 3_600n;
    const signatures = await Promise.all(members.map((m, i) => signCommitCompact(env.walletOf(m), domain, { taskId, round: 0n, commitment: commitments[i]!, deadline })));
    const receipt = await env.wait(await env.read.market.write.commitReport([stateArg(pending.state), { taskId, round: 0n, mask: maskOf(members.map((_, i) => i)), deadline, commitments, signatures }]));
    const [drawnLog] = parseEventLogs({ abi: taskMarketAbi, logs: receipt.logs, eventName: "CommitteeDrawn" });
    assert.deepEqual(drawnLog!.args.members, members, "the report drew the announced members");
    assert.equal(drawnLog!.args.commitEnd, pending.commitEnd, "with the announced windows");
    const drawn = await readCurrentRound(client, market, taskId, 0, seedBlock);
    assert.equal(drawn.drawn, true);
    assert.equal(drawn.drawBlock, receipt.blockNumber);
    assert.equal(roundHash(drawn.state), await env.read.market.read.roundOf([taskId]), "the report's state, from the logs");
  });

  it("readPendingRound on an endpoint that refuses calls at the pending block: the same committee from the latest block, one block later", async () => {
    const env = await setupProtocol({ providers: 1, validators: 5 });
    const client = env.publicClient as unknown as PublicClient;
    const refusing = createPublicClient({
      transport: custom({
        request: ({ method, params }: { method: string; params?: unknown[] }) => {
          if (method === "eth_call" && params?.[1] === "pending") throw new Error("the pending block is not supported");
          return client.request({ method, params } as never);
        },
      }),
    }) as unknown as PublicClient;
    const market = env.manifest.contracts.taskMarket;
    const taskId = await env.createTask();
    await env.answer(taskId);
    await env.mine(1); // the seed block is the head: known at the pending block, not yet at the latest one
    const pending = await readPendingRound(client, market, taskId, 0);
    assert.equal(pending?.state.members.length, 5);
    assert.equal(await readPendingRound(refusing, market, taskId, 0), undefined, "the latest block cannot see the seed block's hash yet");
    await env.mine(1);
    assert.deepEqual((await readPendingRound(refusing, market, taskId, 0))?.state, pending!.state, "the same members one block later");
  });
});
