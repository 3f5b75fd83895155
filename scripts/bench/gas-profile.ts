// Where the gas of one task goes (not a test): `npm run bench:gas-profile -- [--json] [--k N] [--fallback] [--functions]`.
// Rounds as the shipped daemons send them (the aggregator's commitReport and revealReport); --fallback: each member alone.
// Runs the per-task scenario of gas-per-task.ts (warm-up task, measured warm task, every payee claims, cold task)
// and traces every transaction (debug_traceTransaction, opcode by opcode) into: the 21,000 base, calldata, storage
// writes (zero to non-zero, non-zero to non-zero, rewrites of a slot already written in the transaction), storage
// reads (cold, warm), events, other opcodes (compute, memory, hashing, transient storage), and the rest: what
// calls to other contracts cost (2,600 for each cold account) minus storage refunds. Also how much of each
// transaction runs in the stake registry. Figures are gas from receipts; the split is from the trace. A second table
// splits the other opcodes by contract and kind of opcode; --functions adds, for the settling transaction of the cold
// task, the market's and SettlementMath's other opcodes by Solidity function (gas-functions.ts: approximate, as code
// the optimizer shares between functions counts for the one whose source range it carries) and each cold read.
import { fileURLToPath } from "node:url";
import type { Hex } from "viem";
import { DEFAULT_MARKET_PARAMS } from "../../sdk/deployment.ts";
import { benchChain, calldataGas, claimAll, type BenchChain } from "./gas-scenarios.ts";
import { runPhasedTask, startAsNewRequester, type RoundPath } from "./gas-per-task.ts";
import { functionMap, type FunctionMap } from "./gas-functions.ts";

/** With --functions: the function maps of the contracts whose compute is split by function. */
let functionMaps: Map<string, FunctionMap> | undefined;
function loadFunctionMaps(env: BenchChain): Map<string, FunctionMap> {
  const artifacts = fileURLToPath(new URL("../../artifacts", import.meta.url));
  const c = env.manifest.contracts;
  return new Map([
    [c.taskMarket.toLowerCase(), functionMap(artifacts, "contracts/TaskMarket.sol", "TaskMarket")],
    [c.settlementMath.toLowerCase(), functionMap(artifacts, "contracts/SettlementMath.sol", "SettlementMath")],
  ]);
}

export interface TransactionProfile {
  step: string;
  gasUsed: number;
  base: number;
  calldata: number;
  /** SSTORE of a zero slot to non-zero (20,000, plus 2,100 when the slot is cold). */
  storeNew: number;
  /** SSTORE of a non-zero slot to another value, first write in the transaction (2,900, plus 2,100 cold). */
  storeUpdate: number;
  /** Further SSTOREs of a slot already written in the transaction (100 or so). */
  storeRewrite: number;
  /** SLOAD of a slot not yet touched in the transaction (2,100 each). */
  loadCold: number;
  loadWarm: number;
  logs: number;
  /** Every other opcode: arithmetic, memory, KECCAK256, transient storage (the reentrancy guard), jumps. */
  compute: number;
  /** gasUsed minus everything above: call overheads (cold accounts, 2,600 each), minus storage refunds. */
  callsAndRefunds: number;
  /** Gas of the opcodes that ran in the stake registry (part of the columns above). */
  inRegistry: number;
  /** Counts behind the storage columns. */
  counts: { storeNew: number; storeUpdate: number; loadCold: number; logs: number };
  /** Slots written from zero ("contract:slot"), and how many slots each contract read cold. */
  newSlots: string[];
  coldReadsBy: Record<string, number>;
  /** `compute` by the contract whose code ran it (market, registry, settlementMath, views, token, other), then by
   * kind of opcode: memory (MLOAD, MSTORE, MCOPY, expansion included), hashing (KECCAK256), calldata (CALLDATALOAD,
   * CALLDATACOPY), return data, jumps (JUMP, JUMPI, JUMPDEST), stack (PUSH, DUP, SWAP, POP), arithmetic and the rest. */
  computeBy: Record<string, Record<string, number>>;
  /** With --functions: `compute` of the market and SettlementMath by Solidity function (gas-functions.ts), and each
   * cold storage read as "contract function slot". */
  byFunction?: Record<string, number>;
  coldReads?: string[];
}

