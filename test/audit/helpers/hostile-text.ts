// Text a requester (prompt) or a provider (answer) could put on-chain to fool a human reading it: terminal escape
// sequences, line forgers and bidirectional overrides. Every human output path is tested with these.

/** Each entry: what it tries, the raw text. */
export const HOSTILE_TEXTS = {
  clearScreen: "\u001b[2J\u001b[Hall clear",
  oscTitle: "\u001b]0;window title\u0007",
  osc8Link: "\u001b]8;;https://evil.example/\u001b\\click me\u001b]8;;\u001b\\",
  bell: "ding\u0007",
  backspace: "SLASHED\b\b\b\b\b\b\bpaid   ",
  carriageReturn: "real line\rforged line",
  newlineForgery: "fine\nconsensus   10000 / 10000",
  c1Csi: "\u009b31mred",
  del: "x\u007fy",
  rtlOverride: "invoice\u202egnp.exe",
  isolates: "\u2066a\u2067b\u2068c\u2069",
  zeroWidth: "pay\u200bpal",
  tagSmuggling: "hi\u{e0041}\u{e0042}",
} as const;

/** Prompt and answer that carry all of them at once. */
export const HOSTILE_PROMPT = Object.values(HOSTILE_TEXTS).join(" | ");
export const HOSTILE_ANSWER = `${HOSTILE_TEXTS.newlineForgery}\n${HOSTILE_TEXTS.carriageReturn} ${HOSTILE_TEXTS.clearScreen} ${HOSTILE_TEXTS.rtlOverride} ${HOSTILE_TEXTS.osc8Link}`;

/** Any character that can act on a terminal or reorder text; newlines are checked separately (they are ours). */
export const ACTIVE_CHARACTERS = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u061c\u200b-\u200f\u2028-\u202e\u2060-\u206f\ufeff\u{e0000}-\u{e007f}]/u;
