import { privateKeyToAccount, type PrivateKeyAccount } from "viem/accounts";
import type { Hex } from "viem";
import type { Logger } from "../observe/logger.ts";
import { decryptKeystore, KeystoreError, readPasswordFile } from "./keystore.ts";
import { promptPassword } from "./prompt.ts";

/** The only environment variable that may hold a raw key, and only with `--dev`. */
export const DEV_PRIVATE_KEY_ENV = "POQ_DEV_PRIVATE_KEY";

export interface LoadSignerParameters {
  keystorePath: string;
  passwordFile?: string;
  /** Local development mode (`--dev`): allows a raw key from POQ_DEV_PRIVATE_KEY, with a loud warning. */
  dev?: boolean;
  env?: NodeJS.ProcessEnv;
  logger: Logger;
  /** Password source when no password file is set; the terminal prompt by default. */
  prompt?: (question: string) => Promise<string>;
}

/**
 * Loads the daemon's signing account. Production path: encrypted keystore + password file or prompt. A raw
 * key in the environment is refused unless `dev` is set (RELIABILITY.md: keys in env vars leak via process
 * listings, crash dumps and CI logs).
 */
export async function loadSigner({
  keystorePath,
  passwordFile,
  dev = false,
  env = process.env,
  logger,
  prompt = promptPassword,
}: LoadSignerParameters): Promise<PrivateKeyAccount> {
  const rawKey = env[DEV_PRIVATE_KEY_ENV];
  if (rawKey !== undefined && rawKey !== "") {
    if (!dev) {
      throw new KeystoreError(`${DEV_PRIVATE_KEY_ENV} is set but --dev is not: raw keys are for local development only`);
    }
    if (!/^0x[0-9a-fA-F]{64}$/.test(rawKey)) throw new KeystoreError(`${DEV_PRIVATE_KEY_ENV} must be 0x + 64 hex digits`);
    const account = privateKeyToAccount(rawKey as Hex);
    logger.warn(
      { address: account.address },
      `DEV MODE: signing with a raw private key from ${DEV_PRIVATE_KEY_ENV}. Never do this with real funds.`,
    );
    return account;
  }
  const password =
    passwordFile !== undefined ? readPasswordFile(passwordFile) : await prompt(`Password for ${keystorePath}: `);
  const account = await decryptKeystore(keystorePath, password);
  logger.info({ address: account.address, keystore: keystorePath }, "signer unlocked");
  return account;
}
