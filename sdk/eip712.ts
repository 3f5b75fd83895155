import {
  parseSignature,
  recoverTypedDataAddress,
  serializeSignature,
  signatureToCompactSignature,
  compactSignatureToSignature,
  type Account,
  type LocalAccount,
  type Address,
  type Hex,
  type TypedDataDomain,
  type WalletClient,
} from "viem";

/** EIP-712 domain name and version of the TaskMarket (contracts/TaskSignatures.sol). */
export const EIP712_NAME = "PoQ TaskMarket";
export const EIP712_VERSION = "2"; // 2: relayed messages carry no nonce

/** The TaskMarket's domain: binds every message to one chain and one deployment. */
export function taskMarketDomain(chainId: number | bigint, market: Address): TypedDataDomain {
  return { name: EIP712_NAME, version: EIP712_VERSION, chainId: Number(chainId), verifyingContract: market };
}

export const commitTypes = {
  Commit: [
    { name: "taskId", type: "uint256" },
    { name: "round", type: "uint256" },
    { name: "commitment", type: "bytes32" },
    { name: "deadline", type: "uint256" },
  ],
} as const;

export const attestationTypes = {
  Attestation: [
    { name: "taskId", type: "uint256" },
    { name: "outputHash", type: "bytes32" },
    { name: "evaluatorId", type: "bytes32" },
    { name: "score", type: "uint16" },
  ],
} as const;

/** A member's commit, signed for a commit report (ITaskMarket.CommitReport). No nonce: it is single-use (one
 * commit per member, task and round), so messages of unrelated tasks never wait for each other. */
export type CommitMessage = {
  taskId: bigint;
  round: bigint;
  commitment: Hex;
  deadline: bigint; // unix seconds
}

/** A statement "I scored this output of this task with this evaluator": no nonce, signing two scores is slashable. */
export type AttestationMessage = {
  taskId: bigint;
  outputHash: Hex;
  evaluatorId: Hex;
  score: number;
}

/** A local account (private key, keystore) or a wallet client whose account signs (e.g. Hardhat's accounts). */
export type TypedDataSigner = LocalAccount | WalletClient;

function walletAccount(client: WalletClient): Account {
  if (!client.account) throw new Error("wallet client has no account to sign with");
  return client.account;
}

function isLocal(signer: TypedDataSigner): signer is LocalAccount {
  return "type" in signer && signer.type === "local";
}

export function signCommit(signer: TypedDataSigner, domain: TypedDataDomain, message: CommitMessage): Promise<Hex> {
  const typed = { domain, types: commitTypes, primaryType: "Commit", message } as const;
  return isLocal(signer) ? signer.signTypedData(typed) : signer.signTypedData({ ...typed, account: walletAccount(signer) });
}

/** An EIP-2098 compact signature as a commit report carries it (`bytes32[2]`: r, yParityAndS). */
export type CompactSignature = readonly [Hex, Hex];

/** The compact form of a 65-byte signature (what `commitReport` takes). */
export function toCompactSignature(signature: Hex): CompactSignature {
  const { r, yParityAndS } = signatureToCompactSignature(parseSignature(signature));
  return [r, yParityAndS];
}

/** The 65-byte form of a compact signature. */
export function fromCompactSignature([r, yParityAndS]: CompactSignature): Hex {
  return serializeSignature(compactSignatureToSignature({ r, yParityAndS }));
}

/** `signCommit`, in the compact form a commit report carries. */
export async function signCommitCompact(signer: TypedDataSigner, domain: TypedDataDomain, message: CommitMessage): Promise<CompactSignature> {
  return toCompactSignature(await signCommit(signer, domain, message));
}

export function signAttestation(
  signer: TypedDataSigner,
  domain: TypedDataDomain,
  message: AttestationMessage,
): Promise<Hex> {
  const typed = { domain, types: attestationTypes, primaryType: "Attestation", message } as const;
  return isLocal(signer) ? signer.signTypedData(typed) : signer.signTypedData({ ...typed, account: walletAccount(signer) });
}

export function recoverCommitSigner(domain: TypedDataDomain, message: CommitMessage, signature: Hex): Promise<Address> {
  return recoverTypedDataAddress({ domain, types: commitTypes, primaryType: "Commit", message, signature });
}


export function recoverAttestationSigner(
  domain: TypedDataDomain,
  message: AttestationMessage,
  signature: Hex,
): Promise<Address> {
  return recoverTypedDataAddress({ domain, types: attestationTypes, primaryType: "Attestation", message, signature });
}

/** True when `signature` is `expected`'s attestation of `message` in `domain` (address comparison is case-blind). */
export async function verifyAttestation(
  domain: TypedDataDomain,
  message: AttestationMessage,
  signature: Hex,
  expected: Address,
): Promise<boolean> {
  try {
    const signer = await recoverAttestationSigner(domain, message, signature);
    return signer.toLowerCase() === expected.toLowerCase();
  } catch {
    return false; // malformed signature: not a valid attestation
  }
}
