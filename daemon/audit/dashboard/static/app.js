// The dashboard page: a hash router over the read-only JSON API. User-supplied text (prompts, answers) is only
// ever inserted with textContent, never as HTML, and arrives with control and bidi characters already made
// visible by the server (daemon/cli/visible-text.ts), so an RTL override cannot reverse what is shown.
import { lineChart } from "./chart.js";

const view = document.getElementById("view");
const status = document.getElementById("chain-status");
let token = { decimals: 18, symbol: "" };
const REFRESH_MS = 5000;
let refreshTimer;

function h(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null) continue;
    if (k === "class") node.className = v;
    else node.setAttribute(k, String(v));
  }
  for (const c of children.flat()) if (c !== undefined && c !== null) node.append(c instanceof Node ? c : String(c));
  return node;
}

async function api(path) {
  const res = await fetch(`/api/${path}`);
  const body = await res.json();
  if (!res.ok) throw new Error(body.error ?? `HTTP ${res.status}`);
  return body;
}

/** Token base units (decimal string) to a short decimal string. */
function amount(units) {
  if (units === undefined || units === null) return "-";
  const v = BigInt(units);
  const base = 10n ** BigInt(token.decimals);
  const whole = v / base;
  const frac = (v % base).toString().padStart(token.decimals, "0").slice(0, 4).replace(/0+$/, "");
  return `${whole}${frac ? `.${frac}` : ""} ${token.symbol}`;
}
const short = (address) => (address ? `${address.slice(0, 8)}…${address.slice(-4)}` : "-");
const pct = (share) => (share === null || share === undefined ? "-" : `${(share * 100).toFixed(1)}%`);
const num = (v, digits = 0) => (v === null || v === undefined ? "-" : Number(v).toFixed(digits));
const addressLink = (kind, address) => h("a", { href: `#/${kind}/${address}`, class: "mono", title: address }, short(address));

function table(id, headers, rows) {
  return h("table", { id },
    h("thead", {}, h("tr", {}, headers.map(([label, cls]) => h("th", { class: cls }, label)))),
    h("tbody", {}, rows));
}

/** Consensus over time per provider (x = block timestamp; block number when a timestamp is missing). */
function qualityChart(providers) {
  const withTime = providers.every((p) => p.jobs.every((j) => typeof j.time === "number"));
  const series = providers.map((p) => ({
    label: short(p.summary.address),
    points: p.jobs.filter((j) => j.consensus !== undefined && j.consensus !== null)
      .map((j) => ({ x: withTime ? j.time : Number(j.block), y: j.consensus, title: `task ${j.taskId}: ${j.consensus} at block ${j.block}` })),
  }));
  return lineChart(series, { xKind: withTime ? "time" : "block" });
}

/** A model by the name the operator gave `--model`, else its id shortened (the full id on hover). */
const modelLabel = (name, id) => (name ? h("span", { title: id }, name) : h("span", { class: "mono", title: id }, short(id)));

/** A provider's job status; a missed answer window shows its slash, as `poq audit provider` does. */
const jobStatus = (j) => (j.slashed !== "0" ? h("span", { class: "bad" }, `${j.status}, timed out: slashed ${amount(j.slashed)}`) : j.status);

function providerTable(providers) {
  return table("providers", [["provider"], ["jobs", "num"], ["finalized", "num"], ["mean consensus", "num"], ["earned", "num"], ["slashed", "num"]],
    providers.map(({ summary: s }) => h("tr", { "data-provider": s.address }, h("td", {}, addressLink("provider", s.address)), h("td", { class: "num" }, s.jobs),
      h("td", { class: "num" }, s.finalized), h("td", { class: "num" }, num(s.meanConsensus, 1)), h("td", { class: "num" }, amount(s.earned)),
      h("td", { class: `num ${s.slashed !== "0" ? "bad" : ""}` }, amount(s.slashed)))));
}

