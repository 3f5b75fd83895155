import type { PublicClient } from "viem";
import { getTaskMarket } from "../../../../sdk/contracts.ts";
import { hasSeat, readRound, readRoundScores } from "../../../../sdk/rounds.ts";
import type { TestNetwork } from "./network.ts";

/** One seat of a round as the chain tells it (the market keeps no per-seat storage: logs and the committed mask). */
export interface Seat {
  account: `0x${string}`;
  committed: boolean;
  revealed: boolean;
  score: number | undefined;
}

/** The seats of a task's round: members from CommitteeDrawn, openings from RevealReported and ScoreRevealed,
 * committed from the task's mask (only for its current round; an earlier round reads the logs' commits). */
export async function roundSeats(net: TestNetwork, taskId: bigint, round = 0): Promise<Seat[]> {
  const client = net.chain.publicClient as PublicClient;
  const market = net.protocol.manifest.contracts.taskMarket;
  const task = await getTaskMarket(market, { public: client }).read.task([taskId]);
  const scores = await readRoundScores(client, market, taskId, round, task.createdBlock);
  let committedMask = task.committedMask;
  if (task.round !== round) {
    const { state } = await readRound(client, market, taskId, round, task.createdBlock);
    committedMask = state.reportMask; // a past round: the reports' seats (seats committed alone are in ScoreCommitted)
  }
  return scores.map((s, i) => ({ account: s.account, committed: hasSeat(committedMask, i), revealed: s.revealed, score: s.score }));
}
