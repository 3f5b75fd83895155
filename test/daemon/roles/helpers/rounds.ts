import { getAbiItem, type Address, type Hex, type PublicClient } from "viem";
import { getTaskMarket, taskMarketAbi } from "../../../../sdk/contracts.ts";
import { readRound, readRoundScores, reportCommitment, RoundNotDrawnError, seatOf } from "../../../../sdk/rounds.ts";
import type { TestNetwork } from "./network.ts";

/** One seat of a round as the chain tells it (the market keeps no per-seat storage for the reports' seats). */
export interface Seat {
  account: Address;
  /** The seat's commitment (from a commit report or its own ScoreCommitted); undefined before it committed. */
  commitment: Hex | undefined;
  committed: boolean;
  revealed: boolean;
  score: number | undefined;
}

const scoreCommitted = getAbiItem({ abi: taskMarketAbi, name: "ScoreCommitted" });

/** The seats of a task's round, from its logs: CommitteeDrawn, CommitReported, ScoreCommitted, RevealReported,
 * ScoreRevealed (what a client reads instead of the old `committee()` view). Empty before the round is drawn. */
export async function roundSeats(net: TestNetwork, taskId: bigint, round = 0): Promise<Seat[]> {
  try {
    return await readSeats(net, taskId, round);
  } catch (error) {
    if (error instanceof RoundNotDrawnError) return [];
    throw error;
  }
}

async function readSeats(net: TestNetwork, taskId: bigint, round: number): Promise<Seat[]> {
  const client = net.chain.publicClient as PublicClient;
  const market = net.protocol.manifest.contracts.taskMarket;
  const task = await getTaskMarket(market, { public: client }).read.task([taskId]);
  const [{ state }, scores, alone] = await Promise.all([
    readRound(client, market, taskId, round, task.createdBlock),
    readRoundScores(client, market, taskId, round, task.createdBlock),
    client.getLogs({ address: market, event: scoreCommitted, args: { taskId }, fromBlock: task.createdBlock, strict: true }),
  ]);
  const commitments = state.members.map((_, seat) => reportCommitment(state, seat));
  for (const log of alone.filter((l) => l.args.round === BigInt(round))) {
    const seat = seatOf(state, log.args.validator);
    if (seat >= 0) commitments[seat] = log.args.commitment;
  }
  return scores.map((s, seat) => ({ account: s.account, commitment: commitments[seat], committed: commitments[seat] !== undefined, revealed: s.revealed, score: s.score }));
}
