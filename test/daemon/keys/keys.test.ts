import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { chmodSync, mkdtempSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { PassThrough } from "node:stream";
import { generatePrivateKey, privateKeyToAccount } from "viem/accounts";
import {
  KeystoreError,
  createKeystore,
  decryptKeystore,
  importPrivateKey,
  listKeystores,
  readPasswordFile,
} from "../../../daemon/keys/keystore.ts";
import { promptPassword } from "../../../daemon/keys/prompt.ts";
import { DEV_PRIVATE_KEY_ENV, loadSigner } from "../../../daemon/keys/signer.ts";
import { createLogger } from "../../../daemon/observe/logger.ts";

// Real scrypt keystores, at a lower cost than production (2^17) so the suite stays fast.
const scryptN = 2 ** 10;
const tempDir = () => mkdtempSync(path.join(tmpdir(), "poq-keys-"));

function captureLogger() {
  const lines: Record<string, unknown>[] = [];
  const destination = new PassThrough();
  destination.on("data", (c: Buffer) => String(c).split("\n").filter(Boolean).forEach((l) => lines.push(JSON.parse(l))));
  return { logger: createLogger({ destination }), lines };
}

describe("keys/keystore", () => {
  it("creates, lists and decrypts a scrypt keystore written with mode 0600", async () => {
    const dir = tempDir();
    const created = await createKeystore({ dir, password: "correct horse", scryptN });
    assert.equal(statSync(created.file).mode & 0o777, 0o600);
    const json = JSON.parse(readFileSync(created.file, "utf8"));
    const crypto = json.crypto ?? json.Crypto; // geth writes "crypto", ethers "Crypto"; both are valid v3
    assert.equal(crypto.kdf, "scrypt");
    assert.equal(crypto.kdfparams.n, scryptN);
    assert.deepEqual(listKeystores(dir), [{ address: created.address.toLowerCase(), file: created.file }]);
    const account = await decryptKeystore(created.file, "correct horse");
    assert.equal(account.address, created.address);
  });

  it("imports a private key and refuses bad input, short passwords and overwrites", async () => {
    const dir = tempDir();
    const key = generatePrivateKey();
    const imported = await importPrivateKey({ dir, privateKey: key.slice(2), password: "password123", scryptN });
    assert.equal(imported.address, privateKeyToAccount(key).address);
    assert.ok(!readFileSync(imported.file, "utf8").includes(key.slice(2)), "the key is stored encrypted only");
    await assert.rejects(importPrivateKey({ dir, privateKey: key, password: "password123", scryptN }), /already exists/);
    await assert.rejects(importPrivateKey({ dir, privateKey: "0x1234", password: "password123", scryptN }), KeystoreError);
    await assert.rejects(createKeystore({ dir, password: "short", scryptN }), /at least 8/);
  });

  it("reports a wrong password, a missing file and a non-keystore file as KeystoreError", async () => {
    const dir = tempDir();
    const { file } = await createKeystore({ dir, password: "right password", scryptN });
    await assert.rejects(decryptKeystore(file, "wrong password"), /wrong password/);
    await assert.rejects(decryptKeystore(path.join(dir, "missing.json"), "x"), /Cannot read keystore/);
    const other = path.join(dir, "other.json");
    writeFileSync(other, '{"hello":1}');
    await assert.rejects(decryptKeystore(other, "x"), /not an encrypted JSON keystore/);
    assert.equal(listKeystores(dir).length, 1, "non-keystore JSON files are not listed");
    assert.deepEqual(listKeystores(path.join(dir, "nope")), []);
  });

  it("reads password files only when other users cannot", () => {
    const file = path.join(tempDir(), "password.txt");
    writeFileSync(file, "s3cret pass\n", { mode: 0o644 });
    assert.throws(() => readPasswordFile(file), /chmod 600/);
    chmodSync(file, 0o600);
    assert.equal(readPasswordFile(file), "s3cret pass");
  });
});

describe("keys/prompt", () => {
  it("reads a line without echoing it, and refuses when there is no terminal", async () => {
    const input = Object.assign(new PassThrough(), { isTTY: true });
    const output = new PassThrough();
    let shown = "";
    output.on("data", (c: Buffer) => (shown += String(c)));
    const answer = promptPassword("Password: ", input, output);
    input.write("hunter2 hunter2\n");
    assert.equal(await answer, "hunter2 hunter2");
    assert.ok(shown.includes("Password: "));
    assert.ok(!shown.includes("hunter2"), "the password is not echoed");
    await assert.rejects(promptPassword("Password: ", Object.assign(new PassThrough(), { isTTY: false })), /POQ_PASSWORD_FILE/);
  });
});

describe("keys/loadSigner", () => {
  it("unlocks the keystore with the password file", async () => {
    const dir = tempDir();
    const { file, address } = await createKeystore({ dir, password: "file password", scryptN });
    const passwordFile = path.join(dir, "pw");
    writeFileSync(passwordFile, "file password\n", { mode: 0o600 });
    const { logger } = captureLogger();
    const account = await loadSigner({ keystorePath: file, passwordFile, logger, env: {} });
    assert.equal(account.address, address);
    const prompted = await loadSigner({ keystorePath: file, logger, env: {}, prompt: async () => "file password" });
    assert.equal(prompted.address, address);
  });

  it("accepts a raw env key only with --dev, and then warns loudly", async () => {
    const key = generatePrivateKey();
    const env = { [DEV_PRIVATE_KEY_ENV]: key };
    const { logger, lines } = captureLogger();
    await assert.rejects(loadSigner({ keystorePath: "/none", logger, env }), /--dev is not/);
    const account = await loadSigner({ keystorePath: "/none", logger, env, dev: true });
    assert.equal(account.address, privateKeyToAccount(key).address);
    await new Promise((r) => setImmediate(r));
    const warning = lines.find((l) => l.level === "warn");
    assert.ok(warning && String(warning.msg).includes("DEV MODE"), JSON.stringify(lines));
    assert.ok(!JSON.stringify(lines).includes(key.slice(2)), "the key itself is never logged");
  });
});
