import { keccak256, type Hex } from "viem";

/** Why an answer cannot be scored on its merits; each is scored as worthless (0) instead of refused. */
export type UnscorableReason = "uri-only" | "hash-mismatch" | "oversize" | "not-utf8";

/** The score every honest validator commits for an answer it cannot fetch or verify. */
export const WORTHLESS_SCORE = 0;

/**
 * Checks an answer before scoring, the same way on every validator (so the committee agrees on 0 and nobody is
 * slashed for abstaining): refusing one would make every honest member miss its reveal (a slash an attacking
 * provider could cause at will), so an answer given only as a URI is scored as worthless, as are bytes that do not
 * hash to the answer's output hash, more bytes than the market's maxOutputBytes, or text that is not UTF-8. The
 * market refuses the first three today (AnswerBytesRequired, OutputHashMismatch, OutputTooLarge), so only a node
 * serving a tampered AnswerSubmitted log gets there; the check stays because chain text is hostile. Fetching URIs is
 * not supported: a provider that wants to be paid answers inline.
 */
export function unscorableReason(answer: { output: Hex; outputHash: Hex }, maxOutputBytes: number): UnscorableReason | undefined {
  if (answer.output === "0x") return "uri-only";
  if (keccak256(answer.output).toLowerCase() !== answer.outputHash.toLowerCase()) return "hash-mismatch";
  if ((answer.output.length - 2) / 2 > maxOutputBytes) return "oversize";
  try {
    new TextDecoder("utf-8", { fatal: true }).decode(Buffer.from(answer.output.slice(2), "hex"));
  } catch {
    return "not-utf8";
  }
  return undefined;
}
