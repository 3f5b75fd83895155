import {
  BaseError,
  decodeErrorResult,
  keccak256,
  parseEventLogs,
  type Abi,
  type Address,
  type Hex,
  type LocalAccount,
  type PublicClient,
  type TransactionReceipt,
} from "viem";
import type { Logger } from "../observe/logger.ts";
import type { DaemonMetrics } from "../observe/metrics.ts";
import type { NonceJournal } from "../store/nonce-journal.ts";
import { retryWithBackoff, sleep } from "./backoff.ts";
import { BroadcastError, ExpectedEventMissingError, SendInterruptedError, StuckTransactionError, TransactionRevertedError } from "./errors.ts";
import { bumpFees, type Fees } from "./fees.ts";
import { Mutex } from "./mutex.ts";
import type { HeadFollower } from "./heads.ts";

/** The event whose presence in the receipt proves the step happened (a success status alone does not). */
export interface ExpectedEvent {
  abi: Abi;
  /** One event name, or several when the step may end more than one way (finalize: settled, rolled or refunded). */
  eventName: string | readonly string[];
  /** Emitting contract; defaults to the transaction's `to`. */
  address?: Address;
  /** Extra match on the decoded args, e.g. the task id. */
  where?: (args: Record<string, unknown>) => boolean;
}

export interface SendTransactionParameters {
  /** What the transaction does, e.g. "commit:42:0"; in logs, the journal and errors. */
  label: string;
  to: Address;
  data: Hex;
  value?: bigint;
  gas?: bigint;
  /** Added to the estimate (+20%) when `gas` is not given: for calls whose cost can grow between estimate and block. */
  gasHeadroom?: bigint;
  expect: ExpectedEvent;
}

export interface SentTransaction {
  hash: Hex;
  nonce: number;
  receipt: TransactionReceipt;
  event: { eventName: string; args: Record<string, unknown> };
  /** 1 + the number of fee-bumped replacements. */
  broadcasts: number;
}

export interface RecoveredTransaction {
  nonce: number;
  label: string;
  outcome: "mined" | "reverted" | "dropped";
  hash?: Hex;
}

export interface CreateTransactionSenderParameters {
  client: PublicClient;
  account: LocalAccount;
  chainId: number;
  journal: NonceJournal;
  logger: Logger;
  metrics?: DaemonMetrics;
  /** Without a receipt for this long, the transaction counts as stuck and is replaced with higher fees. */
  stuckAfterMs?: number;
  /** How often a receipt is looked for; with `heads`, at each new head and after this long without one. */
  receiptPollMs?: number;
  /** The daemon's head follower: a receipt can only appear with a new block, so each head wakes the waits. */
  heads?: HeadFollower;
  feeBumpPercent?: number;
  maxFeeBumps?: number;
  /** Blocks on top of the receipt's block before a step counts as done. */
  confirmations?: number;
}

export interface TransactionSender {
  readonly address: Address;
  send(params: SendTransactionParameters): Promise<SentTransaction>;
  /** After a restart: re-broadcast journaled transactions, wait for them, forget them. Call before `send`. */
  recover(): Promise<RecoveredTransaction[]>;
  /**
   * Ends every wait for a receipt or confirmations now, with SendInterruptedError (the transaction stays journaled).
   * For a bounded stop: with confirmations > 0 a send waits for blocks, and a chain that stopped producing them
   * (a halted L2 sequencer, a dev chain on automine) would otherwise hold the role's stop forever.
   */
  interruptWaits(): void;
}

const NONCE_TOO_LOW = /nonce too low|nonce has already been used|nonce is too low/i;
const ALREADY_KNOWN = /already known|known transaction|already imported|already in the mempool/i;
const UNDERPRICED = /underpriced|replacement fee too low/i;

const messageOf = (error: unknown) =>
  error instanceof BaseError ? `${error.shortMessage} ${error.details ?? ""}` : error instanceof Error ? error.message : String(error);

