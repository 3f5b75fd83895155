import { decodeEventLog, numberToHex, toEventSelector, type Abi, type AbiEvent, type Address, type Hex, type PublicClient } from "viem";
import type { Logger } from "../observe/logger.ts";
import type { DaemonMetrics } from "../observe/metrics.ts";
import type { BlockRef, CursorStore, WatcherCursor } from "../store/cursor-store.ts";
import { backoffDelayMs, sleep } from "./backoff.ts";
import { DeepReorgError } from "./errors.ts";
import type { HeadFollower } from "./heads.ts";
import { bloomMayContain } from "./bloom.ts";
import type { RawLog, WatcherEvent, WatcherStatus } from "./watcher-types.ts";

export type { WatcherEvent, WatchedLog, RawLog, WatcherStatus } from "./watcher-types.ts";

export interface CreateLogWatcherParameters {
  /** Key of the persisted cursor, e.g. "TaskMarket-0x1234...". */
  name: string;
  client: PublicClient;
  address: Address;
  abi: Abi;
  cursorStore: CursorStore;
  /** The consumer; if it throws, the cursor does not move and the same events come again (at-least-once). */
  onEvent: (event: WatcherEvent) => Promise<void>;
  confirmations: number;
  finalityDepth: number;
  maxBlockRange: number;
  /** First block to read when no cursor is saved (the deployment block). */
  startBlock?: bigint;
  pollIntervalMs: number;
  /** With `heads`: no new head for this long and the watcher reads the head itself (polling until heads come again). */
  quietPeriodMs: number;
  /** The daemon's head follower (its one newHeads subscription): a sync per new head; without it, a poll every pollIntervalMs. */
  heads?: HeadFollower;
  /** Called after each sync with the head it reached: every event up to head - confirmations has been handed over. */
  onSynced?: (head: bigint) => void;
  logger: Logger;
  metrics?: DaemonMetrics;
}

export interface LogWatcher {
  /** Starts the background loop (backfill, then follow the head). */
  start(): void;
  stop(): Promise<void>;
  /** One pass: verify the cursor, backfill up to head - confirmations in bounded ranges; returns the head. Used by the loop and tests. */
  syncOnce(): Promise<bigint>;
  status(): WatcherStatus;
}

type RpcLog = { address: Address; topics: Hex[]; data: Hex; blockNumber: Hex; blockHash: Hex; transactionHash: Hex; logIndex: Hex; removed?: boolean };

const MAX_REWINDS_PER_SYNC = 4;
/** Blocks without events after which the cursor is written to disk anyway (see saveCursor). */
const CURSOR_SAVE_BLOCKS = 50n;

/**
 * Follows one contract's events with a persisted cursor (block number + hash and older checkpoints).
 * Invariants: an event is handed over only once it is `confirmations` deep; the cursor is saved only after
 * every event up to it was handled; a block whose parent hash does not match the cursor triggers a rewind to
 * the newest checkpoint still on the chain; a change older than `finalityDepth` halts with DeepReorgError.
 */