interface StructLog {
  pc: number;
  op: string;
  gasCost: number;
  depth: number;
  stack?: string[];
}

/** The kind of a compute opcode (see TransactionProfile.computeBy). */
function opKind(op: string): string {
  if (op === "MLOAD" || op === "MSTORE" || op === "MSTORE8" || op === "MCOPY") return "memory";
  if (op === "KECCAK256" || op === "SHA3") return "hashing";
  if (op.startsWith("CALLDATA")) return "calldata";
  if (op.startsWith("RETURNDATA")) return "returndata";
  if (op === "JUMP" || op === "JUMPI" || op === "JUMPDEST") return "jumps";
  if (op.startsWith("PUSH") || op.startsWith("DUP") || op.startsWith("SWAP") || op === "POP") return "stack";
  return "arithmetic and other";
}

const CALLS = new Set(["CALL", "STATICCALL", "DELEGATECALL", "CALLCODE", "CREATE", "CREATE2"]);

async function profile(env: BenchChain, step: string, hash: Hex): Promise<TransactionProfile> {
  const [receipt, tx] = await Promise.all([env.publicClient.getTransactionReceipt({ hash }), env.publicClient.getTransaction({ hash })]);
  const trace = (await env.publicClient.request({
    method: "debug_traceTransaction" as never,
    params: [hash, { disableMemory: true, disableStorage: true, disableStack: false }] as never,
  })) as { structLogs: StructLog[] };
  const registry = env.manifest.contracts.stakeRegistry.toLowerCase();
  const names = new Map<string, string>(Object.entries(env.manifest.contracts).map(([name, address]) => [String(address).toLowerCase(), name]));
  const p: TransactionProfile = {
    step, gasUsed: Number(receipt.gasUsed), base: 21_000, calldata: calldataGas(tx.input), storeNew: 0, storeUpdate: 0, storeRewrite: 0,
    loadCold: 0, loadWarm: 0, logs: 0, compute: 0, callsAndRefunds: 0, inRegistry: 0, counts: { storeNew: 0, storeUpdate: 0, loadCold: 0, logs: 0 },
    newSlots: [], coldReadsBy: {}, computeBy: {},
  };
  const nameOf = (address: string | undefined) => (address === undefined ? "?" : (names.get(address) ?? address));
  // The storage slot an SSTORE or SLOAD touches is the top of the stack.
  const slotOf = (s: StructLog) => `0x${BigInt(s.stack?.at(-1) ?? "0").toString(16)}`;
  // The code address running at each depth (depth 1: the transaction's target), from the stack of each call.
  const running: string[] = [tx.to!.toLowerCase()];
  const logs = trace.structLogs;
  const fnMaps = functionMaps;
  const lastFunction: string[] = [];
  if (fnMaps) (p.byFunction = {}), (p.coldReads = []);
  for (let i = 0; i < logs.length; i++) {
    const s = logs[i]!;
    running.length = s.depth;
    if (CALLS.has(s.op)) {
      // The callee is the second item from the top of the stack (CALL, STATICCALL, DELEGATECALL).
      const target = s.stack?.[s.stack.length - 2];
      if (target !== undefined && logs[i + 1]?.depth === s.depth + 1) running[s.depth] = `0x${BigInt(target).toString(16).padStart(40, "0")}`;
      continue; // its cost (and the gas it forwards) goes to callsAndRefunds
    }
    const cost = s.gasCost;
    const address = running[s.depth - 1] ?? "";
    if (address === registry) p.inRegistry += cost;
    const fnMap = fnMaps?.get(address);
    let fn: string | undefined;
    if (fnMap) {
      // Code without a source range of its own (ABI coders, checks) counts for the function that ran last.
      fn = fnMap.at(s.pc) ?? lastFunction[s.depth - 1] ?? "?";
      lastFunction[s.depth - 1] = fn;
      lastFunction.length = s.depth;
    }
    if (fn && s.op === "SLOAD" && cost >= 2_100) p.coldReads!.push(`${names.get(address)} ${fn} ${s.stack?.at(-1)}`);
    if (s.op === "SSTORE") {
      if (cost >= 20_000) (p.storeNew += cost), p.counts.storeNew++, p.newSlots.push(`${nameOf(running[s.depth - 1])}:${slotOf(s)}`);
      else if (cost >= 2_900) (p.storeUpdate += cost), p.counts.storeUpdate++;
      else p.storeRewrite += cost;
    } else if (s.op === "SLOAD") {
      if (cost >= 2_100) {
        p.loadCold += cost;
        p.counts.loadCold++;
        const name = nameOf(running[s.depth - 1]);
        p.coldReadsBy[name] = (p.coldReadsBy[name] ?? 0) + 1;
      }
      else p.loadWarm += cost;
    } else if (s.op.startsWith("LOG")) {
      p.logs += cost;
      p.counts.logs++;
    } else {
      p.compute += cost;
      const frame = names.get(running[s.depth - 1] ?? "") ?? "other";
      const kinds = (p.computeBy[frame] ??= {});
      const kind = opKind(s.op);
      kinds[kind] = (kinds[kind] ?? 0) + cost;
      if (fn) p.byFunction![`${frame} ${fn}`] = (p.byFunction![`${frame} ${fn}`] ?? 0) + cost;
    }
  }
  p.callsAndRefunds = p.gasUsed - p.base - p.calldata - p.storeNew - p.storeUpdate - p.storeRewrite - p.loadCold - p.loadWarm - p.logs - p.compute;
  return p;
}

