import { keccak256, type Hex } from "viem";

/** Why an answer cannot be scored on its merits; each is scored as worthless (0) instead of refused. */
export type UnscorableReason = "uri-only" | "hash-mismatch" | "oversize" | "not-utf8";

/** The score every honest validator commits for an answer it cannot fetch or verify. */
export const WORTHLESS_SCORE = 0;

/**
 * Checks an answer before scoring, the same way on every validator (so the committee agrees on 0 and nobody is
 * slashed for abstaining). The contracts accept an answer given only as a URI, with any output hash; refusing
 * it would make every honest member miss its reveal (a slash an attacking provider could cause at will), so it
 * is scored as worthless, as are bytes that do not hash to the answer's output hash (the market refuses such an
 * answer, so only a node serving a tampered AnswerSubmitted log gets here), more bytes than the market's
 * maxOutputBytes, or text that is not UTF-8. Fetching URIs is not supported: a provider that wants to be paid
 * answers inline.
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
