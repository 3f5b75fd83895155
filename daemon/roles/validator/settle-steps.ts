import type { Job } from "bullmq";
import type { StepJobData } from "../../queue/names.ts";
import { postpone } from "../../queue/postpone.ts";
import { sleep } from "../../chain/backoff.ts";
import { TaskStatus } from "../../../sdk/contracts.ts";
import { sendTolerating } from "../market.ts";
import { scheduleClaim } from "../claim.ts";
import { recheckMs, staggerMs, type TaskJob, type ValidatorDeps } from "./deps.ts";

/**
 * Draws the committee of `round` once its seed block exists. Anyone may call drawCommittee, so validators
 * stagger and tolerate losing the race (InvalidStatus: somebody drew first).
 */
export async function drawStep(deps: ValidatorDeps, job: Job<StepJobData>, token?: string): Promise<{ drawn: boolean }> {
  const { ctx, market } = deps;
  const { taskId, round } = job.data as TaskJob;
  const isOpen = async () => {
    const task = await market.task(BigInt(taskId));
    return task.status === TaskStatus.Answered && task.round === round ? task : undefined;
  };
  let task = await isOpen();
  if (task === undefined) return { drawn: false };
  if ((await ctx.chain.client.getBlockNumber({ cacheTime: 0 })) <= task.seedBlock) return postpone(job, token, recheckMs(deps));
  await sleep(staggerMs(deps, taskId));
  task = await isOpen();
  if (task === undefined) return { drawn: false };
  const sent = await sendTolerating(["InvalidStatus", "UnknownTask"], () =>
    market.send(`draw:${taskId}:${round}`, "drawCommittee", [BigInt(taskId)], "CommitteeDrawn", (args) => args.taskId === BigInt(taskId)));
  deps.log.info({ taskId, round, txHash: sent?.hash, drawn: sent !== undefined }, sent === undefined ? "committee drawn by someone else" : "committee drawn");
  return { drawn: sent !== undefined };
}

/**
 * Members finalize in committee order, drawStaggerMs / k apart, so that usually the first one settles the round
 * and the others find it settled instead of sending a transaction that would revert.
 */
async function finalizeDelayMs(deps: ValidatorDeps, taskId: string, round: number, committeeSize: number): Promise<number> {
  const span = deps.ctx.config.roles.validator?.drawStaggerMs ?? 0;
  const members = await deps.market.committee(BigInt(taskId), round);
  const index = members.findIndex((m) => m.account.toLowerCase() === deps.me.toLowerCase());
  if (index < 0) return staggerMs(deps, taskId); // not a member (should not happen): spread at random
  return Math.floor((index * span) / Math.max(1, committeeSize));
}

/**
 * Settles the round once everyone revealed or the reveal phase ended (anyone may call finalize; losing the race
 * is fine), then schedules a claim. A roll (quorum missed) is also an end of this round: the watcher sees
 * TaskRolled and the next round starts with a new draw.
 */
export async function finalizeStep(deps: ValidatorDeps, job: Job<StepJobData>, token?: string): Promise<{ status: number }> {
  const { ctx, market } = deps;
  const { taskId, round } = job.data as TaskJob;
  let task = await market.task(BigInt(taskId));
  const settled = () => task.status !== TaskStatus.Committee || task.round !== round;
  if (!settled()) {
    const allRevealed = task.revealedCount >= task.committeeSize;
    if (!allRevealed && (await ctx.chain.client.getBlockNumber({ cacheTime: 0 })) <= task.revealEnd) return postpone(job, token, recheckMs(deps));
    await sleep(await finalizeDelayMs(deps, taskId, round, task.committeeSize));
    task = await market.task(BigInt(taskId));
    if (!settled()) {
      const sent = await sendTolerating(["InvalidStatus"], () =>
        market.send(`finalize:${taskId}:${round}`, "finalize", [BigInt(taskId)], "TaskFinalized", (args) => args.taskId === BigInt(taskId)));
      deps.log.info({ taskId, round, txHash: sent?.hash }, "finalize sent");
      task = await market.task(BigInt(taskId));
    }
  }
  if (task.status === TaskStatus.Finalized) await scheduleClaim(ctx, ctx.config.roles.validator?.claimBatchMs ?? 0);
  deps.log.info({ taskId, round, status: task.status, consensus: task.consensus }, "round settled");
  return { status: task.status };
}