export function createLogWatcher(p: CreateLogWatcherParameters): LogWatcher {
  const log = p.logger.child({ component: "watcher", watcher: p.name });
  const events = p.abi.filter((item): item is AbiEvent => item.type === "event");
  const selectors = events.map((e) => toEventSelector(e));
  let cursor: WatcherCursor | undefined = p.cursorStore.load(p.name);
  const delivered = new Map<string, bigint>(); // `${txHash}:${logIndex}` -> block number, for de-duplication
  const status: WatcherStatus = { cursor: cursor?.block, head: undefined, halted: false, lastError: undefined, lastSyncAt: undefined };
  let halted: DeepReorgError | undefined;
  let stopController = new AbortController();
  let loop: Promise<void> | undefined;

  const header = async (number: bigint): Promise<BlockRef & { parentHash: Hex; logsBloom: Hex | null } | undefined> => {
    const block = await p.client.getBlock({ blockNumber: number }).catch((error: Error) => {
      if (error.name === "BlockNotFoundError") return undefined;
      throw error;
    });
    return block === undefined ? undefined : { number, hash: block.hash!, parentHash: block.parentHash, logsBloom: block.logsBloom };
  };

  let savedAt: bigint | undefined; // block of the last durable cursor write
  // `durable` false: only in memory, unless the file is CURSOR_SAVE_BLOCKS behind. Two fsyncs per block in every
  // daemon cost more than they protect: a cursor that lags only makes a restarted watcher read those blocks again
  // and hand their events over a second time, which consumers take as they take any duplicate (at-least-once).
  const saveCursor = (next: WatcherCursor, durable = true) => {
    if (durable || savedAt === undefined || next.block.number - savedAt >= CURSOR_SAVE_BLOCKS) {
      p.cursorStore.save(p.name, next);
      savedAt = next.block.number;
    }
    cursor = next;
    status.cursor = next.block;
    p.metrics?.watcherHeadBlock.set({ contract: p.name }, Number(next.block.number));
  };

  const decode = (raw: RpcLog): WatcherEvent => {
    const base: RawLog = {
      address: raw.address, topics: raw.topics, data: raw.data, blockNumber: BigInt(raw.blockNumber),
      blockHash: raw.blockHash, transactionHash: raw.transactionHash, logIndex: Number(raw.logIndex),
    };
    try {
      const decoded = decodeEventLog({ abi: p.abi, data: raw.data, topics: raw.topics as [Hex, ...Hex[]], strict: true });
      return { type: "log", log: { ...base, eventName: String(decoded.eventName), args: (decoded.args ?? {}) as Record<string, unknown> } };
    } catch (error) {
      return { type: "malformed", raw: base, error: (error as Error).message.split("\n")[0]! };
    }
  };

  // Finds the newest checkpoint still on the canonical chain and moves the cursor back to it.
  const rewind = async (head: bigint): Promise<void> => {
    const from = cursor!.block;
    const candidates = [cursor!.block, ...cursor!.checkpoints];
    let oldestReorged: BlockRef | undefined;
    let ancestorIndex = -1;
    for (let i = 0; i < candidates.length; i++) {
      const onChain = await header(candidates[i]!.number);
      if (onChain?.hash === candidates[i]!.hash) {
        ancestorIndex = i;
        break;
      }
      oldestReorged = candidates[i];
    }
    const tooDeep = oldestReorged !== undefined && head - oldestReorged.number >= BigInt(p.finalityDepth);
    if (ancestorIndex < 0 || tooDeep) {
      halted = new DeepReorgError(from, candidates[candidates.length - 1], p.finalityDepth);
      status.halted = true;
      p.metrics?.reorgs.inc({ kind: "deep" });
      log.fatal({ from: String(from.number), oldestReorged: String(oldestReorged?.number) }, "deep reorg: watcher halted");
      await p.onEvent({ type: "deepReorg", from, oldestChecked: candidates[candidates.length - 1] });
      throw halted;
    }
    const ancestor = candidates[ancestorIndex]!;
    for (const [key, block] of delivered) if (block > ancestor.number) delivered.delete(key);
    saveCursor({ block: ancestor, checkpoints: candidates.slice(ancestorIndex + 1) });
    const depth = Number(from.number - ancestor.number);
    p.metrics?.reorgs.inc({ kind: "shallow" });
    log.warn({ from: String(from.number), ancestor: String(ancestor.number), depth }, "reorg: rewound to a common ancestor");
    await p.onEvent({ type: "reorg", from, ancestor, depth });
  };

  // Handles [from, to]; returns false when the chain moved under us (the caller rewinds and retries).
  const processRange = async (from: bigint, to: bigint, head: bigint): Promise<boolean> => {
    const toBefore = await header(to);
    const fromHeader = from === to ? toBefore : await header(from);
    if (toBefore === undefined || fromHeader === undefined) return false;
    if (cursor !== undefined && fromHeader.parentHash !== cursor.block.hash) return false;
    // One block (the steady state, a head at a time): logs by block hash (EIP-234) are that block's or an error,
    // so no second header read is needed to rule out a reorg in between; and none at all when the header's bloom
    // proves the block holds no log of the contract (most blocks of an idle network: one RPC call per block).
    const filter = from === to ? { blockHash: toBefore.hash } : { fromBlock: numberToHex(from), toBlock: numberToHex(to) };
    const logs = from === to && !bloomMayContain(toBefore.logsBloom, p.address) ? [] : (await p.client.request({ method: "eth_getLogs", params: [{ address: p.address, ...filter, topics: [selectors] }] } as never).catch(async (error: Error) => {
      // By hash, a block that left the chain under us is an error: rewind or read again. Any other error is thrown.
      if (from === to && (await header(to))?.hash !== toBefore.hash) return undefined;
      throw error;
    })) as RpcLog[] | undefined;
    if (logs === undefined) return false;
    // A range: the same hash for `to` before and after getLogs means no reorg touched [from, to] in between.
    if (from !== to && (await header(to))?.hash !== toBefore.hash) return false;
    logs.sort((a, b) => Number(BigInt(a.blockNumber) - BigInt(b.blockNumber)) || Number(a.logIndex) - Number(b.logIndex));
    // Checked before anything is delivered: a log of `to` from another fork means the node answered mid-reorg.
    if (logs.some((raw) => BigInt(raw.blockNumber) === to && raw.blockHash !== toBefore.hash)) return false;
    for (const raw of logs) {
      if (raw.removed === true) continue;
      const key = `${raw.transactionHash}:${Number(raw.logIndex)}`;
      if (delivered.has(key)) continue;
      await p.onEvent(decode(raw));
      delivered.set(key, BigInt(raw.blockNumber));
    }
    const finalBelow = head - BigInt(p.finalityDepth);
    const previous = cursor === undefined ? [] : [cursor.block, ...cursor.checkpoints];
    // Keep checkpoints inside the unfinalized zone plus the newest final one, the anchor of last resort.
    const firstFinal = previous.findIndex((c) => c.number <= finalBelow);
    const checkpoints = firstFinal < 0 ? previous : previous.slice(0, firstFinal + 1);
    // A backfill (several blocks: after a start or an outage) is written at once; the steady state every 50 blocks.
    saveCursor({ block: { number: to, hash: toBefore.hash }, checkpoints }, from !== to);
    for (const [key, block] of delivered) if (block <= finalBelow) delivered.delete(key);
    await p.onEvent({ type: "checkpoint", block: { number: to, hash: toBefore.hash } });
    return true;
  };

  const syncOnce = async (): Promise<bigint> => {
    if (halted !== undefined) throw halted;
    // The head the subscription just announced, when newer than the last sync's: one eth_blockNumber less per block.
    const pushedHead = p.heads?.latest();
    const head = pushedHead !== undefined && (status.head === undefined || pushedHead > status.head) ? pushedHead : await p.client.getBlockNumber({ cacheTime: 0 });
    status.head = head;
    const target = head - BigInt(p.confirmations);
    let rewinds = 0;
    // No separate check of the cursor block here: processRange compares the next block's parent hash with it.
    let from = cursor === undefined ? (p.startBlock ?? 0n) : cursor.block.number + 1n;
    while (from <= target) {
      const rangeEnd = from + BigInt(p.maxBlockRange) - 1n;
      const to = rangeEnd < target ? rangeEnd : target;
      if (await processRange(from, to, head)) {
        from = to + 1n;
        continue;
      }
      if (++rewinds > MAX_REWINDS_PER_SYNC) throw new Error("chain kept reorganising during one sync; retrying later");
      // Rewind only if the cursor itself left the chain; otherwise the chain moved above it: just read again.
      if (cursor !== undefined && (await header(cursor.block.number))?.hash !== cursor.block.hash) await rewind(head);
      from = cursor === undefined ? (p.startBlock ?? 0n) : cursor.block.number + 1n;
    }
    status.lastSyncAt = Date.now();
    status.lastError = undefined;
    return head;
  };

  // A head already past the last sync (it came while syncing) is handled at once; else the next head, or a poll.
  const waitForNextBlock = async (signal: AbortSignal) => {
    if (p.heads === undefined) return sleep(p.pollIntervalMs, signal);
    const latest = p.heads.latest();
    if (latest !== undefined && status.head !== undefined && latest > status.head) return;
    await p.heads.nextHead(p.quietPeriodMs, signal);
  };

  const run = async (signal: AbortSignal) => {
    let failures = 0;
    while (!signal.aborted) {
      try {
        const head = await syncOnce();
        failures = 0;
        p.onSynced?.(head);
        await waitForNextBlock(signal);
      } catch (error) {
        if (error instanceof DeepReorgError) break;
        status.lastError = (error as Error).message.split("\n")[0];
        p.metrics?.rpcErrors.inc({ operation: "watcher.sync" });
        const delay = backoffDelayMs(failures++, { baseMs: Math.min(250, p.pollIntervalMs), maxMs: 30_000 });
        log.warn({ err: error, retryInMs: delay }, "watcher sync failed; backing off");
        await sleep(delay, signal);
      }
    }
  };

  return {
    start() {
      if (loop !== undefined) return;
      stopController = new AbortController();
      loop = run(stopController.signal);
    },
    async stop() {
      stopController.abort();
      await loop;
      loop = undefined;
      if (cursor !== undefined && savedAt !== cursor.block.number) saveCursor(cursor);
    },
    syncOnce,
    status: () => ({ ...status }),
  };
}
