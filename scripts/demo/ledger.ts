// Who earned and lost what in the demo, read back from the chain: the settlement of every job (through the SDK),
// stake slashes (StakeRegistry.Slashed), and the market's own credit ledger (claimed + claimable) as a cross-check.
import type { Address, PublicClient } from "viem";
import type { JobResult } from "../../sdk/client.ts";
import { getProtocolContracts } from "../../sdk/contracts.ts";
import type { DeploymentManifest } from "../../sdk/deployment.ts";
import type { Participant, ParticipantKind } from "./network.ts";

export interface ProviderLine {
  name: string;
  kind: ParticipantKind;
  address: Address;
  /** Jobs this provider's answer was settled on. */
  tasks: number;
  /** Mean consensus score of those jobs (basis points), null when it settled none. */
  avgScore: number | null;
  earned: bigint;
  slashed: bigint;
}

export interface ValidatorLine {
  name: string;
  kind: ParticipantKind;
  address: Address;
  /** Jobs on whose final committee it sat. */
  committees: number;
  revealed: number;
  /** Reveals within the market's tolerance of the consensus (paid). */
  paid: number;
  earned: bigint;
  slashed: bigint;
}

export interface Ledger {
  tasks: number;
  finalized: number;
  refunded: number;
  providers: ProviderLine[];
  validators: ValidatorLine[];
  /** Sum of the fees escrowed by the jobs. */
  escrowIn: bigint;
  /** Sum of every credit the jobs' settlements and refunds paid out (provider, validators, requester, treasury). */
  creditsOut: bigint;
  /** Of creditsOut: the treasury's share (unpaid provider share, unpaid validator pool, rounding dust). */
  treasuryShare: bigint;
  requesterRefunds: bigint;
  /** Stake slashed (non-reveals, provider timeouts): credited to the treasury on top of the fees. */
  slashedTotal: bigint;
  /** The market's own books: claimed + still claimable by every account, and its token balance. */
  books: { credited: bigint; marketBalance: bigint; unclaimed: bigint };
}

const same = (a: string, b: string) => a.toLowerCase() === b.toLowerCase();

export async function buildLedger(manifest: DeploymentManifest, publicClient: PublicClient, participants: Participant[], results: JobResult[], requester: Address): Promise<Ledger> {
  const { stakeRegistry, taskMarket, token } = getProtocolContracts(manifest, { public: publicClient });
  // Everything is read at one block: the daemons keep claiming while this runs.
  const at = await publicClient.getBlockNumber({ cacheTime: 0 });
  const range = { fromBlock: BigInt(manifest.deployBlock), toBlock: at };
  const [slashes, claims] = await Promise.all([stakeRegistry.getEvents.Slashed({}, range), taskMarket.getEvents.Claimed({}, range)]);
  const slashedOf = (a: Address) => slashes.filter((e) => same(e.args.staker!, a)).reduce((sum, e) => sum + e.args.amount!, 0n);

  const providers = participants.filter((p) => p.role === "provider").map((p): ProviderLine => {
    const mine = results.filter((r) => r.status === "Finalized" && same(r.task.provider, p.address));
    const earned = mine.reduce((sum, r) => sum + r.payouts!.provider, 0n);
    const avg = mine.length === 0 ? null : Math.round(mine.reduce((sum, r) => sum + r.consensus!, 0) / mine.length);
    return { name: p.name, kind: p.kind, address: p.address, tasks: mine.length, avgScore: avg, earned, slashed: slashedOf(p.address) };
  });
  const validators = participants.filter((p) => p.role === "validator").map((p): ValidatorLine => {
    const seats = results.flatMap((r) => r.payouts?.validators.filter((v) => same(v.account, p.address)) ?? []);
    return {
      name: p.name, kind: p.kind, address: p.address, committees: seats.length,
      revealed: seats.filter((s) => s.revealed).length,
      paid: seats.filter((s) => s.pay > 0n).length,
      earned: seats.reduce((sum, s) => sum + s.pay, 0n),
      slashed: slashedOf(p.address),
    };
  });

  let creditsOut = 0n, treasuryShare = 0n, requesterRefunds = 0n;
  for (const r of results) {
    if (r.payouts !== undefined) {
      const p = r.payouts;
      creditsOut += p.provider + p.requesterRefund + p.treasury + p.validators.reduce((sum, v) => sum + v.pay, 0n);
      treasuryShare += p.treasury;
      requesterRefunds += p.requesterRefund;
    }
    if (r.refund !== undefined) {
      creditsOut += r.refund.amount + r.refund.treasury;
      requesterRefunds += r.refund.amount;
      treasuryShare += r.refund.treasury;
    }
  }

  // The market's books, independent of the event arithmetic above: everyone's claimed + claimable credits.
  const accounts = [requester, manifest.treasury, ...participants.map((p) => p.address)];
  const claimable = await Promise.all(accounts.map((a) => taskMarket.read.claimable([a], { blockNumber: at })));
  const unclaimed = claimable.reduce((a, b) => a + b, 0n);
  const claimed = claims.reduce((sum, e) => sum + e.args.amount!, 0n);
  const marketBalance = await token.read.balanceOf([manifest.contracts.taskMarket], { blockNumber: at });
  return {
    tasks: results.length,
    finalized: results.filter((r) => r.status === "Finalized").length,
    refunded: results.filter((r) => r.status === "Refunded").length,
    providers,
    validators,
    escrowIn: results.reduce((sum, r) => sum + r.task.fee, 0n),
    creditsOut,
    treasuryShare,
    requesterRefunds,
    slashedTotal: slashes.reduce((sum, e) => sum + e.args.amount!, 0n),
    books: { credited: claimed + unclaimed, marketBalance, unclaimed },
  };
}
