import { readdirSync, readFileSync, statSync } from "node:fs";
import path from "node:path";
import { Wallet, encryptKeystoreJson, isKeystoreJson } from "ethers";
import { privateKeyToAccount, type PrivateKeyAccount } from "viem/accounts";
import type { Hex } from "viem";
import { createFileDurableExclusive, ensureDurableDir } from "../store/durable-file.ts";

/** scrypt cost that ethers and geth use by default (2^17): about a second to unlock, on purpose. */
export const DEFAULT_SCRYPT_N = 2 ** 17;

/** A keystore problem an operator must fix: missing or unreadable file, wrong password, not a keystore. */
export class KeystoreError extends Error {
  override name = "KeystoreError";
}

export interface KeystoreInfo {
  address: Hex;
  file: string;
}

export function keystoreFileName(address: string): string {
  return `keystore-${address.toLowerCase()}.json`;
}

async function writeKeystore(dir: string, wallet: Wallet, password: string, scryptN: number): Promise<KeystoreInfo> {
  if (password.length < 8) throw new KeystoreError("Keystore password must have at least 8 characters");
  ensureDurableDir(dir);
  const json = await encryptKeystoreJson({ address: wallet.address, privateKey: wallet.privateKey }, password, {
    scrypt: { N: scryptN },
  });
  const file = path.join(dir, keystoreFileName(wallet.address));
  // Never overwrite a keystore: that could destroy the only copy of a staked key. Written with mode 0600.
  if (!createFileDurableExclusive(file, json)) throw new KeystoreError(`Keystore ${file} already exists`);
  return { address: wallet.address as Hex, file };
}

export interface CreateKeystoreParameters {
  dir: string;
  password: string;
  /** Lower only in tests; production keystores use the default cost. */
  scryptN?: number;
}

/** Generates a new random key and writes it as an encrypted JSON keystore (scrypt, as ethers/geth write them). */
export async function createKeystore({ dir, password, scryptN = DEFAULT_SCRYPT_N }: CreateKeystoreParameters) {
  return writeKeystore(dir, Wallet.createRandom() as unknown as Wallet, password, scryptN);
}

/** Encrypts an existing private key (0x + 64 hex digits) into a keystore. */
export async function importPrivateKey({
  privateKey,
  ...rest
}: CreateKeystoreParameters & { privateKey: string }): Promise<KeystoreInfo> {
  const normalized = privateKey.trim().startsWith("0x") ? privateKey.trim() : `0x${privateKey.trim()}`;
  if (!/^0x[0-9a-fA-F]{64}$/.test(normalized)) throw new KeystoreError("Private key must be 32 bytes of hex");
  return writeKeystore(rest.dir, new Wallet(normalized), rest.password, rest.scryptN ?? DEFAULT_SCRYPT_N);
}

/** Keystores in a folder (files that parse as keystore JSON), with the address each one holds. */
export function listKeystores(dir: string): KeystoreInfo[] {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return [];
    throw error;
  }
  const out: KeystoreInfo[] = [];
  for (const name of names.filter((n) => n.endsWith(".json")).sort()) {
    const file = path.join(dir, name);
    const address = keystoreAddress(file);
    if (address !== undefined) out.push({ address, file });
  }
  return out;
}

/**
 * The address a keystore holds, read from its plaintext `address` field without decrypting (no password
 * needed); undefined when the file is not keystore JSON. Used to find a daemon's queues (poq status).
 */
export function keystoreAddress(file: string): Hex | undefined {
  const text = readFileSync(file, "utf8");
  if (!isKeystoreJson(text)) return undefined;
  const address = (JSON.parse(text) as { address: string }).address;
  return `0x${address.replace(/^0x/, "").toLowerCase()}` as Hex;
}

/** Decrypts a keystore into a viem account. Throws KeystoreError on a wrong password or a bad file. */
export async function decryptKeystore(file: string, password: string): Promise<PrivateKeyAccount> {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (error) {
    throw new KeystoreError(`Cannot read keystore ${file}: ${(error as Error).message}`, { cause: error });
  }
  if (!isKeystoreJson(text)) throw new KeystoreError(`${file} is not an encrypted JSON keystore`);
  try {
    const wallet = await Wallet.fromEncryptedJson(text, password);
    return privateKeyToAccount(wallet.privateKey as Hex);
  } catch (error) {
    throw new KeystoreError(`Cannot decrypt keystore ${file}: wrong password?`, { cause: error });
  }
}

/**
 * Reads a password file (first line, trailing newline removed). Refuses files other users can read: the
 * password next to the keystore is only as safe as the file's permissions.
 */
export function readPasswordFile(file: string): string {
  let mode: number;
  try {
    mode = statSync(file).mode;
  } catch (error) {
    throw new KeystoreError(`Cannot read password file ${file}: ${(error as Error).message}`, { cause: error });
  }
  if ((mode & 0o077) !== 0) {
    throw new KeystoreError(`Password file ${file} is readable by other users: run chmod 600 ${file}`);
  }
  const password = readFileSync(file, "utf8").split(/\r?\n/)[0] ?? "";
  if (password.length === 0) throw new KeystoreError(`Password file ${file} is empty`);
  return password;
}
