import assert from "node:assert/strict";
import { appendFileSync, readFileSync, writeFileSync } from "node:fs";
import http from "node:http";
import type { AddressInfo } from "node:net";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { runCli } from "../../daemon/cli/poq.ts";
import { formatAttestationRecord, parseAttestationRecords } from "../../sdk/attestation-record.ts";
import { CLAIM_KEEPS_WEI } from "../../sdk/contracts.ts";
import { signAttestation, taskMarketDomain } from "../../sdk/eip712.ts";
import { createAuditFixture, type AuditFixture } from "./helpers/audit-fixture.ts";

async function cli(args: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runCli(args, { out: (s) => out.push(s), err: (s) => err.push(s) });
  return { code, out: out.join("\n"), err: err.join("\n") };
}

describe("poq audit (CLI) against real tasks on the in-process chain", () => {
  let f: AuditFixture;
  let chainArgs: string[];
  const json = async (args: string[]) => {
    const r = await cli([...args, ...chainArgs, "--json"]);
    assert.equal(r.code, 0, r.err);
    return JSON.parse(r.out);
  };
  before(async () => {
    f = await createAuditFixture();
    chainArgs = ["--deployment", f.deploymentPath, "--rpc-url", f.rpcUrl];
  });
  after(async () => f?.close());

  it("audit task: prompt, answer, evaluator, every member's score and attestation, consensus and payouts", async () => {
    const t = f.finalized[0]!;
    const report = await json(["audit", "task", t.taskId.toString(), "--attestations", ...f.attestationFiles]);
    assert.equal(report.status, "Finalized");
    assert.equal(report.prompt, t.prompt);
    assert.equal(report.answer.text, t.answer);
    assert.equal(report.provider, f.honestProvider);
    assert.equal(report.consensus, t.honestScore, "three honest equal scores are the median");
    const members = report.rounds[0].members as { validator: string; revealed: boolean; score?: number; pay: string; slashed: string; attestation: { state: string } }[];
    assert.equal(members.length, 5);
    const byAddress = new Map(members.map((m) => [m.validator, m]));
    for (const v of f.honestValidators) {
      assert.equal(byAddress.get(v)!.score, t.honestScore);
      assert.equal(byAddress.get(v)!.attestation.state, "verified");
      assert.ok(BigInt(byAddress.get(v)!.pay) > 0n);
    }
    assert.equal(byAddress.get(f.lazyValidator)!.score, t.lazyScore);
    assert.equal(byAddress.get(f.lazyValidator)!.attestation.state, "verified", "a lazy validator's signature is still genuine");
    const silent = byAddress.get(f.silentValidator)!;
    assert.equal(silent.revealed, false);
    assert.equal(silent.attestation.state, "missing");
    assert.equal(silent.pay, "0");
    assert.equal(BigInt(silent.slashed), 12n * 10n ** 17n, "3x its seat's share of a 10-token fee (not a share of its stake)");
    assert.deepEqual(report.settlementCheck.matches, true);
    assert.equal(report.settlementCheck.conserved, true);
    const paid = ["providerPay", "requesterRefund", "treasuryShare"].reduce((s, k) => s + BigInt(report.payouts[k]), 0n) +
      (report.payouts.validatorPay as string[]).reduce((s, v) => s + BigInt(v), 0n);
    assert.equal(paid, BigInt(report.fee));

    const text = await cli(["audit", "task", t.taskId.toString(), ...chainArgs, "--attestations", ...f.attestationFiles]);
    assert.equal(text.code, 0, text.err);
    assert.match(text.out, new RegExp(`consensus\\s+${t.honestScore} / 10000`));
    assert.match(text.out, /\(no reveal\).*SLASHED 1.2 POQ.*no attestation found/);
    assert.match(text.out, /settlement matches the protocol math; conservation exact/);
    // Reading back span by span from the head (tiny spans here) finds the same task.
    assert.deepEqual(await json(["audit", "task", t.taskId.toString(), "--max-block-range", "5"]), await json(["audit", "task", t.taskId.toString()]));
    const open = await json(["audit", "task", f.openTaskId.toString()]);
    assert.equal(open.status, "Answered");
    assert.equal(open.consensus, undefined);
  });

  it("flags forged, mismatched and equivocating attestations, and reads validators' HTTP endpoints", async () => {
    const t = f.finalized[1]!;
    const [honest, other] = f.honestValidators;
    const records = parseAttestationRecords(readFileSync(f.attestationFiles[0]!, "utf8")).filter((r) => r.taskId === t.taskId);
    const domain = taskMarketDomain(f.manifest.chainId, f.manifest.contracts.taskMarket);
    const wallet = (a: string) => f.wallets.find((w) => w.account.address === a)!;
    const lazyWallet = wallet(f.lazyValidator);
    const lazyRecord = parseAttestationRecords(readFileSync(f.attestationFiles[3]!, "utf8")).find((r) => r.taskId === t.taskId)!;
    const second = { ...lazyRecord, score: (lazyRecord.score + 1) % 10_000 };
    second.signature = await signAttestation(lazyWallet, domain, second);
    const mismatched = { ...records[0]!, validator: other!, score: t.honestScore + 7 };
    mismatched.signature = await signAttestation(wallet(other!), domain, mismatched);
    const forged = { ...records[0]!, score: 1 }; // signature of another score: recovers to a stranger
    const extra = path.join(f.dir, "extra.jsonl");
    writeFileSync(extra, [second, mismatched].map(formatAttestationRecord).join("\n") + "\n");
    const forgedFile = path.join(f.dir, "forged.jsonl");
    writeFileSync(forgedFile, `${formatAttestationRecord({ ...forged, validator: f.honestValidators[2]! })}\n`);
    // A validator's /attestations endpoint (application/x-ndjson, optional ?task=) serving the lazy validator's file.
    const queries: string[] = [];
    const server = http.createServer((req, res) => {
      const url = new URL(req.url!, "http://x");
      queries.push(url.searchParams.get("task") ?? "");
      const lines = readFileSync(f.attestationFiles[3]!, "utf8").split("\n").filter((l) => l && (!url.searchParams.has("task") || JSON.parse(l).taskId === url.searchParams.get("task")));
      res.writeHead(200, { "content-type": "application/x-ndjson" }).end(lines.join("\n"));
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    try {
      const endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}/attestations`;
      const report = await json(["audit", "task", t.taskId.toString(), "--attestations", f.attestationFiles[0]!, endpoint, extra, forgedFile, "http://127.0.0.1:9/attestations"]);
      const state = (a: string) => (report.rounds[0].members as { validator: string; attestation: { state: string; detail?: string } }[]).find((m) => m.validator === a)!.attestation;
      assert.equal(state(honest!).state, "verified");
      assert.equal(state(f.lazyValidator).state, "equivocation");
      assert.equal(state(other!).state, "mismatch");
      assert.match(state(other!).detail!, new RegExp(`signed ${t.honestScore + 7}, revealed ${t.honestScore}`));
      assert.equal(state(f.honestValidators[2]!).state, "invalid-signature");
      assert.deepEqual(queries, [t.taskId.toString()], "the endpoint is asked for this task only");
      const down = (report.attestationSources as { source: string; error?: string }[]).find((s) => s.source.includes(":9/"));
      assert.ok(down?.error, "an unreachable source is reported, not fatal");
    } finally {
      server.close();
    }
    appendFileSync(extra, "not json\n");
    const bad = await json(["audit", "task", t.taskId.toString(), "--attestations", extra]);
    assert.match(bad.attestationSources[0].error, /line 3: attestation record is not valid JSON/);
  });

  it("--rescore re-runs the registered evaluator and agrees with an honest consensus; refuses another evaluator", async () => {
    const t = f.finalized[3]!;
    const report = await json(["audit", "task", t.taskId.toString(), "--rescore", "--evaluator-dir", f.evaluatorDir]);
    assert.equal(report.rescore.localScore, t.honestScore);
    assert.equal(report.rescore.deviation, 0);
    assert.equal(report.rescore.agrees, true);
    const other = await cli(["audit", "task", t.taskId.toString(), ...chainArgs, "--rescore", "--evaluator-dir", path.join(f.evaluatorDir, "..", "use-lite-checked")]);
    assert.equal(other.code, 1);
    assert.match(other.err, /^poq: the evaluator in --evaluator-dir has id 0x[0-9a-f]{64}, but the task was scored with 0x[0-9a-f]{64}: refusing to re-score$/);
    const missingDir = await cli(["audit", "task", t.taskId.toString(), ...chainArgs, "--rescore"]);
    assert.equal(missingDir.code, 1);
    assert.match(missingDir.err, /--rescore needs --evaluator-dir/);
  });

  it("audit provider and validator: history, agreement with consensus, earnings, slashes and claims", async () => {
    const honestP = await json(["audit", "provider", f.honestProvider]);
    const mine = f.finalized.filter((t) => t.provider === f.honestProvider);
    assert.equal(honestP.summary.finalized, mine.length);
    assert.equal(honestP.summary.meanConsensus, mine.reduce((s, t) => s + t.honestScore, 0) / mine.length);
    // claim() keeps 1 wei of the credit: claimed + still claimable is everything it earned.
    assert.equal(BigInt(honestP.claims.claimable), CLAIM_KEEPS_WEI, "the honest provider's credit is the kept wei");
    assert.equal(BigInt(honestP.claims.claimed) + CLAIM_KEEPS_WEI, BigInt(honestP.summary.earned), "the honest provider claimed everything it earned but the kept wei");
    const lazyP = await json(["audit", "provider", f.lazyProvider]);
    assert.equal(lazyP.summary.jobs, f.finalized.length - mine.length + 1, "plus the open task");

    const honestV = await json(["audit", "validator", f.honestValidators[0]!]);
    assert.equal(honestV.summary.scored, f.finalized.length);
    assert.equal(honestV.summary.agreement, 1);
    assert.equal(honestV.summary.meanAbsDeviation, 0);
    const lazyV = await json(["audit", "validator", f.lazyValidator]);
    const deviations = f.finalized.map((t) => Math.abs(t.lazyScore - t.honestScore));
    assert.equal(lazyV.summary.meanAbsDeviation, deviations.reduce((a, b) => a + b, 0) / deviations.length);
    assert.equal(lazyV.summary.agreement, deviations.filter((d) => d < 1_500).length / deviations.length);
    assert.ok(BigInt(lazyV.summary.earned) < BigInt(honestV.summary.earned), "the lazy validator earns less");
    const silent = await json(["audit", "validator", f.silentValidator]);
    assert.equal(silent.summary.nonReveals, f.finalized.length);
    assert.equal(silent.summary.earned, "0");
    assert.ok(BigInt(silent.summary.slashed) > 0n);
    const text = await cli(["audit", "validator", f.lazyValidator, ...chainArgs]);
    assert.match(text.out, /agreement \d+\.\d% within tolerance, mean \|score - consensus\| \d+\.\d/);
  });

  it("audit export --json: every task with members, scores, consensus and payouts; --from-block narrows it", async () => {
    const all = await json(["audit", "export"]);
    assert.equal(all.schema, 1);
    assert.equal(all.tasks.length, f.finalized.length + 1);
    for (const [i, t] of f.finalized.entries()) {
      const row = all.tasks[i];
      assert.equal(row.taskId, t.taskId.toString());
      assert.equal(row.consensus, t.honestScore);
      assert.equal(row.rounds[0].members.length, 5);
      assert.equal(row.settlementCheck.matches, true);
    }
    // Tiny getLogs spans give the same export (bounded ranges are stitched correctly).
    const chunked = await json(["audit", "export", "--max-block-range", "7"]);
    assert.deepEqual(chunked.tasks, all.tasks);
    const later = await json(["audit", "export", "--from-block", String(BigInt(all.tasks[3].created.block))]);
    assert.deepEqual(later.tasks.map((t: { taskId: string }) => t.taskId), all.tasks.slice(3).map((t: { taskId: string }) => t.taskId));
  });

  it("halves getLogs spans an endpoint refuses as too large and still reads everything", async () => {
    // A JSON-RPC proxy that, like many public endpoints, refuses eth_getLogs spans above 16 blocks.
    const proxy = http.createServer(async (req, res) => {
      let body = "";
      for await (const chunk of req) body += chunk;
      const call = JSON.parse(body) as { id: number; method: string; params: { fromBlock: string; toBlock: string }[] };
      if (call.method === "eth_getLogs" && BigInt(call.params[0]!.toBlock) - BigInt(call.params[0]!.fromBlock) + 1n > 16n) {
        res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ jsonrpc: "2.0", id: call.id, error: { code: -32005, message: "query exceeds max block range 16" } }));
        return;
      }
      const upstream = await fetch(f.rpcUrl, { method: "POST", headers: { "content-type": "application/json" }, body });
      res.writeHead(upstream.status, { "content-type": "application/json" }).end(await upstream.text());
    });
    await new Promise<void>((r) => proxy.listen(0, "127.0.0.1", r));
    try {
      const proxied = await cli(["audit", "export", "--json", "--deployment", f.deploymentPath, "--rpc-url", `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`]);
      assert.equal(proxied.code, 0, proxied.err);
      assert.deepEqual(JSON.parse(proxied.out).tasks, (await json(["audit", "export"])).tasks);
    } finally {
      proxy.close();
    }
  });

  it("has --help on every audit command", async () => {
    for (const command of ["task", "provider", "validator", "export", "serve"]) {
      const help = await cli(["audit", command, "--help"]);
      assert.equal(help.code, 0);
      assert.match(help.out, /--deployment <file>[\s\S]*--rpc-url <url>[\s\S]*--json/);
    }
  });

  it("clear one-line errors: missing task, unknown address, unreachable RPC, missing config; env vars work", async () => {
    const missing = await cli(["audit", "task", "999", ...chainArgs]);
    assert.equal(missing.code, 1);
    assert.equal(missing.err, `poq: task 999 does not exist (the market has ${f.finalized.length + 1} tasks)`);
    const stranger = "0x000000000000000000000000000000000000dEaD";
    const unknown = await cli(["audit", "validator", stranger, ...chainArgs]);
    assert.equal(unknown.code, 1);
    assert.equal(unknown.err, `poq: ${stranger} has no stake and appears in no task as a validator`);
    const wrongRole = await cli(["audit", "provider", f.silentValidator, ...chainArgs]);
    assert.match(wrongRole.err, /is staked as a validator, not a provider/);
    const down = await cli(["audit", "export", "--deployment", f.deploymentPath, "--rpc-url", "http://127.0.0.1:9"]);
    assert.equal(down.code, 1);
    assert.match(down.err, /^poq: cannot reach the RPC endpoint http:\/\/127\.0\.0\.1:9: [^\n]+$/);
    const noConfig = await cli(["audit", "export", "--rpc-url", f.rpcUrl]);
    assert.equal(noConfig.code, 1);
    assert.match(noConfig.err, /pass --deployment <file> or set POQ_DEPLOYMENT/);
    assert.equal((await cli(["audit", "task", "zero", ...chainArgs])).code, 64, "a malformed id is a usage error");
    process.env.POQ_DEPLOYMENT = f.deploymentPath;
    process.env.POQ_RPC_URL = f.rpcUrl;
    try {
      const viaEnv = await cli(["audit", "task", "1", "--json"]);
      assert.equal(viaEnv.code, 0, viaEnv.err);
    } finally {
      delete process.env.POQ_DEPLOYMENT;
      delete process.env.POQ_RPC_URL;
    }
  });

  // Last: it adds a task (and slashes) that the counts above do not expect.
  it("a round below quorum: members that did not reveal are slashed, the round is marked rolled, the task waits", async () => {
    const taskId = await f.rollTask("Which ocean is the largest?");
    const report = await json(["audit", "task", taskId.toString()]);
    assert.equal(report.status, "Answered", "back to Answered for a new committee");
    assert.equal(report.rounds.length, 1);
    assert.equal(report.rounds[0].rolled, true);
    const members = report.rounds[0].members as { revealed: boolean; slashed: string; pay?: string }[];
    assert.equal(members.filter((m) => m.revealed).length, 2);
    assert.equal(members.filter((m) => !m.revealed && BigInt(m.slashed) > 0n).length, 3);
    assert.ok(members.every((m) => m.pay === undefined), "nobody is paid for a rolled round");
    const text = await cli(["audit", "task", taskId.toString(), ...chainArgs]);
    assert.match(text.out, /round 0: .*\(below quorum: rolled\)/);
    const silent = await json(["audit", "validator", f.silentValidator]);
    assert.equal(silent.summary.nonReveals, f.finalized.length + 1, "the rolled round's non-reveal counts");
  });
  // After the counts above: these add tasks of their own.
  it("settles a task with the parameters it was created under, not those in force at finalize", async () => {
    // Tolerance 2,000 at creation; governance narrows it to 100 before the finalize: the lazy validator's distance
    // decides its pay under the first, and the contract (and so the auditor) must use the first.
    await f.setParams({ tolerance: 2_000 });
    const task = await f.finalizeTask("How many legs does a spider have?", "A spider has eight legs.", 5_000, () => f.setParams({ tolerance: 100 }));
    await f.setParams({ tolerance: 2_000 });
    const report = await json(["audit", "task", task.taskId.toString()]);
    assert.equal(report.status, "Finalized");
    assert.equal(report.tolerance, 2_000, "the tolerance the task was created under");
    assert.equal(report.settlementCheck.matches, true, "recomputed with the creation's parameters");
    assert.equal(report.settlementCheck.conserved, true);
  });

  it("a task settled by a reveal report: every seat's score from RevealReported, the settlement re-checked", async () => {
    // No seat revealed alone: the scores exist only in the report's event (the market stores none of them).
    const scores = [6_100, 6_000, 5_900, 9_000, 6_050];
    const { taskId, members } = await f.reportTask("What colour is the sky on a clear day?", scores);
    const report = await json(["audit", "task", taskId.toString()]);
    assert.equal(report.status, "Finalized");
    const seats = report.rounds[0].members as { validator: string; committed: boolean; revealed: boolean; score?: number; pay: string }[];
    assert.deepEqual(seats.map((m) => m.validator), members);
    assert.deepEqual(seats.map((m) => [m.committed, m.revealed, m.score]), scores.map((score) => [true, true, score]));
    assert.equal(report.consensus, 6_050, "the median of the five");
    assert.equal(report.settlementCheck.matches, true);
    assert.equal(report.settlementCheck.conserved, true);
    assert.equal(BigInt(seats[3]!.pay), 0n, "9,000 is beyond the tolerance of 6,050");
  });

  it("checks a refund against the protocol math: NoCommittee returns refundBps of the provider pool, the rest to the treasury", async () => {
    const taskId = await f.unjudgedTask("Who wrote the Odyssey?");
    const report = await json(["audit", "task", taskId.toString()]);
    assert.equal(report.status, "Refunded");
    assert.equal(report.refund.reason, "NoCommittee");
    const params = await f.params();
    const fee = BigInt(report.fee);
    const expected = ((fee - (fee * BigInt(params.validatorPoolBps)) / 10_000n) * BigInt(params.refundBps)) / 10_000n;
    assert.equal(BigInt(report.refund.amount), expected);
    assert.equal(report.refundCheck.matches, true);
    assert.equal(BigInt(report.refundCheck.treasury), fee - expected);
    const text = await cli(["audit", "task", taskId.toString(), ...chainArgs]);
    assert.match(text.out, /refunded .*\(NoCommittee\), treasury .* matches the protocol math/);
  });
});
