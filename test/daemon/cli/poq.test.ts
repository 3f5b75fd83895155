import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, renameSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { generatePrivateKey, privateKeyToAccount } from "viem/accounts";
import { runCli } from "../../../daemon/cli/poq.ts";
import { redactUrl } from "../../../daemon/cli/commands/status.ts";
import { createKeystore } from "../../../daemon/keys/keystore.ts";
import { queuePrefixFor } from "../../../daemon/queue/names.ts";
import { existsSync, readFileSync } from "node:fs";
import { createHash } from "node:crypto";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { startTestChain, type TestChain } from "../../helpers/chain.ts";
import { startTestRedis, type TestRedis } from "../../helpers/redis.ts";
import { spawnTsChild, waitFor } from "../../helpers/child-process.ts";
import { createTestAccount, deployTestProtocol, writeDaemonConfig, type TestProtocol } from "../../helpers/daemon.ts";
import { ensureGeneratedModel } from "../../../scripts/models/generated-models.ts";
import { loadManifest, manifestId } from "../../../daemon/evaluation/manifest.ts";
import { getProtocolContracts, type SigningWalletClient } from "../../../sdk/contracts.ts";
import { parseEther, type Hex, type PublicClient } from "viem";

async function cli(args: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runCli(args, { out: (s) => out.push(s), err: (s) => err.push(s) });
  return { code, out: out.join("\n"), err: err.join("\n") };
}

function configFile(dir: string, rpcUrls: string[], redisUrl: string, chainId: number): string {
  const file = path.join(dir, "poq.json");
  writeFileSync(file, JSON.stringify({
    chain: { chainId, rpcUrls }, redis: { url: redisUrl }, keys: { keystorePath: "keys/k.json" }, stateDir: "state",
    roles: { validator: { evaluatorDir: "models/e" } },
  }));
  return file;
}

