import {
  getContract,
  type Account,
  type Address,
  type Chain,
  type PublicClient,
  type Transport,
  type WalletClient,
} from "viem";
import {
  evaluatorRegistryAbi,
  mockERC20Abi,
  relayBatcherAbi,
  settlementMathAbi,
  stakeRegistryAbi,
  taskMarketAbi,
} from "./abi.ts";
import type { DeploymentManifest } from "./deployment.ts";

export { evaluatorRegistryAbi, mockERC20Abi, relayBatcherAbi, settlementMathAbi, stakeRegistryAbi, taskMarketAbi };

/**
 * Clients for typed contract instances: reads go through `public`, writes through `wallet`. Pass `{ public }` for a
 * read-only instance or `{ public, wallet }` to also get `.write` (the wallet's account signs).
 */
export type ProtocolClients = { public: PublicClient; wallet: SigningWalletClient } | { public: PublicClient };

/** A wallet client with its chain and account fixed, so writes need no per-call account/chain. */
export type SigningWalletClient = WalletClient<Transport, Chain, Account>;

export function getTaskMarket<const C extends ProtocolClients>(address: Address, client: C) {
  return getContract({ address, abi: taskMarketAbi, client });
}

export function getStakeRegistry<const C extends ProtocolClients>(address: Address, client: C) {
  return getContract({ address, abi: stakeRegistryAbi, client });
}

export function getEvaluatorRegistry<const C extends ProtocolClients>(address: Address, client: C) {
  return getContract({ address, abi: evaluatorRegistryAbi, client });
}

/** The stake/fee token, typed with the mock's ABI (a superset of ERC-20: only call `mint` on the mock). */
export function getToken<const C extends ProtocolClients>(address: Address, client: C) {
  return getContract({ address, abi: mockERC20Abi, client });
}

/** All protocol contracts of a deployment manifest. */
export function getProtocolContracts<const C extends ProtocolClients>(manifest: DeploymentManifest, clients: C) {
  return {
    token: getToken(manifest.contracts.token, clients),
    stakeRegistry: getStakeRegistry(manifest.contracts.stakeRegistry, clients),
    evaluatorRegistry: getEvaluatorRegistry(manifest.contracts.evaluatorRegistry, clients),
    taskMarket: getTaskMarket(manifest.contracts.taskMarket, clients),
  };
}

/** Role enum of IStakeRegistry. */
export const Role = { None: 0, Provider: 1, Validator: 2 } as const;
/** Status enum of ITaskMarket. */
export const TaskStatus = { None: 0, Assigned: 1, Answered: 2, Committee: 3, Finalized: 4, Refunded: 5 } as const;
/** RefundReason enum of ITaskMarket. */
export const RefundReason = { NoProvider: 0, NoCommittee: 1, NoQuorum: 2, Declined: 3 } as const;

/** What TaskMarket.claim() leaves of a credit: 1 wei stays in claimable(account) (still the account's credit, paid
 * out with the next claim) so that the credit slot never returns to zero and the next payout to it is cheaper. */
export const CLAIM_KEEPS_WEI = 1n;
/** What claim() transfers now of `credit` (claimable(account)): all of it but CLAIM_KEEPS_WEI; 0 = it would revert. */
export const claimableNow = (credit: bigint): bigint => (credit > CLAIM_KEEPS_WEI ? credit - CLAIM_KEEPS_WEI : 0n);
