import { getAbiItem, type Hex } from "viem";
import type { Job } from "bullmq";
import { BadInputError } from "../../queue/errors.ts";
import type { StepJobData } from "../../queue/names.ts";
import { postpone } from "../../queue/postpone.ts";
import { TaskStatus } from "../../../sdk/contracts.ts";
import { revertName, sendWithRoundState, taskMarketAbi } from "../market.ts";
import { hasSeat, seatOf } from "../../../sdk/rounds.ts";
import { answerHash, recheckMs, signScore, warnIfDeadlineAtRisk, type TaskJob, type ValidatorDeps } from "./deps.ts";
import { WindowMissedError } from "./errors.ts";
import { submitThroughRelayer } from "./relay-submit.ts";

const scoreRevealed = getAbiItem({ abi: taskMarketAbi, name: "ScoreRevealed" });
const revealReported = getAbiItem({ abi: taskMarketAbi, name: "RevealReported" });

/** The hash of the transaction that opened our seat (our ScoreRevealed, or a RevealReported with our seat), for
 * an opening that reached the chain before a crash or through the aggregator. */
async function findOurReveal(deps: ValidatorDeps, taskId: string, round: number, fromBlock: bigint): Promise<Hex | undefined> {
  const client = deps.ctx.chain.client;
  const [alone, reports] = await Promise.all([
    client.getLogs({ address: deps.market.address, event: scoreRevealed, args: { taskId: BigInt(taskId), validator: deps.me }, fromBlock, strict: true }),
    client.getLogs({ address: deps.market.address, event: revealReported, args: { taskId: BigInt(taskId) }, fromBlock, strict: true }),
  ]);
  const mine = alone.find((l) => l.args.round === BigInt(round))?.transactionHash;
  if (mine !== undefined) return mine;
  const ofRound = reports.filter((l) => l.args.round === BigInt(round));
  if (ofRound.length === 0) return undefined;
  const { state } = await deps.market.round(BigInt(taskId), round, fromBlock);
  const seat = seatOf(state, deps.me);
  return ofRound.find((l) => seat >= 0 && hasSeat(l.args.mask, seat))?.transactionHash;
}

/**
 * Reveals from the salt store as soon as the contract accepts it: once every member of the round committed, or in
 * the block after commitEnd (parked until then without spending attempts), then publishes the signed attestation. Works the same after any crash: everything it needs is in
 * the salt store and on chain, so the startup sweep can enqueue it from `salts.pendingReveals()` alone.
 */
export async function revealStep(deps: ValidatorDeps, job: Job<StepJobData>, token?: string): Promise<{ txHash?: Hex }> {
  const { ctx, market } = deps;
  const { taskId, round } = job.data as TaskJob;
  const log = deps.log.child({ taskId, round });
  const saved = ctx.salts.get(taskId, round);
  if (saved === undefined) throw new BadInputError(`task ${taskId} round ${round}: no saved salt, cannot reveal`, { taskId });
  const task = await market.task(BigInt(taskId));
  let txHash = saved.revealedTxHash;
  if (txHash === undefined) {
    if (task.status !== TaskStatus.Committee || task.round !== round) {
      txHash = await findOurReveal(deps, taskId, round, task.createdBlock); // the round may be an earlier one
      if (txHash === undefined) throw new WindowMissedError(`task ${taskId} round ${round} settled (status ${task.status}) before our reveal`, { taskId });
    } else {
      const block = await ctx.chain.client.getBlockNumber({ cacheTime: 0 });
      // Early: parked until every member committed (the round's last ScoreCommitted) or the block after commitEnd,
      // whichever comes first (phase-wake.ts), then sent at once.
      const missingCommits = task.committeeSize - task.committedCount;
      if (block <= task.commitEnd && missingCommits > 0) {
        return deps.revealWake?.waitFor(job, token, task.commitEnd + 1n, missingCommits) ?? postpone(job, token, recheckMs(deps));
      }
      if (block > task.revealEnd) throw new WindowMissedError(`task ${taskId}: reveal phase closed at block ${task.revealEnd}`, { taskId });
      warnIfDeadlineAtRisk(deps, "reveal", taskId, block, task.revealEnd);
      const { state } = await market.round(BigInt(taskId), round, task.drawBlock);
      const index = seatOf(state, deps.me);
      if (index < 0) throw new BadInputError(`task ${taskId} round ${round}: this account is not in the committee`, { taskId });
      // Our opening is on chain once a reveal report carried it (that settles the round) or we revealed alone.
      const opened = async () => (await findOurReveal(deps, taskId, round, task.drawBlock)) !== undefined;
      const relayed = deps.viaRelayer === true && (await submitThroughRelayer(deps,
        { kind: "reveal", taskId: BigInt(taskId), round: BigInt(round), index: BigInt(index), score: BigInt(saved.score), salt: saved.salt }, task.revealEnd, opened));
      if (relayed) {
        txHash = await findOurReveal(deps, taskId, round, task.drawBlock);
        ctx.metrics.tasksRevealed.inc({ role: "validator" });
        log.info({ txHash, score: saved.score, relayed }, "score revealed");
      } else {
        // Alone (fallback), before revealEnd: after it no report can open our seat (RevealPhaseClosed), so this is
        // what keeps an aggregator that withholds the reveal report from having us slashed.
        try {
          const sent = await sendWithRoundState(market, BigInt(taskId), round, task.drawBlock, (st) =>
            market.send(`reveal:${taskId}:${round}`, "reveal", [BigInt(taskId), st, BigInt(index), BigInt(saved.score), saved.salt], "ScoreRevealed",
              (args) => args.taskId === BigInt(taskId) && String(args.validator).toLowerCase() === deps.me.toLowerCase()));
          txHash = sent.hash;
        } catch (error) {
          const name = revertName(error);
          if (name === "RevealTooEarly") return postpone(job, token, recheckMs(deps));
          // AlreadyRevealed, or InvalidStatus: a report carrying our opening settled the round meanwhile.
          txHash = await findOurReveal(deps, taskId, round, task.drawBlock);
          if (txHash === undefined) throw error;
        }
        ctx.metrics.tasksRevealed.inc({ role: "validator" });
        log.info({ txHash, score: saved.score }, "score revealed");
      }
    }
    ctx.salts.markRevealed(taskId, round, txHash ?? "0x");
  }
  const outputHash = await answerHash(deps, taskId, task);
  const signature = (job.data as TaskJob).signature ?? (await signScore(deps, taskId, outputHash, task.evaluatorId, saved.score));
  if (deps.attestations.publish({ taskId: BigInt(taskId), outputHash, evaluatorId: task.evaluatorId, score: saved.score, validator: deps.me, signature })) {
    log.info({ score: saved.score }, "attestation published");
  }
  return { txHash };
}
