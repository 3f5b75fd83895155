import type { Address } from "viem";
import type { Job } from "bullmq";
import type { DaemonContext } from "../../runtime/context.ts";
import type { Evaluator } from "../../evaluation/evaluator.ts";
import type { Logger } from "../../observe/logger.ts";
import type { StepJobData } from "../../queue/names.ts";
import { enqueueStep } from "../../queue/queues.ts";
import { sleep } from "../../chain/backoff.ts";
import { TaskStatus } from "../../../sdk/contracts.ts";
import type { Market } from "../market.ts";
import { hasSeat, seatOf } from "../../../sdk/rounds.ts";
import { bytesToText, readAnswer, readPrompt } from "../task-content.ts";
import type { TaskJob } from "./deps.ts";
import { EvaluatorMismatchError, WindowMissedError } from "./errors.ts";
import { unscorableReason, WORTHLESS_SCORE } from "./answer-check.ts";

/**
 * What scoring needs, and all it needs: the evaluator, read-only RPC, this account's queues in Redis and its
 * ADDRESS (to find itself in the committee). No key, no salt store: so score workers can run as separate
 * processes or machines (`poq validator start --steps score`) that never hold a secret.
 */
export interface ScoreDeps {
  ctx: Pick<DaemonContext, "config" | "chain" | "metrics" | "queues">;
  market: Market;
  evaluator: Evaluator;
  log: Logger;
  me: Address;
}

/** How long a score job yields to waiting commit and reveal jobs before it scores anyway. */
const YIELD_TO_DEADLINES_MAX_MS = 1_000;

/**
 * Deadlines first: while commit or reveal jobs of this account wait to start (not yet picked up: the process is
 * short of CPU), scoring, the CPU-heavy step, waits for them, up to YIELD_TO_DEADLINES_MAX_MS. A missed reveal
 * is a slash; a score that starts a moment later is not.
 */
async function yieldToDeadlines(queues: ScoreDeps["ctx"]["queues"]): Promise<void> {
  const until = Date.now() + YIELD_TO_DEADLINES_MAX_MS;
  while (Date.now() < until) {
    const counts = await Promise.all([queues.commit.getJobCounts("waiting", "prioritized"), queues.reveal.getJobCounts("waiting", "prioritized")]);
    if (counts.every((c) => (c.waiting ?? 0) + (c.prioritized ?? 0) === 0)) return;
    await sleep(20);
  }
}

/** True when the chain already holds this account's commitment for the round (a re-run after the commit). */
async function alreadyCommitted(deps: ScoreDeps, taskId: string, round: number): Promise<boolean> {
  const task = await deps.market.task(BigInt(taskId));
  const { state } = await deps.market.round(BigInt(taskId), round, task.seedBlock);
  const seat = seatOf(state, deps.me);
  return seat >= 0 && task.round === round && hasSeat(task.committedMask, seat);
}

/** The task is in `round`'s committee phase: drawn (Committee), or still undrawn (Answered: its first commit draws). */
export const inCommitteeRound = (task: { status: number; round: number }, round: number): boolean =>
  task.round === round && (task.status === TaskStatus.Committee || task.status === TaskStatus.Answered);

/**
 * Scores a task this validator must judge: reads prompt and answer from the chain's logs, checks the answer
 * (answer-check.ts: one it cannot fetch or verify scores 0, so an honest member always commits and reveals),
 * scores it with the pinned evaluator and hands the score to the commit job.
 * The commit job (in the process that holds the key and the salt store) signs it through the equivocation
 * guard and saves the salt durably before broadcasting; a re-run here is harmless because a saved salt wins.
 */
export async function scoreStep(deps: ScoreDeps, job: Job<StepJobData>): Promise<{ score: number }> {
  const { ctx, market, evaluator } = deps;
  const { taskId, round, index } = job.data as TaskJob;
  const log = deps.log.child({ taskId, round });
  const task = await market.task(BigInt(taskId));
  if (!inCommitteeRound(task, round)) {
    log.info({ status: task.status, currentRound: task.round }, "task left this committee round before scoring; nothing to do");
    return { score: -1 };
  }
  if (task.evaluatorId.toLowerCase() !== evaluator.id.toLowerCase()) throw new EvaluatorMismatchError(taskId, task.evaluatorId, evaluator.id);
  // Read together: each is a round trip, and the commit waits for all of them. The answer is before the seed block.
  const [block, answer, prompt, maxOutputBytes, { commitEnd }] = await Promise.all([
    ctx.chain.client.getBlockNumber({ cacheTime: 0 }),
    readAnswer(ctx, market, BigInt(taskId), task.createdBlock, task.seedBlock),
    readPrompt(ctx, market, BigInt(taskId), task.createdBlock),
    market.maxOutputBytes(),
    market.round(BigInt(taskId), round, task.seedBlock),
  ]);
  const lastStart = commitEnd - BigInt(ctx.config.windows.commitSafetyBlocks);
  if (block > lastStart) {
    if (await alreadyCommitted(deps, taskId, round)) return { score: -1 };
    ctx.metrics.jobsFailed.inc({ queue: "poq-score", reason: "window-missed" });
    throw new WindowMissedError(`task ${taskId}: block ${block} is past the last safe commit start ${lastStart} (commitEnd ${commitEnd})`, { taskId });
  }
  // The log's bytes against the log's hash (the market stores neither; the attestation signs the same hash).
  const unscorable = unscorableReason(answer, maxOutputBytes);
  let score: number;
  if (unscorable !== undefined) {
    score = WORTHLESS_SCORE;
    ctx.metrics.answersUnscorable.inc({ reason: unscorable });
    log.warn({ reason: unscorable, uri: answer.uri.slice(0, 200) }, "answer cannot be fetched or verified: scored as worthless");
  } else {
    await yieldToDeadlines(ctx.queues);
    const started = performance.now();
    const [result] = await evaluator.score([{ prompt: bytesToText(prompt, "prompt"), answer: bytesToText(answer.output, "answer") }]);
    ctx.metrics.scoringLatencySeconds.observe({ evaluator: evaluator.name }, (performance.now() - started) / 1_000);
    score = result!.score;
    log.info({ score, scoringMs: Math.round(performance.now() - started) }, "answer scored");
  }
  ctx.metrics.tasksScored.inc({ role: "validator" });
  await enqueueStep(ctx.queues, { step: "commit", data: { taskId, round, index, score }, priority: 2 });
  return { score };
}
