/**
 * How often each cheap check fires on the human-preferred answers of a data set (its false-positive rate, if the
 * preferred answer is taken as good) and on the other answers. Computed over every usable record, not only the
 * sample the models score: the checks are cheap, and a rate near 1% needs thousands of records to be read.
 */
import path from "node:path";
import { CHECK_NAMES, runChecks, type CheckName, type CheckThresholds } from "../../daemon/evaluation/checks.ts";
import { loadManifest } from "../../daemon/evaluation/manifest.ts";
import type { PreferenceRecord } from "./datasets.ts";
import { round } from "./statistics.ts";

/** The check thresholds an evaluator applies: a composite's own, or the first found in a cascade's stages. */
export async function checkThresholdsOf(manifestDir: string): Promise<CheckThresholds | undefined> {
  const manifest = await loadManifest(manifestDir);
  if (manifest.kind === "composite") return manifest.composite!.checks;
  if (manifest.kind === "cascade") {
    for (const stage of [manifest.cascade!.first, manifest.cascade!.judge]) {
      const found = await checkThresholdsOf(path.resolve(manifestDir, stage.path));
      if (found) return found;
    }
  }
  return undefined;
}

export interface CheckRates {
  check_false_positive_rate: Record<CheckName, number>;
  check_fire_rate_rejected: Record<CheckName, number>;
  check_false_positive_n: number;
}

export function checkRates(records: readonly PreferenceRecord[], thresholds: CheckThresholds): CheckRates {
  const fired = (answer: "chosen" | "rejected") => {
    const counts = Object.fromEntries(CHECK_NAMES.map((c) => [c, 0])) as Record<CheckName, number>;
    for (const r of records) for (const c of runChecks(r.prompt, r[answer], thresholds)) if (c.verdict !== "pass") counts[c.name]++;
    return Object.fromEntries(CHECK_NAMES.map((c) => [c, round(records.length === 0 ? 0 : counts[c] / records.length)])) as Record<CheckName, number>;
  };
  return { check_false_positive_rate: fired("chosen"), check_fire_rate_rejected: fired("rejected"), check_false_positive_n: records.length };
}
