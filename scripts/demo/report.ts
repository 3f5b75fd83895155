// The demo's verdict: the protocol's expectations checked against the ledger, the final table, the JSON report.
import { visibleLines, visibleText } from "../../daemon/cli/visible-text.ts";
import { formatUnits } from "viem";
import type { Ledger } from "./ledger.ts";

export interface Expectation {
  name: string;
  ok: boolean;
  detail: string;
}

export function checkExpectations(l: Ledger): Expectation[] {
  const honestProvider = l.providers.find((p) => p.kind === "honest")!;
  const lazyProvider = l.providers.find((p) => p.kind === "lazy")!;
  const honestValidators = l.validators.filter((v) => v.kind === "honest");
  const lazyValidator = l.validators.find((v) => v.kind === "lazy")!;
  const silent = l.validators.find((v) => v.kind === "never-reveals")!;
  const honestSlashed = [honestProvider, ...honestValidators].filter((p) => p.slashed > 0n);
  const perSeat = (v: { earned: bigint; committees: number }) => v.earned / BigInt(v.committees);
  const seated = honestValidators.filter((v) => v.committees > 0);
  return [
    { name: "every job settled", ok: l.finalized + l.refunded === l.tasks, detail: `${l.finalized} finalized + ${l.refunded} refunded of ${l.tasks}` },
    { name: "honest provider earns more than the lazy one", ok: honestProvider.earned > lazyProvider.earned, detail: `${honestProvider.earned} > ${lazyProvider.earned}` },
    {
      // Per seat: with more validators than seats, committees differ in who sits on them, so totals compare luck.
      // A validator that sat on no committee has nothing to compare and is left out.
      name: "each honest validator earns more per committee seat than the lazy one",
      ok: seated.every((v) => lazyValidator.committees === 0 || perSeat(v) > perSeat(lazyValidator)),
      detail: `${seated.map((v) => perSeat(v)).join(", ")} > ${lazyValidator.committees === 0 ? "(no seat)" : perSeat(lazyValidator)}`,
    },
    { name: "the non-revealer is slashed and earns nothing", ok: silent.slashed > 0n && silent.earned === 0n, detail: `slashed ${silent.slashed}, earned ${silent.earned}` },
    { name: "no honest participant is slashed", ok: honestSlashed.length === 0, detail: honestSlashed.map((p) => p.name).join(", ") || "none" },
    { name: "conservation: escrow in == credits out", ok: l.escrowIn === l.creditsOut, detail: `${l.escrowIn} == ${l.creditsOut}` },
    {
      name: "the market's books agree (credited == credits out + slashes; balance == unclaimed)",
      ok: l.books.credited === l.creditsOut + l.slashedTotal && l.books.marketBalance === l.books.unclaimed,
      detail: `${l.books.credited} == ${l.creditsOut} + ${l.slashedTotal}; ${l.books.marketBalance} == ${l.books.unclaimed}`,
    },
  ];
}

export interface DemoReportInput {
  ledger: Ledger;
  expectations: Expectation[];
  token: { symbol: string; decimals: number };
  evaluator: string;
  wallTimeS: number;
  extraJobs: number;
  reassignments: number;
}

/** The --report JSON. Amounts are decimal strings of token base units (exact; JSON has no bigint). */
export function reportJson(r: DemoReportInput): Record<string, unknown> {
  const l = r.ledger;
  return {
    tasks: l.tasks,
    finalized: l.finalized,
    refunded: l.refunded,
    extraJobs: r.extraJobs,
    reassignments: r.reassignments,
    evaluator: r.evaluator,
    token: r.token,
    providers: l.providers.map((p) => ({ name: p.name, kind: p.kind, address: p.address, tasks: p.tasks, avgScore: p.avgScore, earned: p.earned.toString(), slashed: p.slashed.toString() })),
    validators: l.validators.map((v) => ({
      name: v.name, kind: v.kind, address: v.address, committees: v.committees, revealed: v.revealed, paid: v.paid,
      earned: v.earned.toString(), slashed: v.slashed.toString(),
    })),
    escrowIn: l.escrowIn.toString(),
    creditsOut: l.creditsOut.toString(),
    treasuryShare: l.treasuryShare.toString(),
    requesterRefunds: l.requesterRefunds.toString(),
    slashedTotal: l.slashedTotal.toString(),
    books: { credited: l.books.credited.toString(), marketBalance: l.books.marketBalance.toString(), unclaimed: l.books.unclaimed.toString() },
    expectations: r.expectations,
    ok: r.expectations.every((e) => e.ok),
    wallTimeS: r.wallTimeS,
  };
}

function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join("  ");
  return [line(header), widths.map((w) => "-".repeat(w)).join("  "), ...rows.map(line)].join("\n");
}

/** The final table printed at the end of the demo. */
export function renderSummary(r: DemoReportInput): string {
  const l = r.ledger;
  const fmt = (v: bigint) => `${Number(formatUnits(v, r.token.decimals)).toFixed(4)} ${r.token.symbol}`;
  const providers = table(
    ["provider", "jobs", "avg score", "earned", "slashed"],
    l.providers.map((p) => [`${p.name}`, String(p.tasks), p.avgScore === null ? "-" : `${p.avgScore} / 10000`, fmt(p.earned), fmt(p.slashed)]),
  );
  const validators = table(
    ["validator", "committees", "revealed", "paid", "earned", "slashed"],
    l.validators.map((v) => [v.name, String(v.committees), String(v.revealed), String(v.paid), fmt(v.earned), fmt(v.slashed)]),
  );
  const totals = table(
    ["protocol totals", "amount"],
    [
      ["escrow in (fees)", fmt(l.escrowIn)],
      ["credits out", fmt(l.creditsOut)],
      ["  of which requester refunds", fmt(l.requesterRefunds)],
      ["  of which treasury (unpaid + dust)", fmt(l.treasuryShare)],
      ["stake slashed (to treasury)", fmt(l.slashedTotal)],
    ],
  );
  const checks = r.expectations.map((e) => `${e.ok ? "PASS" : "FAIL"}  ${e.name}${e.ok ? "" : `  (${e.detail})`}`).join("\n");
  const head = `${l.tasks} jobs (${l.finalized} finalized, ${l.refunded} refunded), evaluator ${visibleText(r.evaluator)}, ${r.wallTimeS.toFixed(1)} s`;
  // The evaluator's name comes from its manifest file and the figures from the chain: all of it is made visible.
  return visibleLines([head, "", providers, "", validators, "", totals, "", checks].join("\n").split("\n"));
}
