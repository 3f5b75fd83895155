import type { Hex, Log } from "viem";
import { readParamsChanges, slashLogsOf, TASK_EVENT_SELECTORS } from "../chain-reader.ts";
import type { AuditChain } from "../connect.ts";
import { buildTaskRecords, type ParamsChange, type TaskRecord } from "../history.ts";
import { readLogs } from "../log-reader.ts";

/** Default: a refresh within 1 s of the previous one serves the cached view (a page load makes several API calls). */
const DEFAULT_MIN_REFRESH_INTERVAL_MS = 1_000;

export interface IndexedHistory {
  head: bigint;
  tasks: TaskRecord[];
  params: ParamsChange[];
}

/**
 * The dashboard's incremental view of the chain. Each refresh first checks that the last block it read still has
 * the same hash: block hashes chain, so an unchanged hash means nothing before it changed and only newer blocks are
 * read (in bounded getLogs spans). A changed or missing hash means a reorg: the view is rebuilt from the deployment
 * block, so it never shows a task or score the chain dropped. Concurrent refreshes share one read.
 */
export function createIndexer(chain: AuditChain, options: { minRefreshIntervalMs?: number } = {}) {
  const minInterval = options.minRefreshIntervalMs ?? DEFAULT_MIN_REFRESH_INTERVAL_MS;
  const deployBlock = BigInt(chain.manifest.deployBlock);
  let marketLogs: Log[] = [];
  let registryLogs: Log[] = [];
  let synced: { number: bigint; hash: Hex } | undefined;
  let view: IndexedHistory | undefined;
  let refreshedAt = 0;
  let pending: Promise<IndexedHistory> | undefined;

  const stillCanonical = async (block: { number: bigint; hash: Hex }) => {
    const current = await chain.client.getBlock({ blockNumber: block.number }).catch(() => undefined);
    return current?.hash === block.hash;
  };

  const sync = async (): Promise<IndexedHistory> => {
    const head = await chain.client.getBlock({ blockTag: "latest" });
    if (synced !== undefined && !(await stillCanonical(synced))) {
      marketLogs = [];
      registryLogs = [];
      synced = undefined;
    }
    const from = synced === undefined ? deployBlock : synced.number + 1n;
    if (from <= head.number!) {
      const fresh = await readLogs(chain, { address: chain.manifest.contracts.taskMarket, topics: [TASK_EVENT_SELECTORS], fromBlock: from, toBlock: head.number! });
      marketLogs.push(...fresh);
      registryLogs.push(...(await slashLogsOf(chain, fresh)));
    }
    synced = { number: head.number!, hash: head.hash! };
    const params = await readParamsChanges(chain, head.number!);
    const tasks = [...buildTaskRecords(marketLogs, registryLogs, params).values()].sort((a, b) => (a.taskId < b.taskId ? -1 : 1));
    view = { head: head.number!, tasks, params };
    refreshedAt = Date.now();
    return view;
  };

  return {
    /** The current view, re-synced when older than the refresh interval. */
    async history(): Promise<IndexedHistory> {
      if (view !== undefined && Date.now() - refreshedAt < minInterval) return view;
      pending ??= sync().finally(() => {
        pending = undefined;
      });
      return pending;
    },
  };
}

export type Indexer = ReturnType<typeof createIndexer>;
