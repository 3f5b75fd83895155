import { randomInt } from "node:crypto";
import { EvaluatorClosedError, SCORE_MAX, type Evaluator, type ScorePair, type ScoreResult } from "../../daemon/evaluation/evaluator.ts";

/**
 * The demo's lazy validator: it claims the registered evaluator's id (so the daemon accepts it for the tasks)
 * but never runs the model, returning a uniformly random score instead. Consensus should leave it behind.
 */
export function createLazyEvaluator(impersonatedId: `0x${string}`): Evaluator {
  let closed = false;
  return {
    name: "lazy-random",
    id: impersonatedId,
    async score(pairs: readonly ScorePair[]): Promise<ScoreResult[]> {
      if (closed) throw new EvaluatorClosedError("lazy-random");
      return pairs.map(() => {
        const score = randomInt(SCORE_MAX + 1);
        return { score, raw: [score / SCORE_MAX], detail: { lazy: true } };
      });
    },
    async close() {
      closed = true;
    },
  };
}
