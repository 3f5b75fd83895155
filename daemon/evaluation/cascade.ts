/**
 * Cascade evaluator: a cheap first stage scores every pair; a heavier judge scores only the pairs whose first-stage
 * integer lies in the manifest's escalation band (docs/EVALUATORS.md, "Cascade"):
 *
 *   s = first-stage score
 *   if minScore <= s <= maxScore:  score = minScore + floor(judge score * (maxScore - minScore) / 10_000)
 *   else:                          score = s
 *
 * The judge's score is mapped into the band, so the first stage's confident calls keep their order against every
 * escalated pair and the judge orders the uncertain middle. The rule reads integers only, and each stage gives the
 * same integer for a pair whatever its batch (every engine here is batch-invariant), so which pairs escalate, and
 * the final integer, are the same on every validator. Both stages are pinned by id in the manifest.
 */
import path from "node:path";
import { loadPinnedEvaluator, type InnerLoader } from "./composite.ts";
import { EvaluatorClosedError, ManifestInvalidError, SCORE_MAX, type Evaluator, type ScorePair, type ScoreResult } from "./evaluator.ts";
import { manifestId, type EvaluatorId, type Manifest } from "./manifest.ts";

type EscalationBand = NonNullable<Manifest["cascade"]>["escalate"];

/** True when the first stage's integer lies in the band the judge decides. Pure; exported for tests and benches. */
export function escalates(firstScore: number, band: EscalationBand): boolean {
  return firstScore >= band.minScore && firstScore <= band.maxScore;
}

/** The final integer for one pair. Pure; exported for tests and docs. */
export function cascadeScore(firstScore: number, judgeScore: number | undefined, band: EscalationBand): number {
  if (!escalates(firstScore, band)) return firstScore;
  if (judgeScore === undefined) throw new RangeError(`first-stage score ${firstScore} escalates but no judge score was given`);
  const judge = Math.min(SCORE_MAX, Math.max(0, Math.trunc(judgeScore)));
  return band.minScore + Math.floor((judge * (band.maxScore - band.minScore)) / SCORE_MAX);
}

export class CascadeEvaluator implements Evaluator {
  readonly name: string;
  readonly id: EvaluatorId;
  #closed = false;

  private constructor(
    manifest: Manifest,
    private readonly band: EscalationBand,
    readonly first: Evaluator,
    readonly judge: Evaluator,
  ) {
    this.name = manifest.name;
    this.id = manifestId(manifest);
  }

  /** Loads both stages and refuses either unless its id is the one this manifest pins. */
  static async load(manifest: Manifest, manifestDir: string, loadStage: InnerLoader): Promise<CascadeEvaluator> {
    const where = path.join(manifestDir, "manifest.json");
    if (manifest.kind !== "cascade" || manifest.cascade === undefined) throw new ManifestInvalidError(`${where} is not a cascade manifest`, where);
    const rule = manifest.cascade;
    const first = await loadPinnedEvaluator(rule.first, manifestDir, loadStage, "first-stage");
    try {
      return new CascadeEvaluator(manifest, rule.escalate, first, await loadPinnedEvaluator(rule.judge, manifestDir, loadStage, "judge"));
    } catch (error) {
      await first.close();
      throw error;
    }
  }

  async score(pairs: readonly ScorePair[]): Promise<ScoreResult[]> {
    if (this.#closed) throw new EvaluatorClosedError(this.name);
    const first = await this.first.score(pairs);
    const escalated = first.flatMap((r, i) => (escalates(r.score, this.band) ? [i] : []));
    const judged = escalated.length === 0 ? [] : await this.judge.score(escalated.map((i) => pairs[i]!));
    const judgeScores = new Map(escalated.map((pairIndex, k) => [pairIndex, judged[k]!]));
    return first.map((stage, i) => {
      const judge = judgeScores.get(i);
      const detail: Record<string, number | string | boolean> = { ...stage.detail, first_score: stage.score, escalated: judge !== undefined };
      if (judge !== undefined) detail.judge_score = judge.score;
      return { score: cascadeScore(stage.score, judge?.score, this.band), raw: judge?.raw ?? stage.raw, detail };
    });
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await Promise.allSettled([this.first.close(), this.judge.close()]);
  }
}
