import type { DaemonContext } from "../../runtime/context.ts";
import type { WatcherEvent } from "../../chain/watcher.ts";
import type { Logger } from "../../observe/logger.ts";
import { KeeperStore } from "../../store/keeper-store.ts";
import { TaskStatus } from "../../../sdk/contracts.ts";
import { sendTolerating, sendWithRoundState, type Market, type MarketFunction, type TaskView } from "../market.ts";
import { everyCommittedSeatOpen, dutyOf, keeperRank, type Duty, type KeeperAction, type PendingDraw } from "./duties.ts";
import { drainWithin } from "../workers.ts";

export interface Keeper {
  /** Feed every TaskMarket watcher event here: tasks are learnt and re-read from them. */
  observe(event: WatcherEvent): void;
  /** Loads the tasks still open (from the saved lowest open id up to taskCount). */
  start(): Promise<void>;
  /**
   * A pass at chain head `head`: re-read the tasks events named, then send the duties due. Call it once the
   * watcher has handed over every event up to this head (LogWatcher's onSynced), so the book is never a block
   * behind the head it acts at.
   */
  onHead(head: bigint): void;
  /** Stops acting and waits for the duties in flight. */
  stop(): Promise<void>;
}

interface OpenTask {
  view?: TaskView;
  /** Re-read before the next decision: an event about the task arrived, or an action on it ended. */
  dirty: boolean;
  /** Committee of `round`, lower-cased (seat order decides who finalizes first). */
  members?: { round: number; accounts: string[] };
  /** Block of the newest opening (ScoreRevealed, RevealReported) seen for the round: the same for every keeper. */
  lastRevealBlock?: bigint;
  allRevealedSince?: bigint;
  /** While Answered: the pending draw of the round, read once its seed block is in the head. */
  pending?: PendingDraw;
}

/** How each duty is sent, which reverts mean "somebody did it first", and which events prove it done. */
/**
 * Gas a finalize may need beyond its estimate, per payee. It was added for a payee that claimed between the estimate
 * and the finalize, turning its credit slot's write into zero->non-zero (about 17k more; seen as finalizes reverting
 * out of gas under load). claim() now keeps 1 wei of each credit, so a claim no longer does that; the margin stays
 * as cheap insurance (gas not used is not paid) for any slot written from zero that the estimate did not see.
 */
const FRESH_CREDIT_SLOT_GAS = 22_100n;

/** Gas a finalize of a k-member committee may need beyond its estimate: the margin for each payee it credits
 * (the k members, the provider, the requester and the treasury). Also the relayer's, for the finalize it folds in. */
export const finalizeGasHeadroom = (committeeSize: number): bigint => BigInt(committeeSize + 3) * FRESH_CREDIT_SLOT_GAS;

const CALLS: Record<KeeperAction, { fn: MarketFunction; events: readonly string[]; race: readonly string[] }> = {
  reassign: { fn: "reassign", events: ["ProviderTimedOut"], race: ["InvalidStatus", "AnswerDeadlineNotPassed"] },
  draw: { fn: "drawCommittee", events: ["CommitteeDrawn", "CommitteeReseeded", "TaskRefunded"], race: ["InvalidStatus", "SeedNotReady"] },
  finalize: { fn: "finalize", events: ["TaskFinalized", "TaskRolled", "TaskRefunded"], race: ["InvalidStatus", "FinalizeTooEarly"] },
};

const READ_BATCH = 32;
const TERMINAL: readonly number[] = [TaskStatus.None, TaskStatus.Finalized, TaskStatus.Refunded];

/**
 * Keeper duties, shared by every running daemon so that every task reaches an end with no human: reassign (or
 * refund) overdue assignments, draw committees, finalize every drawn round whether or not anyone committed (a
 * finalize below quorum rolls the task or refunds it). Driven by the block that makes a duty due, from a book of
 * open tasks that watcher events keep fresh (a task is re-read only when an event names it). Duplicates across
 * daemons are avoided by ranks (duties.ts: the interested party first, staggered fallbacks after it) and by
 * re-reading the task and simulating the call (the sender's gas estimate) right before sending; a lost race is
 * normal and counted as done-by-other. Gas of every keeper transaction is in poq_gas_used_total.
 */
