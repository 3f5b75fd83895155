import type { Hex } from "viem";
import { createEvaluator } from "../evaluation/factory.ts";
import { loadManifest, manifestId } from "../evaluation/manifest.ts";
import { EvaluatorMismatchError, RescoreUnavailableError } from "./errors.ts";
import type { TaskRecord } from "./history.ts";
import { bytesToText } from "./task-audit.ts";

export interface RescoreResult {
  evaluatorId: Hex;
  evaluatorName: string;
  localScore: number;
  /** Raw model outputs behind the score (logits, cosine), for a closer look. */
  raw: number[];
  consensus?: number;
  deviation?: number;
  tolerance?: number;
  /** |local - consensus| < tolerance: the auditor's run would have been paid, i.e. it agrees with the committee. */
  agrees?: boolean;
}

/**
 * Re-runs the task's registered evaluator on its (prompt, answer) and compares with the consensus. Refuses a
 * manifest whose id differs from the task's evaluator id before loading any model: scores of another evaluator
 * say nothing about this committee. The factory verifies every model file's sha256 against the manifest.
 */
export async function rescoreTask(task: TaskRecord, evaluatorDir: string): Promise<RescoreResult> {
  const id = manifestId(await loadManifest(evaluatorDir));
  if (id.toLowerCase() !== task.evaluatorId.toLowerCase()) throw new EvaluatorMismatchError(id, task.evaluatorId);
  if (task.answer === undefined) throw new RescoreUnavailableError(`task ${task.taskId} has no answer yet: nothing to re-score`);
  if (task.answer.output === "0x") {
    throw new RescoreUnavailableError(`task ${task.taskId} was answered by URI only (${task.answer.uri}); fetching URI answers is not supported`);
  }
  const evaluator = await createEvaluator(evaluatorDir);
  try {
    const [result] = await evaluator.score([{ prompt: bytesToText(task.prompt), answer: bytesToText(task.answer.output) }]);
    const outcome: RescoreResult = { evaluatorId: evaluator.id, evaluatorName: evaluator.name, localScore: result!.score, raw: result!.raw };
    const s = task.settlement;
    if (s) {
      outcome.consensus = s.consensus;
      outcome.tolerance = task.params.tolerance;
      outcome.deviation = Math.abs(result!.score - s.consensus);
      outcome.agrees = outcome.deviation < task.params.tolerance;
    }
    return outcome;
  } finally {
    await evaluator.close();
  }
}
