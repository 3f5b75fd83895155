import { encodeAbiParameters, getAbiItem, keccak256, type Address, type Hex, type PublicClient } from "viem";
import { taskMarketAbi } from "./abi.ts";
import { TaskStatus } from "./contracts.ts";

/**
 * ITaskMarket.RoundState: what every round call takes in calldata. The market stores only its hash (`roundOf`);
 * members come from the round's CommitteeDrawn, the reports' part from its CommitReported events, merged in seat
 * order (docs/design/ROUNDS.md).
 */
export interface RoundState {
  members: readonly Address[];
  /** Seats the commit reports committed (bit i: members[i]); 0 before the first report. */
  reportMask: number;
  /** Their commitments, in seat order. */
  reportCommitments: readonly Hex[];
}

/** A committee round as its events tell it (or, before its draw, as pendingCommittee announces it): the state, and
 * the blocks that bound its phases. */
export interface Round {
  taskId: bigint;
  round: number;
  state: RoundState;
  commitEnd: bigint;
  revealEnd: bigint;
  /** Block of the CommitteeDrawn log (the round's other events are at or after it); before the draw, the first
   * block it can land in (seedBlock + 1). */
  drawBlock: bigint;
  /** False while the round is not drawn yet: its first commit (a commit report or a lone commit) draws it. */
  drawn: boolean;
}

/** Thrown when the chain holds no CommitteeDrawn for the task's round (not drawn yet, or `fromBlock` too late). */
export class RoundNotDrawnError extends Error {
  override name = "RoundNotDrawnError";
  constructor(readonly taskId: bigint, readonly round: number) {
    super(`task ${taskId} round ${round}: no CommitteeDrawn log`);
  }
}

/** The state right after the draw: no report yet. */
export function drawnState(members: readonly Address[]): RoundState {
  return { members, reportMask: 0, reportCommitments: [] };
}

/** Bit `seat` of a mask. */
export const hasSeat = (mask: number, seat: number): boolean => ((mask >>> seat) & 1) === 1;

/** The seats of a mask, ascending. */
export function seatsOf(mask: number): number[] {
  const seats: number[] = [];
  for (let i = 0; i < 32; i++) if (hasSeat(mask, i)) seats.push(i);
  return seats;
}

/** The mask of a set of seats. */
export function maskOf(seats: Iterable<number>): number {
  let mask = 0;
  for (const seat of seats) mask |= 1 << seat;
  return mask >>> 0;
}

/** The round hash the market stores for `state` (TaskMarket._checkState). */
export function roundHash(state: RoundState): Hex {
  const membersHash = keccak256(encodeAbiParameters([{ type: "address[]" }], [state.members]));
  const commitmentsHash = keccak256(encodeAbiParameters([{ type: "bytes32[]" }], [state.reportCommitments]));
  return keccak256(
    encodeAbiParameters([{ type: "bytes32" }, { type: "uint256" }, { type: "bytes32" }], [membersHash, BigInt(state.reportMask), commitmentsHash]),
  );
}

/** The state after a commit report of `mask` (disjoint from the state's) with `commitments` in seat order. */
export function mergeReport(state: RoundState, mask: number, commitments: readonly Hex[]): RoundState {
  if ((state.reportMask & mask) !== 0) throw new RangeError(`report mask ${mask} overlaps the state's ${state.reportMask}`);
  const seats = seatsOf(mask);
  if (seats.length !== commitments.length) throw new RangeError(`report mask ${mask} has ${seats.length} seats, ${commitments.length} commitments`);
  const bySeat = new Map<number, Hex>();
  seatsOf(state.reportMask).forEach((seat, i) => bySeat.set(seat, state.reportCommitments[i]!));
  seats.forEach((seat, i) => bySeat.set(seat, commitments[i]!));
  const merged = [...bySeat.keys()].sort((a, b) => a - b);
  return { members: state.members, reportMask: (state.reportMask | mask) >>> 0, reportCommitments: merged.map((seat) => bySeat.get(seat)!) };
}

/** The commitment a commit report gave `seat`, if one did. */
export function reportCommitment(state: RoundState, seat: number): Hex | undefined {
  if (!hasSeat(state.reportMask, seat)) return undefined;
  return state.reportCommitments[seatsOf(state.reportMask).indexOf(seat)];
}

/** The seat of `account` in the round (case-blind), or -1. */
export const seatOf = (state: RoundState, account: Address): number =>
  state.members.findIndex((m) => m.toLowerCase() === account.toLowerCase());

const committeeDrawn = getAbiItem({ abi: taskMarketAbi, name: "CommitteeDrawn" });
const commitReported = getAbiItem({ abi: taskMarketAbi, name: "CommitReported" });

const chainOrder = (a: { blockNumber: bigint; logIndex: number }, b: { blockNumber: bigint; logIndex: number }) =>
  a.blockNumber === b.blockNumber ? a.logIndex - b.logIndex : a.blockNumber < b.blockNumber ? -1 : 1;

/**
 * Rebuilds a task round's RoundState from the chain: the members of its CommitteeDrawn, then its CommitReported
 * events merged in chain order. `fromBlock`: any block at or before the draw (the task's `drawBlock`, or its
 * `createdBlock` when unsure). Logs are read up to `toBlock` (default: latest).
 */
