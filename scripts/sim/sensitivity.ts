/**
 * Parameter sweeps behind the recommendations in docs/ECONOMICS.md: how the reward tolerance changes what lazy
 * and attacking validators earn, and how the committee size and the refund share change what a colluding
 * requester (or a validator cartel) can take. Each point reuses the experiments in earnings.ts and collusion.ts.
 */
import type { RewardParams } from "../../sdk/protocol-math.ts";
import { runCollusion, type CollusionResult } from "./collusion.ts";
import { runEarnings } from "./earnings.ts";
import { STRATEGIES, type AttackConfig, type EvaluatorModel, type SimRule, type Strategy } from "./model.ts";
import { shareKey } from "./robustness.ts";

export interface SensitivityConfig {
  seed: string;
  rounds: number;
  committeeSize: number;
  rule: SimRule;
  trimBps: bigint;
  params: RewardParams;
  attack: AttackConfig;
  evaluator: EvaluatorModel;
  population: number;
}

export const TOLERANCES = [750, 1_000, 1_500, 2_500];
export const COMMITTEE_SIZES = [5, 9, 15];
export const SWEEP_REFUNDS = [2_500n, 5_000n];
export const SWEEP_SHARES = [0.2, 0.3];

/** tolerance -> strategy -> mean pay per seat relative to honest. */
export function toleranceSweep(cfg: SensitivityConfig): Record<string, Record<Strategy, number>> {
  return Object.fromEntries(
    TOLERANCES.map((tolerance) => {
      const { byStrategy } = runEarnings({ ...cfg, params: { ...cfg.params, tolerance: BigInt(tolerance) } });
      return [String(tolerance), Object.fromEntries(STRATEGIES.map((s) => [s, byStrategy[s].mean]))];
    }),
  ) as Record<string, Record<Strategy, number>>;
}

/** committee size -> refundBps -> coalition share -> requester-coalition result. */
export function committeeSweep(cfg: SensitivityConfig): Record<string, Record<string, Record<string, CollusionResult>>> {
  return Object.fromEntries(
    COMMITTEE_SIZES.map((committeeSize) => [
      String(committeeSize),
      Object.fromEntries(
        SWEEP_REFUNDS.map((refundBps) => [
          refundBps.toString(),
          Object.fromEntries(
            SWEEP_SHARES.map((share) => [
              shareKey(share),
              runCollusion({
                ...cfg,
                committeeSize,
                params: { ...cfg.params, refundBps },
                side: "requester",
                share,
              }),
            ]),
          ),
        ]),
      ),
    ]),
  );
}
