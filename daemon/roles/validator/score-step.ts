import { keccak256, type Hex } from "viem";
import type { Job } from "bullmq";
import { BadInputError } from "../../queue/errors.ts";
import type { StepJobData } from "../../queue/names.ts";
import { newSalt } from "../../store/salt-store.ts";
import { TaskStatus } from "../../../sdk/contracts.ts";
import { computeCommitment } from "../../../sdk/commitment.ts";
import { bytesToText, readAnswer, readPrompt } from "../task-content.ts";
import { enqueue, signScore, type TaskJob, type ValidatorDeps } from "./deps.ts";
import { EvaluatorMismatchError, WindowMissedError } from "./errors.ts";

/**
 * Scores a task this validator must judge: reads prompt and answer from the chain's logs, checks the answer
 * against the stored output hash, scores it with the pinned evaluator, signs the attestation through the
 * equivocation guard and saves the salt + commitment durably, all BEFORE the commit job may broadcast anything.
 * Idempotent: a re-run reuses the saved salt (a second salt would commit something the first reveal cannot open).
 */
export async function scoreStep(deps: ValidatorDeps, job: Job<StepJobData>): Promise<{ score: number }> {
  const { ctx, market, evaluator } = deps;
  const { taskId, round, index } = job.data as TaskJob;
  const log = deps.log.child({ taskId, round });
  const task = await market.task(BigInt(taskId));
  if (task.status !== TaskStatus.Committee || task.round !== round) {
    log.info({ status: task.status, currentRound: task.round }, "task left this committee round before scoring; nothing to do");
    return { score: -1 };
  }
  if (task.evaluatorId.toLowerCase() !== evaluator.id.toLowerCase()) throw new EvaluatorMismatchError(taskId, task.evaluatorId, evaluator.id);
  const saved = ctx.salts.get(taskId, round);
  if (saved === undefined) {
    const block = await ctx.chain.client.getBlockNumber({ cacheTime: 0 });
    const lastStart = task.commitEnd - BigInt(ctx.config.windows.commitSafetyBlocks);
    if (block > lastStart) {
      ctx.metrics.jobsFailed.inc({ queue: "poq-score", reason: "window-missed" });
      throw new WindowMissedError(`task ${taskId}: block ${block} is past the last safe commit start ${lastStart} (commitEnd ${task.commitEnd})`, { taskId });
    }
  }
  const answer = await readAnswer(ctx, market, BigInt(taskId), task.drawBlock);
  if (answer.output === "0x") throw new BadInputError(`task ${taskId}: the answer is only a URI (${answer.uri}); fetching URIs is not supported`, { taskId });
  if (keccak256(answer.output).toLowerCase() !== task.outputHash.toLowerCase()) {
    throw new BadInputError(`task ${taskId}: answer bytes do not hash to the stored output hash`, { taskId });
  }
  const prompt = bytesToText(await readPrompt(ctx, market, BigInt(taskId), task.drawBlock), "prompt");
  const started = performance.now();
  const [result] = await evaluator.score([{ prompt, answer: bytesToText(answer.output, "answer") }]);
  ctx.metrics.scoringLatencySeconds.observe({ evaluator: evaluator.name }, (performance.now() - started) / 1_000);
  const score = saved?.score ?? result!.score;
  if (saved !== undefined && saved.score !== result!.score) log.error({ saved: saved.score, now: result!.score }, "evaluator is not deterministic: keeping the saved score");
  const signature = await signScore(deps, taskId, task.outputHash, score);
  if (saved === undefined) {
    const salt: Hex = newSalt();
    const commitment = computeCommitment({ score, salt, validator: deps.me, taskId: BigInt(taskId), round, chainId: ctx.config.chain.chainId, market: market.address });
    ctx.salts.save({ taskId, round, score, salt, commitment }); // fsynced before the commit job can exist
  }
  ctx.metrics.tasksScored.inc({ role: "validator" });
  log.info({ score, scoringMs: Math.round(performance.now() - started) }, "answer scored; salt saved");
  await enqueue(deps, { step: "commit", data: { taskId, round, index, signature }, priority: 2 });
  return { score };
}