/** Sums profiles of the same step (the k commits, the k reveals). */
function merge(profiles: TransactionProfile[]): TransactionProfile {
  const out = structuredClone(profiles[0]!);
  for (const p of profiles.slice(1)) {
    for (const key of Object.keys(out) as (keyof TransactionProfile)[]) {
      if (typeof out[key] === "number") (out[key] as number) += p[key] as number;
    }
    for (const key of Object.keys(out.counts) as (keyof TransactionProfile["counts"])[]) out.counts[key] += p.counts[key];
    out.newSlots.push(...p.newSlots);
    for (const [name, n] of Object.entries(p.coldReadsBy)) out.coldReadsBy[name] = (out.coldReadsBy[name] ?? 0) + n;
    for (const [frame, kinds] of Object.entries(p.computeBy)) {
      const into = (out.computeBy[frame] ??= {});
      for (const [kind, gas] of Object.entries(kinds)) into[kind] = (into[kind] ?? 0) + gas;
    }
  }
  if (profiles.length > 1) out.step = `${profiles.length} x ${out.step}`;
  return out;
}

export async function measureProfile(k: number, log: (line: string) => void, path: RoundPath = "reports"): Promise<TransactionProfile[]> {
  log(`profile k=${k} (${path}): warm-up task, warm task, claims, cold task, then traces`);
  const env = await benchChain(k, { ...DEFAULT_MARKET_PARAMS, committeeSize: k });
  if (process.argv.includes("--functions")) functionMaps = loadFunctionMaps(env);
  try {
    await startAsNewRequester(env);
    await runPhasedTask(env, path);
    await claimAll(env); // as in measurePerTask: repeat claims, token balances already non-zero
    const warm = await runPhasedTask(env, path);
    const claimBlock = await env.publicClient.getBlockNumber();
    await claimAll(env);
    const cold = await runPhasedTask(env, path);
    const steps = new Map<string, TransactionProfile[]>();
    for (const { step, hash } of warm.transactions) steps.set(step, [...(steps.get(step) ?? []), await profile(env, step, hash)]);
    const rows = [...steps.values()].map(merge);
    const settling = cold.transactions.at(-1)!; // the finalize, or the reveal report that settles
    rows.push(await profile(env, `${settling.step} (cold)`, settling.hash));
    // One claim of a validator (the daemons' claim), from the Claimed logs after the warm task.
    const claims = await env.as(env.deployer).taskMarket.getEvents.Claimed({}, { fromBlock: claimBlock + 1n });
    const validator = claims.find((c) => env.validators.some((v) => v.account.address === c.args.account));
    rows.push(await profile(env, "claim (validator)", validator!.transactionHash));
    return rows;
  } finally {
    await env.close();
  }
}

