import type { Hex } from "viem";
import type { Job } from "bullmq";
import { BadInputError } from "../../queue/errors.ts";
import type { StepJobData } from "../../queue/names.ts";
import { newSalt, type SaltRecord } from "../../store/salt-store.ts";
import { TaskStatus } from "../../../sdk/contracts.ts";
import { computeCommitment } from "../../../sdk/commitment.ts";
import { revertName, sendWithRoundState, type TaskView } from "../market.ts";
import { hasSeat, seatOf } from "../../../sdk/rounds.ts";
import { answerHash, enqueue, signScore, warnIfDeadlineAtRisk, type TaskJob, type ValidatorDeps } from "./deps.ts";
import { WindowMissedError } from "./errors.ts";
import { inCommitteeRound } from "./score-step.ts";
import { submitThroughRelayer } from "./relay-submit.ts";

/**
 * Seals the score job's result: signs the attestation through the equivocation guard, then saves salt and
 * commitment durably (fsynced) BEFORE anything is broadcast. A saved salt always wins over a re-run's score, and
 * a score the guard already recorded for this answer wins over a new one (a crash between signing and saving).
 */
async function sealScore(deps: ValidatorDeps, job: TaskJob, task: TaskView): Promise<{ saved: SaltRecord; signature: Hex }> {
  const { ctx, market } = deps;
  const existing = ctx.salts.get(job.taskId, job.round);
  const recorded = ctx.equivocation.recorded(job.taskId);
  const outputHash = await answerHash(deps, job.taskId, task);
  const sameAnswer = recorded !== undefined && recorded.outputHash.toLowerCase() === outputHash.toLowerCase();
  const score = existing?.score ?? (sameAnswer ? recorded.score : job.score);
  if (score === undefined) throw new BadInputError(`task ${job.taskId} round ${job.round}: no score to commit and no saved salt`, { taskId: job.taskId });
  if (job.score !== undefined && job.score !== score) deps.log.error({ taskId: job.taskId, kept: score, now: job.score }, "evaluator is not deterministic: keeping the score already signed");
  const signature = await signScore(deps, job.taskId, outputHash, task.evaluatorId, score);
  if (existing !== undefined) return { saved: existing, signature };
  const salt: Hex = newSalt();
  const commitment = computeCommitment({ score, salt, validator: deps.me, taskId: BigInt(job.taskId), round: job.round, chainId: ctx.config.chain.chainId, market: market.address });
  // fsynced before the commit below can be broadcast
  return { saved: ctx.salts.save({ taskId: job.taskId, round: job.round, score, salt, commitment }), signature };
}

/**
 * Commits the saved commitment (never a new one) within the commit phase, through the aggregator's commit report
 * or alone, then schedules the reveal (the finalize is a keeper duty). If the chain already shows our seat
 * committed (a crash after the broadcast, or a report that carried it), it only schedules.
 */
export async function commitStep(deps: ValidatorDeps, job: Job<StepJobData>): Promise<{ txHash?: string }> {
  const { ctx, market } = deps;
  const { taskId, round } = job.data as TaskJob;
  const log = deps.log.child({ taskId, round });
  const task = await market.task(BigInt(taskId));
  if (!inCommitteeRound(task, round)) {
    log.warn({ status: task.status }, "task left this committee round before the commit");
    return {};
  }
  const { saved, signature } = await sealScore(deps, job.data as TaskJob, task);
  // The seat comes from the chain (the round's CommitteeDrawn, or pendingCommittee before the draw), not the job:
  // after a reorg or a reseed the committee may have been drawn again.
  const drawn = await market.round(BigInt(taskId), round, task.seedBlock);
  const index = seatOf(drawn.state, deps.me);
  if (index < 0) throw new BadInputError(`task ${taskId} round ${round}: this account is not in the committee`, { taskId });
  const committed = async () => hasSeat((await market.task(BigInt(taskId))).committedMask, index);
  let txHash: string | undefined;
  if (!hasSeat(task.committedMask, index)) {
    const block = await ctx.chain.client.getBlockNumber({ cacheTime: 0 });
    if (block > drawn.commitEnd) throw new WindowMissedError(`task ${taskId}: commit phase closed at block ${drawn.commitEnd}`, { taskId });
    warnIfDeadlineAtRisk(deps, "commit", taskId, block, drawn.commitEnd);
    const relayed = deps.viaRelayer === true && (await submitThroughRelayer(deps,
      { kind: "commit", taskId: BigInt(taskId), round: BigInt(round), index: BigInt(index), commitment: saved.commitment, seedBlock: task.seedBlock }, drawn.commitEnd, committed));
    // Alone (fallback): the seat's commitment in its own slot, with the round state read from the logs (or the
    // pending committee: a commit on an undrawn round draws it).
    if (!relayed) try {
      // The round's first commit draws it: gas for the draw beyond the estimate while the round is undrawn.
      const undrawn = (await market.task(BigInt(taskId))).status === TaskStatus.Answered;
      const gasHeadroom = undrawn ? await market.drawGasHeadroom(BigInt(taskId)) : undefined;
      const sent = await sendWithRoundState(market, BigInt(taskId), round, task.seedBlock, (state) =>
        market.send(`commit:${taskId}:${round}`, "commit", [BigInt(taskId), state, BigInt(index), saved.commitment], "ScoreCommitted",
          (args) => args.taskId === BigInt(taskId) && String(args.validator).toLowerCase() === deps.me.toLowerCase(), { gasHeadroom }));
      txHash = sent.hash;
    } catch (error) {
      const name = revertName(error);
      if (name === "CommitPhaseClosed") throw new WindowMissedError(`task ${taskId}: commit phase closed`, { taskId });
      if (name !== "AlreadyCommitted") throw error;
    }
    ctx.metrics.tasksCommitted.inc({ role: "validator" });
    log.info({ txHash, relayed, commitEnd: String(drawn.commitEnd) }, "score committed");
  }
  if (deps.neverReveal) log.warn("neverReveal is set: NOT scheduling the reveal (this validator will be slashed)");
  else await enqueue(deps, { step: "reveal", data: { taskId, round, index, signature }, priority: 1 });
  return { txHash };
}
