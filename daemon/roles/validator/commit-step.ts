import type { Job } from "bullmq";
import { BadInputError } from "../../queue/errors.ts";
import type { StepJobData } from "../../queue/names.ts";
import { TaskStatus } from "../../../sdk/contracts.ts";
import { revertName } from "../market.ts";
import { enqueue, type TaskJob, type ValidatorDeps } from "./deps.ts";
import { WindowMissedError } from "./errors.ts";

/**
 * Commits the saved commitment (never a new one) within the commit phase, then schedules the reveal and the
 * finalize checks. If the chain already holds our commitment (a crash after the broadcast), it only schedules.
 */
export async function commitStep(deps: ValidatorDeps, job: Job<StepJobData>): Promise<{ txHash?: string }> {
  const { ctx, market } = deps;
  const { taskId, round, signature } = job.data as TaskJob;
  const log = deps.log.child({ taskId, round });
  const saved = ctx.salts.get(taskId, round);
  if (saved === undefined) throw new BadInputError(`task ${taskId} round ${round}: no saved salt to commit`, { taskId });
  const task = await market.task(BigInt(taskId));
  if (task.status !== TaskStatus.Committee || task.round !== round) {
    log.warn({ status: task.status }, "task left this committee round before the commit");
    return {};
  }
  // The index comes from the chain, not the job: after a reorg the committee may have been drawn again.
  const members = await market.committee(BigInt(taskId), round);
  const index = members.findIndex((m) => m.account.toLowerCase() === deps.me.toLowerCase());
  if (index < 0) throw new BadInputError(`task ${taskId} round ${round}: this account is not in the committee`, { taskId });
  let txHash: string | undefined;
  if (members[index]!.commitment.toLowerCase() !== saved.commitment.toLowerCase()) {
    const block = await ctx.chain.client.getBlockNumber({ cacheTime: 0 });
    if (block > task.commitEnd) throw new WindowMissedError(`task ${taskId}: commit phase closed at block ${task.commitEnd}`, { taskId });
    try {
      const sent = await market.send(`commit:${taskId}:${round}`, "commit", [BigInt(taskId), BigInt(index), saved.commitment], "ScoreCommitted",
        (args) => args.taskId === BigInt(taskId) && String(args.validator).toLowerCase() === deps.me.toLowerCase());
      txHash = sent.hash;
    } catch (error) {
      const name = revertName(error);
      if (name === "CommitPhaseClosed") throw new WindowMissedError(`task ${taskId}: commit phase closed`, { taskId });
      if (name !== "AlreadyCommitted") throw error;
    }
    ctx.metrics.tasksCommitted.inc({ role: "validator" });
    log.info({ txHash, commitEnd: String(task.commitEnd) }, "score committed");
  }
  if (deps.neverReveal) log.warn("neverReveal is set: NOT scheduling the reveal (this validator will be slashed)");
  else await enqueue(deps, { step: "reveal", data: { taskId, round, index, signature }, priority: 1 });
  await enqueue(deps, { step: "finalize", data: { taskId, round, index } });
  return { txHash };
}
