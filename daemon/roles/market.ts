import { encodeFunctionData, type Address, type ContractFunctionReturnType, type Hex, type PublicClient, type TypedDataDomain } from "viem";
import { ConfigError } from "../config/load.ts";
import type { DaemonContext } from "../runtime/context.ts";
import { createLogWatcher, type LogWatcher, type WatcherEvent } from "../chain/watcher.ts";
import { TransactionRevertedError, ExpectedEventMissingError } from "../chain/errors.ts";
import type { SentTransaction } from "../chain/sender.ts";
import { evaluatorRegistryAbi, mockERC20Abi, stakeRegistryAbi, taskMarketAbi } from "../../sdk/contracts.ts";
import { readDeploymentManifest, type DeploymentManifest } from "../../sdk/deployment.ts";
import { taskMarketDomain } from "../../sdk/eip712.ts";
import { atPendingBlock, readCurrentRound, stateArg, type Round, type RoundState } from "../../sdk/rounds.ts";

export { taskMarketAbi };

/** ITaskMarket.TaskView as viem decodes it, derived from the ABI so it cannot drift from the contract. */
export type TaskView = ContractFunctionReturnType<typeof taskMarketAbi, "view", "task">;

export type MarketFunction = "reassign" | "assignProvider" | "declineTask" | "drawCommittee" | "commit" | "reveal" | "finalize" | "claim" | "submitAnswer" | "commitReport" | "revealReport";

/** The deployment a role works against: addresses, EIP-712 domain, typed reads and one way to send. */
export interface Market {
  manifest: DeploymentManifest;
  address: Address;
  domain: TypedDataDomain;
  task(taskId: bigint): Promise<TaskView>;
  /** The provider drawn for the task's current attempt (zero before its seed block is in the head, see ITaskMarket). */
  assignedProvider(taskId: bigint): Promise<Address>;
  /** The models `provider` is registered for on chain (StakeRegistry.modelsOf). */
  modelsOf(provider: Address): Promise<readonly Hex[]>;
  /** The task's round as its events tell it (CommitteeDrawn + CommitReported): members, RoundState, windows; before
   * its draw, as pendingCommittee announces it (`drawn` false: the round's first commit draws it).
   * `fromBlock`: at or before the draw (the task's seedBlock). Throws RoundNotDrawnError when there is no committee
   * to draw yet. */
  round(taskId: bigint, round: number, fromBlock: bigint): Promise<Round>;
  /** pendingCommittee of the task read against the pending block: whether the draw of its undrawn round would
   * select a committee if it landed now, and the commitEnd it sets. */
  pendingDraw(taskId: bigint): Promise<{ hasCommittee: boolean; commitEnd: bigint }>;
  /** Gas a round's first commit may need beyond its estimate for the draw it carries (see drawGasHeadroom). */
  drawGasHeadroom(taskId: bigint): Promise<bigint>;
  claimable(account: Address): Promise<bigint>;
  evaluatorActive(id: Hex): Promise<boolean>;
  maxOutputBytes(): Promise<number>;
  taskCount(): Promise<bigint>;
  tokenBalance(account: Address): Promise<bigint>;
  /** Sends `functionName(args)` through the context's sender; done only when (one of) `eventName` is in the receipt. */
  send(label: string, functionName: MarketFunction, args: readonly unknown[], eventName: string | readonly string[], where?: (args: Record<string, unknown>) => boolean, options?: { gasHeadroom?: bigint }): Promise<SentTransaction>;
}

/** A bound of a committee draw's gas when it cannot be estimated (measured, `npm run bench:gas`: 155,000 at k = 5 over
 * 5 validators, 250,000 over 1,000; 852,000 at k = 32): what a round's first commit may add for the draw. */
const DRAW_GAS_BASE = 100_000n;
const DRAW_GAS_PER_MEMBER = 60_000n;

/** What reading the market needs; `sender` only to send (a score-only worker has none: it never sends). */
export type MarketContext = Pick<DaemonContext, "config" | "chain"> & Partial<Pick<DaemonContext, "sender">>;

