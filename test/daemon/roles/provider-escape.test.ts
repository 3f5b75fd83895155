import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { createWalletClient, http, parseEventLogs, zeroAddress, type PublicClient } from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { hardhat } from "viem/chains";
import { waitFor } from "../../helpers/child-process.ts";
import { STAKE, createTestAccount, type TestAccount } from "../../helpers/daemon.ts";
import { MODEL, startTestNetwork, type TestDaemon, type TestNetwork } from "./helpers/network.ts";
import { getProtocolContracts, TaskStatus, taskMarketAbi, type SigningWalletClient } from "../../../sdk/contracts.ts";

const PARAMS = { committeeSize: 3, maxRounds: 1, maxReassignments: 1, answerWindow: 20, commitWindow: 20, revealWindow: 20, providerFloor: 0 };
const BLOCK_MS = 300;

/**
 * The drawn provider that tries to run (docs/PROTOCOL.md, "Provider draw": stake exit), end to end: an attacking
 * provider (a bare account) is drawn for a task, requests its unstake at once and tries to withdraw in every block
 * while never answering. Every withdrawal must fail until the keepers of the real daemons have reassigned the task
 * and slashed it; the task then goes to the honest provider daemon and is finalized, so the requester loses nothing.
 */
describe("a drawn provider cannot escape its task by unstaking", () => {
  let net: TestNetwork;
  let attacker: TestAccount;
  let as: ReturnType<typeof getProtocolContracts<{ public: PublicClient; wallet: SigningWalletClient }>>;
  let honest: TestDaemon;
  before(async () => {
    net = await startTestNetwork(PARAMS);
    attacker = await createTestAccount(net.chain, net.protocol, { role: "provider", models: [MODEL] });
    const wallet = createWalletClient({ chain: hardhat, transport: http(net.chain.httpUrl), account: privateKeyToAccount(attacker.privateKey) });
    as = getProtocolContracts(net.protocol.manifest, { public: net.chain.publicClient as PublicClient, wallet: wallet as SigningWalletClient });
    honest = await net.startProvider([{ url: net.chat.base("ok"), timeoutMs: 5_000 }]);
    for (let i = 0; i < 3; i++) await net.startValidator();
    await net.startBlocks(BLOCK_MS);
  });
  after(async () => {
    await net?.close();
  });

  it("withdrawals fail until keepers reassign and slash it; the honest provider answers and the task is finalized", async () => {
    const c = net.contracts;
    // Two providers of equal stake: post tasks until the draw picks the attacker (the honest daemon serves the others).
    let taskId = 0n;
    for (let tries = 0; tries < 12 && taskId === 0n; tries++) {
      const id = await net.createTask(`Question ${tries}: what is the capital of France?`);
      await waitFor(async () => (await c.taskMarket.read.task([id])).status !== TaskStatus.Assigned || (await c.taskMarket.read.assignedProvider([id])) !== zeroAddress, 20_000, `task ${id}'s provider draw`);
      if ((await c.taskMarket.read.assignedProvider([id])).toLowerCase() === attacker.address.toLowerCase()) taskId = id;
    }
    assert.notEqual(taskId, 0n, "the attacker was drawn within 12 tasks (chance of not: 1 in 4096)");

    const wait = (hash: `0x${string}`) => net.chain.publicClient.waitForTransactionReceipt({ hash });
    assert.equal((await wait(await as.stakeRegistry.write.requestUnstake())).status, "success", "the unstake request itself is allowed");
    let attempts = 0;
    let lastTried = 0n;
    while ((await c.taskMarket.read.task([taskId])).status === TaskStatus.Assigned) {
      const head = await net.chain.publicClient.getBlockNumber();
      if (head > lastTried) {
        lastTried = head;
        attempts++;
        await assert.rejects(as.stakeRegistry.write.withdraw(), /CooldownNotOver|StakeLocked/, `withdraw at block ${head} must fail`);
      }
      await new Promise((resolve) => setTimeout(resolve, BLOCK_MS / 3));
    }
    assert.ok(attempts >= PARAMS.answerWindow / 2, `the attacker tried to withdraw in ${attempts} blocks`);

    const logs = await net.chain.publicClient.getContractEvents({ address: net.protocol.manifest.contracts.taskMarket, abi: taskMarketAbi, eventName: "ProviderTimedOut", args: { taskId }, fromBlock: 0n });
    assert.equal(logs.length, 1, "reassigned once, by a keeper");
    const [timedOut] = parseEventLogs({ abi: taskMarketAbi, logs, eventName: "ProviderTimedOut" });
    assert.equal(timedOut!.args.provider.toLowerCase(), attacker.address.toLowerCase());
    assert.ok(timedOut!.args.slashed > 0n, "slashed for the missed answer");
    assert.equal((await c.stakeRegistry.read.stakeInfo([attacker.address])).amount, STAKE - timedOut!.args.slashed, "the slash came out of the stake it tried to withdraw");

    await waitFor(async () => (await c.taskMarket.read.task([taskId])).status === TaskStatus.Finalized, 60_000, `task ${taskId} to be finalized`);
    const settled = await c.taskMarket.read.task([taskId]);
    assert.equal(settled.provider.toLowerCase(), honest.account.address.toLowerCase(), "answered by the honest provider after the reassign");
  });
});
