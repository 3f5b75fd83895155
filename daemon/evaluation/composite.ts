/**
 * Composite evaluator: an inner model evaluator plus the cheap checks, combined by one integer rule
 * (docs/EVALUATORS.md, "Composite rule"):
 *
 *   score = inner score
 *   if any check is "hard": score = min(score, hardFailCap)
 *   for each "soft" check, in the fixed order of runChecks: score = floor(score * softPenaltyBps / 10_000)
 *
 * Integer arithmetic only (score * bps < 2^53), so the rule adds no float nondeterminism to the inner score.
 */
import path from "node:path";
import { runChecks, type CheckResult } from "./checks.ts";
import { EvaluatorClosedError, ManifestInvalidError, SCORE_MAX, type Evaluator, type ScorePair, type ScoreResult } from "./evaluator.ts";
import { manifestId, type EvaluatorId, type Manifest } from "./manifest.ts";

type CompositeSection = NonNullable<Manifest["composite"]>;

/** Loads the evaluator in a manifest folder (the factory's createEvaluator; passed in to avoid an import cycle). */
export type InnerLoader = (manifestDir: string) => Promise<Evaluator>;

/**
 * Loads the evaluator a composed manifest names (folder relative to that manifest) and refuses it unless its id is
 * the one pinned there: a changed inner manifest must change the outer id too.
 */
export async function loadPinnedEvaluator(ref: { path: string; id: string }, manifestDir: string, load: InnerLoader, role: string): Promise<Evaluator> {
  const where = path.join(manifestDir, "manifest.json");
  const evaluator = await load(path.resolve(manifestDir, ref.path));
  if (evaluator.id !== ref.id) {
    await evaluator.close();
    throw new ManifestInvalidError(`${where} pins ${role} evaluator ${ref.id} but ${ref.path} has id ${evaluator.id}`, where);
  }
  return evaluator;
}

/** Applies the composite rule to one inner score. Pure; exported for tests and docs. */
export function combineScore(innerScore: number, checks: readonly CheckResult[], rule: Pick<CompositeSection, "hardFailCap" | "softPenaltyBps">): number {
  let score = Math.min(SCORE_MAX, Math.max(0, Math.trunc(innerScore)));
  if (checks.some((c) => c.verdict === "hard")) score = Math.min(score, rule.hardFailCap);
  for (const check of checks) {
    if (check.verdict === "soft") score = Math.floor((score * rule.softPenaltyBps) / SCORE_MAX);
  }
  return score;
}

export class CompositeEvaluator implements Evaluator {
  readonly name: string;
  readonly id: EvaluatorId;
  #closed = false;

  private constructor(
    manifest: Manifest,
    private readonly rule: CompositeSection,
    private readonly inner: Evaluator,
  ) {
    this.name = manifest.name;
    this.id = manifestId(manifest);
  }

  /** Loads the inner evaluator and refuses it unless its id is the one this manifest pins. */
  static async load(manifest: Manifest, manifestDir: string, loadInner: InnerLoader): Promise<CompositeEvaluator> {
    const where = path.join(manifestDir, "manifest.json");
    if (manifest.kind !== "composite" || manifest.composite === undefined) {
      throw new ManifestInvalidError(`${where} is not a composite manifest`, where);
    }
    const rule = manifest.composite;
    return new CompositeEvaluator(manifest, rule, await loadPinnedEvaluator(rule.inner, manifestDir, loadInner, "inner"));
  }

  async score(pairs: readonly ScorePair[]): Promise<ScoreResult[]> {
    if (this.#closed) throw new EvaluatorClosedError(this.name);
    const innerResults = await this.inner.score(pairs);
    return innerResults.map((inner, i) => {
      const checks = runChecks(pairs[i]!.prompt, pairs[i]!.answer, this.rule.checks);
      const detail: Record<string, number | string | boolean> = { model_score: inner.score };
      for (const check of checks) {
        detail[`check_${check.name}`] = check.verdict;
        detail[`check_${check.name}_value`] = check.value;
      }
      return { score: combineScore(inner.score, checks, this.rule), raw: inner.raw, detail };
    });
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.inner.close();
  }
}
