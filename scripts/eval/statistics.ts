/**
 * Pairwise accuracy with its 95% interval. A record is a win (the preferred answer gets the strictly higher
 * integer), a loss, or a tie; accuracy counts a tie as half a win, so a constant evaluator scores exactly 0.5 and
 * ties can never make an evaluator look better than chance. Ties are also reported apart.
 *
 * The interval is a percentile bootstrap over records (2,000 resamples drawn with a seeded sfc32, so a run is
 * reproducible). The same resamples give paired intervals for differences between evaluators on the same records.
 */
import { SeededRandom } from "../models/seeded-random.ts";

export type Outcome = 1 | 0.5 | 0;
export interface AccuracyFigure {
  accuracy: number;
  ties: number;
  wins: number;
  losses: number;
  ci95: [number, number];
}

const RESAMPLES = 2000;
const SEED = 1;

export function outcome(chosenScore: number, rejectedScore: number): Outcome {
  return chosenScore > rejectedScore ? 1 : chosenScore < rejectedScore ? 0 : 0.5;
}

/** Resampled index lists, shared by every figure of one data set so that paired differences line up. */
export function bootstrapSamples(n: number): Uint32Array[] {
  const random = new SeededRandom(SEED);
  return Array.from({ length: n === 0 ? 0 : RESAMPLES }, () => Uint32Array.from({ length: n }, () => random.nextUint32() % n));
}

export function accuracyFigure(outcomes: readonly Outcome[], samples: readonly Uint32Array[]): AccuracyFigure {
  const count = (o: Outcome) => outcomes.filter((x) => x === o).length;
  return { accuracy: round(mean(outcomes)), ties: count(0.5), wins: count(1), losses: count(0), ci95: interval(samples.map((s) => meanAt(outcomes, s))) };
}

/** Accuracy of a minus accuracy of b on the same records, with the paired bootstrap interval. */
export function differenceFigure(a: readonly Outcome[], b: readonly Outcome[], samples: readonly Uint32Array[]): { difference: number; ci95: [number, number] } {
  return { difference: round(mean(a) - mean(b)), ci95: interval(samples.map((s) => meanAt(a, s) - meanAt(b, s))) };
}

function mean(values: readonly number[]): number {
  return values.length === 0 ? 0 : values.reduce((x, y) => x + y, 0) / values.length;
}

function meanAt(values: readonly number[], indices: Uint32Array): number {
  let sum = 0;
  for (const i of indices) sum += values[i]!;
  return sum / indices.length;
}

function interval(values: number[]): [number, number] {
  if (values.length === 0) return [0, 1];
  const sorted = values.sort((x, y) => x - y);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.max(0, Math.round(q * (sorted.length - 1))))]!;
  return [round(at(0.025)), round(at(0.975))];
}

export function round(value: number, decimals = 4): number {
  const factor = 10 ** decimals;
  return Math.round(value * factor) / factor;
}