describe("cli/poq", () => {
  let chain: TestChain;
  let redis: TestRedis;
  let protocol: TestProtocol;
  let evaluatorDir: string;
  before(async () => {
    [chain, redis] = await Promise.all([startTestChain(), startTestRedis()]);
    evaluatorDir = ensureGeneratedModel("generated-tiny-int8");
    protocol = await deployTestProtocol(chain, { evaluatorIds: [manifestId(await loadManifest(evaluatorDir)) as Hex] });
  });
  after(async () => {
    await chain?.close();
    await redis?.dispose();
  });

  it("has --help on every command", async () => {
    const commands = [["--help"], ["keys", "new", "--help"], ["validator", "start", "--help"], ["provider", "start", "--help"], ["status", "--help"],
      ["models", "fetch", "--help"], ["stake", "--help"], ["unstake", "--help"], ["withdraw", "--help"], ["claim", "--help"]];
    for (const args of commands) {
      const { code, out } = await cli(args);
      assert.equal(code, 0, args.join(" "));
      assert.match(out, /Usage: poq/);
    }
    assert.equal((await cli(["no-such-command"])).code, 64);
  });

  it("creates, imports and lists keystores from password files", async () => {
    const dir = mkdtempSync(path.join(tmpdir(), "poq-cli-keys-"));
    const passwordFile = path.join(dir, "pw");
    writeFileSync(passwordFile, "a long password\n", { mode: 0o600 });
    const created = await cli(["keys", "new", "--dir", path.join(dir, "ks"), "--password-file", passwordFile, "--light-kdf"]);
    assert.equal(created.code, 0, created.err);
    const address = /address\s+(0x[0-9a-fA-F]{40})/.exec(created.out)![1]!;
    const keyFile = path.join(dir, "key");
    const key = generatePrivateKey();
    writeFileSync(keyFile, `${key}\n`, { mode: 0o600 });
    const imported = await cli(["keys", "import", "--dir", path.join(dir, "ks"), "--password-file", passwordFile, "--private-key-file", keyFile, "--light-kdf"]);
    assert.equal(imported.code, 0, imported.err);
    const listed = await cli(["keys", "list", "--dir", path.join(dir, "ks")]);
    assert.ok(listed.out.includes(address.toLowerCase()));
    assert.ok(listed.out.includes(privateKeyToAccount(key).address.toLowerCase()));
    const file = /keystore\s+(\S+)/.exec(created.out)![1]!;
    assert.equal(statSync(file).mode & 0o777, 0o600);
    assert.equal(JSON.parse(readFileSync(file, "utf8")).Crypto.kdfparams.n, 2 ** 12, "--light-kdf");
    const loosePassword = path.join(dir, "loose");
    writeFileSync(loosePassword, "a long password\n", { mode: 0o644 });
    const refused = await cli(["keys", "new", "--dir", path.join(dir, "ks"), "--password-file", loosePassword, "--light-kdf"]);
    assert.equal(refused.code, 1);
    assert.match(refused.err, /chmod 600/);
  });

  it("status prints the config, each RPC head and Redis, and fails when a dependency is down", async () => {
    const dir = mkdtempSync(path.join(tmpdir(), "poq-cli-status-"));
    const noKeystore = await cli(["--config", configFile(dir, [chain.httpUrl], redis.url, chain.chainId), "status"]);
    assert.match(noKeystore.out, /failed jobs unknown: cannot read the keystore's address/);
    // With the keystore in place, status finds the daemon's queues under the prefix derived from its address.
    const keystore = await createKeystore({ dir: path.join(dir, "keys"), password: "status test password", scryptN: 2 ** 4 });
    renameSync(keystore.file, path.join(dir, "keys", "k.json"));
    const ok = await cli(["--config", configFile(dir, [chain.httpUrl, chain.wsUrl], redis.url, chain.chainId), "status"]);
    assert.equal(ok.code, 0, ok.out + ok.err);
    const head = await chain.publicClient.getBlockNumber();
    assert.match(ok.out, new RegExp(`rpc\\s+http://127\\.0\\.0\\.1:${chain.port} head ${head}`));
    assert.match(ok.out, /rpc\s+ws:\/\/127\.0\.0\.1:\d+ head \d+/);
    assert.match(ok.out, new RegExp(`redis\\s+redis://127\\.0\\.0\\.1:\\d+ ok, queues ${queuePrefixFor(keystore.address)}, 0 failed job`));
    const down = await cli(["--config", configFile(dir, [chain.httpUrl, "http://127.0.0.1:9"], redis.url, chain.chainId), "status"]);
    assert.equal(down.code, 1);
    assert.match(down.out, /127\.0\.0\.1:9 DOWN/);
    const wrongChain = await cli(["--config", configFile(dir, [chain.httpUrl], redis.url, 1), "status"]);
    assert.equal(wrongChain.code, 1);
    assert.match(wrongChain.out, /WRONG CHAIN/);
    assert.equal(redactUrl("https://mainnet.example.io/v3/SECRETKEY"), "https://mainnet.example.io/…");
  });

  it("validator start runs the role from the real entry point until SIGTERM, then drains and exits 0", async () => {
    const account = await createTestAccount(chain, protocol, { role: "validator" });
    const { configPath } = await writeDaemonConfig({ chain, redisUrl: redis.url, privateKey: account.privateKey, config: { deployment: protocol.manifestPath, roles: { validator: { evaluatorDir } } } });
    const run = spawnTsChild(new URL("../../../daemon/cli/poq.ts", import.meta.url), ["--config", configPath, "validator", "start"]);
    try {
      await waitFor(() => /validator running as/.test(run.stderr()) || run.child.exitCode !== null, 30_000, "the validator to start");
      const url = /health and metrics at (\S+)/.exec(run.stderr())?.[1];
      assert.ok(url, run.stderr());
      const health = (await (await fetch(`${url}/health`)).json()) as { ready: boolean; checks: Record<string, unknown> };
      assert.equal(health.ready, true);
      assert.deepEqual(Object.keys(health.checks).sort(), ["evaluator", "redis", "rpc"]);
      assert.equal((await fetch(`${url}/attestations`)).status, 200);
    } finally {
      run.child.kill("SIGTERM");
    }
    assert.equal(await run.exited, 0, run.stderr());
  });

  it("a role whose config also sets roles.relayer runs the relayer in the same process (one key, one sender); SIGTERM stops both", async () => {
    const account = await createTestAccount(chain, protocol, { role: "validator" });
    const { configPath } = await writeDaemonConfig({ chain, redisUrl: redis.url, privateKey: account.privateKey, config: { deployment: protocol.manifestPath, roles: { validator: { evaluatorDir }, relayer: { port: 0 } } } });
    const run = spawnTsChild(new URL("../../../daemon/cli/poq.ts", import.meta.url), ["--config", configPath, "validator", "start"]);
    try {
      await waitFor(() => /validator running as/.test(run.stderr()) || run.child.exitCode !== null, 30_000, "the validator to start");
      const relayerUrl = /relayer endpoint at (\S+)/.exec(run.stderr())?.[1];
      assert.ok(relayerUrl, run.stderr());
      const res = await fetch(`${relayerUrl}/relay/commit`, { method: "POST", body: JSON.stringify({ taskId: "1" }) });
      assert.equal(res.status, 400);
      assert.equal(((await res.json()) as { error: string }).error, "malformed");
    } finally {
      run.child.kill("SIGTERM");
    }
    assert.equal(await run.exited, 0, run.stderr());
  });

  it("role start refuses a config without the role, without a deployment, or unreadable, with clear errors", async () => {
    const dir = mkdtempSync(path.join(tmpdir(), "poq-cli-role-"));
    const file = configFile(dir, [chain.httpUrl], redis.url, chain.chainId);
    const noRole = await cli(["--config", file, "provider", "start"]);
    assert.equal(noRole.code, 1);
    assert.match(noRole.err, /does not enable roles.provider/);
    const noDeployment = await cli(["--config", file, "validator", "start"]);
    assert.equal(noDeployment.code, 1);
    assert.match(noDeployment.err, /no deployment/);
    const bad = await cli(["--config", path.join(dir, "missing.json"), "validator", "start"]);
    assert.equal(bad.code, 1);
    assert.match(bad.err, /Cannot read config file/);
  });

  it("stake, unstake, withdraw and claim send the transactions and name contract errors", async () => {
    const { configPath, address } = await writeDaemonConfig({ chain, redisUrl: redis.url, fundWei: parseEther("1"), config: { deployment: protocol.manifestPath, roles: { validator: { evaluatorDir } } } });
    const c = getProtocolContracts(protocol.manifest, { public: chain.publicClient as PublicClient, wallet: chain.walletClient as SigningWalletClient });
    await chain.publicClient.waitForTransactionReceipt({ hash: await c.token.write.mint([address, parseEther("500")]) });
    const mining = setInterval(() => void chain.mine(1), 100); // confirmations: 1
    try {
      const nothing = await cli(["--config", configPath, "claim"]);
      assert.equal(nothing.code, 0, nothing.err);
      assert.match(nothing.out, new RegExp(`nothing to claim for ${address}`, "i"));
      const usage = await cli(["--config", configPath, "stake", "100", "--role", "auditor"]);
      assert.equal(usage.code, 64);
      assert.match(usage.err, /must be "validator" or "provider"/);
      assert.equal((await cli(["--config", configPath, "stake", "lots", "--role", "validator"])).code, 64);
      const tooSmall = await cli(["--config", configPath, "stake", "1", "--role", "validator"]);
      assert.equal(tooSmall.code, 1);
      assert.match(tooSmall.err, /BelowMinStake\(/);
      const staked = await cli(["--config", configPath, "stake", "250.5", "--role", "validator"]);
      assert.equal(staked.code, 0, staked.err);
      assert.match(staked.out, /staked\s+250\.5 POQ as validator/);
      assert.equal((await c.stakeRegistry.read.stakeInfo([address])).amount, parseEther("250.5"));
      const unstaked = await cli(["--config", configPath, "unstake"]);
      assert.equal(unstaked.code, 0, unstaked.err);
      assert.match(unstaked.out, /withdraw from block \d+/);
      const early = await cli(["--config", configPath, "withdraw"]);
      assert.equal(early.code, 1);
      assert.match(early.err, /CooldownNotOver\(\d+\)/);
      assert.ok(!early.err.includes("    at "), "operator errors print no stack trace");
    } finally {
      clearInterval(mining);
    }
  });

  it("models fetch downloads a manifest's files through E2's fetchModel, verifying sha256", async () => {
    const content = Buffer.from("model bytes ".repeat(1000));
    let served = content;
    const server = http.createServer((_req, res) => res.writeHead(200, { "content-length": served.length }).end(served));
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    try {
      const dir = mkdtempSync(path.join(tmpdir(), "poq-cli-models-"));
      const manifestPath = path.join(dir, "manifest.json");
      writeFileSync(manifestPath, JSON.stringify({
        schema: 1, name: "tiny-test", kind: "cross-encoder",
        source: { type: "url", baseUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}` },
        files: [{ path: "model.bin", sha256: createHash("sha256").update(content).digest("hex"), size: content.length }],
        scoreMapping: { type: "linear", min: 0, max: 1, rawDecimals: 4 },
      }));
      const out = path.join(dir, "out");
      const first = await cli(["models", "fetch", manifestPath, "--out", out]);
      assert.equal(first.code, 0, first.err);
      assert.match(first.out, /fetched 1 file\(s\), kept 0/);
      assert.deepEqual(readFileSync(path.join(out, "model.bin")), content);
      assert.match((await cli(["models", "fetch", manifestPath, "--out", out])).out, /fetched 0 file\(s\), kept 1/);
      served = Buffer.alloc(content.length, "t");
      const tampered = await cli(["models", "fetch", manifestPath, "--out", path.join(dir, "other"), "--attempts", "1"]);
      assert.equal(tampered.code, 1);
      assert.match(tampered.err, /sha256/i);
      assert.ok(!tampered.err.includes("    at "), "operator errors print no stack trace");
      assert.equal((await cli(["models", "fetch", manifestPath, "--out", out, "--attempts", "0"])).code, 64);
      assert.ok(!existsSync(path.join(dir, "other", "model.bin")), "an unverified file never lands at its final path");
    } finally {
      server.close();
    }
  });
});
