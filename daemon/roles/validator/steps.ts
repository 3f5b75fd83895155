import type { Step } from "../../queue/names.ts";

/**
 * The validator's queued steps, in order; one process may run any subset (`poq validator start --steps`). Draws
 * and finalizes are keeper duties (roles/keeper), run by every process that holds the key.
 */
export const VALIDATOR_STEPS = ["score", "commit", "reveal", "claim"] as const satisfies readonly Step[];
export type ValidatorStep = (typeof VALIDATOR_STEPS)[number];

/** Parses `--steps score` / `--steps commit,reveal,claim`; throws naming the unknown step. */
export function parseValidatorSteps(list: string): ValidatorStep[] {
  const steps = list.split(",").map((s) => s.trim()).filter((s) => s !== "");
  if (steps.length === 0) throw new TypeError(`--steps: name at least one of ${VALIDATOR_STEPS.join(", ")}`);
  for (const step of steps) {
    if (!(VALIDATOR_STEPS as readonly string[]).includes(step)) throw new TypeError(`--steps: unknown step "${step}" (known: ${VALIDATOR_STEPS.join(", ")})`);
  }
  return [...new Set(steps)] as ValidatorStep[];
}