/** The revert reason, decoded against `abi` when the node returned custom-error data. */
function revertReason(error: unknown, abi: Abi): string {
  if (error instanceof BaseError) {
    const withData = error.walk((e) => typeof (e as { data?: unknown }).data === "string") as { data?: Hex } | null;
    if (withData?.data !== undefined && withData.data.length >= 10) {
      try {
        const decoded = decodeErrorResult({ abi, data: withData.data });
        return `${decoded.errorName}(${(decoded.args ?? []).map(String).join(", ")})`;
      } catch {
        // not one of ours: fall through to the node's message
      }
    }
    return error.shortMessage;
  }
  return messageOf(error);
}

// Nodes that mine on receipt (Hardhat automine, anvil) report a revert from eth_sendRawTransaction as an
// unknown RPC error whose details say "reverted": the nonce is used, so it must not be retried as a broadcast fault.
const isRevert = (error: unknown) =>
  error instanceof BaseError &&
  error.walk((e) => [(e as Error).name, (e as BaseError).shortMessage, (e as BaseError).details].some((text) => /revert/i.test(text ?? ""))) !== null;

/**
 * The one transaction sender per key. Identical calls in flight are sent once; nonces are handed out one at a
 * time behind a lock; each is journaled, with the signed transaction, before the broadcast; a step is done only
 * when the receipt shows the expected event; a transaction without a receipt after `stuckAfterMs` is replaced (same nonce, fees bumped); after a
 * failed broadcast the next nonce is re-read from the chain so no gap can freeze later transactions.
 */
