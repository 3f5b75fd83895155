import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { parseEventLogs, type TransactionReceipt } from "viem";
import { waitFor } from "../../helpers/child-process.ts";
import { startTestNetwork, type TestDaemon, type TestNetwork } from "./helpers/network.ts";
import { roundSeats } from "./helpers/rounds.ts";
import { startValidatorRole } from "../../../daemon/roles/validator/validator-role.ts";
import { RefundReason, TaskStatus, taskMarketAbi } from "../../../sdk/contracts.ts";

// 500 ms blocks: "a few blocks" of slack is then a couple of seconds, what a keeper on a loaded machine needs to see
// a head and send (at 150 ms blocks the bound measured the test machine's load, not the keeper). Windows of 10 s;
// k = 3 of 5 validators, so a vanished committee leaves keepers.
const BLOCK_MS = 500;
const PARAMS = { committeeSize: 3, maxRounds: 1, maxReassignments: 1, answerWindow: 20, commitWindow: 20, revealWindow: 20, providerFloor: 0 };
const KEEPER = { fallbackBlocks: 1, fallbackRanks: 4 };
// The worst keeper rank of a duty (duties.ts: interested parties first, then the hashed fallbacks) in blocks,
// plus the blocks a transaction and its confirmation take to be seen.
const SLACK_BLOCKS = 4n;
const worstRank = (interested: number) => BigInt((interested + KEEPER.fallbackRanks) * KEEPER.fallbackBlocks);

/**
 * Keeper duties with real daemons on the local chain: nobody but the keepers of OTHER daemons moves the task,
 * and each task still ends within its windows plus a few blocks. The provider daemon runs with its keeper off,
 * so it answers and then never draws (the draw nobody calls).
 */
