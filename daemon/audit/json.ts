/** JSON with bigints as decimal strings (token amounts and ids exceed 2^53); the one encoder of audit output. */
export function toJson(value: unknown, indent?: number): string {
  return JSON.stringify(value, (_key, v) => (typeof v === "bigint" ? v.toString() : v), indent);
}