/** Reads the deployment manifest named by `config.deployment` and checks it belongs to the configured chain. */
export function openMarket(ctx: MarketContext): Market {
  const file = ctx.config.deployment;
  if (file === undefined) throw new ConfigError("Invalid configuration", ["deployment: required to run a role (path to the deployment manifest written by scripts/deploy.ts; or POQ_DEPLOYMENT)"]);
  const manifest = readDeploymentManifest(file);
  if (manifest.chainId !== ctx.config.chain.chainId) {
    throw new ConfigError("Invalid configuration", [`deployment: manifest ${file} is for chain ${manifest.chainId}, the config for chain ${ctx.config.chain.chainId}`]);
  }
  const client = ctx.chain.client;
  const address = manifest.contracts.taskMarket;
  const read = <T>(functionName: string, args: readonly unknown[] = []) =>
    client.readContract({ address, abi: taskMarketAbi, functionName, args } as never) as Promise<T>;
  return {
    manifest,
    address,
    domain: taskMarketDomain(manifest.chainId, address),
    task: (taskId) => read<TaskView>("task", [taskId]),
    assignedProvider: (taskId) => read<Address>("assignedProvider", [taskId]),
    modelsOf: (provider) =>
      client.readContract({ address: manifest.contracts.stakeRegistry, abi: stakeRegistryAbi, functionName: "modelsOf", args: [provider] }),
    round: (taskId, round, fromBlock) => readCurrentRound(client as PublicClient, address, taskId, round, fromBlock),
    pendingDraw: async (taskId) => {
      const [members, commitEnd] = await atPendingBlock((blockTag) => client.readContract({ address, abi: taskMarketAbi, functionName: "pendingCommittee", args: [taskId], blockTag }));
      return { hasCommittee: members.length > 0, commitEnd };
    },
    drawGasHeadroom: async (taskId) => {
      // The draw alone, estimated where it has not landed: the latest block, or (its seed block is the head) the
      // pending one. Both refuse it only while a drawing transaction waits in the pool ahead of ours: a block
      // builder may still order ours first, so the bound then (above the measured draws, docs/PROTOCOL.md).
      const data = encodeFunctionData({ abi: taskMarketAbi, functionName: "drawCommittee", args: [taskId] });
      for (const blockTag of ["latest", "pending"] as const) {
        const gas = await client.estimateGas({ account: ctx.sender?.address, to: address, data, blockTag } as never).catch(() => undefined);
        if (gas !== undefined) return gas;
      }
      const { committeeSize } = await read<{ committeeSize: number }>("params");
      return DRAW_GAS_BASE + DRAW_GAS_PER_MEMBER * BigInt(committeeSize);
    },
    claimable: (account) => read<bigint>("claimable", [account]),
    maxOutputBytes: async () => (await read<{ maxOutputBytes: number }>("params")).maxOutputBytes,
    taskCount: () => read<bigint>("taskCount"),
    evaluatorActive: (id) =>
      client.readContract({ address: manifest.contracts.evaluatorRegistry, abi: evaluatorRegistryAbi, functionName: "isActive", args: [id] }),
    tokenBalance: (account) => client.readContract({ address: manifest.contracts.token, abi: mockERC20Abi, functionName: "balanceOf", args: [account] }),
    send: (label, functionName, args, eventName, where, options) => {
      if (ctx.sender === undefined) throw new Error(`${label}: this process has no signing key (a read-only worker cannot send)`);
      return ctx.sender.send({
        label,
        to: address,
        data: encodeFunctionData({ abi: taskMarketAbi, functionName, args } as never),
        expect: { abi: taskMarketAbi, eventName, where },
        gasHeadroom: options?.gasHeadroom,
      });
    },
  };
}

/** Why a provider cannot answer an assignment (it may decline it instead of being slashed for a timeout). */
export type DeclineReason = "prompt-not-utf8" | "model-not-served" | "empty-answer" | "answer-oversize";

/**
 * THE place where a provider declines an assignment it cannot answer (`declineTask`): no penalty, the task goes to
 * another provider or is refunded (reason Declined), so the requester gains nothing by causing it. False when the
 * contract no longer lets it decline (the deadline passed, or the task moved on): the caller then fails the job.
 * The reason stays off-chain (logs and metrics): the contract needs none.
 */
