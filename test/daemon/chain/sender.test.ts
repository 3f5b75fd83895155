import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { encodeFunctionData, keccak256, parseEther, type Hex } from "viem";
import { generatePrivateKey, privateKeyToAccount, type PrivateKeyAccount } from "viem/accounts";
import { startTestChain, type TestChain } from "../../helpers/chain.ts";
import { waitFor } from "../../helpers/child-process.ts";
import { createChainClient } from "../../../daemon/chain/client.ts";
import { createTransactionSender, type CreateTransactionSenderParameters } from "../../../daemon/chain/sender.ts";
import { createHeadFollower } from "../../../daemon/chain/heads.ts";
import { ExpectedEventMissingError, SendInterruptedError, TransactionRevertedError } from "../../../daemon/chain/errors.ts";
import { bumpFees } from "../../../daemon/chain/fees.ts";
import { NonceJournal } from "../../../daemon/store/nonce-journal.ts";
import { createLogger } from "../../../daemon/observe/logger.ts";
import { createMetrics } from "../../../daemon/observe/metrics.ts";

const logger = createLogger({ level: "silent" });

describe("chain/fees", () => {
  it("bumps both fee fields by at least the percentage, rounding up, never below the network's", () => {
    const bumped = bumpFees({ maxFeePerGas: 100n, maxPriorityFeePerGas: 10n }, { maxFeePerGas: 50n, maxPriorityFeePerGas: 1n }, 15);
    assert.deepEqual(bumped, { maxFeePerGas: 115n, maxPriorityFeePerGas: 12n });
    const network = bumpFees({ maxFeePerGas: 100n, maxPriorityFeePerGas: 10n }, { maxFeePerGas: 500n, maxPriorityFeePerGas: 40n }, 15);
    assert.deepEqual(network, { maxFeePerGas: 500n, maxPriorityFeePerGas: 40n });
  });
});