export async function readRound(client: PublicClient, market: Address, taskId: bigint, round: number, fromBlock: bigint, toBlock?: bigint): Promise<Round> {
  const range = { fromBlock, ...(toBlock === undefined ? {} : { toBlock }) };
  const [draws, reports] = await Promise.all([
    client.getLogs({ address: market, event: committeeDrawn, args: { taskId }, strict: true, ...range }),
    client.getLogs({ address: market, event: commitReported, args: { taskId }, strict: true, ...range }),
  ]);
  const draw = draws.filter((l) => l.args.round === BigInt(round)).sort(chainOrder).at(-1);
  if (draw === undefined) throw new RoundNotDrawnError(taskId, round);
  let state = drawnState(draw.args.members);
  for (const report of reports.filter((l) => l.args.round === BigInt(round) && chainOrder(l, draw) > 0).sort(chainOrder)) {
    state = mergeReport(state, report.args.mask, report.args.commitments);
  }
  return { taskId, round, state, commitEnd: draw.args.commitEnd, revealEnd: draw.args.revealEnd, drawBlock: draw.blockNumber, drawn: true };
}

/**
 * The round before its draw: while the task is at `round` and its seed block exists, the committee the draw
 * selects (TaskViews.pendingCommittee, deterministic from the seed block's hash and the pool of the block before
 * it) with no report part, and the windows the draw sets. Read against the pending block (what a commit sent now
 * meets: the round's first commit draws the committee), where a drawing transaction not yet mined may already
 * show the round drawn (`drawn`; its members are the same, and a report part it adds makes the state stale: the
 * round calls' RoundStateMismatch, rebuilt once its logs are mined). Undefined when the round is over, or has no
 * committee to draw yet (the seed block is not mined, its hash is gone, too few validators: only a drawCommittee
 * can go on, reseeding or settling).
 */
export async function readPendingRound(client: PublicClient, market: Address, taskId: bigint, round: number): Promise<Round | undefined> {
  const readAt = (blockTag: "pending" | "latest") => {
    const read = <T>(functionName: "task" | "pendingCommittee") =>
      client.readContract({ address: market, abi: taskMarketAbi, functionName, args: [taskId], blockTag }) as Promise<T>;
    return Promise.all([
      read<{ status: number; round: number; seedBlock: bigint }>("task"),
      read<readonly [readonly Address[], bigint, bigint]>("pendingCommittee"),
    ]);
  };
  const [task, [members, commitEnd, revealEnd]] = await atPendingBlock(readAt);
  if (task.round !== round || members.length === 0) return undefined;
  return { taskId, round, state: drawnState(members), commitEnd, revealEnd, drawBlock: task.seedBlock + 1n, drawn: task.status === TaskStatus.Committee };
}

/**
 * `read` at the pending block, where pendingCommittee already sees the seed block's hash while that block is the
 * head; at the latest block when the endpoint refuses calls at the pending one (some hosted RPCs do): the same
 * committee, known one block later.
 */
export function atPendingBlock<T>(read: (blockTag: "pending" | "latest") => Promise<T>): Promise<T> {
  return read("pending").catch(() => read("latest"));
}

/**
 * The round as it stands: readRound's once drawn, else readPendingRound's (so that members sign and commit before
 * any draw transaction). Throws RoundNotDrawnError when it is neither (no committee to draw yet).
 */
export async function readCurrentRound(client: PublicClient, market: Address, taskId: bigint, round: number, fromBlock: bigint): Promise<Round> {
  try {
    return await readRound(client, market, taskId, round, fromBlock);
  } catch (error) {
    if (!(error instanceof RoundNotDrawnError)) throw error;
  }
  const pending = await readPendingRound(client, market, taskId, round);
  if (pending !== undefined) return pending;
  // Drawn between the two reads: its CommitteeDrawn is on chain now.
  return readRound(client, market, taskId, round, fromBlock);
}

/** The state as the contract's ABI encodes it (viem takes the struct as an object). */
export const stateArg = (state: RoundState) => ({
  members: [...state.members],
  reportMask: state.reportMask,
  reportCommitments: [...state.reportCommitments],
});

/** One seat's opening as the chain logged it. */
export interface SeatScore {
  account: Address;
  revealed: boolean;
  /** Undefined while the seat is not open. */
  score: number | undefined;
}

const revealReported = getAbiItem({ abi: taskMarketAbi, name: "RevealReported" });
const scoreRevealed = getAbiItem({ abi: taskMarketAbi, name: "ScoreRevealed" });

/** The scores of a round's open seats, by seat: from its RevealReported (the settling report, and any partial ones
 * before it) and its ScoreRevealed (seats that revealed alone). A seat in several counts once, with the same score
 * (its commitment binds it). Logs are the record: a settling report stores nothing per seat. */
export async function readOpenings(client: PublicClient, market: Address, taskId: bigint, round: number, state: RoundState, fromBlock: bigint): Promise<Map<number, number>> {
  const [reports, alone] = await Promise.all([
    client.getLogs({ address: market, event: revealReported, args: { taskId }, fromBlock, strict: true }),
    client.getLogs({ address: market, event: scoreRevealed, args: { taskId }, fromBlock, strict: true }),
  ]);
  const scores = new Map<number, number>();
  for (const report of reports.filter((l) => l.args.round === BigInt(round))) {
    seatsOf(report.args.mask).forEach((seat, i) => scores.set(seat, report.args.scores[i]!));
  }
  for (const log of alone.filter((l) => l.args.round === BigInt(round))) {
    const seat = seatOf(state, log.args.validator);
    if (seat >= 0) scores.set(seat, Number(log.args.score));
  }
  return scores;
}

/** Every seat's opening in a round (readOpenings), member by member. */
export async function readRoundScores(client: PublicClient, market: Address, taskId: bigint, round: number, fromBlock: bigint): Promise<SeatScore[]> {
  const { state } = await readRound(client, market, taskId, round, fromBlock);
  const scores = await readOpenings(client, market, taskId, round, state, fromBlock);
  return state.members.map((account, seat) => ({ account, revealed: scores.has(seat), score: scores.get(seat) }));
}