export function createKeeper(ctx: DaemonContext, market: Market, logger: Logger): Keeper {
  const log = logger.child({ component: "keeper" });
  const settings = ctx.config.keeper;
  const store = new KeeperStore(ctx.config.stateDir, market.address);
  const me = ctx.account.address;
  const open = new Map<bigint, OpenTask>();
  const inFlight = new Map<string, Promise<void>>();
  let highestSeen = 0n;
  let savedLowest: bigint | undefined;
  let running = false;
  let pendingHead: bigint | undefined;
  let stopped = false;

  const learn = (taskId: bigint) => {
    if (taskId > highestSeen) highestSeen = taskId;
    let entry = open.get(taskId);
    if (entry === undefined) open.set(taskId, (entry = { dirty: true }));
    entry.dirty = true;
    return entry;
  };

  const refresh = async (head: bigint) => {
    const stale = [...open.entries()].filter(([, t]) => t.dirty);
    for (let i = 0; i < stale.length; i += READ_BATCH) {
      await Promise.all(stale.slice(i, i + READ_BATCH).map(async ([taskId, entry]) => {
        entry.dirty = false;
        const view = await market.task(taskId).catch((error: unknown) => {
          entry.dirty = true;
          log.debug({ taskId: String(taskId), err: error }, "task read failed; retrying at the next block");
          return undefined;
        });
        if (view === undefined) return;
        if (TERMINAL.includes(view.status)) {
          open.delete(taskId);
          return;
        }
        entry.view = view;
        if (view.status === TaskStatus.Answered && (entry.pending?.round !== view.round || entry.pending.seedBlock !== view.seedBlock)) {
          // Not known before the seed block is in the head: read again at the next one.
          if (head < view.seedBlock) {
            entry.dirty = true;
            return;
          }
          const pending = await market.pendingDraw(taskId).catch((error: unknown) => {
            entry.dirty = true;
            log.debug({ taskId: String(taskId), err: error }, "pending committee read failed; retrying at the next block");
            return undefined;
          });
          if (pending === undefined) return;
          entry.pending = { round: view.round, seedBlock: view.seedBlock, ...pending };
        }
        if (view.status === TaskStatus.Committee && entry.members?.round !== view.round) {
          // From the round's CommitteeDrawn log (a node whose logs lag its state by a block: read at the next one).
          const round = await market.round(taskId, view.round, view.drawBlock).catch((error: unknown) => {
            entry.dirty = true;
            log.debug({ taskId: String(taskId), err: error }, "committee read failed; retrying at the next block");
            return undefined;
          });
          if (round === undefined) return;
          entry.members = { round: view.round, accounts: round.state.members.map((m) => m.toLowerCase()) };
          entry.allRevealedSince = undefined;
        }
        if (view.status === TaskStatus.Committee && everyCommittedSeatOpen(view)) entry.allRevealedSince ??= entry.lastRevealBlock !== undefined ? entry.lastRevealBlock + 1n : head;
      }));
    }
    saveLowestOpen(false);
  };

  // A saved lowest open id that lags costs a restart one more batch of reads, not a missed task: written when it
  // moved a batch forward (or back, after a reorg) and at stop, not after every settled task (two fsyncs each).
  const saveLowestOpen = (always: boolean) => {
    const lowest = open.size === 0 ? highestSeen + 1n : [...open.keys()].reduce((a, b) => (a < b ? a : b));
    if (lowest === savedLowest) return;
    if (always || savedLowest === undefined || lowest < savedLowest || lowest - savedLowest >= BigInt(READ_BATCH)) {
      store.saveLowestOpen(lowest);
      savedLowest = lowest;
    }
  };

  const perform = async (taskId: bigint, duty: Duty): Promise<void> => {
    const id = String(taskId);
    const call = CALLS[duty.action];
    // The task as it is now: another keeper may have acted since the book was refreshed.
    const current = await market.task(taskId);
    const now = dutyOf(current, duty.action === "finalize" ? duty.dueBlock : undefined, open.get(taskId)?.pending);
    if (now === undefined || now.action !== duty.action || now.round !== duty.round) {
      ctx.metrics.keeperActions.inc({ action: duty.action, outcome: "done-by-other" });
      return;
    }
    let sent;
    try {
      const label = `${duty.action}:${id}:${duty.round}`;
      const where = (args: Record<string, unknown>) => args.taskId === taskId;
      sent = await sendTolerating(call.race, () => duty.action === "finalize"
        // finalize(taskId, state): the round's state from its logs (re-read if a report lands meanwhile).
        ? sendWithRoundState(market, taskId, current.round, current.drawBlock, (state) =>
            market.send(label, call.fn, [taskId, state], call.events, where, { gasHeadroom: finalizeGasHeadroom(current.committeeSize) }))
        : market.send(label, call.fn, [taskId], call.events, where));
    } catch (error) {
      // Two keepers of the same rank both passed simulation in the same block: the second one reverts on chain.
      const after = dutyOf(await market.task(taskId), undefined, open.get(taskId)?.pending);
      if (after !== undefined && after.action === duty.action && after.round === duty.round) throw error;
      sent = undefined;
    }
    ctx.metrics.keeperActions.inc({ action: duty.action, outcome: sent === undefined ? "done-by-other" : "sent" });
    log.info({ taskId: id, action: duty.action, round: duty.round, txHash: sent?.hash, gasUsed: sent === undefined ? undefined : Number(sent.receipt.gasUsed), outcome: sent?.event.eventName ?? "done by another keeper" }, "keeper duty");
  };

  const act = (head: bigint) => {
    for (const [taskId, entry] of open) {
      if (entry.view === undefined || entry.dirty) continue;
      const duty = dutyOf(entry.view, entry.allRevealedSince, entry.pending);
      if (duty === undefined) continue;
      const rank = keeperRank(duty, taskId, entry.view, me, entry.members?.round === duty.round ? entry.members.accounts : undefined, settings.fallbackRanks);
      // Sent at head h, a transaction lands in block h + 1 at the earliest: act one head before the duty is due.
      if (head + 1n < duty.dueBlock + BigInt(rank * settings.fallbackBlocks)) continue;
      const key = `${duty.action}:${taskId}:${duty.round}`;
      if (inFlight.has(key)) continue;
      const done = perform(taskId, duty)
        .catch((error: unknown) => {
          ctx.metrics.keeperActions.inc({ action: duty.action, outcome: "failed" });
          log.warn({ taskId: String(taskId), action: duty.action, err: error }, "keeper duty failed; retrying at the next block");
        })
        .finally(() => {
          inFlight.delete(key);
          entry.dirty = true;
        });
      inFlight.set(key, done);
    }
  };

  // One pass per head; a head arriving during a pass is handled right after it (older ones are skipped).
  const tick = async (head: bigint) => {
    if (running) {
      pendingHead = head;
      return;
    }
    running = true;
    try {
      for (let next: bigint | undefined = head; next !== undefined && !stopped; next = pendingHead, pendingHead = undefined) {
        await refresh(next);
        act(next);
      }
    } catch (error) {
      log.warn({ err: error }, "keeper pass failed; retrying at the next block");
    } finally {
      running = false;
    }
  };

  return {
    observe(event) {
      if (event.type === "reorg") {
        for (const entry of open.values()) entry.dirty = true;
        return;
      }
      if (event.type !== "log" || typeof event.log.args.taskId !== "bigint") return;
      const taskId = event.log.args.taskId;
      // Settled: dropped from the book as a re-read showing it settled would drop it, without the read.
      if (event.log.eventName === "TaskFinalized" || event.log.eventName === "TaskRefunded") {
        if (taskId > highestSeen) highestSeen = taskId;
        open.delete(taskId);
        return;
      }
      // A commit changes no duty (a round is finalized once all revealed or after revealEnd): no re-read for it.
      if (event.log.eventName === "ScoreCommitted" && open.get(taskId)?.view !== undefined) return;
      const entry = learn(taskId);
      if (event.log.eventName === "CommitteeDrawn") {
        entry.members = { round: Number(event.log.args.round), accounts: (event.log.args.members as string[]).map((m) => m.toLowerCase()) };
        entry.allRevealedSince = undefined;
        entry.lastRevealBlock = undefined;
      }
      // A seat opens alone (ScoreRevealed) or by a reveal report that did not settle (a partial one).
      const opens = event.log.eventName === "ScoreRevealed" || event.log.eventName === "RevealReported";
      if (opens && (entry.lastRevealBlock === undefined || event.log.blockNumber > entry.lastRevealBlock)) entry.lastRevealBlock = event.log.blockNumber;
    },
    async start() {
      const count = await market.taskCount();
      for (let id = store.lowestOpen(); id <= count; id++) learn(id);
      log.info({ from: String(store.lowestOpen()), to: String(count), fallbackBlocks: settings.fallbackBlocks }, "keeper started");
    },
    onHead(head) {
      if (!stopped) void tick(head);
    },
    async stop() {
      stopped = true;
      await drainWithin(ctx, Promise.all(inFlight.values()));
      if (highestSeen > 0n) saveLowestOpen(true);
    },
  };
}
