import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { createWalletClient, http, keccak256, stringToHex, zeroAddress, type Hex, type PublicClient } from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { hardhat } from "viem/chains";
import { waitFor } from "../../helpers/child-process.ts";
import { STAKE, createTestAccount } from "../../helpers/daemon.ts";
import { MODEL, startTestNetwork, type TestDaemon, type TestNetwork } from "./helpers/network.ts";
import { roundSeats } from "./helpers/rounds.ts";
import { getProtocolContracts, TaskStatus, type SigningWalletClient } from "../../../sdk/contracts.ts";
import { startValidatorRole } from "../../../daemon/roles/validator/validator-role.ts";
import { maxTaskLifetime } from "../../../sdk/deploy.ts";
import { DEFAULT_MARKET_PARAMS } from "../../../sdk/deployment.ts";

const PARAMS = { committeeSize: 3, maxRounds: 1, maxReassignments: 0, answerWindow: 40, commitWindow: 30, revealWindow: 30, providerFloor: 0 };
// Small log ranges so that a task older than its lifetime is many eth_getLogs ranges behind the draw.
const MAX_BLOCK_RANGE = 20;

/**
 * Forced abstention (issue 10, finding 1), daemon side: an attacking provider (a bare account, no daemon) gives
 * answers the contracts accept but no validator can score on its merits. Every honest member must still commit
 * and reveal (scoring the answer 0), so nobody is slashed; and a draw made long after the task was created must
 * not hide the task from its committee.
 */
describe("forced abstention: honest validators commit and reveal whatever the provider answers", () => {
  let net: TestNetwork;
  let attacker: ReturnType<typeof getProtocolContracts<{ public: PublicClient; wallet: SigningWalletClient }>>;
  const validators: TestDaemon[] = [];
  before(async () => {
    net = await startTestNetwork({ ...PARAMS }, { chain: { maxBlockRange: MAX_BLOCK_RANGE } });
    const account = await createTestAccount(net.chain, net.protocol, { role: "provider", models: [MODEL] });
    const wallet = createWalletClient({ chain: hardhat, transport: http(net.chain.httpUrl), account: privateKeyToAccount(account.privateKey) });
    attacker = getProtocolContracts(net.protocol.manifest, { public: net.chain.publicClient as PublicClient, wallet: wallet as SigningWalletClient });
    for (let i = 0; i < 3; i++) validators.push(await net.startValidator());
    await net.startBlocks(150);
  });
  after(async () => {
    await net?.close();
  });

  /** The attacker is the only provider: it answers once its draw is known (the hash of the block after the creation). */
  const drawn = (taskId: bigint) =>
    waitFor(async () => (await net.contracts.taskMarket.read.assignedProvider([taskId])) !== zeroAddress, 10_000, `task ${taskId}'s provider draw`);
  const answer = async (taskId: bigint, outputHash: Hex, output: Hex, uri: string) => {
    await drawn(taskId);
    const hash = await attacker.taskMarket.write.submitAnswer([taskId, outputHash, output, uri]);
    const receipt = await net.chain.publicClient.waitForTransactionReceipt({ hash });
    assert.equal(receipt.status, "success", "the contracts accept the answer");
  };

  async function expectWorthlessAndNobodySlashed(taskId: bigint): Promise<void> {
    await waitFor(async () => (await net.contracts.taskMarket.read.task([taskId])).status === TaskStatus.Finalized, 60_000, `task ${taskId} to be finalized`);
    const members = await roundSeats(net, taskId, 0);
    assert.ok(members.every((m) => m.revealed), "every member revealed");
    assert.ok(members.every((m) => m.score === 0), "every member scored the answer as worthless");
    assert.equal((await net.contracts.taskMarket.read.task([taskId])).consensus, 0);
    for (const v of validators) assert.equal((await net.contracts.stakeRegistry.read.stakeInfo([v.account.address])).amount, STAKE, "no validator slashed");
  }

  it("an answer given only as a URI is refused on chain (AnswerBytesRequired), so no committee is ever asked to score it", async () => {
    const taskId = await net.createTask();
    await drawn(taskId);
    await assert.rejects(
      attacker.taskMarket.write.submitAnswer([taskId, keccak256(stringToHex("whatever is behind the link")), "0x", "https://attacker.example/answer"]),
      /AnswerBytesRequired/,
    );
    assert.equal((await net.contracts.taskMarket.read.task([taskId])).status, TaskStatus.Assigned, "still waiting for a real answer");
  });

  it("an answer that is not UTF-8 scores 0", async () => {
    const taskId = await net.createTask();
    const output: Hex = "0xfffe00c3";
    await answer(taskId, keccak256(output), output, "");
    await expectWorthlessAndNobodySlashed(taskId);
    const metrics = await (await fetch(`${validators[0]!.ctx.health.url}/metrics`)).text();
    assert.match(metrics, /poq_answers_unscorable_total\{reason="not-utf8"\} 1/);
  });

  // Used to hang here after the test above: its TaskFinalized made every validator claim, and a claim mined in the
  // last block before stopBlocks waited forever for its one confirmation, so `role.stop()` never returned. A stop
  // now interrupts sends still waiting for the chain after sender.drainMs (workers.ts drainWithin).
  it("a task created longer ago than its lifetime (many log ranges back) is still found and judged", async () => {
    const taskId = await net.createTask();
    await drawn(taskId); // the provider's draw needs the block after the creation: wait for it while blocks still come
    const lifetime = maxTaskLifetime({ ...DEFAULT_MARKET_PARAMS, ...PARAMS });
    const output = stringToHex("Paris.");
    // Every validator is down while the task is answered and for longer than a task can live: nothing bounds when
    // drawCommittee runs, and a late draw used to hide the task from its whole committee (all slashed).
    await net.stopBlocks();
    for (const v of validators) await v.role.stop();
    await answer(taskId, keccak256(output), output, "");
    // One block per call: hardhat_mine's reserved blocks are not what a real chain serves to the watcher.
    for (let i = 0; i < Number(lifetime) + 10 * MAX_BLOCK_RANGE; i++) await net.chain.mine(1);
    for (const v of validators) v.role = await startValidatorRole(v.ctx);
    await net.startBlocks(150);
    await waitFor(async () => (await net.contracts.taskMarket.read.task([taskId])).status === TaskStatus.Finalized, 60_000, `task ${taskId} to be finalized`);
    const members = await roundSeats(net, taskId, 0);
    assert.ok(members.every((m) => m.revealed), "every member found the prompt and revealed");
  });
});
