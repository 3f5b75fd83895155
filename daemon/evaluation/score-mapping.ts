/**
 * Raw model output -> on-chain integer score. Pure functions; the mapping parameters are part of the manifest
 * (and so of the evaluator id), so every validator running the same manifest maps the same raw number to the
 * same integer.
 *
 * Determinism: the raw value is first quantised to `rawDecimals` decimals, so float noise between CPUs or
 * thread counts (typically 1e-6 on logits) only changes the integer when the raw value sits right on a
 * rounding edge. Everything after that uses IEEE-754 double arithmetic and V8's `Math.exp` (a fixed fdlibm
 * port), which give the same bits on every platform.
 */
import { SCORE_MAX } from "./evaluator.ts";

/** score = round(SCORE_MAX * sigmoid((q - center) / scale)). Fits logits (cross-encoders). */
export interface SigmoidMapping {
  type: "sigmoid";
  center: number;
  /** Must be > 0. */
  scale: number;
  rawDecimals: number;
}

/** score = round(SCORE_MAX * clamp((q - min) / (max - min), 0, 1)). Fits bounded raws such as cosine. */
export interface LinearMapping {
  type: "linear";
  min: number;
  /** Must be > min. */
  max: number;
  rawDecimals: number;
}

export type ScoreMapping = SigmoidMapping | LinearMapping;

/** Largest rawDecimals allowed: beyond ~9 decimals the quantisation no longer absorbs cross-CPU float noise. */
export const MAX_RAW_DECIMALS = 9;

/**
 * Rounds `raw` to `decimals` decimals, half away from zero. Returns the quantised value.
 * Non-finite raws stay as they are (handled by the caller).
 */
export function quantizeRaw(raw: number, decimals: number): number {
  if (!Number.isFinite(raw)) return raw;
  const factor = 10 ** decimals;
  const scaled = Math.abs(raw) * factor;
  const rounded = Math.round(scaled);
  return (Math.sign(raw) * rounded) / factor;
}

/** Clamps to [0, SCORE_MAX] and rounds half up to an integer. NaN maps to 0 (a broken output earns nothing). */
export function toScoreInteger(fraction: number): number {
  if (Number.isNaN(fraction)) return 0;
  const scaled = Math.round(fraction * SCORE_MAX);
  return Math.min(SCORE_MAX, Math.max(0, scaled));
}

/** Maps one raw model output to the integer score. Never throws for any number, including NaN and ±Infinity. */
export function mapRawToScore(raw: number, mapping: ScoreMapping): number {
  if (Number.isNaN(raw)) return 0;
  const q = quantizeRaw(raw, mapping.rawDecimals);
  switch (mapping.type) {
    case "sigmoid": {
      const z = (q - mapping.center) / mapping.scale;
      // 1 / (1 + e^-z) overflows gracefully: e^-(-Inf) = Inf -> 0, e^-(Inf) = 0 -> 1.
      return toScoreInteger(1 / (1 + Math.exp(-z)));
    }
    case "linear": {
      return toScoreInteger((q - mapping.min) / (mapping.max - mapping.min));
    }
  }
}
