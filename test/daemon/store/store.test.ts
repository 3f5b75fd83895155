import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { SaltStore, newSalt } from "../../../daemon/store/salt-store.ts";
import { EquivocationError, EquivocationGuard } from "../../../daemon/store/equivocation-guard.ts";
import { CursorStore } from "../../../daemon/store/cursor-store.ts";
import { NonceJournal } from "../../../daemon/store/nonce-journal.ts";
import { CorruptStateError, safeFileKey } from "../../../daemon/store/durable-file.ts";
import { spawnTsChild, waitFor } from "../../helpers/child-process.ts";

const tempState = () => mkdtempSync(path.join(tmpdir(), "poq-state-"));
const writerUrl = new URL("./children/state-writer.ts", import.meta.url);
const hash = (byte: string) => `0x${byte.repeat(32)}` as const;

describe("store/SaltStore", () => {
  it("saves, reads back and lists unrevealed salts", () => {
    const store = new SaltStore(tempState());
    const salt = newSalt();
    assert.match(salt, /^0x[0-9a-f]{64}$/);
    assert.notEqual(salt, newSalt());
    store.save({ taskId: "7", round: 0, score: 8100, salt, commitment: hash("cd") });
    store.save({ taskId: "8", round: 1, score: 10, salt: newSalt(), commitment: hash("ef") });
    assert.equal(store.get("7", 0)?.salt, salt);
    assert.equal(store.get("7", 1), undefined);
    store.markRevealed("7", 0, hash("aa"));
    assert.deepEqual(store.pendingReveals().map((r) => r.taskId), ["8"]);
    assert.equal(store.get("7", 0)?.revealedTxHash, hash("aa"));
  });

  it("keeps the first salt of a (task, round): a re-run job gets the saved record back, never a new salt", () => {
    const dir = tempState();
    const first = new SaltStore(dir).save({ taskId: "5", round: 1, score: 7000, salt: newSalt(), commitment: hash("11") });
    // A second writer (another process, or a stalled job's re-run) with a fresh salt and another score.
    const second = new SaltStore(dir).save({ taskId: "5", round: 1, score: 7100, salt: newSalt(), commitment: hash("22") });
    assert.deepEqual(second, first);
    assert.equal(new SaltStore(dir).get("5", 1)?.commitment, hash("11"));
  });

  it("refuses identifiers that are not safe file names", () => {
    assert.throws(() => safeFileKey("../etc/passwd"), TypeError);
    assert.throws(() => new SaltStore(tempState()).get("a/b", 0), TypeError);
  });

  it("raises CorruptStateError for a damaged file instead of guessing", () => {
    const dir = tempState();
    const store = new SaltStore(dir);
    writeFileSync(path.join(dir, "salts", "9_0.json"), '{"taskId":"9","sa');
    assert.throws(() => store.get("9", 0), CorruptStateError);
  });

  it("keeps every acknowledged salt, uncorrupted, when the writer is SIGKILLed mid-write", async () => {
    const dir = tempState();
    const acknowledged = new Map<string, string>();
    const { child, exited, stderr } = spawnTsChild(writerUrl, ["salts", dir], (line) => {
      const [, id, salt] = line.split(" ");
      acknowledged.set(id!, salt!);
    }, { POQ_TEST_CHILD: "state-writer" });
    await waitFor(() => acknowledged.size >= 150 || child.exitCode !== null, 20_000, "the writer to save 150 salts");
    assert.equal(child.exitCode, null, stderr());
    child.kill("SIGKILL");
    await exited;
    const store = new SaltStore(dir);
    for (const [id, salt] of acknowledged) assert.equal(store.get(id, 0)?.salt, salt, `salt of task ${id}`);
    // Every complete file parses; the only debris a kill may leave is a temp file, never a torn target.
    const files = readdirSync(path.join(dir, "salts"));
    const finals = files.filter((f) => f.endsWith(".json"));
    assert.ok(files.every((f) => f.endsWith(".json") || f.includes(".json.tmp-")), files.join(","));
    for (const f of finals) assert.ok(store.get(f.replace(/_0\.json$/, ""), 0)?.salt?.startsWith("0x"), f);
  });
});

describe("store/EquivocationGuard", () => {
  it("allows re-signing the same score and refuses a different one", () => {
    const guard = new EquivocationGuard(tempState());
    guard.checkAndRecord({ taskId: "1", outputHash: hash("11"), score: 5000 });
    guard.checkAndRecord({ taskId: "1", outputHash: hash("11"), score: 5000 });
    assert.throws(() => guard.checkAndRecord({ taskId: "1", outputHash: hash("11"), score: 5001 }), EquivocationError);
    assert.throws(() => guard.checkAndRecord({ taskId: "1", outputHash: hash("22"), score: 5000 }), EquivocationError);
    guard.checkAndRecord({ taskId: "2", outputHash: hash("11"), score: 1 });
    assert.equal(guard.recorded("1")?.score, 5000);
  });

  it("lets exactly one of two racing processes sign each task", async () => {
    const dir = tempState();
    const signed = new Map<string, string[]>();
    const onLine = (line: string) => {
      const [verdict, task, score] = line.split(" ");
      if (verdict === "signed") signed.set(task!, [...(signed.get(task!) ?? []), score!]);
    };
    const env = { POQ_TEST_CHILD: "state-writer" };
    const a = spawnTsChild(writerUrl, ["sign", dir, "100"], onLine, env);
    const b = spawnTsChild(writerUrl, ["sign", dir, "200"], onLine, env);
    assert.deepEqual(await Promise.all([a.exited, b.exited]), [0, 0], a.stderr() + b.stderr());
    const guard = new EquivocationGuard(dir);
    assert.equal(signed.size, 1000);
    for (const [task, scores] of signed) {
      assert.equal(scores.length, 1, `task ${task} was signed by both processes: ${scores}`);
      assert.equal(String(guard.recorded(task)?.score), scores[0]);
    }
  });
});

describe("store/CursorStore and NonceJournal", () => {
  it("round-trips a cursor with bigint block numbers", () => {
    const store = new CursorStore(tempState());
    assert.equal(store.load("0xabc"), undefined);
    const cursor = { block: { number: 2n ** 40n, hash: hash("01") }, checkpoints: [{ number: 5n, hash: hash("02") }] };
    store.save("0xabc", cursor);
    assert.deepEqual(store.load("0xabc"), cursor);
  });

  it("journals reserved nonces and their signed transactions until released", () => {
    const journal = new NonceJournal(tempState(), "0xAbC0000000000000000000000000000000000001");
    journal.reserve(4, "commit:1:0");
    journal.reserve(3, "reveal:0:0");
    journal.addSigned(4, "0x02f8", hash("aa"));
    journal.addSigned(4, "0x02f9", hash("bb"));
    assert.deepEqual(journal.pending().map((e) => e.nonce), [3, 4]);
    assert.deepEqual(journal.get(4)?.hashes, [hash("aa"), hash("bb")]);
    journal.release(3);
    journal.release(3);
    assert.deepEqual(journal.pending().map((e) => e.nonce), [4]);
    assert.throws(() => journal.addSigned(9, "0x", hash("cc")), /not reserved/);
  });
});
