import type { AuditChain } from "./connect.ts";
import { readHistory } from "./chain-reader.ts";
import { auditTask, type TaskAudit } from "./task-audit.ts";

export interface AuditExport {
  /** Bumped when a field changes meaning, so offline tools can refuse what they do not know. */
  schema: 1;
  chainId: number;
  taskMarket: string;
  fromBlock: bigint;
  toBlock: bigint;
  tasks: TaskAudit[];
}

/** Every task created in [fromBlock, head] with members, scores, consensus, payouts and the settlement re-check. */
export async function exportHistory(chain: AuditChain, options: { fromBlock?: bigint } = {}): Promise<AuditExport> {
  const history = await readHistory(chain, { fromBlock: options.fromBlock });
  return {
    schema: 1,
    chainId: chain.manifest.chainId,
    taskMarket: chain.manifest.contracts.taskMarket,
    fromBlock: history.fromBlock,
    toBlock: history.head,
    tasks: await Promise.all(history.tasks.map((task) => auditTask(task))),
  };
}
