import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { gzipSync } from "node:zlib";
import { after, before, describe, it } from "node:test";
import { RELEVANCE_CASES } from "./helpers/pairs.ts";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../..");
const run = promisify(execFile);
const evalEvaluator = async (...args: string[]) => {
  const { stdout } = await run("npx", ["tsx", "scripts/eval-evaluator.ts", ...args], { cwd: ROOT });
  return JSON.parse(stdout.trim().split("\n").at(-1)!);
};

describe("eval:evaluator script", () => {
  let scratch: string;
  before(async () => {
    scratch = await mkdtemp(path.join(tmpdir(), "poq-eval-"));
    // A toy split in the hh-rlhf layout: preferred = on-topic reply, plus two records the script must skip.
    const dialogue = (prompt: string, reply: string) => `\n\nHuman: ${prompt}\n\nAssistant: ${reply}`;
    const records = [
      ...RELEVANCE_CASES.map((c) => ({ chosen: dialogue(c.prompt, c.relevant), rejected: dialogue(c.prompt, c.irrelevant) })),
      { chosen: dialogue("Hi", "Hello!"), rejected: dialogue("Hi", "Hello!") },
      { chosen: dialogue("Hi", "Hello!"), rejected: dialogue("Hey", "Hello!") },
    ];
    await mkdir(path.join(scratch, "hh-rlhf", "toy"), { recursive: true });
    await writeFile(path.join(scratch, "hh-rlhf", "toy", "test.jsonl.gz"), gzipSync(records.map((r) => JSON.stringify(r)).join("\n")));
  });
  after(() => rm(scratch, { recursive: true, force: true }));

  it("prints pairwise accuracy, ties and skips per dataset as JSON", async () => {
    const out = await evalEvaluator("--evaluator", "use-lite", "--datasets", scratch, "--limit", "0", "--json");
    const toy = out.datasets["hh-rlhf/toy"];
    assert.equal(out.evaluator, "use-lite");
    assert.match(out.id, /^0x[0-9a-f]{64}$/);
    assert.deepEqual({ n: toy.n, wins: toy.wins, losses: toy.losses, ties: toy.ties, skipped: toy.skipped }, { n: RELEVANCE_CASES.length, wins: RELEVANCE_CASES.length, losses: 0, ties: 0, skipped: 2 });
    assert.equal(toy.pairwise_accuracy, 1);
    assert.equal(toy.pearson, null);
  });

  it("skips with a clear message when the data is absent", async () => {
    const out = await evalEvaluator("--evaluator", "use-lite", "--datasets", path.join(scratch, "absent"), "--json");
    assert.match(out.skipped, /no hh-rlhf data/);
  });
});
