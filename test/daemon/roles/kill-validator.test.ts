import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { spawnTsChild, waitFor } from "../../helpers/child-process.ts";
import { STAKE } from "../../helpers/daemon.ts";
import { startTestNetwork, type TestNetwork } from "./helpers/network.ts";
import { roundSeats } from "./helpers/rounds.ts";
import { SaltStore } from "../../../daemon/store/salt-store.ts";
import { parseAttestationRecords } from "../../../sdk/attestation-record.ts";
import { TaskStatus } from "../../../sdk/contracts.ts";

const childUrl = new URL("./children/validator-daemon.ts", import.meta.url);

/**
 * The worst moment to lose a validator: its commit is on chain, its reveal is not. The daemon is SIGKILLed
 * there and restarted; from its salt store (and the queue in Redis) it must reveal in time and not be slashed.
 */
describe("validator SIGKILLed between commit and reveal", () => {
  let net: TestNetwork;
  before(async () => {
    net = await startTestNetwork();
  });
  after(async () => {
    await net?.close();
  });

  it("reveals after a restart, in time, from its salt store", async () => {
    await net.startProvider([{ url: net.chat.base("ok"), timeoutMs: 5_000 }]);
    for (let i = 0; i < 4; i++) await net.startValidator();
    const account = await net.validatorAccount();
    const configPath = await net.validatorConfig(account);
    const stateDir = path.join(path.dirname(configPath), "state");
    const env = { POQ_TEST_CHILD: "validator-daemon" };
    const lines: string[] = [];
    const first = spawnTsChild(childUrl, [configPath], (l) => lines.push(l), env);
    await waitFor(() => lines.some((l) => l.startsWith("ready")) || first.child.exitCode !== null, 30_000, "the child validator to start");
    assert.ok(lines.some((l) => l.startsWith(`ready ${account.address}`)), first.stderr());
    await net.startBlocks();

    const taskId = await net.createTask();
    const mine = async () => (await roundSeats(net, taskId, 0)).find((m) => m.account === account.address);
    await waitFor(async () => (await mine())?.committed === true, 30_000, "the child's commit");
    first.child.kill("SIGKILL");
    await first.exited;
    const task = await net.contracts.taskMarket.read.task([taskId]);
    assert.ok((await net.chain.publicClient.getBlockNumber()) <= task.commitEnd, "killed inside the commit phase");
    assert.equal((await mine())!.revealed, false, "killed before its reveal");
    const saved = new SaltStore(stateDir).get(String(taskId), 0);
    assert.equal(saved?.commitment, (await mine())!.commitment, "the committed salt is on disk");

    const restartLines: string[] = [];
    const second = spawnTsChild(childUrl, [configPath], (l) => restartLines.push(l), env);
    try {
      await waitFor(async () => (await net.contracts.taskMarket.read.task([taskId])).status === TaskStatus.Finalized, 60_000, `finalization ${second.stderr()}`);
      const member = (await mine())!;
      assert.equal(member.revealed, true, "the restarted validator revealed");
      assert.equal(member.score, saved!.score);
      assert.equal((await net.contracts.stakeRegistry.read.stakeInfo([account.address])).amount, STAKE, "not slashed");
      await waitFor(() => new SaltStore(stateDir).get(String(taskId), 0)?.revealedTxHash !== undefined, 10_000, "the salt marked revealed");
      // The attestation is published after the salt is marked revealed (it is signed in between): wait for it too.
      const file = path.join(stateDir, "attestations.jsonl");
      await waitFor(() => existsSync(file) && readFileSync(file, "utf8").trim() !== "", 10_000, "the attestation published");
      const published = parseAttestationRecords(readFileSync(file, "utf8"));
      assert.deepEqual(published.map((r) => [r.taskId, r.score]), [[taskId, saved!.score]]);
    } finally {
      second.child.kill("SIGTERM");
      await second.exited;
    }
  });
});
