// A requester controls the prompt and a provider the answer: neither may act on the terminal of whoever reads them.
// Every human output path that prints chain-sourced text is run on a real task carrying the hostile strings.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { runCli } from "../../daemon/cli/poq.ts";
import { renderSummary } from "../../scripts/demo/report.ts";
import { createAuditFixture, type AuditFixture, type FixtureTask } from "./helpers/audit-fixture.ts";
import { ACTIVE_CHARACTERS, HOSTILE_ANSWER, HOSTILE_PROMPT } from "./helpers/hostile-text.ts";

async function cli(args: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runCli(args, { out: (s) => out.push(s), err: (s) => err.push(s) });
  return { code, out: out.join("\n"), err: err.join("\n") };
}

/** Nothing in `text` can act on a terminal, and no line of it was forged by the answer's newline. */
function assertInert(text: string, where: string) {
  assert.doesNotMatch(text, ACTIVE_CHARACTERS, `${where}: an active character got through`);
  assert.ok(!text.split("\n").some((line) => line.startsWith("consensus   10000")), `${where}: the answer forged a consensus line`);
}

describe("hostile prompts and answers in every human output path", () => {
  let f: AuditFixture;
  let hostile: FixtureTask;
  let chainArgs: string[];
  before(async () => {
    f = await createAuditFixture({ tasksPerProvider: 1 });
    hostile = await f.finalizeTask(HOSTILE_PROMPT, HOSTILE_ANSWER, 4_200);
    chainArgs = ["--deployment", f.deploymentPath, "--rpc-url", f.rpcUrl];
  });
  after(async () => f?.close());

  it("poq audit task: prompt and answer shown with their control and bidi characters made visible", async () => {
    const r = await cli(["audit", "task", hostile.taskId.toString(), ...chainArgs]);
    assert.equal(r.code, 0, r.err);
    assertInert(r.out, "audit task");
    assert.match(r.out, /invoice\\u202egnp\.exe/, "the RTL override is shown, not obeyed");
    assert.match(r.out, /\\u001b\[2J/, "the clear-screen sequence is shown as text");
    assert.match(r.out, /^consensus  4200 \/ 10000/m, "the real consensus line is there");
    const json = await cli(["audit", "task", hostile.taskId.toString(), ...chainArgs, "--json"]);
    assertInert(json.out, "audit task --json");
    const report = JSON.parse(json.out);
    assert.equal(report.prompt, HOSTILE_PROMPT, "JSON stays lossless");
    assert.equal(report.answer.text, HOSTILE_ANSWER);
  });

  it("poq audit provider / validator / export", async () => {
    for (const args of [["audit", "provider", hostile.provider], ["audit", "validator", f.silentValidator], ["audit", "export"]]) {
      const r = await cli([...args, ...chainArgs]);
      assert.equal(r.code, 0, r.err);
      assertInert(r.out, args.join(" "));
    }
    const out = path.join(f.dir, "export.json");
    const written = await cli(["audit", "export", ...chainArgs, "--out", out]);
    assert.match(written.out, new RegExp(`^wrote \\d+ task\\(s\\) from blocks \\d+-\\d+ to ${out.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}$`));
    assertInert(readFileSync(out, "utf8"), "export file");
    assert.ok((JSON.parse(readFileSync(out, "utf8")).tasks as { prompt: string }[]).some((t) => t.prompt === HOSTILE_PROMPT));
  });

  it("poq job get / wait: the answer cannot forge lines above the real consensus", async () => {
    const got = await cli(["job", "get", hostile.taskId.toString(), ...chainArgs]);
    assert.equal(got.code, 0, got.err);
    assertInert(got.out, "job get");
    const waited = await cli(["job", "wait", hostile.taskId.toString(), ...chainArgs, "--timeout", "5"]);
    assert.equal(waited.code, 0, waited.err);
    assertInert(waited.out, "job wait");
    const lines = waited.out.split("\n");
    assert.equal(lines.filter((l) => l.startsWith("answer ")).length, 1, "the whole answer is on one line");
    assert.match(lines.find((l) => l.startsWith("answer "))!, /fine\\nconsensus   10000 \/ 10000\\nreal line\\rforged line/);
    assert.match(lines.find((l) => l.startsWith("consensus "))!, /^consensus   4200 \/ 10000$/);
    const json = await cli(["job", "wait", hostile.taskId.toString(), ...chainArgs, "--json"]);
    assertInert(json.out, "job wait --json");
    assert.equal(JSON.parse(json.out).answer.text, HOSTILE_ANSWER);
  });

  it("error messages quoting outside text, and the demo's table, are made visible too", async () => {
    const r = await cli(["keys", "list", "--dir", `/nope/${HOSTILE_PROMPT}`]);
    assert.equal(r.code, 1);
    assertInert(r.err, "error message");
    const table = renderSummary({
      ledger: { tasks: 1, finalized: 1, refunded: 0, providers: [], validators: [], escrowIn: 0n, creditsOut: 0n, requesterRefunds: 0n, treasuryShare: 0n, slashedTotal: 0n } as never,
      expectations: [{ name: "evaluator", ok: true, detail: "" }],
      token: { symbol: "POQ", decimals: 18 },
      evaluator: HOSTILE_ANSWER,
      wallTimeS: 1,
    } as never);
    assertInert(table, "demo summary");
  });
});
