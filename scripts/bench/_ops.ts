import { DEFAULT_MARKET_PARAMS } from "../../sdk/deployment.ts";
import { benchChain, claimAll } from "./gas-scenarios.ts";
import { runPhasedTask } from "./gas-per-task.ts";
const env = await benchChain(5, { ...DEFAULT_MARKET_PARAMS, committeeSize: 5 });
await runPhasedTask(env, "reports");
await claimAll(env);
const warm = await runPhasedTask(env, "reports");
for (const { step, hash } of warm.transactions) {
  if (!["drawCommittee", "createTask", "submitAnswer"].includes(step)) continue;
  const trace = (await env.publicClient.request({ method: "debug_traceTransaction" as never, params: [hash, { disableMemory: true, disableStorage: true, disableStack: true }] as never })) as { structLogs: { op: string; gasCost: number; depth: number }[] };
  const by = new Map<string, [number, number]>();
  for (const s of trace.structLogs) { if (["CALL","STATICCALL","DELEGATECALL"].includes(s.op)) continue; const key = `${s.depth}:${s.op}`; const v = by.get(key) ?? [0, 0]; v[0] += s.gasCost; v[1]++; by.set(key, v); }
  console.log(step, [...by.entries()].sort((a, b) => b[1][0] - a[1][0]).slice(0, 18).map(([k, [g, n]]) => `${k} ${g}/${n}`).join("  "));
}
await env.close();
