import { encodeFunctionData, type Address, type Hex, type PublicClient } from "viem";
import type { HeadFollower } from "../../chain/heads.ts";
import type { TransactionSender } from "../../chain/sender.ts";
import type { Logger } from "../../observe/logger.ts";
import { relayBatcherAbi, TaskStatus } from "../../../sdk/contracts.ts";
import { finalizeGasHeadroom } from "../keeper/keeper.ts";
import { revertName, taskMarketAbi, type Market, type MemberView } from "../market.ts";
import { parseSignedItem, recoverItemSigner, RelayRejectedError, type RelayKind, type SignedItem } from "./relay-messages.ts";

interface Pending {
  item: SignedItem;
  signer: Address;
}

/** One committee's messages of one kind (its commits, or its reveals), sent together in one transaction. */
interface Group {
  kind: RelayKind;
  taskId: bigint;
  round: bigint;
  /** Committee size k. */
  size: number;
  /** Seats whose message of this kind is already on chain (sent directly, or by an earlier batch). */
  onChain: Set<number>;
  /** Held messages by seat (a seat's newer message replaces its older one). */
  items: Map<number, Pending>;
  /** The group is sent when the head reaches this block: its earliest validator fallback, less LAND_MARGIN_BLOCKS. */
  sendAtHead: bigint;
  timer?: NodeJS.Timeout;
}

export interface RelayBatcherParameters {
  market: Market;
  client: PublicClient;
  sender: TransactionSender;
  /** New heads: a group is sent before its validators' fallback block whatever its timer says. */
  heads: HeadFollower;
  /** The relayer's own account (the one sender): simulations run from it. */
  from: Address;
  /** Longest a committee's incomplete set of messages is held after its first message arrived. */
  batchMs: number;
  /** Messages held (all groups) at which everything is sent at once. */
  maxBatch: number;
  log: Logger;
}

/** The commitment a seat shows until it commits (ITaskMarket.MemberView). */
const NOT_COMMITTED = `0x${"0".repeat(63)}1`;
/** A validator that does not say when it falls back (no `sendBy`) is assumed to run the default, 5 blocks. */
const DEFAULT_FALLBACK_BLOCKS = 5n;
/** Sent this many blocks before a validator's fallback block: one for the transaction to land, one of margin. */
const LAND_MARGIN_BLOCKS = 2n;

const landed = (kind: RelayKind, m: MemberView) => (kind === "commit" ? m.commitment !== NOT_COMMITTED : m.revealed);
/** Seats of `members` whose message of the group's kind is on chain are added to `onChain`. */
const markLanded = (g: Group, members: readonly MemberView[]) => members.forEach((m, i) => landed(g.kind, m) && g.onChain.add(i));
const groupKey = (kind: RelayKind, taskId: bigint, round: bigint) => `${kind}:${taskId}:${round}`;
const complete = (g: Group, seats: Iterable<number>) => {
  const covered = new Set([...g.onChain, ...seats]);
  return covered.size >= g.size;
};

/**
 * Holds validators' signed commits and reveals per committee (task, round, kind) after checking them (signature
 * recovers to the committee member, deadline not passed, phase still open), and sends a committee's messages as
 * soon as it holds the last one the chain lacks: all k commits in one commitBySig, all k reveals in one
 * RelayBatcher.revealAndFinalize that also finalizes the task (the keeper then finds it settled). An incomplete
 * set is sent `batchMs` after its first message, or earlier when the head nears the earliest block at which one of
 * its validators stops waiting and sends directly (`sendBy`, LAND_MARGIN_BLOCKS before it): holding an item longer
 * would only make the validator pay for its own transaction. Groups ready at the same time share one transaction.
 * A batch goes out as held (the sender's gas estimate simulates it); if it would revert it is bisected (each half
 * simulated on top of the kept prefix) so that a bad item is dropped while every other item still lands. Messages
 * carry no nonce (each is single-use per member, task and round), so items never depend on each other.
 */
export class RelayBatcher {
  readonly #p: RelayBatcherParameters;
  readonly #groups = new Map<string, Group>();
  #ready: Group[] = [];
  #drainScheduled = false;
  /** Batches being sent: each waits for its receipt and confirmations, while later ones go out beside it. */
  readonly #inFlight = new Set<Promise<void>>();
  readonly #unsubscribe: () => void;
  /** Counters for logs and tests: transactions sent, items relayed, items dropped because they would revert,
   * tasks finalized by a reveal batch, and groups sent complete (all k) vs incomplete (timer or fallback). */
  readonly stats = { batches: 0, relayed: 0, dropped: 0, finalized: 0, completeGroups: 0, incompleteGroups: 0 };

