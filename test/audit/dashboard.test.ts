import assert from "node:assert/strict";
import { existsSync, mkdirSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { createTestClient, http } from "viem";
import { hardhat } from "viem/chains";
import { after, before, describe, it } from "node:test";
import { chromium, type Browser } from "playwright-core";
import { connectAudit, type AuditChain } from "../../daemon/audit/connect.ts";
import { startDashboard, type Dashboard } from "../../daemon/audit/dashboard/server.ts";
import { spawnTsChild, waitFor } from "../helpers/child-process.ts";
import { startTcpProxy } from "../helpers/tcp-proxy.ts";
import { createAuditFixture, type AuditFixture } from "./helpers/audit-fixture.ts";
import { ACTIVE_CHARACTERS, HOSTILE_ANSWER } from "./helpers/hostile-text.ts";

/** The fixture's model id is keccak256 of this name (sdk/model-id.ts). */
const MODEL_NAME = "model:audit-test-llm";
const SCREENSHOTS = path.join(tmpdir(), "poq-dashboard-screenshots");

// Debian's chromium package; no test tool can download a browser on these machines.
const CHROMIUM = "/usr/bin/chromium";
const CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"];

describe("poq audit serve: the read-only dashboard on real tasks", () => {
  let f: AuditFixture;
  let chain: AuditChain;
  let dashboard: Dashboard;
  before(async () => {
    f = await createAuditFixture();
    chain = await connectAudit({ deployment: f.deploymentPath, rpcUrl: f.rpcUrl });
    dashboard = await startDashboard({ chain, port: 0, attestationSources: f.attestationFiles, minRefreshIntervalMs: 0, modelNames: [MODEL_NAME] });
  });
  after(async () => {
    await dashboard?.close();
    await chain?.close();
    await f?.close();
  });

  it("serves a JSON API under /api, read-only, with clear 4xx answers", async () => {
    const get = async (p: string) => {
      const res = await fetch(new URL(p, dashboard.url));
      // eslint-disable-next-line @typescript-eslint/no-explicit-any -- JSON answers are checked field by field below
      return { status: res.status, body: (await res.json()) as any };
    };
    const tasks = await get("api/tasks");
    assert.equal(tasks.status, 200);
    assert.deepEqual(tasks.body.map((t: { taskId: string }) => t.taskId), ["7", "6", "5", "4", "3", "2", "1"], "newest first");
    const detail = await get("api/tasks/1");
    assert.equal(detail.body.consensus, f.finalized[0]!.honestScore);
    assert.equal(detail.body.rounds[0].members.filter((m: { attestation: { state: string } }) => m.attestation.state === "verified").length, 4);
    assert.equal((await get("api/tasks/99")).status, 404);
    assert.equal((await get("api/providers/0x1234")).status, 400);
    assert.equal((await get(`api/validators/${f.honestProvider}`)).status, 404);
    const validators = await get("api/validators");
    const silent = validators.body.find((v: { summary: { address: string } }) => v.summary.address === f.silentValidator);
    assert.equal(silent.summary.nonReveals, f.finalized.length);
    const post = await fetch(new URL("api/tasks", dashboard.url), { method: "POST" });
    assert.equal(post.status, 405);
    assert.equal((await fetch(new URL("/..%2Fpackage.json", dashboard.url))).status, 404);
    const page = await fetch(dashboard.url);
    assert.match(page.headers.get("content-security-policy")!, /script-src 'self'/);
  });

  it("shows recent tasks, a task's scores, the provider quality chart and validator agreement in headless Chromium", async (t) => {
    if (!existsSync(CHROMIUM)) {
      t.skip(`${CHROMIUM} is missing: install Debian's chromium package (apt-get install chromium) to run the browser test`);
      return;
    }
    let browser: Browser | undefined;
    try {
      browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS }); // playwright gives it a fresh temporary profile
      const page = await browser.newPage();
      const problems: string[] = [];
      page.on("pageerror", (e) => problems.push(e.message));
      page.on("console", (m) => m.type() === "error" && problems.push(m.text()));
      await page.goto(dashboard.url);
      await page.waitForSelector('#view[data-ready="#/"]');
      assert.equal(await page.locator("#tasks tbody tr").count(), f.finalized.length + 1);
      assert.match(await page.locator("#chain-status").innerText(), /chain 31337 · block \d+ · 7 tasks/);
      const firstRow = await page.locator('#tasks tbody tr[data-task="1"]').innerText();
      assert.match(firstRow, new RegExp(`Finalized\\s+\\S+\\s+${f.finalized[0]!.honestScore}\\s+4/5\\s+10 POQ`));
      assert.match(await page.locator('#tasks tbody tr[data-task="7"]').innerText(), /Answered/);
      // One point per finalized task, one series per provider.
      assert.equal(await page.locator("#provider-chart svg.chart circle.point").count(), f.finalized.length);
      assert.equal(await page.locator("#provider-chart svg.chart polyline.series").count(), 2);
      assert.equal(await page.locator("#validators tbody tr").count(), 5);
      assert.equal(await page.locator(`#validators tr[data-validator="${f.honestValidators[0]}"] td.agreement`).innerText(), "100.0%");

      await page.click('#tasks tbody tr[data-task="1"] a[href="#/task/1"]');
      await page.waitForSelector('#view[data-ready="#/task/1"]');
      assert.equal(await page.locator("#prompt").innerText(), f.finalized[0]!.prompt);
      assert.equal(await page.locator("#answer").innerText(), f.finalized[0]!.answer);
      assert.equal(await page.locator("#consensus").innerText(), String(f.finalized[0]!.honestScore));
      const scores = await page.locator("#members-0 tbody tr td.score").allInnerTexts();
      assert.deepEqual([...scores].sort(), [...[f.finalized[0]!.honestScore, f.finalized[0]!.honestScore, f.finalized[0]!.honestScore, f.finalized[0]!.lazyScore].map(String), "no reveal"].sort());
      const attestations = await page.locator("#members-0 tbody tr td.attestation").allInnerTexts();
      assert.equal(attestations.filter((a) => a === "verified").length, 4);
      assert.equal(attestations.filter((a) => a === "no attestation found").length, 1);
      assert.match(await page.locator("#task-detail").innerText(), /matches the protocol math/);

      await page.goto(`${dashboard.url}#/provider/${f.lazyProvider}`);
      await page.waitForSelector(`#view[data-ready="#/provider/${f.lazyProvider}"]`);
      assert.equal(await page.locator("#provider-chart svg.chart circle.point").count(), f.finalized.filter((x) => x.provider === f.lazyProvider).length);
      assert.deepEqual(problems, [], "no script errors or CSP violations");
    } finally {
      await browser?.close();
    }
  });

  it("follows new blocks incrementally and drops what a reorg removed", async () => {
    const ids = async () => ((await (await fetch(new URL("api/tasks", dashboard.url))).json()) as { taskId: string }[]).map((t) => t.taskId);
    const before = await ids();
    const snapshot = await f.snapshot();
    const added = await f.postTask("Which ocean is the largest?");
    assert.deepEqual(await ids(), [added.toString(), ...before]);
    await f.revert(snapshot); // the blocks holding the new task leave the chain
    assert.deepEqual(await ids(), before);
  });

  it("answers 503 with a one-line reason while the RPC is down, and recovers when it is back", async () => {
    const proxy = await startTcpProxy(Number(new URL(f.rpcUrl).port));
    const viaProxy = await connectAudit({ deployment: f.deploymentPath, rpcUrl: proxy.url("http"), requestTimeoutMs: 2_000 });
    const board = await startDashboard({ chain: viaProxy, port: 0, minRefreshIntervalMs: 0 });
    try {
      const tasks = () => fetch(new URL("api/tasks", board.url));
      assert.equal((await tasks()).status, 200);
      await proxy.drop();
      const down = await tasks();
      assert.equal(down.status, 503);
      assert.match(((await down.json()) as { error: string }).error, /^chain read failed: [^\n]+$/);
      await proxy.restore();
      assert.equal((await tasks()).status, 200);
    } finally {
      await board.close();
      await viaProxy.close();
      await proxy.close();
    }
  });

  it("`poq audit serve` from the real entry point answers the API and stops on SIGTERM", async () => {
    let url: string | undefined;
    const run = spawnTsChild(new URL("../../daemon/cli/poq.ts", import.meta.url), ["audit", "serve", "--port", "0", "--json"], (line) => {
      if (line.startsWith("{")) url = JSON.parse(line).url;
    }, { POQ_DEPLOYMENT: f.deploymentPath, POQ_RPC_URL: f.rpcUrl });
    try {
      await waitFor(() => url !== undefined, 30_000, "the dashboard URL");
      const overview = (await (await fetch(new URL("api/overview", url))).json()) as { tasks: number; finalized: number };
      assert.equal(overview.tasks, f.finalized.length + 1);
      assert.equal(overview.finalized, f.finalized.length);
    } finally {
      run.child.kill("SIGTERM");
    }
    assert.equal(await run.exited, 0, run.stderr());
  });
  it("shows hostile text visibly, wraps long prompts, shows timeouts' slashes, model names and a chart with gaps (headless Chromium, screenshots)", async (t) => {
    if (!existsSync(CHROMIUM)) {
      t.skip(`${CHROMIUM} is missing: install Debian's chromium package (apt-get install chromium) to run the browser test`);
      return;
    }
    const unbroken = "A".repeat(400);
    const rtlPrompt = `Rename invoice\u202egnp.exe please ${unbroken}`;
    const hostile = await f.postTask(rtlPrompt, HOSTILE_ANSWER);
    const timedOut = await f.timeoutTask("Nobody will answer this one.");
    // A day without tasks, then one more for the same provider: the chart must not draw a line across the pause.
    const testClient = createTestClient({ chain: hardhat, transport: http(f.rpcUrl), mode: "hardhat" });
    await testClient.increaseTime({ seconds: 86_400 });
    await testClient.mine({ blocks: 1 });
    await f.finalizeTask("What colour is the sky on a clear day?", "Blue, because air scatters short wavelengths more.");
    mkdirSync(SCREENSHOTS, { recursive: true });
    let browser: Browser | undefined;
    try {
      browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
      const page = await browser.newPage({ viewport: { width: 1200, height: 900 } });
      const problems: string[] = [];
      page.on("pageerror", (e) => problems.push(e.message));
      page.on("console", (m) => m.type() === "error" && problems.push(m.text()));
      await page.goto(dashboard.url);
      await page.waitForSelector('#view[data-ready="#/"]');
      await page.screenshot({ path: path.join(SCREENSHOTS, "overview.png"), fullPage: true });
      // The long unbroken prompt wraps inside its cell: the table is no wider than the page.
      // A string, not a function: this project's TypeScript has no DOM types.
      const overflow = (await page.evaluate('({ table: document.querySelector("#tasks").scrollWidth, page: document.documentElement.clientWidth })')) as { table: number; page: number };
      assert.ok(overflow.table <= overflow.page, `the tasks table (${overflow.table}px) fits the page (${overflow.page}px)`);
      const row = page.locator(`#tasks tbody tr[data-task="${hostile}"]`);
      assert.match(await row.locator("td.prompt").innerText(), /invoice\\u202egnp\.exe/, "the RTL override is shown, not obeyed");
      assert.equal(await row.locator("td.model").innerText(), MODEL_NAME, "the model by the name given to --model");
      assert.equal(await page.locator("header nav a", { hasText: "Providers" }).count(), 1);

      await page.goto(`${dashboard.url}#/task/${hostile}`);
      await page.waitForSelector(`#view[data-ready="#/task/${hostile}"]`);
      await page.screenshot({ path: path.join(SCREENSHOTS, "hostile-task.png"), fullPage: true });
      const answer = await page.locator("#answer").innerText();
      assert.doesNotMatch(answer, ACTIVE_CHARACTERS);
      assert.match(answer, /\\u001b\[2J/, "the escape sequence is visible text");
      assert.match(answer, /invoice\\u202egnp\.exe/);
      assert.equal(await page.locator("#model").innerText(), MODEL_NAME);

      await page.goto(`${dashboard.url}#/providers`);
      await page.waitForSelector('#view[data-ready="#/providers"]');
      assert.equal(await page.locator("#providers tbody tr").count(), 2);
      const chart = page.locator("#provider-chart svg.chart");
      assert.match(await chart.locator("text.y-label").textContent() ?? "", /consensus score/);
      assert.equal(await chart.locator("text.x-tick").count(), 5);
      assert.match(await chart.locator("text.x-tick").first().textContent() ?? "", /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}$/, "a span over a day shows dates");
      await page.screenshot({ path: path.join(SCREENSHOTS, "providers.png"), fullPage: true });

      await page.goto(`${dashboard.url}#/provider/${timedOut.provider}`);
      await page.waitForSelector(`#view[data-ready="#/provider/${timedOut.provider}"]`);
      await page.screenshot({ path: path.join(SCREENSHOTS, "provider-timeout.png"), fullPage: true });
      assert.match(await page.locator(`#jobs tr[data-task="${timedOut.taskId}"] td.job-status`).innerText(), /timed out: slashed \d+(\.\d+)? POQ/);
      const series = `#provider-chart svg.chart polyline.series`;
      assert.equal(await page.locator(`#provider-chart svg.chart circle.point`).count(), 4, "three tasks, a day's pause, one more");
      assert.equal(await page.locator(series).count(), 1, "one line joins the first three; none crosses the pause to the fourth");
      assert.equal(((await page.locator(series).getAttribute("points")) ?? "").trim().split(" ").length, 3);
      assert.deepEqual(problems, [], "no script errors or CSP violations");
      t.diagnostic(`screenshots in ${SCREENSHOTS}`);
    } finally {
      await browser?.close();
    }
  });
});