describe("chain/sender on a real Hardhat JSON-RPC server", () => {
  let chain: TestChain;
  before(async () => (chain = await startTestChain()));
  after(async () => chain?.close());

  async function fundedAccount(): Promise<PrivateKeyAccount> {
    const account = privateKeyToAccount(generatePrivateKey());
    const hash = await chain.walletClient.sendTransaction({ to: account.address, value: parseEther("10"), account: chain.deployer, chain: chain.walletClient.chain });
    await chain.publicClient.waitForTransactionReceipt({ hash });
    return account;
  }

  function senderFor(account: PrivateKeyAccount, stateDir: string, overrides: Partial<CreateTransactionSenderParameters> = {}) {
    const { client } = createChainClient({ chainId: chain.chainId, rpcUrls: [chain.httpUrl], pollingIntervalMs: 50 });
    const journal = new NonceJournal(stateDir, account.address);
    const sender = createTransactionSender({ client, account, chainId: chain.chainId, journal, logger, receiptPollMs: 50, ...overrides });
    return { sender, journal };
  }
  const commit = (taskId: bigint) => ({
    label: `commit:${taskId}:0`,
    to: chain.emitter,
    data: encodeFunctionData({ abi: chain.emitterAbi, functionName: "commitScore", args: [taskId, keccak256(`0x${taskId.toString(16).padStart(2, "0")}`)] }),
    expect: { abi: chain.emitterAbi, eventName: "ScoreCommitted", where: (args: Record<string, unknown>) => args.taskId === taskId },
  });
  const state = () => mkdtempSync(path.join(tmpdir(), "poq-sender-"));

  it("serialises nonces for concurrent sends and proves each step by its event", async () => {
    const account = await fundedAccount();
    const metrics = createMetrics({ withProcessMetrics: false });
    const { sender, journal } = senderFor(account, state(), { metrics });
    const results = await Promise.all(Array.from({ length: 12 }, (_, i) => sender.send(commit(BigInt(i + 1)))));
    assert.deepEqual(results.map((r) => r.nonce).sort((a, b) => a - b), Array.from({ length: 12 }, (_, i) => i));
    for (const [i, r] of results.entries()) assert.equal(r.event.args.taskId, BigInt(i + 1));
    assert.deepEqual(journal.pending(), [], "every mined nonce is released from the journal");
    assert.match(await metrics.registry.metrics(), /poq_transactions_sent_total\{kind="new"\} 12/);
  });

  // A job re-run by BullMQ while its first run is still alive (a false stall under load) sends the same call again.
  it("sends an identical call that is already in flight once: both callers get the same transaction", async () => {
    const account = await fundedAccount();
    const metrics = createMetrics({ withProcessMetrics: false });
    const { sender } = senderFor(account, state(), { metrics });
    const [a, b] = await Promise.all([sender.send(commit(21n)), sender.send({ ...commit(21n), label: "commit:21:0 (re-run)" })]);
    assert.equal(a.hash, b.hash);
    assert.match(await metrics.registry.metrics(), /poq_transactions_sent_total\{kind="new"\} 1\n/);
    assert.equal((await sender.send(commit(21n))).nonce, a.nonce + 1, "once settled, the same call may be sent again");
  });

  it("does not count a successful transaction without the expected event, and leaves no nonce gap", async () => {
    const account = await fundedAccount();
    const { sender } = senderFor(account, state());
    const silent = { ...commit(1n), label: "silent", data: encodeFunctionData({ abi: chain.emitterAbi, functionName: "silent" }) };
    await assert.rejects(sender.send(silent), ExpectedEventMissingError);
    await assert.rejects(sender.send({ ...commit(5n), expect: { ...commit(5n).expect, where: (a) => a.taskId === 999n } }), ExpectedEventMissingError);
    const empty = { ...commit(2n), label: "post-empty", data: encodeFunctionData({ abi: chain.emitterAbi, functionName: "postTask", args: [2n, "0x"] }) };
    await assert.rejects(sender.send(empty), (e: unknown) => e instanceof TransactionRevertedError && /EmptyPrompt/.test(e.message));
    const ok = await sender.send(commit(3n));
    assert.equal(ok.nonce, 2, "the reverted estimate consumed no nonce");
  });

  it("names a revert reported by the broadcast itself (a chain that mines on receipt) and resyncs past its nonce", async () => {
    const account = await fundedAccount();
    const { sender, journal } = senderFor(account, state());
    // An explicit gas limit skips the estimate, so the revert surfaces from eth_sendRawTransaction (automine).
    const empty = { ...commit(2n), label: "post-empty", gas: 100_000n, data: encodeFunctionData({ abi: chain.emitterAbi, functionName: "postTask", args: [2n, "0x"] }) };
    await assert.rejects(sender.send(empty), (e: unknown) => e instanceof TransactionRevertedError && /EmptyPrompt/.test(e.message));
    assert.deepEqual(journal.pending(), [], "the reverted nonce is not left in the journal");
    const next = await sender.send(commit(3n));
    assert.equal(next.nonce, await chain.publicClient.getTransactionCount({ address: account.address }) - 1, "no gap, no reuse");
  });

  // The abstention test used to hang in a role's stop: its claim was mined in the last block of a chain that then
  // mined nothing more, and the send waited forever for one confirmation. A stop now interrupts such waits.
  it("interruptWaits ends a wait for a confirmation no block will bring; the transaction stays journaled for recover()", async () => {
    const account = await fundedAccount();
    const dir = state();
    const { sender, journal } = senderFor(account, dir, { confirmations: 1 });
    const sending = sender.send(commit(7n));
    await waitFor(async () => {
      const hash = journal.pending()[0]?.hashes[0];
      return hash !== undefined && (await chain.publicClient.getTransactionReceipt({ hash }).catch(() => undefined)) !== undefined;
    }, 10_000, "the commit to be mined (automine) with no block after it");
    sender.interruptWaits();
    await assert.rejects(sending, (e: unknown) => e instanceof SendInterruptedError && e.label === "commit:7:0");
    assert.equal(journal.pending().length, 1, "the interrupted nonce stays journaled");
    await chain.mine(1);
    const restarted = senderFor(account, dir, { confirmations: 1 });
    assert.deepEqual((await restarted.sender.recover()).map((r) => r.outcome), ["mined"], "the next start finds it mined");
    assert.deepEqual(restarted.journal.pending(), []);
    const next = restarted.sender.send(commit(8n));
    const blocks = setInterval(() => void chain.mine(1).catch(() => {}), 100);
    try {
      assert.equal((await next).event.args.taskId, 8n, "sends resume after an interrupt");
    } finally {
      clearInterval(blocks);
    }
  });

  it("a head follower gone quiet (a subscription that died silently) does not stall a confirmation: the node is asked", async () => {
    const account = await fundedAccount();
    const { client } = createChainClient({ chainId: chain.chainId, rpcUrls: [chain.httpUrl], pollingIntervalMs: 50 });
    // A real follower that reports the head once and then nothing for 5 s (longer than this test): its head is stale
    // from the start. (Not longer: viem keeps the poll timer of a stopped follower until it fires.)
    const heads = createHeadFollower({ client, subscribe: false, pollIntervalMs: 5_000, logger });
    await waitFor(async () => heads.latest() !== undefined, 5_000, "the follower's first head");
    const mining = setInterval(() => void chain.mine(1), 100);
    try {
      const { sender } = senderFor(account, state(), { heads, confirmations: 1 });
      const sent = await sender.send(commit(31n));
      assert.ok((await chain.publicClient.getBlockNumber()) >= sent.receipt.blockNumber + 1n, "waited for its confirmation");
      assert.ok(heads.latest()! < sent.receipt.blockNumber, "the follower never saw the receipt's block");
    } finally {
      clearInterval(mining);
      heads.stop();
    }
  });

  it("replaces a stuck transaction with a fee bump on the same nonce", async () => {
    const account = await fundedAccount();
    const metrics = createMetrics({ withProcessMetrics: false });
    const { sender, journal } = senderFor(account, state(), { stuckAfterMs: 300, metrics });
    await chain.testClient.setAutomine(false);
    try {
      const pending = sender.send(commit(7n));
      await waitFor(() => (journal.get(0)?.hashes.length ?? 0) >= 2, 10_000, "a replacement broadcast");
      const original = journal.get(0)!.hashes[0]!;
      await chain.mine(1);
      const result = await pending;
      assert.ok(result.broadcasts >= 2);
      assert.equal(result.nonce, 0);
      assert.notEqual(result.hash, original, "the bumped replacement, not the original, was mined");
      const block = await chain.publicClient.getBlock({ blockNumber: result.receipt.blockNumber });
      assert.equal(block.transactions.length, 1, "only one transaction with that nonce was mined");
      assert.match(await metrics.registry.metrics(), /poq_transactions_sent_total\{kind="replacement"\} [1-9]/);
    } finally {
      await chain.testClient.setAutomine(true);
    }
  });

  it("resynchronises the nonce when the key was used behind its back", async () => {
    const account = await fundedAccount();
    const { sender } = senderFor(account, state());
    assert.equal((await sender.send(commit(1n))).nonce, 0);
    // Another program spends nonce 1 with the same key (forbidden in production, but it must not wedge us).
    const raw = await account.signTransaction({ chainId: chain.chainId, type: "eip1559", nonce: 1, to: chain.emitter, gas: 100_000n, maxFeePerGas: parseEther("0.0000001"), maxPriorityFeePerGas: 1n, data: commit(9n).data });
    await chain.publicClient.waitForTransactionReceipt({ hash: await chain.publicClient.sendRawTransaction({ serializedTransaction: raw }) });
    const next = await sender.send(commit(2n));
    assert.equal(next.nonce, 2);
  });

  it("recovers after a crash between journaling and broadcasting: same signed transaction, no gap", async () => {
    const account = await fundedAccount();
    const dir = state();
    const journal = new NonceJournal(dir, account.address);
    const fees = await chain.publicClient.estimateFeesPerGas();
    const raw: Hex = await account.signTransaction({ chainId: chain.chainId, type: "eip1559", nonce: 0, to: chain.emitter, gas: 100_000n, ...fees, data: commit(4n).data });
    journal.reserve(0, "commit:4:0");
    journal.addSigned(0, raw, keccak256(raw));
    journal.reserve(1, "reveal:4:0"); // reserved, never signed: must be given back, not left as a gap
    const { sender } = senderFor(account, dir);
    const recovered = await sender.recover();
    assert.deepEqual(recovered.map((r) => [r.nonce, r.outcome]), [[0, "mined"]]);
    assert.equal(recovered[0]!.hash, keccak256(raw));
    assert.deepEqual(journal.pending(), []);
    assert.equal((await sender.send(commit(5n))).nonce, 1);
  });
});