async function overview() {
  const [tasks, providers, validators] = await Promise.all([api("tasks?limit=50"), api("providers"), api("validators")]);
  const taskRows = tasks.map((t) => h("tr", { "data-task": t.taskId },
    h("td", {}, h("a", { href: `#/task/${t.taskId}` }, t.taskId)),
    h("td", { class: `status status-${t.status}` }, t.status),
    h("td", {}, addressLink("provider", t.provider)),
    h("td", { class: "num" }, num(t.consensus)),
    h("td", { class: "num" }, `${t.revealed}/${t.members}`),
    h("td", { class: "num" }, amount(t.fee)),
    h("td", { class: "model" }, modelLabel(t.model, t.modelId)),
    h("td", { class: "prompt" }, t.prompt)));
  return [
    h("h2", {}, "Recent tasks"),
    table("tasks", [["task"], ["status"], ["provider"], ["consensus", "num"], ["revealed", "num"], ["fee", "num"], ["model"], ["prompt", "prompt"]], taskRows),
    h("h2", {}, "Provider quality over time"),
    h("div", { id: "provider-chart" }, qualityChart(providers)),
    providerTable(providers),
    h("h2", {}, "Validator agreement"),
    validatorTable(validators),
  ];
}

function validatorTable(validators) {
  return table("validators", [["validator"], ["seats", "num"], ["non-reveals", "num"], ["agreement", "num"], ["mean |dev|", "num"], ["earned", "num"], ["slashed", "num"]],
    validators.map(({ summary: s }) => h("tr", { "data-validator": s.address },
      h("td", {}, addressLink("validator", s.address)), h("td", { class: "num" }, s.seats),
      h("td", { class: `num ${s.nonReveals > 0 ? "bad" : ""}` }, s.nonReveals), h("td", { class: "num agreement" }, pct(s.agreement)),
      h("td", { class: "num" }, num(s.meanAbsDeviation, 1)), h("td", { class: "num" }, amount(s.earned)),
      h("td", { class: `num ${s.slashed !== "0" ? "bad" : ""}` }, amount(s.slashed)))));
}

async function taskDetail(id) {
  const t = await api(`tasks/${encodeURIComponent(id)}`);
  const facts = [
    ["status", h("span", { class: `status status-${t.status}` }, t.status)],
    ["requester", h("span", { class: "mono" }, t.requester)],
    ["provider", addressLink("provider", t.provider)],
    ["model", h("span", { id: "model" }, modelLabel(t.model, t.modelId))],
    ["evaluator", h("span", { class: "mono", id: "evaluator-id" }, t.evaluatorId)],
    ["fee", amount(t.fee)],
    ["consensus", h("span", { id: "consensus" }, num(t.consensus))],
  ];
  if (t.payouts) {
    facts.push(["provider pay", amount(t.payouts.providerPay)], ["requester refund", amount(t.payouts.requesterRefund)], ["treasury", amount(t.payouts.treasuryShare)]);
  }
  if (t.settlementCheck) {
    const c = t.settlementCheck;
    facts.push(["settlement check", h("span", { class: c.checked && c.matches && c.conserved ? "good" : "bad" },
      !c.checked ? "not recomputed" : c.matches ? "matches the protocol math" : "differs from the protocol math", c.conserved ? "" : "; conservation broken")]);
  }
  if (t.refund) facts.push(["refund", `${amount(t.refund.amount)} (${t.refund.reason})`]);
  for (const timeout of t.timeouts ?? []) facts.push(["provider timed out", h("span", { class: "bad" }, addressLink("provider", timeout.provider), ` slashed ${amount(timeout.slashed)}`)]);
  const rounds = t.rounds.map((r) => [
    h("h2", {}, `Round ${r.round}${r.rolled ? " (below quorum: rolled)" : ""}`),
    table(`members-${r.round}`, [["#"], ["validator"], ["score", "num"], ["deviation", "num"], ["pay", "num"], ["slashed", "num"], ["attestation"]],
      r.members.map((m) => h("tr", { class: "member" },
        h("td", {}, m.index), h("td", {}, addressLink("validator", m.validator)),
        h("td", { class: "num score" }, m.revealed ? m.score : m.committed ? "no reveal" : "no commit"),
        h("td", { class: `num ${m.withinTolerance === false ? "bad" : ""}` }, num(m.deviation)),
        h("td", { class: "num" }, m.pay === undefined ? "-" : amount(m.pay)),
        h("td", { class: `num ${m.slashed !== "0" ? "bad" : ""}` }, m.slashed === "0" ? "-" : amount(m.slashed)),
        h("td", { class: `attestation ${m.attestation?.state === "verified" ? "good" : m.attestation?.state === "missing" ? "muted" : "bad"}` },
          m.attestation ? (m.attestation.state === "missing" ? "no attestation found" : `${m.attestation.state}${m.attestation.detail ? ` (${m.attestation.detail})` : ""}`) : "-")))),
  ]);
  return [
    h("h2", { id: "task-title" }, `Task ${t.taskId}`),
    h("dl", { class: "facts", id: "task-detail" }, facts.flatMap(([k, v]) => [h("dt", {}, k), h("dd", {}, v)])),
    h("h2", {}, "Prompt"), h("div", { class: "text-block", id: "prompt" }, t.prompt),
    h("h2", {}, "Answer"), h("div", { class: "text-block", id: "answer" }, t.answer ? t.answer.text || `(uri) ${t.answer.uri}` : "(no answer yet)"),
    rounds,
  ];
}

