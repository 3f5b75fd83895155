/**
 * The one sanitizer for text that came from the chain (prompts, answers, URIs), from other people's servers
 * (attestation sources, RPC error text) or from files someone else wrote (deployment and evaluator manifests),
 * before a human reads it in a terminal or the dashboard.
 *
 * Why: a requester controls the prompt and a provider controls the answer. Printed raw, ESC/CSI/OSC sequences
 * clear the screen, retitle the window or hide a "SLASHED" line; CR, BS and newlines overwrite or forge lines; and
 * bidirectional overrides make "gnp.exe" display as "exe.png". Every such character is replaced by a visible escape
 * (the same spelling as JSON: `\n`, `\u001b`, `\u202e`), so the text shows what is really there and cannot act on
 * the display. Nothing is dropped: the escape says which character it was.
 */

// C0 controls, DEL and C1 controls (0x80-0x9f: 8-bit CSI/OSC some terminals obey); Arabic letter mark; zero-width
// space/joiners and LRM/RLM; line/paragraph separators and the bidi embeddings/overrides (U+2028-U+202E); word
// joiner, invisible operators, bidi isolates and deprecated format characters (U+2060-U+206F); BOM; Unicode tags
// (invisible "ASCII smuggling" copies of letters).
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u061c\u200b-\u200f\u2028-\u202e\u2060-\u206f\ufeff\u{e0000}-\u{e007f}]/gu;
const NAMED: Record<string, string> = { "\n": "\\n", "\r": "\\r", "\t": "\\t", "\b": "\\b", "\f": "\\f" };

const escape = (char: string): string => {
  const code = char.codePointAt(0)!;
  return NAMED[char] ?? (code > 0xffff ? `\\u{${code.toString(16)}}` : `\\u${code.toString(16).padStart(4, "0")}`);
};

/** For one terminal line: every control, bidi and invisible format character becomes a visible escape. */
export function visibleText(text: string): string {
  return text.replace(UNSAFE, escape);
}

/**
 * For a block of text shown in the dashboard (HTML text nodes, `white-space: pre-wrap`): newlines and tabs stay
 * as layout, everything else unsafe is escaped as in visibleText. HTML cannot forge lines outside its own box.
 */
export function visibleBlock(text: string): string {
  return text.replace(UNSAFE, (char) => (char === "\n" || char === "\t" ? char : escape(char)));
}

/** Applies visibleBlock to every string inside a JSON-able value (the dashboard API's answers). */
export function visibleDeep<T>(value: T): T {
  if (typeof value === "string") return visibleBlock(value) as T;
  if (Array.isArray(value)) return value.map(visibleDeep) as T;
  if (value !== null && typeof value === "object" && typeof value !== "bigint") {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, visibleDeep(v)])) as T;
  }
  return value;
}

// JSON.stringify escapes C0 controls but leaves DEL, C1, bidi and invisible characters raw. They can only occur
// inside JSON strings, where \uXXXX is the same character to every parser: escaping them is lossless.
const UNSAFE_IN_JSON = /[\u007f-\u009f\u061c\u200b-\u200f\u2028-\u202e\u2060-\u206f\ufeff\u{e0000}-\u{e007f}]/gu;
const jsonEscape = (char: string): string =>
  [...Array(char.length).keys()].map((i) => `\\u${char.charCodeAt(i).toString(16).padStart(4, "0")}`).join("");

/** JSON text that is safe to print to a terminal and parses to exactly the same value. */
export function terminalSafeJson(json: string): string {
  return json.replace(UNSAFE_IN_JSON, jsonEscape);
}

/** Lines for a terminal: each sanitized, then joined (the only newlines left are the ones between lines). */
export function visibleLines(lines: readonly string[]): string {
  return lines.map(visibleText).join("\n");
}
