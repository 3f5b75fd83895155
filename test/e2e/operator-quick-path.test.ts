// docs/OPERATOR.md's "Quick path on the demo network", run line by line as a new operator would: against the demo
// network (`npm run demo -- --hold`'s network, with its export line), from a fresh folder, with the real `poq`
// program. Done when the new validator sits on a committee and reveals its score.
import assert from "node:assert/strict";
import { execFile, spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { after, before, describe, it } from "node:test";
import { promisify } from "node:util";
import { getAddress, parseEther, type Address } from "viem";
import { createPoqClient } from "../../sdk/client.ts";
import { getProtocolContracts } from "../../sdk/contracts.ts";
import { readRoundScores } from "../../sdk/rounds.ts";
import { operatorEnvironment } from "../../scripts/demo/hold.ts";
import { DEMO_MODEL, startDemoNetwork, type DemoNetwork } from "../../scripts/demo/network.ts";
import { waitFor } from "../helpers/child-process.ts";

const REPO = fileURLToPath(new URL("../../", import.meta.url));
const POQ = path.join(REPO, "daemon/cli/poq.ts");
const EVALUATOR_DIR = path.join(REPO, "models/use-lite-checked");
/** The tsx loader by URL: the operator's folder has no node_modules to resolve "tsx" from. */
const TSX = import.meta.resolve("tsx");

/** The shell lines between the quick-path markers, without the demo itself (this test runs it in-process). */
function quickPathLines(): string[] {
  const doc = readFileSync(path.join(REPO, "docs/OPERATOR.md"), "utf8");
  const block = /<!-- quick-path:start -->\s*```sh\n([\s\S]*?)```\s*<!-- quick-path:end -->/.exec(doc)?.[1];
  assert.ok(block, "docs/OPERATOR.md has the quick-path block");
  return block.split("\n").filter((line) => line.trim() !== "" && !line.startsWith("#") && !line.startsWith("npm run demo"));
}

/** `npm run poq --` is `tsx daemon/cli/poq.ts` run from the repository; here from the operator's own folder. */
const asShell = (line: string) => line.replace(/^npm run poq --/, `"${process.execPath}" --import "${TSX}" "${POQ}"`);

describe("docs/OPERATOR.md quick path, command by command, against the demo network", () => {
  let demo: DemoNetwork;
  let work: string;
  before(async () => {
    demo = await startDemoNetwork({ evaluatorDir: EVALUATOR_DIR, requesterFunds: parseEther("1000") });
    work = mkdtempSync(path.join(tmpdir(), "poq-operator-"));
  });
  after(async () => {
    await demo?.net.teardown.run();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it("funds, stakes, checks, starts a validator that is drawn and reveals", async () => {
    const lines = quickPathLines();
    const start = lines.findIndex((l) => / validator start/.test(l));
    assert.ok(start > 0, "the block ends by starting the validator");
    const setup = [
      "set -euo pipefail",
      // What the operator pastes from --hold's output.
      operatorEnvironment(demo, EVALUATOR_DIR),
      ...lines.slice(0, start).map(asShell),
    ].join("\n");
    const run = await promisify(execFile)("bash", ["-c", setup], { cwd: work, env: { ...process.env, FORCE_COLOR: "0" }, timeout: 240_000 }).catch((e: { stdout: string; stderr: string }) => {
      assert.fail(`a quick-path command failed:\n${e.stdout}\n${e.stderr}`);
    });
    assert.doesNotMatch(run.stderr, /^\s+at /m, run.stderr);
    assert.match(run.stdout, /evaluator .* files verified, registered and active on chain\nconfig ok/);
    assert.match(run.stdout, /^funded    0x[0-9a-fA-F]{40} on dev chain 31337: now 10 ETH and 1000000 POQ$/m);
    assert.match(run.stdout, /^staked    1000000 POQ as validator from (0x[0-9a-fA-F]{40})/m);
    assert.match(run.stdout, /^rpc .* head \d+$/m, "status: the RPC answers");
    const validator = getAddress(/^staked .* from (0x[0-9a-fA-F]{40})/m.exec(run.stdout)![1]!) as Address;

    // The last line: `validator start`, with the same environment, until SIGTERM.
    const startLine = [operatorEnvironment(demo, EVALUATOR_DIR), `export POQ_KEYSTORE=$(ls keys/keystore-*.json | head -n 1)`, `exec ${asShell(lines[start]!)}`].join("\n");
    const child = spawn("bash", ["-c", startLine], { cwd: work, stdio: ["ignore", "ignore", "pipe"] });
    let stderr = "";
    child.stderr.on("data", (c: Buffer) => (stderr += c.toString()));
    const exited = new Promise<number | null>((resolve) => child.once("exit", resolve));
    try {
      await waitFor(() => /chance of a seat/.test(stderr) || child.exitCode !== null, 120_000, "validator start to report its standing");
      assert.match(stderr, /^stake 1000000 POQ of 10000000 POQ staked by all 7 validators: about 58% chance of a seat on each task's committee of 5$/m, stderr);
      assert.doesNotMatch(stderr, /never be drawn/);

      // Jobs from the demo's requester until the new validator has revealed a score on one of them.
      const { publicClient } = demo.net.chain;
      const client = createPoqClient({ manifest: demo.net.manifest, publicClient, walletClient: demo.requester.wallet });
      const market = getProtocolContracts(demo.net.manifest, { public: publicClient, wallet: demo.requester.wallet }).taskMarket;
      const posted: bigint[] = [];
      for (let i = 0; i < 4; i++) posted.push((await client.postJob({ model: DEMO_MODEL, prompt: `Operator quick path question ${i}: why is the sea salty?`, fee: parseEther("10") })).taskId);
      await waitFor(async () => {
        const head = await publicClient.getBlockNumber();
        for (const id of posted) {
          const task = await market.read.task([id]);
          // The demo's lazy provider sometimes sends nothing: move such a task on, as the demo itself does.
          if (task.status === 1 && head > task.answerDeadline) await market.write.reassign([id]).catch(() => {});
          for (let round = 0; round <= task.round; round++) {
            // Seats and openings from the round's logs (the market keeps no member list); not drawn yet: none.
            const seats = await readRoundScores(publicClient, demo.net.manifest.contracts.taskMarket, id, round, BigInt(demo.net.manifest.deployBlock)).catch(() => []);
            if (seats.some((m) => getAddress(m.account) === validator && m.revealed)) return true;
          }
        }
        return false;
      }, 240_000, "the new validator to reveal a score on a committee");
    } finally {
      child.kill("SIGTERM");
    }
    assert.equal(await exited, 0, `validator start exits 0 on SIGTERM:\n${stderr}`);
  });
});