async function providerDetail(address) {
  const p = await api(`providers/${encodeURIComponent(address)}`);
  const s = p.summary;
  return [
    h("h2", {}, "Provider ", h("span", { class: "mono" }, s.address)),
    h("p", {}, `${s.jobs} jobs, ${s.finalized} finalized, mean consensus ${num(s.meanConsensus, 1)}, earned ${amount(s.earned)}, slashed ${amount(s.slashed)}`),
    h("div", { id: "provider-chart" }, qualityChart([p])),
    table("jobs", [["task"], ["status"], ["block", "num"], ["consensus", "num"], ["pay", "num"], ["slashed", "num"]],
      p.jobs.map((j) => h("tr", { "data-task": j.taskId }, h("td", {}, h("a", { href: `#/task/${j.taskId}` }, j.taskId)), h("td", { class: "job-status" }, jobStatus(j)),
        h("td", { class: "num" }, j.block), h("td", { class: "num" }, num(j.consensus)), h("td", { class: "num" }, amount(j.pay)),
        h("td", { class: `num ${j.slashed !== "0" ? "bad" : ""}` }, j.slashed === "0" ? "-" : amount(j.slashed))))),
  ];
}

async function validatorDetail(address) {
  const v = await api(`validators/${encodeURIComponent(address)}`);
  return [
    h("h2", {}, "Validator ", h("span", { class: "mono" }, v.summary.address)),
    validatorTable([v]),
    h("h2", {}, "Seats"),
    table("seats", [["task"], ["round", "num"], ["score", "num"], ["consensus", "num"], ["deviation", "num"], ["pay", "num"], ["slashed", "num"]],
      v.seats.map((s) => h("tr", {}, h("td", {}, h("a", { href: `#/task/${s.taskId}` }, s.taskId)), h("td", { class: "num" }, s.round),
        h("td", { class: "num" }, s.revealed ? s.score : "-"), h("td", { class: "num" }, num(s.consensus)), h("td", { class: "num" }, num(s.deviation)),
        h("td", { class: "num" }, amount(s.pay)), h("td", { class: "num" }, s.slashed === "0" ? "-" : amount(s.slashed))))),
  ];
}

async function providersPage() {
  const providers = await api("providers");
  return [h("h2", {}, "Provider quality over time"), h("div", { id: "provider-chart" }, qualityChart(providers)), providerTable(providers)];
}

async function validatorsPage() {
  return [h("h2", {}, "Validator agreement"), validatorTable(await api("validators"))];
}

async function render() {
  clearTimeout(refreshTimer);
  const [, kind, arg] = (location.hash || "#/").split("/");
  try {
    const overviewInfo = await api("overview");
    token = { decimals: overviewInfo.token.decimals, symbol: overviewInfo.token.symbol };
    status.textContent = `chain ${overviewInfo.chainId} · block ${overviewInfo.head} · ${overviewInfo.tasks} tasks`;
    const content =
      kind === "task" ? await taskDetail(arg)
      : kind === "provider" ? await providerDetail(arg)
      : kind === "validator" ? await validatorDetail(arg)
      : kind === "validators" ? await validatorsPage()
      : kind === "providers" ? await providersPage()
      : await overview();
    view.replaceChildren(...content.flat(2));
    view.dataset.ready = location.hash || "#/";
  } catch (error) {
    view.replaceChildren(h("div", { class: "error", id: "error" }, `Could not load: ${error.message}`));
    view.dataset.ready = "error";
  }
  // The overview follows the chain; detail pages stay still while read.
  if (!kind || kind === "validators" || kind === "providers") refreshTimer = setTimeout(render, REFRESH_MS);
}

window.addEventListener("hashchange", render);
render();
