import { encodeEventTopics, pad, numberToHex, toEventSelector, type AbiEvent, type Address, type Hex, type Log } from "viem";
import { getStakeRegistry, getTaskMarket, taskMarketAbi } from "../../sdk/contracts.ts";
import type { AuditChain } from "./connect.ts";
import { TaskNotFoundError } from "./errors.ts";
import { buildTaskRecords, paramsChanges, type ParamsChange, type TaskRecord } from "./history.ts";
import { readLogs } from "./log-reader.ts";

const marketEvents = (taskMarketAbi as readonly { type: string }[]).filter((item): item is AbiEvent => item.type === "event");
/** Events whose first indexed argument is the task id (so a task's logs can be filtered by topic 1). */
export const TASK_EVENT_SELECTORS = marketEvents.filter((e) => e.inputs[0]?.name === "taskId" && e.inputs[0]?.indexed).map((e) => toEventSelector(e));
const PARAMS_SET = toEventSelector(marketEvents.find((e) => e.name === "ParamsSet")!);
const TASK_CREATED = toEventSelector(marketEvents.find((e) => e.name === "TaskCreated")!);
const NON_REVEALERS_SLASHED = toEventSelector(marketEvents.find((e) => e.name === "NonRevealersSlashed")!);

export interface ProtocolHistory {
  /** Last block read. */
  head: bigint;
  fromBlock: bigint;
  tasks: TaskRecord[];
  params: ParamsChange[];
}

/**
 * The StakeRegistry's Slashed logs of the transactions that slashed non-revealers: NonRevealersSlashed gives only
 * the total, the registry says how much each member lost (slashes are a share of each one's own stake).
 */
export async function slashLogsOf(chain: AuditChain, marketLogs: Log[]): Promise<Log[]> {
  const txs = new Set(marketLogs.filter((l) => l.topics[0] === NON_REVEALERS_SLASHED).map((l) => l.transactionHash!));
  const registry = chain.manifest.contracts.stakeRegistry.toLowerCase();
  const receipts = await Promise.all([...txs].map((hash) => chain.client.getTransactionReceipt({ hash })));
  return receipts.flatMap((r) => r.logs.filter((l) => l.address.toLowerCase() === registry)) as Log[];
}

export async function readParamsChanges(chain: AuditChain, head: bigint): Promise<ParamsChange[]> {
  const logs = await readLogs(chain, { address: chain.manifest.contracts.taskMarket, topics: [PARAMS_SET], fromBlock: BigInt(chain.manifest.deployBlock), toBlock: head });
  return paramsChanges(logs);
}

/** Every task created in [fromBlock, head] (default: from the deployment block), ordered by id. */
export async function readHistory(chain: AuditChain, options: { fromBlock?: bigint; toBlock?: bigint } = {}): Promise<ProtocolHistory> {
  const head = options.toBlock ?? (await chain.client.getBlockNumber());
  const fromBlock = options.fromBlock ?? BigInt(chain.manifest.deployBlock);
  const marketLogs = await readLogs(chain, { address: chain.manifest.contracts.taskMarket, topics: [TASK_EVENT_SELECTORS], fromBlock, toBlock: head });
  const [params, registryLogs] = await Promise.all([readParamsChanges(chain, head), slashLogsOf(chain, marketLogs)]);
  const tasks = [...buildTaskRecords(marketLogs, registryLogs, params).values()].sort((a, b) => (a.taskId < b.taskId ? -1 : 1));
  return { head, fromBlock, tasks, params };
}

/** One task's full record; TaskNotFoundError when the id was never created. */
export async function readTask(chain: AuditChain, taskId: bigint): Promise<{ task: TaskRecord; head: bigint; params: ParamsChange[] }> {
  const market = getTaskMarket(chain.manifest.contracts.taskMarket, { public: chain.client });
  const count = await market.read.taskCount();
  if (taskId < 1n || taskId > count) throw new TaskNotFoundError(taskId, count);
  const head = await chain.client.getBlockNumber();
  // Walk back from the head span by span and stop at the task's creation: every event of a task comes after its
  // TaskCreated, so the cost grows with the task's age, not the chain's.
  const topics = [TASK_EVENT_SELECTORS, pad(numberToHex(taskId), { size: 32 })];
  const floor = BigInt(chain.manifest.deployBlock);
  const marketLogs: Log[] = [];
  for (let to = head; to >= floor; to -= chain.maxBlockRange) {
    const from = to - chain.maxBlockRange + 1n > floor ? to - chain.maxBlockRange + 1n : floor;
    marketLogs.unshift(...(await readLogs(chain, { address: chain.manifest.contracts.taskMarket, topics, fromBlock: from, toBlock: to })));
    if (marketLogs[0]?.topics[0] === TASK_CREATED) break;
  }
  const [params, registryLogs] = await Promise.all([readParamsChanges(chain, head), slashLogsOf(chain, marketLogs)]);
  const task = buildTaskRecords(marketLogs, registryLogs, params).get(taskId);
  // taskCount says it exists, so a missing record means the manifest's deployBlock is after the task's creation.
  if (task === undefined) throw new TaskNotFoundError(taskId, count);
  return { task, head, params };
}

/** What an account withdrew (Claimed logs) and can still withdraw (claimable now). */
export async function readClaims(chain: AuditChain, account: Address, head: bigint): Promise<{ claimed: bigint; claimable: bigint }> {
  const topics = encodeEventTopics({ abi: taskMarketAbi, eventName: "Claimed", args: { account } }) as Hex[];
  const logs = await readLogs(chain, { address: chain.manifest.contracts.taskMarket, topics, fromBlock: BigInt(chain.manifest.deployBlock), toBlock: head });
  const claimed = logs.reduce((sum, log) => sum + BigInt(log.data), 0n);
  const market = getTaskMarket(chain.manifest.contracts.taskMarket, { public: chain.client });
  return { claimed, claimable: await market.read.claimable([account]) };
}

/** The account's registered role now: "none", "provider" or "validator" (IStakeRegistry.Role). */
export async function readRole(chain: AuditChain, account: Address): Promise<"none" | "provider" | "validator"> {
  const registry = getStakeRegistry(chain.manifest.contracts.stakeRegistry, { public: chain.client });
  const info = await registry.read.stakeInfo([account]);
  return (["none", "provider", "validator"] as const)[info.role] ?? "none";
}
