import type { Address, Hex } from "viem";
import type { DaemonContext } from "../../runtime/context.ts";
import type { Logger } from "../../observe/logger.ts";
import { enqueueStep, type EnqueueStepParameters } from "../../queue/queues.ts";
import { signAttestation } from "../../../sdk/eip712.ts";
import type { Market, TaskView } from "../market.ts";
import { readAnswer } from "../task-content.ts";
import type { AttestationLog } from "./attestation-log.ts";
import type { PhaseWake } from "./phase-wake.ts";

/** What every validator step handler except score works with (score needs less: see score-step.ts ScoreDeps). */
export interface ValidatorDeps {
  ctx: DaemonContext;
  market: Market;
  attestations: AttestationLog;
  neverReveal: boolean;
  /** Set when roles.validator.submit is "relayer": commits and reveals go as signed messages first. */
  viaRelayer?: true;
  log: Logger;
  me: Address;
  /** Parks early reveal jobs until the block that opens the reveal phase (see phase-wake.ts). */
  revealWake?: PhaseWake;
}

/** Jobs carry ids and block numbers as decimal strings (JSON has no bigint). */
export interface TaskJob {
  taskId: string;
  round: number;
  index?: number;
  signature?: Hex;
  /** The score job's result, carried to the commit job (which seals it with a salt and signs it). */
  score?: number;
}

export const enqueue = (deps: ValidatorDeps, p: EnqueueStepParameters) => enqueueStep(deps.ctx.queues, p);

/** How long a step waits before looking at the chain again when it is early (a phase has not opened yet). */
export const recheckMs = (deps: ValidatorDeps) => deps.ctx.config.chain.pollIntervalMs;

/**
 * Warns (log line and poq_deadline_at_risk_total) when a commit or reveal starts within its safety margin of the
 * phase end: the operator sees a slash coming while it can still be avoided (more cores, a faster RPC).
 */
export function warnIfDeadlineAtRisk(deps: ValidatorDeps, step: "commit" | "reveal", taskId: string, block: bigint, phaseEnd: bigint): void {
  const margin = BigInt(step === "commit" ? deps.ctx.config.windows.commitSafetyBlocks : deps.ctx.config.windows.revealSafetyBlocks);
  if (block + margin < phaseEnd) return;
  deps.ctx.metrics.deadlineAtRisk.inc({ step });
  deps.log.warn({ taskId, step, block: String(block), phaseEnd: String(phaseEnd), blocksLeft: String(phaseEnd - block) }, `${step} deadline at risk`);
}

/**
 * The hash of the answer the task's committee judges, which attestations sign: from the task's AnswerSubmitted log
 * at or below the current round's seed block (the market does not store it; the log is the one the score step
 * read; the round may not be drawn yet: its first commit draws it).
 */
export async function answerHash(deps: ValidatorDeps, taskId: string, task: TaskView): Promise<Hex> {
  return (await readAnswer(deps.ctx, deps.market, BigInt(taskId), task.createdBlock, task.seedBlock)).outputHash;
}

/**
 * Signs the EIP-712 Attestation of `score` for the task's output, after recording it in the equivocation guard
 * (which throws rather than let this key sign a second, different score for the task). ECDSA signatures here
 * are deterministic (RFC 6979), so signing again after a restart yields the same bytes.
 */
export async function signScore(deps: ValidatorDeps, taskId: string, outputHash: Hex, evaluatorId: Hex, score: number): Promise<Hex> {
  deps.ctx.equivocation.checkAndRecord({ taskId, outputHash, score });
  return signAttestation(deps.ctx.account, deps.market.domain, { taskId: BigInt(taskId), outputHash, evaluatorId, score });
}
