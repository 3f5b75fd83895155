/** Small text helpers shared by the evaluators and the cheap checks. */

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

/**
 * Replaces lone UTF-16 surrogates (invalid UTF-8 decoded leniently, or a string cut mid-pair) with U+FFFD,
 * as String.prototype.toWellFormed does (not in this project's TypeScript lib yet).
 */
export function wellFormed(text: string): string {
  return text.replace(LONE_SURROGATE, "\uFFFD");
}

/** Coerces anything a caller might pass as text (undefined, numbers from loose JSON) to a string. */
export function asText(value: unknown): string {
  return typeof value === "string" ? value : value === undefined || value === null ? "" : String(value);
}