export function createTransactionSender(p: CreateTransactionSenderParameters): TransactionSender {
  const { client, account, journal, metrics } = p;
  const stuckAfterMs = p.stuckAfterMs ?? 60_000;
  const receiptPollMs = p.receiptPollMs ?? 1_000;
  const feeBumpPercent = p.feeBumpPercent ?? 15;
  const maxFeeBumps = p.maxFeeBumps ?? 5;
  const confirmations = BigInt(p.confirmations ?? 0);
  const log = p.logger.child({ component: "sender", address: account.address });
  const lock = new Mutex();
  const awaiting = new Set<number>();
  let nextNonce: number | undefined;
  let interrupt = new AbortController();

  const broadcast = (raw: Hex) =>
    retryWithBackoff(() => client.request({ method: "eth_sendRawTransaction", params: [raw] } as never) as Promise<Hex>, {
      attempts: 4,
      baseMs: 200,
      maxMs: 3_000,
      isRetryable: (e) => !NONCE_TOO_LOW.test(messageOf(e)) && !ALREADY_KNOWN.test(messageOf(e)) && !UNDERPRICED.test(messageOf(e)) && !isRevert(e),
    });

  // Must run under the lock. Forgets journaled nonces the node does not hold, so they are reused, not skipped.
  const resync = async () => {
    const pending = await client.getTransactionCount({ address: account.address, blockTag: "pending" });
    for (const entry of journal.pending()) if (entry.nonce >= pending && !awaiting.has(entry.nonce)) journal.release(entry.nonce);
    nextNonce = pending;
    log.info({ nonce: pending }, "nonce resynchronised from the chain");
  };

  const sign = (nonce: number, tx: SendTransactionParameters, gas: bigint, fees: Fees) =>
    account.signTransaction!({
      chainId: p.chainId, type: "eip1559", nonce, to: tx.to, data: tx.data, value: tx.value ?? 0n, gas, ...fees,
    });

  const receiptOf = async (hash: Hex): Promise<TransactionReceipt | undefined> => {
    try {
      return await client.getTransactionReceipt({ hash });
    } catch (error) {
      if ((error as Error).name !== "TransactionReceiptNotFoundError") metrics?.rpcErrors.inc({ operation: "eth_getTransactionReceipt" });
      return undefined;
    }
  };

  // With `tx` undefined (recovery) nothing is re-signed and the wait ends at `deadline` with undefined.
  const waitForReceipt = async (label: string, nonce: number, tx: SendTransactionParameters | undefined, gas: bigint, fees: Fees, deadline = Infinity) => {
    let lastBroadcastAt = Date.now();
    let bumps = 0;
    const { signal } = interrupt;
    let headAtCheck: bigint | undefined;
    // Set when the head follower stayed quiet for a whole poll interval: its head may be stale (a subscription can
    // die silently until its quiet period renews it), so the node itself is asked for the head then.
    let askNode = false;
    // A head that came while the receipts were being read may have brought the receipt: look again at once.
    const pause = async () => {
      if (p.heads === undefined) await sleep(receiptPollMs, signal);
      else if (p.heads.latest() === headAtCheck) askNode = !(await p.heads.nextHead(receiptPollMs, signal));
      if (signal.aborted) throw new SendInterruptedError(label, nonce);
    };
    while (Date.now() < deadline) {
      headAtCheck = p.heads?.latest();
      const hashes = journal.get(nonce)?.hashes ?? [];
      for (const hash of [...hashes].reverse()) {
        const receipt = await receiptOf(hash);
        if (receipt === undefined) continue;
        while (confirmations > 0n) {
          // The head follower's head when it has a fresh one (no RPC call): it may lag the node, never lead it.
          headAtCheck = p.heads?.latest();
          const head = headAtCheck === undefined || askNode ? await client.getBlockNumber({ cacheTime: 0 }) : headAtCheck;
          if (head >= receipt.blockNumber + confirmations) break;
          await pause();
        }
        if (confirmations > 0n && (await receiptOf(hash))?.blockHash !== receipt.blockHash) break; // reorged away
        return { receipt, broadcasts: hashes.length };
      }
      if (tx !== undefined && Date.now() - lastBroadcastAt >= stuckAfterMs) {
        if (bumps >= maxFeeBumps) throw new StuckTransactionError(label, nonce, hashes);
        fees = bumpFees(fees, await client.estimateFeesPerGas(), feeBumpPercent);
        const raw = await sign(nonce, tx, gas, fees);
        journal.addSigned(nonce, raw, keccak256(raw));
        bumps++;
        lastBroadcastAt = Date.now();
        try {
          await broadcast(raw);
          metrics?.transactionsSent.inc({ kind: "replacement" });
          log.warn({ label, nonce, txHash: keccak256(raw), maxFeePerGas: String(fees.maxFeePerGas) }, "stuck transaction replaced with a fee bump");
        } catch (error) {
          // "nonce too low": an earlier broadcast was mined; its receipt shows up on the next pass.
          if (!NONCE_TOO_LOW.test(messageOf(error)) && !ALREADY_KNOWN.test(messageOf(error))) log.warn({ label, nonce, err: error }, "fee-bump broadcast failed");
        }
      }
      await pause();
    }
    return undefined;
  };

  // The same call (target, calldata, value) already on its way is joined, not sent again: a job that BullMQ
  // re-runs while its first run is still alive (a false stall on a loaded machine) must not pay for a second
  // commit, reveal or claim that can only revert.
  const inFlight = new Map<string, Promise<SentTransaction>>();
  const send = (tx: SendTransactionParameters): Promise<SentTransaction> => {
    const key = `${tx.to.toLowerCase()}:${tx.data}:${tx.value ?? 0n}`;
    const running = inFlight.get(key);
    if (running !== undefined) {
      log.info({ label: tx.label }, "the same call is already being sent; joining it");
      return running;
    }
    const sending = sendOnce(tx).finally(() => inFlight.delete(key));
    inFlight.set(key, sending);
    return sending;
  };

  const sendOnce = async (tx: SendTransactionParameters): Promise<SentTransaction> => {
    // Gas and fees estimated together: each is a round trip before the broadcast.
    const feesEstimated = client.estimateFeesPerGas();
    feesEstimated.catch(() => {}); // awaited below; a failed gas estimate must not leave it unhandled
    let gas = tx.gas;
    if (gas === undefined) {
      try {
        // Simulated in the pending block, where the transaction can land at the earliest: a step sent in the block
        // before its phase opens (the keeper's draw and finalize) passes, and one another party already did fails here.
        gas = ((await client.estimateGas({ account: account.address, to: tx.to, data: tx.data, value: tx.value, blockTag: "pending" })) * 120n) / 100n + (tx.gasHeadroom ?? 0n);
      } catch (error) {
        if (isRevert(error)) throw new TransactionRevertedError(tx.label, revertReason(error, tx.expect.abi), undefined, { cause: error });
        throw error;
      }
    }
    const estimated = await feesEstimated;
    const fees: Fees = { maxFeePerGas: estimated.maxFeePerGas, maxPriorityFeePerGas: estimated.maxPriorityFeePerGas };
    const nonce = await lock.run(async () => {
      for (let attempt = 0; ; attempt++) {
        if (nextNonce === undefined) await resync();
        const candidate = nextNonce!;
        const raw = await sign(candidate, tx, gas, fees);
        journal.reserve(candidate, tx.label, { rawTransaction: raw, hash: keccak256(raw) }); // durable before the broadcast
        try {
          await broadcast(raw);
        } catch (error) {
          const message = messageOf(error);
          if (!ALREADY_KNOWN.test(message)) {
            journal.release(candidate);
            nextNonce = undefined; // resync before the next nonce is handed out
            if (NONCE_TOO_LOW.test(message) && attempt < 2) continue; // the nonce was used elsewhere: take a fresh one
            if (isRevert(error)) throw new TransactionRevertedError(tx.label, revertReason(error, tx.expect.abi), undefined, { cause: error });
            throw new BroadcastError(tx.label, { cause: error });
          }
        }
        nextNonce = candidate + 1;
        awaiting.add(candidate);
        return candidate;
      }
    });
    metrics?.transactionsSent.inc({ kind: "new" });
    log.debug({ label: tx.label, nonce, txHash: journal.get(nonce)?.hashes[0] }, "transaction broadcast");
    try {
      const { receipt, broadcasts } = (await waitForReceipt(tx.label, nonce, tx, gas, fees))!;
      journal.release(nonce);
      metrics?.gasUsed.inc({ operation: tx.label.split(":")[0]! }, Number(receipt.gasUsed));
      if (receipt.status !== "success") throw new TransactionRevertedError(tx.label, "status 0 in receipt", receipt.transactionHash);
      const emitter = (tx.expect.address ?? tx.to).toLowerCase();
      const match = parseEventLogs({ abi: tx.expect.abi, logs: receipt.logs, eventName: tx.expect.eventName, strict: true } as never)
        .map((l) => l as unknown as { address: Address; eventName: string; args: Record<string, unknown> })
        .find((l) => l.address.toLowerCase() === emitter && (tx.expect.where?.(l.args) ?? true));
      if (match === undefined) throw new ExpectedEventMissingError(tx.label, [tx.expect.eventName].flat().join(" | "), receipt.transactionHash);
      log.info({ label: tx.label, nonce, txHash: receipt.transactionHash, broadcasts, gasUsed: Number(receipt.gasUsed) }, "transaction confirmed with its event");
      return { hash: receipt.transactionHash, nonce, receipt, event: { eventName: match.eventName, args: match.args }, broadcasts };
    } finally {
      awaiting.delete(nonce);
    }
  };

  const recover = () =>
    lock.run(async () => {
      const results: RecoveredTransaction[] = [];
      const minedCount = await client.getTransactionCount({ address: account.address, blockTag: "latest" });
      for (const entry of journal.pending()) {
        const last = entry.rawTransactions[entry.rawTransactions.length - 1];
        if (last === undefined) {
          journal.release(entry.nonce);
          continue;
        }
        if (entry.nonce >= minedCount) await broadcast(last).catch((error: unknown) => log.warn({ nonce: entry.nonce, err: error }, "re-broadcast failed"));
        const noFees = { maxFeePerGas: 0n, maxPriorityFeePerGas: 0n };
        const found = await waitForReceipt(entry.label, entry.nonce, undefined, 0n, noFees, Date.now() + stuckAfterMs);
        journal.release(entry.nonce);
        const outcome = found === undefined ? "dropped" : found.receipt.status === "success" ? "mined" : "reverted";
        results.push({ nonce: entry.nonce, label: entry.label, outcome, hash: found?.receipt.transactionHash });
        log.info({ nonce: entry.nonce, label: entry.label, outcome }, "recovered a journaled transaction");
      }
      await resync();
      return results;
    });

  const interruptWaits = () => {
    interrupt.abort();
    interrupt = new AbortController();
  };

  return { address: account.address, send, recover, interruptWaits };
}
