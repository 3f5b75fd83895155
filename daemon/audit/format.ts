import { formatUnits } from "viem";
import type { ProviderAudit, ValidatorAudit } from "./participant.ts";
import type { RescoreResult } from "./rescore.ts";
import type { TaskAudit } from "./task-audit.ts";
import { visibleLines } from "../cli/visible-text.ts";

/** How amounts print: the deployment's token decimals and symbol. */
export interface TokenFormat {
  decimals: number;
  symbol: string;
}

const amount = (value: bigint, token: TokenFormat) => `${formatUnits(value, token.decimals)} ${token.symbol}`;
const pct = (share: number | null) => (share === null ? "-" : `${(share * 100).toFixed(1)}%`);
const num = (value: number | null | undefined, digits = 0) => (value === null || value === undefined ? "-" : value.toFixed(digits));
/** Long texts on one line, clipped: the full text is in --json. Every line is made visible (visibleLines) at the end. */
const clip = (text: string, max = 160) => {
  const flat = text.replace(/\s+/g, " ").trim();
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
};

export function formatTaskAudit(a: TaskAudit, token: TokenFormat, rescore?: RescoreResult): string {
  const lines = [
    `task ${a.taskId}  ${a.status}  created block ${a.created.block}`,
    `requester  ${a.requester}   fee ${amount(a.fee, token)}`,
    `provider   ${a.provider}`,
    `evaluator  ${a.evaluatorId}`,
    `model      ${a.modelId}`,
    `prompt     ${clip(a.prompt)}`,
    `answer     ${a.answer ? (a.answer.text !== "" ? clip(a.answer.text) : `(uri) ${a.answer.uri}`) : "(none yet)"}`,
  ];
  for (const t of a.timeouts) lines.push(`timeout    ${t.provider} slashed ${amount(t.slashed, token)}`);
  for (const round of a.rounds) {
    lines.push(`round ${round.round}: drawn at block ${round.drawBlock}, commits to ${round.commitEnd}, reveals to ${round.revealEnd}${round.rolled ? " (below quorum: rolled)" : ""}`);
    for (const m of round.members) {
      const score = m.revealed ? String(m.score).padStart(5) : m.committed ? "  (no reveal)" : "  (no commit)";
      const parts = [`  #${m.index} ${m.validator} ${score}`];
      if (m.deviation !== undefined) parts.push(`dev ${m.deviation}${m.withinTolerance ? "" : " (out of tolerance)"}`);
      if (m.pay !== undefined) parts.push(`paid ${amount(m.pay, token)}`);
      if (m.slashed > 0n) parts.push(`SLASHED ${amount(m.slashed, token)}`);
      const att = m.attestation;
      if (att) parts.push(att.state === "missing" ? "no attestation found" : `attestation ${att.state}${att.detail ? ` (${att.detail})` : ""}`);
      lines.push(parts.join("  "));
    }
  }
  if (a.consensus !== undefined && a.payouts) {
    lines.push(`consensus  ${a.consensus} / 10000 (tolerance ${a.tolerance})`);
    lines.push(`payouts    provider ${amount(a.payouts.providerPay, token)}, requester refund ${amount(a.payouts.requesterRefund, token)}, treasury ${amount(a.payouts.treasuryShare, token)}, validators ${amount(a.payouts.validatorPay.reduce((x, y) => x + y, 0n), token)}`);
  }
  const check = a.settlementCheck;
  if (check) {
    const verdict = !check.checked ? "not re-computed (stake-weighted median)" : check.matches ? "matches the protocol math" : "DIFFERS from the protocol math";
    lines.push(`settlement ${verdict}; conservation ${check.conserved ? "exact" : "BROKEN"}`);
  }
  if (a.refund) {
    const rc = a.refundCheck;
    const verdict = rc === undefined ? "" : rc.matches ? "; matches the protocol math" : `; DIFFERS from the protocol math (expected ${amount(rc.expected, token)})`;
    const treasury = rc !== undefined && rc.treasury > 0n ? `, treasury ${amount(rc.treasury, token)}` : "";
    lines.push(`refunded   ${amount(a.refund.amount, token)} (${a.refund.reason})${treasury} at block ${a.refund.at.block}${verdict}`);
  }
  for (const e of a.equivocations) lines.push(`equivocation ${e.validator} slashed ${amount(e.slashed, token)}, reporter ${e.reporter}`);
  for (const s of a.attestationSources ?? []) if (s.error) lines.push(`warning    attestation source ${s.source}: ${s.error}`);
  if (rescore) {
    const verdict = rescore.agrees === undefined ? "(no consensus yet)" : rescore.agrees ? "AGREES with the consensus" : "DISAGREES with the consensus";
    lines.push(`rescore    ${rescore.evaluatorName}: local ${rescore.localScore}${rescore.deviation !== undefined ? `, |local - consensus| = ${rescore.deviation} (tolerance ${rescore.tolerance})` : ""} ${verdict}`);
  }
  return visibleLines(lines);
}

export function formatParticipant(a: ProviderAudit | ValidatorAudit, token: TokenFormat): string {
  const claims = `claimed ${amount(a.claims.claimed, token)}, claimable ${amount(a.claims.claimable, token)}`;
  if (a.kind === "provider") {
    const s = a.summary;
    const lines = [
      `provider ${s.address} (staked role: ${a.role})`,
      `jobs ${s.jobs}, answered ${s.answered}, finalized ${s.finalized}, mean consensus ${num(s.meanConsensus, 1)}`,
      `earned ${amount(s.earned, token)}, slashed ${amount(s.slashed, token)}; ${claims}`,
      "task     status      block   consensus  pay",
    ];
    for (const j of a.jobs) lines.push(`${String(j.taskId).padEnd(8)} ${j.status.padEnd(11)} ${String(j.block).padEnd(7)} ${num(j.consensus).padStart(9)}  ${amount(j.pay, token)}${j.slashed > 0n ? `  SLASHED ${amount(j.slashed, token)} (timeout)` : ""}`);
    return visibleLines(lines);
  }
  const s = a.summary;
  const lines = [
    `validator ${s.address} (staked role: ${a.role})`,
    `seats ${s.seats}, revealed ${s.revealed}, non-reveals ${s.nonReveals}, scored ${s.scored}`,
    `agreement ${pct(s.agreement)} within tolerance, mean |score - consensus| ${num(s.meanAbsDeviation, 1)}`,
    `earned ${amount(s.earned, token)}, slashed ${amount(s.slashed, token)}; ${claims}`,
    "task     round  score  consensus  dev   pay",
  ];
  for (const seat of a.seats) {
    const score = seat.revealed ? String(seat.score) : "-";
    lines.push(`${String(seat.taskId).padEnd(8)} ${String(seat.round).padEnd(6)} ${score.padStart(5)}  ${num(seat.consensus).padStart(9)}  ${num(seat.deviation).padStart(4)}  ${amount(seat.pay, token)}${seat.slashed > 0n ? `  SLASHED ${amount(seat.slashed, token)}` : ""}`);
  }
  return visibleLines(lines);
}
