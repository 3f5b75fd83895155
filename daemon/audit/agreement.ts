import { getAddress, type Address } from "viem";
import type { TaskRecord, TaskStatusName } from "./history.ts";

/** One committee seat of a validator (a task can give several if it rolled). */
export interface ValidatorSeat {
  taskId: bigint;
  round: number;
  /** Block of the settlement, or of the draw while unsettled. */
  block: bigint;
  status: TaskStatusName;
  /** The round is over (settled, rolled or refunded): a missing reveal is now a non-reveal. */
  concluded: boolean;
  revealed: boolean;
  score?: number;
  consensus?: number;
  deviation?: number;
  withinTolerance?: boolean;
  pay: bigint;
  slashed: bigint;
}

export interface ValidatorSummary {
  address: Address;
  seats: number;
  revealed: number;
  nonReveals: number;
  /** Seats in settled rounds where it revealed: the ones agreement is measured on. */
  scored: number;
  /** Share of scored seats with |score - consensus| < tolerance (null when nothing scored). */
  agreement: number | null;
  /** Mean |score - consensus| over scored seats (null when nothing scored). */
  meanAbsDeviation: number | null;
  earned: bigint;
  slashed: bigint;
}

export interface ProviderJob {
  taskId: bigint;
  status: TaskStatusName;
  /** Block of the settlement or refund, else of the creation. */
  block: bigint;
  answered: boolean;
  consensus?: number;
  pay: bigint;
  /** Slashed for missing the answer deadline of this task. */
  slashed: bigint;
}

export interface ProviderSummary {
  address: Address;
  jobs: number;
  answered: number;
  finalized: number;
  /** Mean consensus score of its finalized answers (null when none). */
  meanConsensus: number | null;
  earned: bigint;
  slashed: bigint;
}

const same = (a: Address, b: Address) => a.toLowerCase() === b.toLowerCase();
const mean = (values: number[]) => (values.length === 0 ? null : values.reduce((a, b) => a + b, 0) / values.length);

export function validatorSeats(tasks: readonly TaskRecord[], address: Address): ValidatorSeat[] {
  const seats: ValidatorSeat[] = [];
  for (const task of tasks) {
    const first = seats.length;
    for (const round of task.rounds) {
      const member = round.members.find((m) => same(m.validator, address));
      if (member === undefined) continue;
      const settled = task.settlement?.round === round.round ? task.settlement : undefined;
      const seat: ValidatorSeat = {
        taskId: task.taskId, round: round.round, block: settled?.at.block ?? round.drawBlock, status: task.status,
        concluded: settled !== undefined || round.rolled || task.status === "Refunded",
        revealed: member.revealed, score: member.score, pay: settled?.validatorPay[member.index] ?? 0n, slashed: member.slashed,
      };
      if (settled) {
        seat.consensus = settled.consensus;
        if (member.revealed) {
          seat.deviation = Math.abs(member.score! - settled.consensus);
          seat.withinTolerance = seat.deviation < task.params.tolerance;
        }
      }
      seats.push(seat);
    }
    // An equivocation is punished once per task: count it on the validator's last seat of that task.
    const equivocated = task.equivocations.filter((e) => same(e.validator, address)).reduce((a, e) => a + e.slashed, 0n);
    if (equivocated > 0n && seats.length > first) seats[seats.length - 1]!.slashed += equivocated;
  }
  return seats;
}

export function summarizeValidator(address: Address, seats: readonly ValidatorSeat[]): ValidatorSummary {
  const scored = seats.filter((s) => s.deviation !== undefined);
  return {
    address: getAddress(address),
    seats: seats.length,
    revealed: seats.filter((s) => s.revealed).length,
    nonReveals: seats.filter((s) => !s.revealed && s.concluded).length,
    scored: scored.length,
    agreement: scored.length === 0 ? null : scored.filter((s) => s.withinTolerance).length / scored.length,
    meanAbsDeviation: mean(scored.map((s) => s.deviation!)),
    earned: seats.reduce((a, s) => a + s.pay, 0n),
    slashed: seats.reduce((a, s) => a + s.slashed, 0n),
  };
}

export function providerJobs(tasks: readonly TaskRecord[], address: Address): ProviderJob[] {
  const jobs: ProviderJob[] = [];
  for (const task of tasks) {
    const slashed = task.timeouts.filter((t) => same(t.provider, address)).reduce((a, t) => a + t.slashed, 0n);
    const current = same(task.provider, address);
    if (!current && slashed === 0n) continue;
    const answered = current && task.answer !== undefined;
    jobs.push({
      taskId: task.taskId,
      status: task.status,
      block: task.settlement?.at.block ?? task.refund?.at.block ?? task.created.block,
      answered,
      consensus: current ? task.settlement?.consensus : undefined,
      pay: current ? (task.settlement?.providerPay ?? 0n) : 0n,
      slashed,
    });
  }
  return jobs;
}

export function summarizeProvider(address: Address, jobs: readonly ProviderJob[]): ProviderSummary {
  const finalized = jobs.filter((j) => j.consensus !== undefined);
  return {
    address: getAddress(address),
    jobs: jobs.length,
    answered: jobs.filter((j) => j.answered).length,
    finalized: finalized.length,
    meanConsensus: mean(finalized.map((j) => j.consensus!)),
    earned: jobs.reduce((a, j) => a + j.pay, 0n),
    slashed: jobs.reduce((a, j) => a + j.slashed, 0n),
  };
}

/** Every address that sat on a committee / served a task in `tasks`, in first-seen order. */
export function participants(tasks: readonly TaskRecord[]): { providers: Address[]; validators: Address[] } {
  const providers = new Map<string, Address>();
  const validators = new Map<string, Address>();
  for (const task of tasks) {
    for (const p of [task.provider, ...task.timeouts.map((t) => t.provider)]) providers.set(p.toLowerCase(), getAddress(p));
    for (const m of task.rounds.flatMap((r) => r.members)) validators.set(m.validator.toLowerCase(), getAddress(m.validator));
  }
  return { providers: [...providers.values()], validators: [...validators.values()] };
}
