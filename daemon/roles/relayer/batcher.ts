import { encodeFunctionData, type Address, type PublicClient } from "viem";
import type { Logger } from "../../observe/logger.ts";
import { taskMarketAbi, type Market } from "../market.ts";
import { parseSignedItem, recoverItemSigner, RelayRejectedError, type RelayKind, type SignedItem } from "./relay-messages.ts";

interface Pending {
  kind: RelayKind;
  item: SignedItem;
  signer: Address;
}

export interface RelayBatcherParameters {
  market: Market;
  client: PublicClient;
  /** The relayer's own account (the one sender): simulations run from it. */
  from: Address;
  batchMs: number;
  maxBatch: number;
  log: Logger;
}

const FUNCTION: Record<RelayKind, "commitBySig" | "revealBySig"> = { commit: "commitBySig", reveal: "revealBySig" };
const EVENT: Record<RelayKind, string> = { commit: "ScoreCommitted", reveal: "ScoreRevealed" };

/**
 * Accepts validators' signed commits and reveals after checking them (signature recovers to the committee member,
 * deadline not passed), and sends them in batches every `batchMs` or `maxBatch` items with the relayer's one
 * sender. Items keep their arrival order: the queue is cut into runs of one kind, one transaction each. Messages
 * carry no nonce (each is single-use per member, task and round), so items never depend on each other. Before
 * sending, a run is simulated; if it would revert it is bisected (each half simulated on top of the kept prefix) so
 * that a bad item is dropped while every other item still lands.
 */
export class RelayBatcher {
  readonly #p: RelayBatcherParameters;
  #queue: Pending[] = [];
  #timer: NodeJS.Timeout | undefined;
  #sending: Promise<void> = Promise.resolve();
  /** Counters for logs and tests: batches sent, items relayed, items dropped because they would revert. */
  readonly stats = { batches: 0, relayed: 0, dropped: 0 };

  constructor(p: RelayBatcherParameters) {
    this.#p = p;
  }

  /** Validates and queues one item; throws RelayRejectedError (with an HTTP status) when it cannot be relayed. */
  async accept(kind: RelayKind, body: unknown): Promise<{ signer: Address }> {
    const item = parseSignedItem(kind, body);
    const chainNow = (await this.#p.client.getBlock({ blockTag: "latest" })).timestamp;
    if (item.deadline <= chainNow) throw new RelayRejectedError(422, "SignatureExpired", `deadline ${item.deadline} has passed (chain time ${chainNow})`);
    let signer: Address;
    try {
      signer = await recoverItemSigner(kind, this.#p.market.domain, item);
    } catch (error) {
      throw new RelayRejectedError(400, "BadSignature", `signature does not recover: ${(error as Error).message.split("\n")[0]}`);
    }
    const members = await this.#p.market.committee(item.taskId, Number(item.round)).catch(() => []);
    const member = members[Number(item.index)];
    if (member === undefined || member.account.toLowerCase() !== signer.toLowerCase()) {
      throw new RelayRejectedError(403, "InvalidSigner", `signer ${signer} is not member ${item.index} of task ${item.taskId} round ${item.round}`);
    }
    this.#queue.push({ kind, item, signer });
    if (this.#queue.length >= this.#p.maxBatch) this.flush();
    else this.#timer ??= setTimeout(() => this.flush(), this.#p.batchMs);
    return { signer };
  }

  /** Sends everything queued now (serialized after any batch still being sent); resolves when it is settled. */
  flush(): Promise<void> {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    const batch = this.#queue;
    this.#queue = [];
    if (batch.length > 0) this.#sending = this.#sending.then(() => this.#sendRuns(batch));
    return this.#sending;
  }

  async #sendRuns(batch: Pending[]): Promise<void> {
    for (let start = 0; start < batch.length; ) {
      let end = start + 1;
      while (end < batch.length && batch[end]!.kind === batch[start]!.kind) end++;
      await this.#sendRun(batch[start]!.kind, batch.slice(start, end)).catch((error) => this.#p.log.error({ err: error }, "relay batch failed"));
      start = end;
    }
  }

  async #sendRun(kind: RelayKind, run: Pending[]): Promise<void> {
    const kept = await this.#sendable(kind, [], run);
    this.stats.dropped += run.length - kept.length;
    for (const dropped of run.filter((p) => !kept.includes(p))) {
      this.#p.log.warn({ kind, taskId: String(dropped.item.taskId), signer: dropped.signer }, "relayed item would revert: dropped from the batch");
    }
    if (kept.length === 0) return;
    const first = kept[0]!.item;
    const sent = await this.#p.market.send(`${FUNCTION[kind]}:${first.taskId}:${kept.length}`, FUNCTION[kind], [kept.map((p) => p.item)], EVENT[kind], (args) => args.taskId === first.taskId);
    this.stats.batches++;
    this.stats.relayed += kept.length;
    this.#p.log.info({ kind, items: kept.length, dropped: run.length - kept.length, txHash: sent.hash }, "relay batch sent");
  }

  /** The items of `items` that can go on top of `prefix` without a revert, in order (simulation + bisection). */
  async #sendable(kind: RelayKind, prefix: Pending[], items: Pending[]): Promise<Pending[]> {
    if (items.length === 0) return [];
    if (await this.#simulates(kind, [...prefix, ...items])) return items;
    if (items.length === 1) return [];
    const middle = Math.ceil(items.length / 2);
    const left = await this.#sendable(kind, prefix, items.slice(0, middle));
    const right = await this.#sendable(kind, [...prefix, ...left], items.slice(middle));
    return [...left, ...right];
  }

  async #simulates(kind: RelayKind, items: Pending[]): Promise<boolean> {
    const data = encodeFunctionData({ abi: taskMarketAbi, functionName: FUNCTION[kind], args: [items.map((p) => p.item)] } as never);
    try {
      await this.#p.client.call({ account: this.#p.from, to: this.#p.market.address, data });
      return true;
    } catch {
      return false;
    }
  }
}
