import { getAddress, isAddress, type Hex } from "viem";
import { modelId } from "../../../sdk/model-id.ts";
import { providerJobs, participants, summarizeProvider, summarizeValidator, validatorSeats } from "../agreement.ts";
import { loadAttestations } from "../attestations.ts";
import type { AuditChain } from "../connect.ts";
import { auditTask, bytesToText } from "../task-audit.ts";
import type { Indexer } from "./indexer.ts";

/** An API answer: status code and a JSON-able body. */
export interface ApiResponse {
  status: number;
  body: unknown;
}

const MAX_TASK_ROWS = 200;
const PROMPT_PREVIEW_CHARS = 80;
const notFound = (error: string): ApiResponse => ({ status: 404, body: { error } });

/**
 * The dashboard's JSON API (GET only, read-only): every answer is computed from the chain through the indexer.
 * Routes: /api/overview, /api/tasks?limit=, /api/tasks/:id, /api/providers, /api/providers/:address,
 * /api/validators, /api/validators/:address.
 */
export function createApi(chain: AuditChain, indexer: Indexer, attestationSources: readonly string[], modelNames: readonly string[] = []) {
  // Model ids are keccak256 of the name, so names cannot be read back from the chain: the operator lists the ones it knows.
  const names = new Map<string, string>(modelNames.map((name) => [modelId(name).toLowerCase(), name]));
  const modelName = (id: Hex) => names.get(id.toLowerCase()) ?? null;
  // Block timestamps for the quality chart's time axis; blocks never change their time, so the cache only grows
  // (a reorged block's entry is harmless: its tasks leave the view).
  const blockTimes = new Map<bigint, number>();
  const timesOf = async (blocks: readonly bigint[]) => {
    const missing = [...new Set(blocks)].filter((b) => !blockTimes.has(b));
    for (let i = 0; i < missing.length; i += 50) {
      const slice = missing.slice(i, i + 50);
      const read = await Promise.all(slice.map((blockNumber) => chain.client.getBlock({ blockNumber })));
      read.forEach((block, j) => blockTimes.set(slice[j]!, Number(block.timestamp)));
    }
  };
  const withTimes = async <J extends { block: bigint }>(jobs: J[]) => {
    await timesOf(jobs.map((j) => j.block));
    return jobs.map((j) => ({ ...j, time: blockTimes.get(j.block) }));
  };
  return async function handle(url: URL): Promise<ApiResponse> {
    const parts = url.pathname.split("/").filter(Boolean).slice(1); // drop "api"
    const history = await indexer.history();
    const [resource, id] = parts;
    if (parts.length > 2) return notFound(`no such API route ${url.pathname}`);
    if (resource === "overview" && id === undefined) {
      const current = history.params.at(-1)?.params;
      return {
        status: 200,
        body: {
          chainId: chain.manifest.chainId,
          taskMarket: chain.manifest.contracts.taskMarket,
          head: history.head,
          token: chain.manifest.token,
          tasks: history.tasks.length,
          finalized: history.tasks.filter((t) => t.status === "Finalized").length,
          params: current,
        },
      };
    }
    if (resource === "tasks" && id === undefined) {
      const requested = Number(url.searchParams.get("limit") ?? 50);
      const limit = Number.isInteger(requested) && requested > 0 ? Math.min(requested, MAX_TASK_ROWS) : 50;
      const rows = history.tasks.slice(-limit).reverse().map((t) => {
        const round = t.rounds.at(-1);
        return {
          taskId: t.taskId,
          status: t.status,
          provider: t.provider,
          fee: t.fee,
          consensus: t.settlement?.consensus,
          createdBlock: t.created.block,
          members: round?.members.length ?? 0,
          revealed: round?.members.filter((m) => m.revealed).length ?? 0,
          modelId: t.modelId,
          model: modelName(t.modelId),
          prompt: bytesToText(t.prompt).slice(0, PROMPT_PREVIEW_CHARS),
        };
      });
      return { status: 200, body: rows };
    }
    if (resource === "tasks") {
      if (!/^[0-9]+$/.test(id!)) return { status: 400, body: { error: "task id must be a positive integer" } };
      const task = history.tasks.find((t) => t.taskId === BigInt(id!));
      if (task === undefined) return notFound(`task ${id} not found (the dashboard has ${history.tasks.length} tasks)`);
      const attestations =
        attestationSources.length === 0 ? undefined : { domain: chain.domain, ...(await loadAttestations(attestationSources, task.taskId)) };
      return { status: 200, body: { ...(await auditTask(task, attestations)), model: modelName(task.modelId) } };
    }
    if (resource === "providers" || resource === "validators") {
      const { providers, validators } = participants(history.tasks);
      if (id !== undefined && !isAddress(id, { strict: false })) return { status: 400, body: { error: "not an address" } };
      const wanted = id === undefined ? undefined : getAddress(id);
      if (resource === "providers") {
        const list = wanted ? providers.filter((p) => p === wanted) : providers;
        if (wanted && list.length === 0) return notFound(`${wanted} served no task`);
        const reports = await Promise.all(list.map(async (address) => {
          const jobs = providerJobs(history.tasks, address);
          return { summary: summarizeProvider(address, jobs), jobs: await withTimes(jobs) };
        }));
        return { status: 200, body: wanted ? reports[0] : reports };
      }
      const list = wanted ? validators.filter((v) => v === wanted) : validators;
      if (wanted && list.length === 0) return notFound(`${wanted} sat on no committee`);
      const reports = list.map((address) => {
        const seats = validatorSeats(history.tasks, address);
        return { summary: summarizeValidator(address, seats), seats };
      });
      return { status: 200, body: wanted ? reports[0] : reports };
    }
    return notFound(`no such API route ${url.pathname}`);
  };
}
