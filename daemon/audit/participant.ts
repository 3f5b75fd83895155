import { getAddress, type Address } from "viem";
import {
  providerJobs,
  summarizeProvider,
  summarizeValidator,
  validatorSeats,
  type ProviderJob,
  type ProviderSummary,
  type ValidatorSeat,
  type ValidatorSummary,
} from "./agreement.ts";
import { readClaims, readHistory, readRole } from "./chain-reader.ts";
import type { AuditChain } from "./connect.ts";
import { UnknownAddressError } from "./errors.ts";

export interface Claims {
  /** Withdrawn so far (Claimed events). */
  claimed: bigint;
  /** Credited and not yet withdrawn. */
  claimable: bigint;
}

export interface ProviderAudit {
  kind: "provider";
  role: "none" | "provider" | "validator";
  summary: ProviderSummary;
  jobs: ProviderJob[];
  claims: Claims;
}

export interface ValidatorAudit {
  kind: "validator";
  role: "none" | "provider" | "validator";
  summary: ValidatorSummary;
  seats: ValidatorSeat[];
  claims: Claims;
}

/**
 * An address's history in one role over [fromBlock, head]. UnknownAddressError when it has neither a stake in that
 * role nor any task in the range: a typo should say so, not print an empty table.
 */
export async function auditParticipant(
  chain: AuditChain,
  kind: "provider" | "validator",
  address: Address,
  options: { fromBlock?: bigint } = {},
): Promise<ProviderAudit | ValidatorAudit> {
  address = getAddress(address);
  const history = await readHistory(chain, { fromBlock: options.fromBlock });
  const [role, claims] = await Promise.all([readRole(chain, address), readClaims(chain, address, history.head)]);
  if (kind === "provider") {
    const jobs = providerJobs(history.tasks, address);
    if (jobs.length === 0 && role !== "provider") throw unknown(address, kind, role);
    return { kind, role, summary: summarizeProvider(address, jobs), jobs, claims };
  }
  const seats = validatorSeats(history.tasks, address);
  if (seats.length === 0 && role !== "validator") throw unknown(address, kind, role);
  return { kind, role, summary: summarizeValidator(address, seats), seats, claims };
}

function unknown(address: Address, kind: string, role: string): UnknownAddressError {
  const staked = role === "none" ? "has no stake" : `is staked as a ${role}, not a ${kind},`;
  return new UnknownAddressError(`${address} ${staked} and appears in no task as a ${kind}`);
}
