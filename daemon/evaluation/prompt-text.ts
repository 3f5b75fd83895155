/**
 * How the cheap checks read a prompt: its words, and its own question as opposed to material it quotes.
 * Pure string functions with fixed regular expressions (no Unicode property classes), so every Node version agrees.
 */

/** Lower-cased words, split on whitespace and ASCII / typographic punctuation. */
export function words(text: string): string[] {
  return text.toLowerCase().split(/[\s.,;:!?()"“”'’\[\]{}<>*_`#|/\\-]+/).filter((w) => w.length > 0);
}

/** A line that opens the asker's turn in a transcript ("Human:", "User:") or a labelled question ("Question:", "Q:"). */
const ASKER_LABEL = /(?:^|\n)[ \t]*(?:human|user|question|q)[ \t]*:/gi;
/** A line that opens the answerer's turn; it ends the question. */
const ANSWERER_LABEL = /\n[ \t]*(?:assistant|ai|answer|a)[ \t]*:/i;

/**
 * The prompt's own question: in a dialogue transcript, the last turn of the human or user (earlier assistant turns
 * are not the question, and an assistant may repeat itself); after a "Question:" label, the text that follows it
 * (the context or article before it is source material). Without any such label, the whole prompt.
 */
export function promptQuestion(prompt: string): string {
  let start = -1;
  for (const match of prompt.matchAll(ASKER_LABEL)) start = match.index + match[0].length;
  if (start < 0) return prompt;
  const rest = prompt.slice(start);
  const end = ANSWERER_LABEL.exec(rest);
  return end === null ? rest : rest.slice(0, end.index);
}
