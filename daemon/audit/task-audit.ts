import { hexToBytes, type Address, type Hex, type TypedDataDomain } from "viem";
import type { AttestationRecord } from "../../sdk/attestation-record.ts";
import { verdictFor, type AttestationSourceResult, type AttestationVerdict } from "./attestations.ts";
import { finalRound, type ChainPosition, type TaskRecord, type TaskStatusName } from "./history.ts";
import { checkRefund, checkSettlement, type RefundCheck, type SettlementCheck } from "./settlement-check.ts";

export interface MemberAudit {
  index: number;
  validator: Address;
  committed: boolean;
  revealed: boolean;
  score?: number;
  /** |score - consensus| once finalized. */
  deviation?: number;
  /** deviation < tolerance: the member earned a share (the contract pays nothing at or beyond it). */
  withinTolerance?: boolean;
  pay?: bigint;
  slashed: bigint;
  /** Present when attestation sources were given. */
  attestation?: AttestationVerdict;
}

export interface TaskAudit {
  taskId: bigint;
  status: TaskStatusName;
  requester: Address;
  provider: Address;
  modelId: Hex;
  evaluatorId: Hex;
  fee: bigint;
  prompt: string;
  answer?: { provider: Address; text: string; outputHash: Hex; uri: string; block: bigint };
  created: ChainPosition;
  rounds: { round: number; drawBlock: bigint; commitEnd: bigint; revealEnd: bigint; rolled: boolean; members: MemberAudit[] }[];
  consensus?: number;
  tolerance?: number;
  payouts?: { providerPay: bigint; requesterRefund: bigint; treasuryShare: bigint; validatorPay: bigint[]; block: bigint };
  settlementCheck?: SettlementCheck;
  refund?: TaskRecord["refund"];
  refundCheck?: RefundCheck;
  timeouts: TaskRecord["timeouts"];
  equivocations: TaskRecord["equivocations"];
  attestationSources?: AttestationSourceResult[];
}

/** Prompt and answer bytes are UTF-8 text by convention; invalid sequences show as U+FFFD, never throw. */
export function bytesToText(bytes: Hex): string {
  return new TextDecoder("utf-8", { fatal: false }).decode(hexToBytes(bytes));
}

/** A task's auditable view; with `attestations` each member of the final round gets a verdict. */
export async function auditTask(
  task: TaskRecord,
  attestations?: { domain: TypedDataDomain; records: readonly AttestationRecord[]; sources: AttestationSourceResult[] },
): Promise<TaskAudit> {
  const s = task.settlement;
  const decisive = finalRound(task);
  const rounds = await Promise.all(
    task.rounds.map(async (round) => ({
      round: round.round,
      drawBlock: round.drawBlock,
      commitEnd: round.commitEnd,
      revealEnd: round.revealEnd,
      rolled: round.rolled,
      members: await Promise.all(
        round.members.map(async (m): Promise<MemberAudit> => {
          const audit: MemberAudit = { index: m.index, validator: m.validator, committed: m.committed, revealed: m.revealed, score: m.score, slashed: m.slashed };
          if (s && round === decisive) {
            audit.pay = s.validatorPay[m.index] ?? 0n;
            if (m.revealed) {
              audit.deviation = Math.abs(m.score! - s.consensus);
              audit.withinTolerance = audit.deviation < task.params.tolerance;
            }
          }
          if (attestations && round === decisive) audit.attestation = await verdictFor(attestations.domain, task, m, attestations.records);
          return audit;
        }),
      ),
    })),
  );
  return {
    taskId: task.taskId,
    status: task.status,
    requester: task.requester,
    provider: task.provider,
    modelId: task.modelId,
    evaluatorId: task.evaluatorId,
    fee: task.fee,
    prompt: bytesToText(task.prompt),
    answer: task.answer && { provider: task.answer.provider, text: bytesToText(task.answer.output), outputHash: task.answer.outputHash, uri: task.answer.uri, block: task.answer.at.block },
    created: task.created,
    rounds,
    consensus: s?.consensus,
    tolerance: s ? task.params.tolerance : undefined,
    payouts: s && { providerPay: s.providerPay, requesterRefund: s.requesterRefund, treasuryShare: s.treasuryShare, validatorPay: s.validatorPay, block: s.at.block },
    settlementCheck: checkSettlement(task),
    refund: task.refund,
    refundCheck: checkRefund(task),
    timeouts: task.timeouts,
    equivocations: task.equivocations,
    attestationSources: attestations?.sources,
  };
}
