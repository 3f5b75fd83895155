import { z } from "zod";
import type { Address, Hex, TypedDataDomain } from "viem";
import { recoverCommitSigner } from "../../../sdk/eip712.ts";

/** The two kinds of message an aggregator gathers: signed commits (for one commitReport per committee) and
 * openings (for one revealReport, which settles the round). */
export type RelayKind = "commit" | "reveal";

const uint = z.string().regex(/^[0-9]{1,78}$/, "a decimal integer string").transform((v) => BigInt(v));
const bytes32 = z.string().regex(/^0x[0-9a-fA-F]{64}$/, "32 bytes as 0x-hex").transform((v) => v as Hex);
const signature = z.string().regex(/^0x[0-9a-fA-F]{130}$/, "a 65-byte signature as 0x-hex").transform((v) => v as Hex);
const seat = { taskId: uint, round: uint, index: uint };

/**
 * Wire format (JSON, integers as decimal strings): a member's signed commit (EIP-712 `Commit`, 65-byte signature;
 * the aggregator sends it in the compact form) or its opening (score and salt: no signature, the commitment binds
 * the member's address), plus the optional `sendBy`: the block at which the validator stops waiting and sends
 * alone (its relayFallbackBlocks before the phase ends). `sendBy` is not sent on chain: it only tells the
 * aggregator how long it may hold the item.
 */
const sendBy = { sendBy: uint.optional() };
const signedCommitSchema = z.object({ ...seat, commitment: bytes32, deadline: uint, signature, ...sendBy }).strict();
const signedRevealSchema = z.object({ ...seat, score: uint, salt: bytes32, ...sendBy }).strict();
export type SignedCommitItem = Omit<z.output<typeof signedCommitSchema>, "sendBy">;
export type SignedRevealItem = Omit<z.output<typeof signedRevealSchema>, "sendBy">;
export type SignedItem = SignedCommitItem | SignedRevealItem;

/** A message the relayer refused; `status` is the HTTP status it answers with. */
export class RelayRejectedError extends Error {
  override name = "RelayRejectedError";
  constructor(readonly status: number, readonly reason: string, message: string) {
    super(message);
  }
}

/** The item (what goes on chain) and the block it must be sent by, if the validator said. */
export function parseSignedItem(kind: RelayKind, body: unknown): { item: SignedItem; sendBy?: bigint } {
  const parsed = (kind === "commit" ? signedCommitSchema : signedRevealSchema).safeParse(body);
  if (!parsed.success) {
    throw new RelayRejectedError(400, "malformed", parsed.error.issues.map((i) => `${i.path.join(".") || "(body)"}: ${i.message}`).join("; "));
  }
  const { sendBy: by, ...item } = parsed.data;
  return { item, sendBy: by };
}

/** JSON wire form of an item (what a validator POSTs), with the block it falls back at. */
export function formatSignedItem(item: SignedItem, sendBy?: bigint): Record<string, string> {
  const fields = Object.fromEntries(Object.entries(item).map(([k, v]) => [k, typeof v === "bigint" ? v.toString() : String(v)]));
  return sendBy === undefined ? fields : { ...fields, sendBy: sendBy.toString() };
}

/** The address whose EIP-712 signature a commit carries. */
export function recoverCommitItemSigner(domain: TypedDataDomain, c: SignedCommitItem): Promise<Address> {
  return recoverCommitSigner(domain, { taskId: c.taskId, round: c.round, commitment: c.commitment, deadline: c.deadline }, c.signature);
}
