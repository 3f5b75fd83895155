import { aggregate, ConsensusRule, rewardSplit } from "../../sdk/protocol-math.ts";
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
  if (s.params.consensusRule === ConsensusRule.WeightedMedian) return { checked: false, conserved };
  const revealedScores = round.members.filter((m) => m.revealed).map((m) => BigInt(m.score!));
  const consensus = aggregate(s.params.consensusRule, revealedScores, revealedScores.map(() => 1n), BigInt(s.params.trimBps));
  const split = rewardSplit(
    task.fee,
    consensus,
    round.members.map((m) => BigInt(m.score ?? 0)),
    round.members.map((m) => m.revealed),
    {
      validatorPoolBps: BigInt(s.params.validatorPoolBps),
      providerFloor: BigInt(s.params.providerFloor),
      tolerance: BigInt(s.params.tolerance),
      refundBps: BigInt(s.params.refundBps),
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
