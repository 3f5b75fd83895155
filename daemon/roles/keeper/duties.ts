import { encodePacked, keccak256, type Address } from "viem";
import { TaskStatus } from "../../../sdk/contracts.ts";
import type { TaskView } from "../market.ts";

/** The anyone-may-call transactions that move a task towards its end when the parties themselves do not. */
export type KeeperAction = "reassign" | "draw" | "finalize";

/** What a task needs next from a keeper, and from which block on the contract accepts it. */
export interface Duty {
  action: KeeperAction;
  /** The round (draw, finalize) or the reassignment count (reassign): a new duty for each. */
  round: number;
  dueBlock: bigint;
}

/** What pendingCommittee tells of an Answered task's round, read once its seed block exists: whether the draw
 * would select a committee now, and the commitEnd that draw sets. */
export interface PendingDraw {
  round: number;
  seedBlock: bigint;
  hasCommittee: boolean;
  commitEnd: bigint;
}

/**
 * The keeper duty of a task, if any: an Assigned task past its answer deadline is reassigned (or refunded by the
 * contract after maxReassignments); an Answered task is drawn by its round's first commit, so a keeper draws only
 * as the fallback (`pending`, undefined until read: no duty yet): at once when the draw has no committee to select
 * (it reseeds or settles the task unjudged), else once the commit window that draw sets has passed with nobody
 * committing (the draw then lets finalize slash the silent committee and roll or refund); a Committee round is
 * finalized once the reveal phase ended, or as soon as every committed seat is open, alone or by a partial reveal
 * report (`allRevealedSince`: the first head at which the keeper saw that). A finalize that misses quorum rolls the
 * task, which makes it Answered again.
 */
export function dutyOf(task: TaskView, allRevealedSince?: bigint, pending?: PendingDraw): Duty | undefined {
  if (task.status === TaskStatus.Assigned) return { action: "reassign", round: task.reassignments, dueBlock: task.answerDeadline + 1n };
  if (task.status === TaskStatus.Answered) {
    if (pending === undefined || pending.round !== task.round || pending.seedBlock !== task.seedBlock) return undefined;
    return { action: "draw", round: task.round, dueBlock: pending.hasCommittee ? pending.commitEnd + 1n : task.seedBlock + 1n };
  }
  if (task.status !== TaskStatus.Committee) return undefined;
  const afterReveals = task.revealEnd + 1n;
  if (!everyCommittedSeatOpen(task) || allRevealedSince === undefined) return { action: "finalize", round: task.round, dueBlock: afterReveals };
  // Early (TaskMarket.finalize): once reveals started (all k committed, or commitEnd passed) and every committed
  // seat is open. A complete reveal report settles by itself; this is a round whose seats opened alone or by partial
  // reveal reports.
  const revealsStart = task.committedCount >= task.committeeSize ? 0n : task.commitEnd + 1n;
  const early = allRevealedSince > revealsStart ? allRevealedSince : revealsStart;
  return { action: "finalize", round: task.round, dueBlock: early < afterReveals ? early : afterReveals };
}

/** Every committed seat of the round is open before settlement (revealedCount counts seats revealed alone or opened by
 * a partial reveal report; a complete report settles by itself). */
export const everyCommittedSeatOpen = (task: TaskView): boolean => task.committedCount > 0 && task.revealedCount >= task.committedCount;

/**
 * This daemon's place in the queue of keepers for `duty`: rank r acts r x fallbackBlocks blocks after the duty
 * falls due, so usually the rank-0 keeper sends and the others find it done. The party with a stake in the duty is
 * the primary: the provider draws (its pay waits on the committee), committee members finalize in seat order
 * (their pay waits on the settlement). Everyone else takes a fallback rank from a hash of (account, task, duty),
 * spread over `fallbackRanks`, after the interested parties; reassign has no interested daemon (the requester is
 * one, through the SDK), so every keeper takes a hashed rank from 0.
 */
export function keeperRank(duty: Duty, taskId: bigint, task: TaskView, me: Address, members: readonly string[] | undefined, fallbackRanks: number): number {
  const hashed = Number(BigInt(keccak256(encodePacked(["address", "uint256", "string", "uint256"], [me, taskId, duty.action, BigInt(duty.round)]))) % BigInt(fallbackRanks));
  const mine = me.toLowerCase();
  if (duty.action === "draw") return task.provider.toLowerCase() === mine ? 0 : 1 + hashed;
  if (duty.action === "finalize") {
    const seat = members?.indexOf(mine) ?? -1;
    return seat >= 0 ? seat : task.committeeSize + hashed;
  }
  return hashed;
}