export async function declineTask(market: Market, taskId: bigint, _reason: DeclineReason): Promise<boolean> {
  const sent = await sendTolerating(["InvalidStatus", "AnswerDeadlinePassed", "NotAssignedProvider"], () =>
    market.send(`decline:${taskId}`, "declineTask", [taskId], "ProviderDeclined"));
  return sent !== undefined;
}

/** The custom error name of a revert (e.g. "InvalidStatus"), or undefined when `error` is not a revert. */
export function revertName(error: unknown): string | undefined {
  if (!(error instanceof TransactionRevertedError)) return undefined;
  return /^([A-Za-z0-9_]+)\(/.exec(error.reason)?.[1] ?? error.reason;
}

/**
 * Runs a transaction that any participant may send (drawCommittee, finalize): losing the race to someone else
 * is normal, so the named reverts and a receipt without the hoped-for event both mean "someone else did it".
 */
export async function sendTolerating(race: readonly string[], send: () => Promise<SentTransaction>): Promise<SentTransaction | undefined> {
  try {
    return await send();
  } catch (error) {
    if (error instanceof ExpectedEventMissingError) return undefined;
    const name = revertName(error);
    if (name !== undefined && race.includes(name)) return undefined;
    throw error;
  }
}

/**
 * A watcher over the TaskMarket's events from the deployment block, with the context's cursor store, settings and
 * head follower; `onSynced(head)` runs after each sync (the keeper acts then, on a book holding that head's events).
 */
export function createMarketWatcher(ctx: DaemonContext, market: Market, role: string, onEvent: (event: WatcherEvent) => Promise<void>, onSynced?: (head: bigint) => void): LogWatcher {
  const c = ctx.config.chain;
  return createLogWatcher({
    name: `${role}-TaskMarket-${market.address}`,
    client: ctx.chain.client,
    address: market.address,
    abi: taskMarketAbi,
    cursorStore: ctx.cursors,
    onEvent,
    confirmations: c.confirmations,
    finalityDepth: c.finalityDepth,
    maxBlockRange: c.maxBlockRange,
    startBlock: BigInt(Math.max(c.startBlock, market.manifest.deployBlock)),
    pollIntervalMs: c.pollIntervalMs,
    quietPeriodMs: c.quietPeriodMs,
    heads: ctx.heads,
    onSynced,
    logger: ctx.logger,
    metrics: ctx.metrics,
  });
}

/** Attempts of a call that takes the round state before a stale state is an error (each re-reads the logs). */
const ROUND_STATE_ATTEMPTS = 4;

/**
 * Sends a call that takes the task's RoundState (fallback commit, reveal, finalize; a report): the state is read
 * from the round's logs, and re-read when the call reverts RoundStateMismatch (a commit report landed between the
 * read and the send, or the node's logs lag its state by a block).
 */
export async function sendWithRoundState<T>(market: Market, taskId: bigint, round: number, fromBlock: bigint, send: (state: ReturnType<typeof stateArg>, raw: RoundState) => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    const { state } = await market.round(taskId, round, fromBlock);
    try {
      return await send(stateArg(state), state);
    } catch (error) {
      if (revertName(error) !== "RoundStateMismatch" || attempt >= ROUND_STATE_ATTEMPTS) throw error;
    }
  }
}

/** Keeps the token balance and claimable credits of the daemon's account in /metrics. */
export function startBalanceGauges(ctx: DaemonContext, market: Market, intervalMs = 15_000): () => void {
  const refresh = async () => {
    try {
      const [balance, claimable] = await Promise.all([market.tokenBalance(ctx.account.address), market.claimable(ctx.account.address)]);
      ctx.metrics.balanceWei.set({ address: ctx.account.address, token: market.manifest.token.symbol }, Number(balance));
      ctx.metrics.balanceWei.set({ address: ctx.account.address, token: `${market.manifest.token.symbol}-claimable` }, Number(claimable));
    } catch (error) {
      ctx.logger.debug({ err: error }, "token balance refresh failed");
    }
  };
  void refresh();
  const timer = setInterval(() => void refresh(), intervalMs);
  timer.unref();
  return () => clearInterval(timer);
}
