import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawnTsChild, waitFor } from "../../helpers/child-process.ts";

const childUrl = new URL("./children/shutdown-child.ts", import.meta.url);

async function runUntilReady(mode: string) {
  const lines: string[] = [];
  const run = spawnTsChild(childUrl, [mode], (l) => lines.push(l), { POQ_TEST_CHILD: "shutdown" });
  await waitFor(() => lines.includes("ready"), 15_000, `child ready ${run.stderr()}`);
  return { ...run, lines };
}

describe("runtime/installShutdownHandlers", () => {
  it("drains on SIGTERM and exits 0", async () => {
    const run = await runUntilReady("drain");
    run.child.kill("SIGTERM");
    assert.equal(await run.exited, 0, run.stderr());
    assert.ok(run.lines.includes("drained"));
  });

  it("exits 1 when stopping overruns the grace period, and at once on a second signal", async () => {
    const hung = await runUntilReady("hang");
    const started = Date.now();
    hung.child.kill("SIGTERM");
    assert.equal(await hung.exited, 1);
    assert.ok(Date.now() - started < 5_000);
    const impatient = await runUntilReady("hang");
    impatient.child.kill("SIGINT");
    await new Promise((r) => setTimeout(r, 50));
    impatient.child.kill("SIGINT");
    assert.equal(await impatient.exited, 130);
  });
});
