// Every mistake a user can fix ends the real `poq` process with one line on stderr, the documented exit code
// (1 failure, 64 usage) and no stack trace, within a bounded time (a supervisor must see a failed start).
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import http from "node:http";
import net from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { after, before, describe, it } from "node:test";
import type { Hex } from "viem";
import { parseEther } from "viem";
import { loadManifest, manifestId } from "../../../daemon/evaluation/manifest.ts";
import { ensureGeneratedModel } from "../../../scripts/models/generated-models.ts";
import { startTestChain, type TestChain } from "../../helpers/chain.ts";
import { createTestAccount, createTestTask, deployTestProtocol, writeDaemonConfig, type TestProtocol } from "../../helpers/daemon.ts";
import { freePort, startTestRedis, type TestRedis } from "../../helpers/redis.ts";

const POQ = fileURLToPath(new URL("../../../daemon/cli/poq.ts", import.meta.url));
const REPO = fileURLToPath(new URL("../../../", import.meta.url));

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** The real entry point, as a user runs it; `pipeTo` runs `poq ... | <pipeTo>` in bash and reports poq's exit code. */
function poq(args: string[], options: { env?: NodeJS.ProcessEnv; pipeTo?: string; timeoutMs?: number } = {}): Promise<Run> {
  const quoted = args.map((a) => `'${a.replace(/'/g, "'\\''")}'`).join(" ");
  const [command, argv] = options.pipeTo === undefined
    ? [process.execPath, ["--import", "tsx", POQ, ...args]]
    : ["bash", ["-c", `set -o pipefail; '${process.execPath}' --import tsx '${POQ}' ${quoted} | ${options.pipeTo} >/dev/null; echo "poq exit \${PIPESTATUS[0]}" >&2`]];
  return new Promise((resolve, reject) => {
    const child = spawn(command, argv, { cwd: REPO, env: { ...process.env, POQ_DEPLOYMENT: "", POQ_RPC_URL: "", ...options.env }, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (c: Buffer) => (stdout += c.toString()));
    child.stderr.on("data", (c: Buffer) => (stderr += c.toString()));
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`poq ${args.join(" ")} did not exit within ${options.timeoutMs ?? 60_000} ms (stderr: ${stderr})`));
    }, options.timeoutMs ?? 60_000);
    child.once("exit", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/**
 * One `poq: ...` line (config warnings may precede it), no stack frame anywhere. A usage error is commander's
 * `error: ...` line plus its one-line pointer to --help.
 */
function assertOneLine(run: Run, pattern: RegExp, where: string) {
  assert.doesNotMatch(run.stderr, /^\s+at /m, `${where}: printed a stack trace:\n${run.stderr}`);
  const lines = run.stderr.trim().split("\n").filter((l) => !l.startsWith("warning:") && l !== "(add --help for usage)");
  assert.equal(lines.length, 1, `${where}: expected one line, got:\n${run.stderr}`);
  assert.match(lines[0]!, /^(poq|error): /, where);
  assert.match(lines[0]!, pattern, where);
}

describe("poq: errors a user can fix (table-driven, real process)", () => {
  let chain: TestChain;
  let redis: TestRedis;
  let protocol: TestProtocol;
  let dir: string;
  let evaluatorDir: string;
  let closedPort: number;
  let busy: net.Server;
  let busyPort: number;
  let fakeMainnet: http.Server;
  let fakeMainnetUrl: string;
  let configOf: (name: string, overrides: Record<string, unknown>, fundWei?: bigint) => Promise<string>;

  before(async () => {
    [chain, redis] = await Promise.all([startTestChain(), startTestRedis()]);
    evaluatorDir = ensureGeneratedModel("generated-tiny-int8");
    protocol = await deployTestProtocol(chain, { evaluatorIds: [manifestId(await loadManifest(evaluatorDir)) as Hex] });
    dir = mkdtempSync(path.join(tmpdir(), "poq-cli-errors-"));
    closedPort = await freePort();
    busy = net.createServer();
    await new Promise<void>((r) => busy.listen(0, "127.0.0.1", r));
    busyPort = (busy.address() as net.AddressInfo).port;
    // A JSON-RPC endpoint that says it is Ethereum mainnet (chain 1): what `dev fund` must refuse.
    fakeMainnet = http.createServer((req, res) => {
      let body = "";
      req.on("data", (c) => (body += c));
      req.on("end", () => {
        const { id } = JSON.parse(body) as { id: number };
        res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ jsonrpc: "2.0", id, result: "0x1" }));
      });
    });
    await new Promise<void>((r) => fakeMainnet.listen(0, "127.0.0.1", r));
    fakeMainnetUrl = `http://127.0.0.1:${(fakeMainnet.address() as net.AddressInfo).port}`;
    configOf = async (name, overrides, fundWei) => {
      const { configPath } = await writeDaemonConfig({
        chain, redisUrl: redis.url, fundWei,
        config: { deployment: protocol.manifestPath, roles: { validator: { evaluatorDir } }, ...overrides } as never,
      });
      return configPath;
    };
    // Tasks with long prompts: `audit export` prints well over a pipe buffer, so `| head` really closes early.
    await createTestAccount(chain, protocol, { role: "provider", models: ["m"] });
    for (let i = 0; i < 12; i++) await createTestTask(chain, protocol, "m", manifestId(await loadManifest(evaluatorDir)) as Hex, `${i} ${"long prompt ".repeat(600)}`);
  });
  after(async () => {
    busy?.close();
    fakeMainnet?.close();
    await chain?.close();
    await redis?.dispose();
  });

  it("one line, the right exit code, no stack trace, for each case", async () => {
    const deployment = ["--deployment", protocol.manifestPath];
    const down = `http://127.0.0.1:${closedPort}`;
    const badManifest = path.join(dir, "bad-deployment.json");
    writeFileSync(badManifest, "{ not json");
    const draftOnly = path.join(dir, "draft-evaluator");
    mkdirSync(draftOnly);
    writeFileSync(path.join(draftOnly, "manifest.draft.json"), "{}");
    const rpcDownConfig = await configOf("rpc-down", { chain: { chainId: chain.chainId, rpcUrls: [down] } });
    const cases: { name: string; args: string[]; code: number; err: RegExp; stdout?: RegExp; timeoutMs?: number }[] = [
      { name: "job get, RPC down", args: ["job", "get", "1", ...deployment, "--rpc-url", down], code: 1, err: /cannot reach the RPC endpoint http:\/\/127\.0\.0\.1:\d+/ },
      { name: "stake, RPC down", args: ["-c", rpcDownConfig, "stake", "10", "--role", "validator"], code: 1, err: /cannot reach the RPC endpoint/ },
      { name: "stake, no ETH for gas", args: ["-c", await configOf("poor", {}), "stake", "10", "--role", "validator"], code: 1, err: /has 0 ETH, and the approve and stake need up to [\d.]+ ETH of gas: fund it first \(on a local dev chain: `poq dev fund`/ },
      { name: "stake, no tokens", args: ["-c", await configOf("no-tokens", {}, parseEther("1")), "stake", "10", "--role", "validator"], code: 1, err: /holds 0 POQ, less than the 10 POQ to stake/ },
      { name: "validator start, RPC down", args: ["-c", rpcDownConfig, "validator", "start"], code: 1, err: /cannot reach the RPC endpoint/, timeoutMs: 90_000 },
      { name: "validator start, wrong chain", args: ["-c", await configOf("wrong-chain", { chain: { chainId: 1, rpcUrls: [chain.httpUrl] } }), "validator", "start"], code: 1, err: /chain/ },
      { name: "validator start, metrics port taken", args: ["-c", await configOf("port-taken", { observe: { port: busyPort } }, parseEther("1")), "validator", "start"], code: 1, err: new RegExp(`127\\.0\\.0\\.1:${busyPort} is already in use`) },
      { name: "validator start, Redis down", args: ["-c", await configOf("redis-down", { redis: { url: `redis://127.0.0.1:${closedPort}` } }), "validator", "start"], code: 1, err: /Redis at redis:\/\/127\.0\.0\.1:\d+ does not answer/ },
      { name: "validator start, evaluator folder with only a draft manifest", args: ["-c", await configOf("draft", { roles: { validator: { evaluatorDir: draftOnly } } }), "validator", "start"], code: 1, err: /evaluator in .*draft-evaluator: cannot read manifest/ },
      { name: "config check, evaluator folder with only a draft manifest", args: ["-c", await configOf("draft-check", { roles: { validator: { evaluatorDir: draftOnly } } }), "config", "check"], code: 1, err: /evaluator in .*draft-evaluator/ },
      { name: "config check, evaluator not registered on this chain", args: ["-c", await configOf("unregistered-check", { roles: { validator: { evaluatorDir: path.join(REPO, "models/use-lite") } } }), "config", "check"], code: 1, err: /evaluator use-lite in .* has id 0x[0-9a-f]{64}, which is not registered and active in the EvaluatorRegistry/ },
      { name: "validator start, evaluator not registered on this chain", args: ["-c", await configOf("unregistered", { roles: { validator: { evaluatorDir: path.join(REPO, "models/use-lite") } } }), "validator", "start"], code: 1, err: /evaluator 0x[0-9a-f]{64} is not registered and active on-chain/ },
      { name: "validator start --steps bogus", args: ["-c", await configOf("steps", {}), "validator", "start", "--steps", "bogus"], code: 64, err: /bogus/ },
      { name: "audit serve, bad port", args: ["audit", "serve", ...deployment, "--rpc-url", chain.httpUrl, "--port", "99999"], code: 64, err: /TCP port from 0 to 65535/ },
      { name: "audit serve, taken port", args: ["audit", "serve", ...deployment, "--rpc-url", chain.httpUrl, "--port", String(busyPort)], code: 1, err: /is already in use/ },
      { name: "audit export --out into a missing folder", args: ["audit", "export", ...deployment, "--rpc-url", chain.httpUrl, "--out", "/nope/x.json"], code: 1, err: /no such file or folder: \/nope\/x\.json/ },
      { name: "job post --prompt-file missing", args: ["job", "post", ...deployment, "--rpc-url", chain.httpUrl, "--model", "m", "--fee", "1", "--prompt-file", "/nope/prompt.txt"], code: 1, err: /no such file or folder: \/nope\/prompt\.txt/ },
      { name: "keys import --private-key-file missing", args: ["keys", "import", "--dir", dir, "--private-key-file", "/nope/key"], code: 1, err: /no such file or folder: \/nope\/key/ },
      { name: "models fetch, missing manifest", args: ["models", "fetch", "/nope/manifest.json", "--out", path.join(dir, "m")], code: 1, err: /no such file or folder: \/nope\/manifest\.json/ },
      { name: "status, malformed deployment manifest", args: ["-c", await configOf("bad-manifest", { deployment: badManifest }), "status"], code: 1, err: /some dependencies are down/, stdout: /deployment .* INVALID/ },
      { name: "keys list --dir missing", args: ["keys", "list", "--dir", "/nope"], code: 1, err: /no such folder: \/nope/ },
      { name: "dev fund on a chain that is not a dev chain", args: ["dev", "fund", "0x000000000000000000000000000000000000dEaD", ...deployment, "--rpc-url", fakeMainnetUrl], code: 1, err: /refusing: chain 1 is not a local dev chain/ },
    ];
    for (const c of cases) {
      const run = await poq(c.args, { timeoutMs: c.timeoutMs });
      if (process.env.POQ_TEST_DEBUG) console.error(c.name, run);
      assert.equal(run.code, c.code, `${c.name}: exit code (stderr: ${run.stderr})`);
      assertOneLine(run, c.err, c.name);
      if (c.stdout) assert.match(run.stdout, c.stdout, c.name);
    }
  });

  it("`audit export | head` stops quietly when the reader goes away; `--out` says what it wrote", async () => {
    const piped = await poq(["audit", "export", "--deployment", protocol.manifestPath, "--rpc-url", chain.httpUrl], { pipeTo: "head -c 100" });
    assert.doesNotMatch(piped.stderr, /EPIPE|Error|\s+at /, piped.stderr);
    assert.match(piped.stderr, /poq exit 0/);
    const out = path.join(dir, "export.json");
    const written = await poq(["audit", "export", "--deployment", protocol.manifestPath, "--rpc-url", chain.httpUrl, "--out", out]);
    assert.equal(written.code, 0, written.stderr);
    assert.match(written.stdout, /^wrote 12 task\(s\) from blocks \d+-\d+ to .*export\.json\n$/);
  });
});
