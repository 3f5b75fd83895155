import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { createWalletClient, decodeEventLog, decodeFunctionData, erc20Abi, http, parseEventLogs, type Hex, type PublicClient, type TransactionReceipt } from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { hardhat } from "viem/chains";
import { waitFor } from "../helpers/child-process.ts";
import { startTestChain } from "../helpers/chain.ts";
import { runningAnvils } from "../../scripts/localnet/anvil.ts";
import { createTestAccount, FEE } from "../helpers/daemon.ts";
import { MODEL, startTestNetwork, TEST_PARAMS, type TestNetwork } from "../daemon/roles/helpers/network.ts";
import { createPoqClient } from "../../sdk/client.ts";
import { CLAIM_KEEPS_WEI, claimableNow, getProtocolContracts, taskMarketAbi, TaskStatus, type SigningWalletClient } from "../../sdk/contracts.ts";
import { readRoundScores } from "../../sdk/rounds.ts";

/**
 * The same network the roles tests run on Hardhat (test/daemon/roles/helpers/network.ts), on anvil instead: a
 * second, independent EVM implementation (Foundry's, in Rust) in its own process. A requester posts a job with the
 * SDK and waits for its result while one real provider daemon answers and three real validator daemons score
 * with the generated tiny int8 cross-encoder, commit, reveal and finalize (their keeper duties included). The
 * money is then followed through the receipts of every transaction the round caused.
 */
describe("anvil: the test helpers start and stop it", () => {
  it("leaves no anvil process behind, also when the network fails to deploy", async () => {
    const before = runningAnvils();
    const chain = await startTestChain("anvil");
    assert.equal(runningAnvils().length, before.length + 1);
    await chain.close();
    assert.deepEqual(runningAnvils(), before);
    // quorumBps above 100% stops the deployment (the parameter check before the market): the chain, Redis and chat
    // server are stopped.
    await assert.rejects(startTestNetwork({ ...TEST_PARAMS, quorumBps: 20_000 }, { evm: "anvil" }), /market parameter quorumBps = 20000 is out of its bounds/);
    assert.deepEqual(runningAnvils(), before);
  });
});

