// The README's first command, `bash scripts/setup.sh && npm run demo`, on a machine without redis-server: run with
// stand-ins for apt-get, sudo, id and npx on PATH (the real ones would change this machine), checking what it runs.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { chmodSync, mkdtempSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { describe, it } from "node:test";

const SETUP = fileURLToPath(new URL("../../scripts/setup.sh", import.meta.url));

/** A PATH holding only stand-ins that log their arguments (and `dirname`), without redis-server or chromium. */
function fakeMachine(options: { uid: number; apt: boolean; redis?: boolean }) {
  const bin = mkdtempSync(path.join(tmpdir(), "poq-setup-"));
  const log = path.join(bin, "calls.log");
  const stub = (name: string, body: string) => {
    writeFileSync(path.join(bin, name), `#!/bin/bash\n${body}\n`);
    chmodSync(path.join(bin, name), 0o755);
  };
  stub("id", `echo ${options.uid}`);
  stub("sudo", `echo "sudo $*" >> ${log}; "$@"`);
  stub("npx", `echo "npx $* ONNXRUNTIME_NODE_INSTALL=$ONNXRUNTIME_NODE_INSTALL" >> ${log}`);
  if (options.apt) stub("apt-get", `echo "apt-get $*" >> ${log}`);
  if (options.redis) stub("redis-server", "exit 0");
  symlinkSync(spawnSync("bash", ["-c", "command -v dirname"]).stdout.toString().trim(), path.join(bin, "dirname"));
  const run = spawnSync("/bin/bash", [SETUP], { env: { PATH: bin }, encoding: "utf8" });
  let calls = "";
  try {
    calls = readFileSync(log, "utf8");
  } catch {
    // nothing was called
  }
  return { ...run, calls };
}

describe("scripts/setup.sh: the README's one-line install", () => {
  it("not root: installs redis-server and chromium with sudo apt-get, then npm ci on Node 22 without the GPU download", () => {
    const r = fakeMachine({ uid: 1000, apt: true });
    assert.equal(r.status, 0, r.stderr);
    const calls = r.calls.trim().split("\n");
    assert.deepEqual(calls.slice(0, 4), [
      "sudo apt-get update -qq", "apt-get update -qq",
      "sudo apt-get install -y -qq --no-install-recommends redis-server chromium", "apt-get install -y -qq --no-install-recommends redis-server chromium",
    ]);
    assert.equal(calls[4], "npx -y -p node@22.23.3 -- npm ci --no-audit --no-fund --loglevel=error ONNXRUNTIME_NODE_INSTALL=skip");
  });

  it("root: the same without sudo", () => {
    const r = fakeMachine({ uid: 0, apt: true });
    assert.equal(r.status, 0, r.stderr);
    assert.doesNotMatch(r.calls, /sudo/);
    assert.match(r.calls, /^apt-get install -y -qq --no-install-recommends redis-server chromium$/m);
  });

  it("no apt-get: asks for redis-server in one line and stops; with redis-server it goes on without chromium", () => {
    const bare = fakeMachine({ uid: 1000, apt: false });
    assert.equal(bare.status, 1);
    assert.match(bare.stderr, /^setup: please install redis-server with your package manager/);
    assert.equal(bare.calls, "", "nothing installed, npm not run");
    const withRedis = fakeMachine({ uid: 1000, apt: false, redis: true });
    assert.equal(withRedis.status, 0, withRedis.stderr);
    assert.match(withRedis.stdout, /dashboard's browser test will be skipped/);
    assert.match(withRedis.calls, /^npx -y -p node@22\.23\.3 -- npm ci/m);
  });
});
