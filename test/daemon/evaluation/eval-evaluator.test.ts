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

  it("prints every accuracy beside its random-weights control and length baseline, with n, ties and a 95% interval", async () => {
    const out = await evalEvaluator("--evaluator", "use-lite", "--datasets", scratch, "--limit", "0", "--json");
    const toy = out.datasets["hh-rlhf/toy"];
    assert.equal(out.evaluator, "use-lite");
    assert.match(out.id, /^0x[0-9a-f]{64}$/);
    assert.match(out.random_control_how, /generated-use-lite-random/);
    assert.deepEqual({ n: toy.n, skipped: toy.skipped }, { n: RELEVANCE_CASES.length, skipped: 2 });
    assert.deepEqual({ accuracy: toy.evaluator.accuracy, ties: toy.evaluator.ties }, { accuracy: 1, ties: 0 });
    const longerWins = RELEVANCE_CASES.map((c) => (c.relevant.length > c.irrelevant.length ? 1 : c.relevant.length < c.irrelevant.length ? 0 : 0.5));
    assert.equal(toy.length_baseline.accuracy, longerWins.reduce((a: number, b: number) => a + b, 0) / RELEVANCE_CASES.length);
    for (const figure of [toy.evaluator, toy.random_control, toy.length_baseline]) {
      assert.ok(figure.ci95[0] <= figure.accuracy && figure.accuracy <= figure.ci95[1], JSON.stringify(figure));
      assert.equal(figure.wins + figure.losses + figure.ties, toy.n);
    }
    assert.equal(toy.check_false_positive_rate, undefined, "a bare model has no checks");
  });

  it("reads pairwise JSONL given with --data, and reports a composite's check rates and inner model", async () => {
    const file = path.join(scratch, "mine.jsonl");
    const lines = [
      ...RELEVANCE_CASES.map((c) => JSON.stringify({ prompt: c.prompt, chosen: c.relevant, rejected: c.prompt })),
      JSON.stringify({ prompt: "Tell me a joke", chosen: "Why did the scarecrow win an award? He was outstanding in his field.", rejected: "Tell me a joke" }),
      "not json",
      JSON.stringify({ prompt: "p", chosen: "same", rejected: "same" }),
    ];
    await writeFile(file, `${lines.join("\n")}\n`);
    const out = await evalEvaluator("--evaluator", "use-lite-checked", "--datasets", path.join(scratch, "absent"), "--data", file, "--limit", "0", "--json");
    const mine = out.datasets.mine;
    assert.deepEqual(Object.keys(out.datasets), ["mine"]);
    assert.deepEqual({ n: mine.n, skipped: mine.skipped, records_in_file: mine.records_in_file }, { n: RELEVANCE_CASES.length + 1, skipped: 2, records_in_file: lines.length });
    // Every rejected answer echoes the prompt: the echo check catches all of them, and none of the preferred ones.
    assert.equal(mine.evaluator.accuracy, 1);
    assert.equal(mine.check_false_positive_rate.echo, 0);
    assert.equal(mine.check_fire_rate_rejected.echo, 1);
    assert.ok(mine.inner_model.accuracy < 1, "the bare relevance model rates some echo at least as high as the answer");
    assert.ok(mine.random_control !== null && mine.length_baseline !== null);
  });

  it("skips with a clear message when the data is absent", async () => {
    const out = await evalEvaluator("--evaluator", "use-lite", "--datasets", path.join(scratch, "absent"), "--json");
    assert.match(out.skipped, /no hh-rlhf data/);
  });

  it("refuses a --data file that does not exist with a one-line message and exit code 2", async () => {
    await assert.rejects(run("npx", ["tsx", "scripts/eval-evaluator.ts", "--evaluator", "use-lite", "--data", path.join(scratch, "nope.jsonl")], { cwd: ROOT }), (err: { code?: number; stderr?: string }) => err.code === 2 && /nope\.jsonl: no such file/.test(err.stderr ?? ""));
  });
});