describe("anvil (a second EVM): a job posted with the SDK goes through a full daemon round", () => {
  let net: TestNetwork;

  before(async () => {
    net = await startTestNetwork({ ...TEST_PARAMS, committeeSize: 3 }, { evm: "anvil" });
  });
  after(async () => {
    await net?.close();
  });

  it("createTask to Finalized with real daemons; the fee is conserved to the wei in the receipts", async () => {
    assert.equal(net.chain.evm, "anvil");
    assert.match(await net.chain.publicClient.request({ method: "web3_clientVersion" }), /anvil/i, "the node is anvil");
    const provider = await net.startProvider([{ url: net.chat.base("ok"), timeoutMs: 5_000 }]);
    const validators = [];
    for (let i = 0; i < 3; i++) validators.push(await net.startValidator());
    const requester = await createTestAccount(net.chain);
    const walletClient = createWalletClient({ chain: hardhat, transport: http(net.chain.httpUrl), account: privateKeyToAccount(requester.privateKey) });
    const c = net.contracts;
    const market = net.protocol.manifest.contracts.taskMarket;
    const mine = getProtocolContracts(net.protocol.manifest, { public: net.chain.publicClient as PublicClient, wallet: walletClient as SigningWalletClient });
    await net.chain.publicClient.waitForTransactionReceipt({ hash: await mine.token.write.mint([requester.address, FEE]) });
    const marketBalanceBefore = await c.token.read.balanceOf([market]);
    const fromBlock = (await net.chain.publicClient.getBlockNumber()) + 1n;
    await net.startBlocks();

    const client = createPoqClient({ manifest: net.protocol.manifest, publicClient: net.chain.publicClient as PublicClient, walletClient: walletClient as SigningWalletClient });
    const { taskId } = await client.postJob({ model: MODEL, prompt: "What is the capital of France?", fee: FEE });
    const result = await client.waitForResult(taskId, { timeoutMs: 60_000, pollIntervalMs: 100 });
    assert.equal(result.status, "Finalized");
    const assigned = result.task.provider;
    assert.equal(assigned.toLowerCase(), provider.account.address.toLowerCase(), "the one provider daemon answered");
    assert.equal(result.answer?.text, `answer from ${MODEL}`);
    assert.equal(result.nonRevealers.length, 0);
    // The market keeps no member list: the seats and their openings come from the round's logs.
    const members = await readRoundScores(net.chain.publicClient as PublicClient, market, taskId, 0, fromBlock);
    assert.equal(members.length, 3);
    assert.ok(members.every((m) => m.revealed), "every member revealed");
    assert.ok(validators.every((v) => members.some((m) => m.account === v.account.address)), "each validator daemon sat on the committee");

    // Payees' daemons claim at once (claimBatchMs 0); the requester's refund and the treasury's share stay credited.
    const payees = [provider.account.address, ...validators.map((v) => v.account.address)];
    // claim() keeps 1 wei of each credit (the slot stays non-zero): claimed = the credit less that wei.
    for (const p of payees) await waitFor(async () => claimableNow(await c.taskMarket.read.claimable([p])) === 0n, 20_000, `${p} to claim`);
    await net.stopBlocks();

    // Every receipt from the job's first transaction on, all parties: the requester's approve and createTask, the
    // provider's answer and draw, the validators' commits, reveals and finalize, and everyone's claims.
    const receipts = await receiptsSince(net.chain.publicClient as PublicClient, fromBlock);
    // The one kind of revert allowed: a keeper duty another daemon's transaction did first in the same block (both
    // passed simulation against the block before). Anything else that reverted is a bug.
    const KEEPER_DUTIES = ["finalize", "drawCommittee", "reassign", "assignProvider"];
    const calls = await Promise.all(receipts.map(async (r) => {
      const tx = await net.chain.publicClient.getTransaction({ hash: r.transactionHash });
      const call = tx.to?.toLowerCase() === market.toLowerCase() ? decodeFunctionData({ abi: taskMarketAbi, data: tx.input }) : undefined;
      return { r, name: call?.functionName as string | undefined, arg: call?.args?.[0] };
    }));
    const unexplained = calls.filter(({ r, name, arg }) => r.status !== "success" && !(
      name !== undefined && KEEPER_DUTIES.includes(name) &&
      calls.some((o) => o.r.status === "success" && o.name === name && o.arg === arg && o.r.blockNumber <= r.blockNumber)));
    assert.deepEqual(unexplained.map(({ r, name }) => `${name ?? "?"} ${r.transactionHash}`), [], "no transaction of the round reverted but a keeper duplicate");
    const events = parseEventLogs({ abi: taskMarketAbi, logs: receipts.flatMap((r) => r.logs).filter((l) => l.address.toLowerCase() === market.toLowerCase()) });
    const created = events.find((e) => e.eventName === "TaskCreated" && e.args.taskId === taskId);
    const finalized = events.find((e) => e.eventName === "TaskFinalized" && e.args.taskId === taskId);
    assert.ok(created?.eventName === "TaskCreated" && finalized?.eventName === "TaskFinalized");
    assert.equal(created.args.fee, FEE);
    const { providerPay, requesterRefund, treasuryShare, validatorPay } = finalized.args;
    assert.equal(providerPay + requesterRefund + treasuryShare + validatorPay.reduce((a, b) => a + b, 0n), FEE, "the split adds up to the fee");
    const credited = new Map<string, bigint>([[assigned.toLowerCase(), providerPay]]);
    members.forEach((m, i) => credited.set(m.account.toLowerCase(), (credited.get(m.account.toLowerCase()) ?? 0n) + validatorPay[i]!));
    const claimed = new Map<string, bigint>();
    for (const e of events) if (e.eventName === "Claimed") claimed.set(e.args.account.toLowerCase(), (claimed.get(e.args.account.toLowerCase()) ?? 0n) + e.args.amount);
    for (const p of payees) {
      assert.equal(claimed.get(p.toLowerCase()), credited.get(p.toLowerCase())! - CLAIM_KEEPS_WEI, `${p} claimed exactly its credit but the kept wei`);
      assert.equal(await c.taskMarket.read.claimable([p]), CLAIM_KEEPS_WEI, `${p} keeps 1 wei of credit`);
    }

    // Token side, from the same receipts: what entered the market minus what left it is what it still holds.
    let kept = 0n;
    for (const r of receipts) {
      for (const l of r.logs) {
        if (l.address.toLowerCase() !== net.protocol.manifest.contracts.token.toLowerCase()) continue;
        const t = decodeEventLog({ abi: erc20Abi, data: l.data, topics: l.topics as [Hex, ...Hex[]] });
        if (t.eventName !== "Transfer") continue;
        if (t.args.to.toLowerCase() === market.toLowerCase()) kept += t.args.value;
        if (t.args.from.toLowerCase() === market.toLowerCase()) kept -= t.args.value;
      }
    }
    const marketBalanceAfter = await c.token.read.balanceOf([market]);
    assert.equal(marketBalanceAfter - marketBalanceBefore, kept, "the market's balance moved exactly by the transfers in the receipts");
    assert.equal(kept, FEE - [...claimed.values()].reduce((a, b) => a + b, 0n), "the market keeps the fee minus the claims");
    assert.equal(kept, requesterRefund + treasuryShare + BigInt(payees.length) * CLAIM_KEEPS_WEI, "what stays is the unclaimed refund and treasury share, and the wei each claim keeps");
    assert.equal((await c.taskMarket.read.task([taskId])).status, TaskStatus.Finalized);
    round = validators;
  });

  let round: Awaited<ReturnType<TestNetwork["startValidator"]>>[] = [];
  it("the shipped pattern on anvil: the aggregator's commit report, then its reveal report that settles the task", async () => {
    assert.ok(round.length === 3, "runs after the round above");
    const relayer = await net.startRelayer();
    for (const v of round) await v.role.stop();
    for (const v of round) await net.startValidator(v.account, undefined, { relayerUrl: relayer.role.url });
    await net.startBlocks();
    const c = net.contracts;
    const taskId = await net.createTask();
    await waitFor(async () => (await c.taskMarket.read.task([taskId])).status === TaskStatus.Finalized, 60_000, "finalization");
    await net.stopBlocks();
    const logs = await net.chain.publicClient.getContractEvents({ address: net.protocol.manifest.contracts.taskMarket, abi: taskMarketAbi, args: { taskId } as never, fromBlock: 0n });
    const txOf = (name: string) => [...new Set(logs.filter((l) => l.eventName === name).map((l) => l.transactionHash))];
    assert.equal(txOf("CommitReported").length, 1, "the three commits in one report");
    assert.equal(txOf("RevealReported").length, 1, "the three openings in one report");
    assert.deepEqual([...txOf("ScoreCommitted"), ...txOf("ScoreRevealed")], [], "no member had to act alone");
    assert.deepEqual(txOf("TaskFinalized"), txOf("RevealReported"), "settled by the reveal report (its gas estimate on anvil covered the settlement)");
    for (const hash of [...txOf("CommitReported"), ...txOf("RevealReported")]) {
      assert.equal((await net.chain.publicClient.getTransaction({ hash: hash! })).from, relayer.account.address.toLowerCase());
    }
  });
});

/** Receipts of every transaction mined from `fromBlock` to the head. */
async function receiptsSince(client: PublicClient, fromBlock: bigint): Promise<TransactionReceipt[]> {
  const head = await client.getBlockNumber();
  const receipts: TransactionReceipt[] = [];
  for (let n = fromBlock; n <= head; n++) {
    const { transactions } = await client.getBlock({ blockNumber: n });
    receipts.push(...(await Promise.all(transactions.map((hash) => client.getTransactionReceipt({ hash })))));
  }
  return receipts;
}
