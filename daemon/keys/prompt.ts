import { createInterface } from "node:readline";
import { Writable } from "node:stream";
import { KeystoreError } from "./keystore.ts";

/**
 * Asks for a password on the terminal without echoing it. Fails (instead of hanging) when stdin is not a
 * terminal, e.g. under systemd: there a password file must be configured.
 */
export async function promptPassword(
  question: string,
  input: NodeJS.ReadableStream & { isTTY?: boolean } = process.stdin,
  output: NodeJS.WritableStream = process.stderr,
): Promise<string> {
  if (input.isTTY !== true) {
    throw new KeystoreError("No terminal to prompt for the keystore password: set keys.passwordFile (POQ_PASSWORD_FILE)");
  }
  output.write(question);
  // readline echoes what it reads to its output; a muted sink keeps the password off the screen.
  const muted = new Writable({ write: (_chunk, _encoding, done) => done() });
  const rl = createInterface({ input, output: muted, terminal: true });
  try {
    return await new Promise<string>((resolve) => rl.question("", resolve));
  } finally {
    rl.close();
    output.write("\n");
  }
}