const fmt = (n: number) => n.toLocaleString("en-US");

async function main(): Promise<void> {
  const kArg = process.argv.indexOf("--k");
  const k = kArg >= 0 ? Number(process.argv[kArg + 1]) : 5;
  const rows = await measureProfile(k, (line) => console.error(`bench:gas-profile ${line}`), process.argv.includes("--fallback") ? "fallback" : "reports");
  const header = ["tx", "gas", "base", "calldata", "new slots (n)", "updates (n)", "rewrites", "cold reads (n)", "warm reads", "events (n)", "compute", "calls - refunds", "in registry"];
  console.log(`| ${header.join(" | ")} |\n|${header.map(() => "---").join("|")}|`);
  for (const r of rows) {
    console.log(`| ${[r.step, fmt(r.gasUsed), fmt(r.base), fmt(r.calldata), `${fmt(r.storeNew)} (${r.counts.storeNew})`, `${fmt(r.storeUpdate)} (${r.counts.storeUpdate})`,
      fmt(r.storeRewrite), `${fmt(r.loadCold)} (${r.counts.loadCold})`, fmt(r.loadWarm), `${fmt(r.logs)} (${r.counts.logs})`, fmt(r.compute), fmt(r.callsAndRefunds), fmt(r.inRegistry)].join(" | ")} |`);
  }
  console.log("\n| tx | slots written from zero (contract:slot) | cold reads by contract |\n|---|---|---|");
  for (const r of rows) {
    const reads = Object.entries(r.coldReadsBy).map(([name, n]) => `${name} ${n}`).join(", ");
    console.log(`| ${r.step} | ${r.newSlots.join(" ") || "none"} | ${reads || "none"} |`);
  }
  // Where the compute column goes: by contract, then by kind of opcode.
  const kinds = ["memory", "hashing", "calldata", "returndata", "jumps", "stack", "arithmetic and other"];
  const computeHeader = ["tx", "contract", "compute", ...kinds];
  console.log(`\n| ${computeHeader.join(" | ")} |\n|${computeHeader.map(() => "---").join("|")}|`);
  for (const r of rows) {
    for (const [frame, by] of Object.entries(r.computeBy)) {
      const total = Object.values(by).reduce((a, b) => a + b, 0);
      console.log(`| ${[r.step, frame, fmt(total), ...kinds.map((kind) => fmt(by[kind] ?? 0))].join(" | ")} |`);
    }
  }
  // --functions: the settling transaction's compute by function, largest first, and its cold reads.
  const settling = rows.find((r) => r.byFunction !== undefined && r.step.endsWith("(cold)"));
  if (settling?.byFunction) {
    console.log(`\n| ${settling.step}: function | compute |\n|---|---|`);
    for (const [fn, gas] of Object.entries(settling.byFunction).sort((a, b) => b[1] - a[1])) console.log(`| ${fn} | ${fmt(gas)} |`);
    console.log(`\ncold reads of ${settling.step} in the market and SettlementMath (function, slot):`);
    for (const read of settling.coldReads ?? []) console.log(`  ${read}`);
  }
  if (process.argv.includes("--json")) console.log(JSON.stringify(rows));
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  main().catch((error: unknown) => {
    console.error(error);
    process.exit(1);
  });
}
