import { existsSync, readFileSync } from "node:fs";
import type { Command } from "commander";
import { CliExit, type CliIo } from "../io.ts";

// Heavy modules (ethers, viem) load inside the actions, so `poq --help` and other commands start fast.
const keystore = () => import("../../keys/keystore.ts");
const prompt = () => import("../../keys/prompt.ts");

const LIGHT_SCRYPT_N = 2 ** 12;

async function newPassword(passwordFile: string | undefined): Promise<string> {
  const { readPasswordFile, KeystoreError } = await keystore();
  if (passwordFile !== undefined) return readPasswordFile(passwordFile);
  const { promptPassword } = await prompt();
  const first = await promptPassword("New keystore password: ");
  const second = await promptPassword("Repeat the password: ");
  if (first !== second) throw new KeystoreError("The two passwords differ");
  return first;
}

export function registerKeysCommands(program: Command, io: CliIo): void {
  const keys = program.command("keys").description("Create, import and list encrypted keystores (scrypt JSON, as geth and ethers write them)");
  const dirOption = ["--dir <dir>", "folder holding the keystores", "keys"] as const;
  const passwordOption = ["--password-file <file>", "file with the password (mode 0600); prompts without it"] as const;
  // Like geth's --lightkdf: for throw-away dev and test keys only, never for a staked key.
  const lightKdfOption = ["--light-kdf", "weaker, faster scrypt (N=2^12) for throw-away dev/test keys"] as const;
  const scryptN = async (light?: boolean) => (light === true ? LIGHT_SCRYPT_N : (await keystore()).DEFAULT_SCRYPT_N);

  keys
    .command("new")
    .description("Generate a new key and write it as an encrypted keystore (mode 0600, never overwrites)")
    .option(...dirOption)
    .option(...passwordOption)
    .option(...lightKdfOption)
    .action(async (opts: { dir: string; passwordFile?: string; lightKdf?: boolean }) => {
      const password = await newPassword(opts.passwordFile);
      const { createKeystore } = await keystore();
      const { address, file } = await createKeystore({ dir: opts.dir, password, scryptN: await scryptN(opts.lightKdf) });
      io.out(`address  ${address}\nkeystore ${file}\nBack up the keystore and its password: a lost key cannot unstake.`);
    });

  keys
    .command("import")
    .description("Encrypt an existing private key into a keystore (read from a file or a no-echo prompt, never from the command line)")
    .option(...dirOption)
    .option(...passwordOption)
    .option(...lightKdfOption)
    .option("--private-key-file <file>", "file whose first line is the 0x-prefixed private key")
    .action(async (opts: { dir: string; passwordFile?: string; privateKeyFile?: string; lightKdf?: boolean }) => {
      const privateKey =
        opts.privateKeyFile !== undefined
          ? (readFileSync(opts.privateKeyFile, "utf8").split(/\r?\n/)[0] ?? "")
          : await (await prompt()).promptPassword("Private key (0x...): ");
      const password = await newPassword(opts.passwordFile);
      const { importPrivateKey } = await keystore();
      const { address, file } = await importPrivateKey({ dir: opts.dir, privateKey, password, scryptN: await scryptN(opts.lightKdf) });
      io.out(`address  ${address}\nkeystore ${file}`);
    });

  keys
    .command("list")
    .description("List the keystores in a folder and the address each holds")
    .option(...dirOption)
    .action(async (opts: { dir: string }) => {
      if (!existsSync(opts.dir)) throw new CliExit(1, `no such folder: ${opts.dir}`);
      const found = (await keystore()).listKeystores(opts.dir);
      if (found.length === 0) io.out(`no keystores in ${opts.dir}`);
      for (const k of found) io.out(`${k.address}  ${k.file}`);
    });
}
