import { formatLog, numberToHex, type Address, type Hex, type Log } from "viem";
import type { AuditChain } from "./connect.ts";
import { RpcUnreachableError } from "./errors.ts";

export interface ReadLogsParameters {
  address: Address;
  /** eth_getLogs topic filter: position i matches topics[i]; an array means "any of"; null means anything. */
  topics: (Hex | Hex[] | null)[];
  fromBlock: bigint;
  toBlock: bigint;
}

/** Messages endpoints use when a getLogs span or result is too large; the reader then halves the span. */
const RANGE_LIMIT = /range|limit|too many|exceed|response size/i;

/**
 * eth_getLogs over [fromBlock, toBlock] in spans of at most `chain.maxBlockRange` blocks, in block order.
 * A span the endpoint refuses as too large is halved and retried; any other failure is an unreachable RPC.
 */
export async function readLogs(chain: AuditChain, p: ReadLogsParameters): Promise<Log[]> {
  const logs: Log[] = [];
  let from = p.fromBlock;
  let span = chain.maxBlockRange;
  while (from <= p.toBlock) {
    const to = from + span - 1n < p.toBlock ? from + span - 1n : p.toBlock;
    let raw: unknown[];
    try {
      raw = (await chain.client.request({
        method: "eth_getLogs",
        params: [{ address: p.address, topics: p.topics, fromBlock: numberToHex(from), toBlock: numberToHex(to) }],
      } as never)) as unknown[];
    } catch (error) {
      // viem's shortMessage + details carry the endpoint's words; its full message also echoes the request body.
      const e = error as { shortMessage?: string; details?: string; message?: string };
      const message = e.shortMessage !== undefined ? `${e.shortMessage} ${e.details ?? ""}`.trim() : String(e.message ?? error);
      if (span > 1n && RANGE_LIMIT.test(message)) {
        span /= 2n;
        continue;
      }
      throw new RpcUnreachableError(chain.rpcLabel, `eth_getLogs ${from}..${to} failed: ${message.split("\n")[0]}`, { cause: error });
    }
    for (const log of raw) logs.push(formatLog(log as never) as Log);
    from = to + 1n;
  }
  return logs;
}
