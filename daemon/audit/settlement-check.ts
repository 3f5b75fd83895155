import { aggregate, ConsensusRule, refundAmount, rewardSplit } from "../../sdk/protocol-math.ts";
import { finalRound, type TaskRecord } from "./history.ts";

/** The auditor's own settlement of a finalized task, from the revealed scores and the parameters at finalize. */
export interface SettlementCheck {
  /** False when the rule needs data the logs do not hold (stake-weighted median: stakes at finalize). */
  checked: boolean;
  consensus?: number;
  providerPay?: bigint;
  requesterRefund?: bigint;
  treasuryShare?: bigint;
  validatorPay?: bigint[];
  /** True when every recomputed figure equals what TaskFinalized reported. */
  matches?: boolean;
  /** fee == provider + refund + treasury (dust included) + sum(validators), as the contract must keep. */
  conserved: boolean;
}

/**
 * Recomputes consensus and reward split with sdk/protocol-math.ts (the bigint port of the Solidity, checked
 * against it wei for wei) and compares with the TaskFinalized event. A mismatch means the logs, the parameters
 * or the contract disagree with the published rules: worth a human look.
 */
export function checkSettlement(task: TaskRecord): SettlementCheck | undefined {
  const s = task.settlement;
  const round = finalRound(task);
  if (s === undefined || round === undefined) return undefined;
  const paid = s.providerPay + s.requesterRefund + s.treasuryShare + s.validatorPay.reduce((a, b) => a + b, 0n);
  const conserved = paid === task.fee;
  if (task.params.consensusRule === ConsensusRule.WeightedMedian) return { checked: false, conserved };
  const revealedScores = round.members.filter((m) => m.revealed).map((m) => BigInt(m.score!));
  const consensus = aggregate(task.params.consensusRule, revealedScores, revealedScores.map(() => 1n), BigInt(task.params.trimBps));
  const split = rewardSplit(
    task.fee,
    consensus,
    round.members.map((m) => BigInt(m.score ?? 0)),
    round.members.map((m) => m.revealed),
    {
      validatorPoolBps: BigInt(task.params.validatorPoolBps),
      providerFloor: BigInt(task.params.providerFloor),
      tolerance: BigInt(task.params.tolerance),
      refundBps: BigInt(task.params.refundBps),
    },
  );
  const treasuryShare = split.treasury + split.dust;
  const matches =
    Number(consensus) === s.consensus &&
    split.provider === s.providerPay &&
    split.requester === s.requesterRefund &&
    treasuryShare === s.treasuryShare &&
    split.validators.length === s.validatorPay.length &&
    split.validators.every((v, i) => v === s.validatorPay[i]);
  return {
    checked: true,
    consensus: Number(consensus),
    providerPay: split.provider,
    requesterRefund: split.requester,
    treasuryShare,
    validatorPay: split.validators,
    matches,
    conserved,
  };
}

/** The auditor's own refund of a refunded task, from the fee and the parameters the task was created under. */
export interface RefundCheck {
  /** What the requester should have got back. */
  expected: bigint;
  /** The rest of the escrow, credited to the treasury (non-zero for NoCommittee only). */
  treasury: bigint;
  /** True when TaskRefunded reported `expected`. */
  matches: boolean;
}

export function checkRefund(task: TaskRecord): RefundCheck | undefined {
  const r = task.refund;
  if (r === undefined) return undefined;
  const expected = refundAmount(task.fee, r.reason === "NoCommittee", {
    validatorPoolBps: BigInt(task.params.validatorPoolBps),
    refundBps: BigInt(task.params.refundBps),
  });
  return { expected, treasury: task.fee - expected, matches: expected === r.amount };
}
