import type { Log } from "viem";
import { readParamsChanges, slashLogsOf, TASK_EVENT_SELECTORS } from "../chain-reader.ts";
import type { AuditChain } from "../connect.ts";
import { buildTaskRecords, type ParamsChange, type TaskRecord } from "../history.ts";
import { readLogs } from "../log-reader.ts";

/** Blocks re-read on every refresh, so a shallow reorg replaces what it changed instead of leaving stale rows. */
export const REORG_WINDOW_BLOCKS = 64n;
/** A refresh within this long of the previous one serves the cached view (a page load makes several API calls). */
const MIN_REFRESH_INTERVAL_MS = 1_000;

export interface IndexedHistory {
  head: bigint;
  tasks: TaskRecord[];
  params: ParamsChange[];
}

/**
 * The dashboard's incremental view of the chain: keeps the logs read so far, and on refresh drops the last
 * REORG_WINDOW_BLOCKS and re-reads from there to the head in bounded getLogs spans. Concurrent refreshes share
 * one read.
 */
export function createIndexer(chain: AuditChain) {
  let marketLogs: Log[] = [];
  let registryLogs: Log[] = [];
  let synced = BigInt(chain.manifest.deployBlock) - 1n; // last block read
  let view: IndexedHistory | undefined;
  let refreshedAt = 0;
  let pending: Promise<IndexedHistory> | undefined;

  const sync = async (): Promise<IndexedHistory> => {
    const head = await chain.client.getBlockNumber();
    const deployBlock = BigInt(chain.manifest.deployBlock);
    const start = synced - REORG_WINDOW_BLOCKS + 1n > deployBlock ? synced - REORG_WINDOW_BLOCKS + 1n : deployBlock;
    const fresh = await readLogs(chain, { address: chain.manifest.contracts.taskMarket, topics: [TASK_EVENT_SELECTORS], fromBlock: start, toBlock: head });
    const [params, freshSlashes] = await Promise.all([readParamsChanges(chain, head), slashLogsOf(chain, fresh)]);
    marketLogs = [...marketLogs.filter((l) => l.blockNumber! < start), ...fresh];
    registryLogs = [...registryLogs.filter((l) => l.blockNumber! < start), ...freshSlashes];
    synced = head;
    const tasks = [...buildTaskRecords(marketLogs, registryLogs, params).values()].sort((a, b) => (a.taskId < b.taskId ? -1 : 1));
    view = { head, tasks, params };
    refreshedAt = Date.now();
    return view;
  };

  return {
    /** The current view, re-synced when older than MIN_REFRESH_INTERVAL_MS. */
    async history(): Promise<IndexedHistory> {
      if (view !== undefined && Date.now() - refreshedAt < MIN_REFRESH_INTERVAL_MS) return view;
      pending ??= sync().finally(() => {
        pending = undefined;
      });
      return pending;
    },
  };
}

export type Indexer = ReturnType<typeof createIndexer>;