  constructor(p: RelayBatcherParameters) {
    this.#p = p;
    this.#unsubscribe = p.heads.onHead((head) => {
      for (const g of this.#groups.values()) if (head >= g.sendAtHead) this.#release(g, "fallback near");
    });
  }

  /** Validates and holds one item; throws RelayRejectedError (with an HTTP status) when it cannot be relayed. */
  async accept(kind: RelayKind, body: unknown): Promise<{ signer: Address }> {
    const { item, sendBy } = parseSignedItem(kind, body);
    const round = Number(item.round);
    const [head, members, task] = await Promise.all([
      this.#p.client.getBlock({ blockTag: "latest" }),
      this.#p.market.committee(item.taskId, round).catch(() => []),
      this.#p.market.task(item.taskId).catch(() => undefined),
    ]);
    if (item.deadline <= head.timestamp) throw new RelayRejectedError(422, "SignatureExpired", `deadline ${item.deadline} has passed (chain time ${head.timestamp})`);
    let signer: Address;
    try {
      signer = await recoverItemSigner(kind, this.#p.market.domain, item);
    } catch (error) {
      throw new RelayRejectedError(400, "BadSignature", `signature does not recover: ${(error as Error).message.split("\n")[0]}`);
    }
    const seat = Number(item.index);
    const member = members[seat];
    if (member === undefined || member.account.toLowerCase() !== signer.toLowerCase()) {
      throw new RelayRejectedError(403, "InvalidSigner", `signer ${signer} is not member ${item.index} of task ${item.taskId} round ${item.round}`);
    }
    const phaseEnd = kind === "commit" ? task?.commitEnd : task?.revealEnd;
    // A batch sent now lands in the next block at the earliest: the phase must still be open then.
    if (task === undefined || task.status !== TaskStatus.Committee || task.round !== round || phaseEnd === undefined || head.number >= phaseEnd) {
      throw new RelayRejectedError(422, "PhaseClosed", `task ${item.taskId} round ${round} takes no ${kind} after block ${head.number}`);
    }
    const key = groupKey(kind, item.taskId, item.round);
    let group = this.#groups.get(key);
    if (group === undefined) {
      group = { kind, taskId: item.taskId, round: item.round, size: members.length, onChain: new Set(), items: new Map(), sendAtHead: phaseEnd };
      this.#groups.set(key, group);
    }
    markLanded(group, members);
    group.items.set(seat, { item, signer });
    const fallbackAt = sendBy ?? phaseEnd - DEFAULT_FALLBACK_BLOCKS;
    if (fallbackAt - LAND_MARGIN_BLOCKS < group.sendAtHead) group.sendAtHead = fallbackAt - LAND_MARGIN_BLOCKS;
    if (complete(group, group.items.keys())) this.#release(group, "complete");
    else if (head.number >= group.sendAtHead) this.#release(group, "fallback near");
    else if (this.#held() >= this.#p.maxBatch) void this.flush();
    else group.timer ??= setTimeout(() => this.#release(group, "timer"), this.#p.batchMs);
    return { signer };
  }

  /** Sends everything held now; resolves when it and every batch still being sent are settled. */
  async flush(): Promise<void> {
    for (const g of [...this.#groups.values()]) this.#release(g, "flush");
    this.#drain();
    await Promise.all([...this.#inFlight]);
  }

  /** Stops following heads and sends what is held (accepting an item is a promise to try). */
  close(): Promise<void> {
    this.#unsubscribe();
    return this.flush();
  }

  #held(): number {
    let n = 0;
    for (const g of this.#groups.values()) n += g.items.size;
    return n;
  }

  /** Moves a group to the send queue; the groups released in the same turn of the event loop share a transaction. */
  #release(g: Group, why: string): void {
    const key = groupKey(g.kind, g.taskId, g.round);
    if (this.#groups.get(key) !== g) return;
    this.#groups.delete(key);
    clearTimeout(g.timer);
    this.#p.log.debug({ kind: g.kind, taskId: String(g.taskId), held: g.items.size, size: g.size, why }, "relay group ready");
    this.#ready.push(g);
    if (!this.#drainScheduled) {
      this.#drainScheduled = true;
      setImmediate(() => this.#drain());
    }
  }

  /** Sends the ready groups without waiting for batches still in flight (the sender hands out the nonces). */
  #drain(): void {
    this.#drainScheduled = false;
    const ready = this.#ready;
    this.#ready = [];
    for (const kind of ["commit", "reveal"] as const) {
      // Whole groups per transaction up to maxBatch items; a group larger than maxBatch is cut into chunks, sent
      // one after the other (a later chunk's finalize counts the seats an earlier one landed).
      const batches: { group: Group; items: Pending[] }[][] = [[]];
      let size = 0;
      for (const group of ready.filter((g) => g.kind === kind)) {
        const items = [...group.items.values()];
        if (complete(group, group.items.keys())) this.stats.completeGroups++;
        else this.stats.incompleteGroups++;
        for (let start = 0; start < items.length; start += this.#p.maxBatch) {
          const chunk = items.slice(start, start + this.#p.maxBatch);
          if (size + chunk.length > this.#p.maxBatch) (batches.push([]), (size = 0));
          batches.at(-1)!.push({ group, items: chunk });
          size += chunk.length;
        }
      }
      const nonEmpty = batches.filter((b) => b.length > 0);
      if (nonEmpty.length === 0) continue;
      const sending = (async () => {
        for (const batch of nonEmpty) await this.#sendBatch(kind, batch).catch((error) => this.#p.log.error({ err: error, kind }, "relay batch failed"));
      })();
      this.#inFlight.add(sending);
      void sending.finally(() => this.#inFlight.delete(sending));
    }
  }

  /** Sends one transaction for `batch`; if its estimate or the chain refuses it (an item went stale: a validator's
   * direct message raced it), the batch is bisected and sent without the items that fail, at most twice more. */
  async #sendBatch(kind: RelayKind, batch: { group: Group; items: Pending[] }[]): Promise<void> {
    let items = batch.flatMap((b) => b.items);
    const groups = [...new Set(batch.map((b) => b.group))];
    if (kind === "reveal") {
      // Seats revealed directly since the group's last message (a validator's fallback) count towards the finalize.
      await Promise.all(groups.map(async (g) => {
        markLanded(g, await this.#p.market.committee(g.taskId, Number(g.round)).catch(() => []));
      }));
    }
    for (let attempt = 1; ; attempt++) {
      // The sender's gas estimate already simulates the whole batch against the pending block (a refusal costs no
      // gas): only a batch it refused, or that reverted on chain, is simulated again and bisected.
      const kept = attempt === 1 ? items : await this.#sendable(kind, [], items);
      this.stats.dropped += items.length - kept.length;
      for (const dropped of items.filter((p) => !kept.includes(p))) {
        this.#p.log.warn({ kind, taskId: String(dropped.item.taskId), signer: dropped.signer }, "relayed item would revert: dropped from the batch");
      }
      if (kept.length === 0) return;
      // The tasks whose reveals this batch completes: finalized in the same transaction.
      const finalize = kind === "reveal" && this.#p.market.manifest.contracts.relayBatcher !== undefined
        ? groups.filter((g) => complete(g, kept.filter((p) => g.items.get(Number(p.item.index)) === p).map((p) => Number(p.item.index))))
        : [];
      try {
        const hash = await this.#send(kind, kept.map((p) => p.item), finalize);
        this.stats.batches++;
        this.stats.relayed += kept.length;
        this.stats.finalized += finalize.length;
        for (const p of kept) batch.find((b) => b.items.includes(p))!.group.onChain.add(Number(p.item.index));
        this.#p.log.info({ kind, items: kept.length, tasks: new Set(kept.map((p) => String(p.item.taskId))).size, finalized: finalize.length, dropped: items.length - kept.length, txHash: hash }, "relay batch sent");
        return;
      } catch (error) {
        if (attempt >= 3 || revertName(error) === undefined) throw error;
        this.#p.log.info({ kind, err: (error as Error).message.split("\n")[0] }, "relay batch refused or reverted; simulating item by item");
        items = kept;
      }
    }
  }

  async #send(kind: RelayKind, items: SignedItem[], finalize: Group[]): Promise<Hex> {
    const { market, sender } = this.#p;
    const first = items[0]!.taskId;
    const where = (args: Record<string, unknown>) => args.taskId === first;
    if (kind === "commit") return (await market.send(`commitBySig:${first}:${items.length}`, "commitBySig", [items], "ScoreCommitted", where)).hash;
    const relayBatcher = market.manifest.contracts.relayBatcher;
    if (relayBatcher === undefined) return (await market.send(`revealBySig:${first}:${items.length}`, "revealBySig", [items], "ScoreRevealed", where)).hash;
    const finalizeIds = finalize.map((g) => g.taskId);
    // What a finalize may need beyond its estimate (the keeper's margin), only for the tasks finalized here. Gas
    // not used is not paid.
    const headroom = finalize.reduce((sum, g) => sum + finalizeGasHeadroom(g.size), 0n);
    const sent = await sender.send({
      label: `revealAndFinalize:${first}:${items.length}:${finalizeIds.length}`,
      to: relayBatcher,
      data: encodeFunctionData({ abi: relayBatcherAbi, functionName: "revealAndFinalize", args: [market.address, items as never, finalizeIds] }),
      expect: { abi: taskMarketAbi, eventName: "ScoreRevealed", address: market.address, where },
      gasHeadroom: headroom,
    });
    return sent.hash;
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
    const functionName = kind === "commit" ? "commitBySig" : "revealBySig";
    const data = encodeFunctionData({ abi: taskMarketAbi, functionName, args: [items.map((p) => p.item)] } as never);
    try {
      await this.#p.client.call({ account: this.#p.from, to: this.#p.market.address, data });
      return true;
    } catch {
      return false;
    }
  }
}