describe("keeper: every task reaches an end with no human", () => {
  let net: TestNetwork;
  let provider: TestDaemon;
  const validators: TestDaemon[] = [];
  before(async () => {
    net = await startTestNetwork(PARAMS, { daemon: { keeper: KEEPER } });
    provider = await net.startProvider([{ url: net.chat.base("ok"), timeoutMs: 5_000 }], undefined, undefined, { keeper: { enabled: false } });
    for (let i = 0; i < 5; i++) validators.push(await net.startValidator());
    await net.startBlocks(BLOCK_MS);
  });
  after(async () => {
    await net?.close();
  });

  const task = (id: bigint) => net.contracts.taskMarket.read.task([id]);
  const receiptOf = async (id: bigint, eventName: string): Promise<TransactionReceipt> => {
    const logs = await net.chain.publicClient.getContractEvents({ address: net.protocol.manifest.contracts.taskMarket, abi: taskMarketAbi, eventName, args: { taskId: id }, fromBlock: 0n } as never);
    assert.equal(logs.length, 1, `one ${eventName} for task ${id}: keepers did not duplicate it`);
    return net.chain.publicClient.getTransactionReceipt({ hash: (logs[0] as { transactionHash: `0x${string}` }).transactionHash });
  };
  const keeperFailures = async () => {
    let failed = 0;
    for (const d of [...validators, provider]) {
      const text = await (await fetch(`${d.ctx.health.url}/metrics`)).text();
      for (const m of text.matchAll(/poq_keeper_actions_total\{action="\w+",outcome="failed"\} (\d+)/g)) failed += Number(m[1]);
    }
    return failed;
  };

  it("a draw nobody calls: the provider answers and never draws; the members' first commit draws within a few blocks of the seed", async () => {
    const id = await net.createTask();
    await waitFor(async () => (await task(id)).status === TaskStatus.Finalized, 60_000, `task ${id} to be finalized`);
    const drawn = await receiptOf(id, "CommitteeDrawn");
    const answered = await receiptOf(id, "AnswerSubmitted");
    const seedBlock = answered.blockNumber + 1n;
    assert.ok(drawn.blockNumber <= seedBlock + 1n + worstRank(1) + SLACK_BLOCKS, `drawn at ${drawn.blockNumber}, seed block ${seedBlock}`);
    assert.notEqual(drawn.from.toLowerCase(), provider.account.address.toLowerCase(), "drawn by a member's commit");
    assert.equal(parseEventLogs({ abi: taskMarketAbi, logs: drawn.logs, eventName: "ScoreCommitted" }).length, 1, "in the round's first commit");
    assert.equal(await keeperFailures(), 0);
  });

  it("a committee that never commits: no keeper draws before the commit window the draw sets has passed; then one draws and the round ends (no quorum -> refund)", async () => {
    // Every validator is stopped before the answer, so nobody is seated when the seed block comes; then the two
    // that the draw will not select come back (as keepers only: they have no seat).
    await Promise.all(validators.map((v) => v.role.stop()));
    const id = await net.createTask();
    await waitFor(async () => (await task(id)).status === TaskStatus.Answered, 30_000, "the answer");
    const { seedBlock } = await task(id);
    await waitFor(async () => (await net.chain.publicClient.getBlockNumber()) > seedBlock, 30_000, "the seed block");
    const [pending, commitEnd] = await net.contracts.taskMarket.read.pendingCommittee([id]);
    const members = pending.map((m) => m.toLowerCase());
    assert.equal(members.length, PARAMS.committeeSize, "the committee is known before any draw");
    const keepers = validators.filter((v) => !members.includes(v.account.address.toLowerCase()));
    for (const v of keepers) v.role = await startValidatorRole(v.ctx);
    await waitFor(async () => (await task(id)).status === TaskStatus.Refunded, 60_000, `task ${id} to end`);
    const drawn = await receiptOf(id, "CommitteeDrawn");
    assert.ok(drawn.blockNumber > commitEnd, `drawn at ${drawn.blockNumber}, after commitEnd ${commitEnd}: the first commit could still have drawn until then`);
    assert.ok(drawn.blockNumber <= commitEnd + 1n + worstRank(1) + SLACK_BLOCKS, `drawn at ${drawn.blockNumber}, commitEnd ${commitEnd}`);
    assert.ok(keepers.some((v) => v.account.address.toLowerCase() === drawn.from.toLowerCase()), "drawn by a keeper outside the committee");
    // The draw after commitEnd leaves a round nobody can commit to: keepers outside the committee finalize it right
    // after the reveal phase (no quorum with maxRounds 1: refund), which slashes the silent members.
    const { revealEnd } = await task(id);
    const refunded = await receiptOf(id, "TaskRefunded");
    const [event] = parseEventLogs({ abi: taskMarketAbi, logs: refunded.logs, eventName: "TaskRefunded" });
    assert.equal(event!.args.reason, RefundReason.NoQuorum);
    assert.ok(refunded.blockNumber <= revealEnd + 1n + worstRank(PARAMS.committeeSize) + SLACK_BLOCKS, `ended at ${refunded.blockNumber}, reveal end ${revealEnd}`);
    assert.ok(!members.includes(refunded.from.toLowerCase()), "finalized by a daemon outside the committee");
    for (const v of validators.filter((x) => !keepers.includes(x))) v.role = await startValidatorRole(v.ctx);
    assert.equal(await keeperFailures(), 0);
  });

  it("a provider that vanishes: keepers reassign at the deadline; with no other provider the requester is refunded", async () => {
    await provider.role.stop();
    const id = await net.createTask();
    const { answerDeadline } = await task(id);
    await waitFor(async () => (await task(id)).status === TaskStatus.Refunded, 60_000, `task ${id} to end`);
    const timedOut = await receiptOf(id, "ProviderTimedOut");
    const [event] = parseEventLogs({ abi: taskMarketAbi, logs: timedOut.logs, eventName: "TaskRefunded" });
    assert.equal(event?.args.reason, RefundReason.NoProvider);
    assert.ok(timedOut.blockNumber <= answerDeadline + 1n + worstRank(0) + SLACK_BLOCKS, `reassigned at ${timedOut.blockNumber}, deadline ${answerDeadline}`);
    assert.equal(await keeperFailures(), 0);
  });
});
