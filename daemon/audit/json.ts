import { terminalSafeJson } from "../cli/visible-text.ts";

/**
 * JSON with bigints as decimal strings (token amounts and ids exceed 2^53); the one encoder of audit output. Bidi
 * and C1 characters, which JSON.stringify leaves raw, are \u-escaped so the text is safe in a terminal.
 */
export function toJson(value: unknown, indent?: number): string {
  return terminalSafeJson(JSON.stringify(value, (_key, v) => (typeof v === "bigint" ? v.toString() : v), indent));
}
