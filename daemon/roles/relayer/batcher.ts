import { encodeFunctionData, getAbiItem, type Address, type Hex, type PublicClient } from "viem";
import type { HeadFollower } from "../../chain/heads.ts";
import type { TransactionSender } from "../../chain/sender.ts";
import type { Logger } from "../../observe/logger.ts";
import { relayBatcherAbi, TaskStatus } from "../../../sdk/contracts.ts";
import { computeCommitment, SCORE_MAX } from "../../../sdk/commitment.ts";
import { toCompactSignature } from "../../../sdk/eip712.ts";
import { hasSeat, maskOf, readOpenings, reportCommitment, stateArg, type RoundState } from "../../../sdk/rounds.ts";
import { finalizeGasHeadroom } from "../keeper/keeper.ts";
import { revertName, taskMarketAbi, type Market, type TaskView } from "../market.ts";
import { LandMargin } from "./land-margin.ts";
import { parseSignedItem, recoverCommitItemSigner, RelayRejectedError, type RelayKind, type SignedCommitItem, type SignedRevealItem } from "./relay-messages.ts";

/** One committee's items of one kind (its signed commits, or its openings), sent as one report. */
interface Group {
  kind: RelayKind;
  taskId: bigint;
  round: number;
  /** Committee size k. */
  size: number;
  /** A block at or before the round's draw (its seed block): where its logs are read from. */
  fromBlock: bigint;
  /** Held items by seat (a seat's newer item replaces its older one). */
  items: Map<number, SignedCommitItem | SignedRevealItem>;
  /** The earliest fallback block of its members: sent the land margin (LandMargin) before it. */
  fallbackAt: bigint;
  timer?: NodeJS.Timeout;
  /** When it was released (ms), to measure how long reports take to land. */
  releasedAt?: number;
  /** Reveal: a fallback is near, so the openings held go as soon as reveals are open even if they leave a committed
   * seat unopened (a partial report). Until then only a set that settles the round goes: no timer, because a round
   * with a silent seat cannot settle before revealEnd anyway, while a partial sent early for a member that is only
   * slow would cost a second report (about 100k gas more than one complete report). */
  partialDue?: boolean;
}

/** A report ready to go: the call's arguments and what it covers. */
interface Report {
  group: Group;
  functionName: "commitReport" | "revealReport";
  args: readonly unknown[];
  seats: number[];
  /** A reveal report that leaves no committed seat unopened: it settles the round. */
  settles: boolean;
  /** A commit report on an undrawn round draws the committee: the draw's gas beyond the estimate (which may have
   * seen another drawing transaction ahead of this one). */
  drawGas?: bigint;
}

export interface RelayBatcherParameters {
  market: Market;
  client: PublicClient;
  sender: TransactionSender;
  /** New heads: a group is sent before its validators' fallback block whatever its timer says. */
  heads: HeadFollower;
  /** The aggregator's own account (the one sender). */
  from: Address;
  /** Longest a committee's incomplete set of commits, or of openings, is held after its first one arrived. */
  batchMs: number;
  /** Items held (all groups) at which everything is sent at once. */
  maxBatch: number;
  log: Logger;
}

/** A validator that does not say when it falls back (no `sendBy`) is assumed to run the default, 5 blocks. */
const DEFAULT_FALLBACK_BLOCKS = 5n;
/** Sends of one report (each rebuilt from fresh reads) before it is given up: its validators fall back. */
const REPORT_ATTEMPTS = 3;

const scoreCommitted = getAbiItem({ abi: taskMarketAbi, name: "ScoreCommitted" });
const fullMask = (k: number) => (k >= 32 ? 0xffffffff : (1 << k) - 1) >>> 0;
const mask32 = (n: number) => n >>> 0;

/**
 * The aggregator (docs/design/ROUNDS.md): holds a committee's signed commits and sends them as one commitReport
 * as soon as it holds every seat the chain lacks (or, with the seats it has, `batchMs` after the first or before the
 * earliest validator's fallback block); then holds the members' openings, each checked against its seat's
 * commitment (a wrong one is refused, so one member cannot make the report revert), and sends one revealReport
 * (which settles the round) once it holds every committed seat not yet open. Before the earliest holder's fallback
 * block it sends the openings it holds as a partial revealReport when a committed seat is still missing (a silent member, or
 * one that reveals alone): the market stores them as if each member had revealed alone, so none of them has to,
 * and a keeper's finalize (or a later report) settles. Reports of several tasks ready together share one
 * RelayBatcher.relayEach transaction; a report that goes stale (RoundStateMismatch: another report landed;
 * AlreadyCommitted: a member committed alone) is rebuilt from fresh reads and sent again.
 */
export class RelayBatcher {
  readonly #p: RelayBatcherParameters;
  readonly #groups = new Map<string, Group>();
  #ready: Group[] = [];
  #drainScheduled = false;
  readonly #inFlight = new Set<Promise<void>>();
  readonly #rechecking = new Set<Group>();
  readonly #unsubscribe: () => void;
  readonly #margin = new LandMargin();
  /** Counters for logs and tests: transactions sent, seats reported, items dropped because they would revert,
   * rounds settled by a reveal report, partial reveal reports landed, and groups sent complete (all k) vs
   * incomplete (timer or fallback). */
  readonly stats = { batches: 0, relayed: 0, dropped: 0, finalized: 0, partialReveals: 0, completeGroups: 0, incompleteGroups: 0 };

  constructor(p: RelayBatcherParameters) {
    this.#p = p;
    this.#unsubscribe = p.heads.onHead((head) => {
      this.#margin.onHead(head);
      for (const g of this.#groups.values()) {
        if (g.kind === "commit" && this.#fallbackNear(g, head)) this.#release(g, "fallback near");
        // Openings wait to settle the round (a fallback reveal elsewhere can complete them) until the fallback
        // nears, then go partial as soon as reveals are open.
        if (g.kind === "reveal") {
          if (this.#fallbackNear(g, head)) g.partialDue = true;
          void this.#recheck(g);
        }
      }
    });
  }

  /** Validates and holds one item; throws RelayRejectedError (with an HTTP status) when it cannot be relayed. */
  async accept(kind: RelayKind, body: unknown): Promise<{ signer: Address }> {
    const { item, sendBy } = parseSignedItem(kind, body);
    const round = Number(item.round);
    const { market } = this.#p;
    const [head, task] = await Promise.all([this.#p.client.getBlock({ blockTag: "latest" }), market.task(item.taskId).catch(() => undefined)]);
    const closed = () => new RelayRejectedError(422, "PhaseClosed", `task ${item.taskId} round ${round} takes no ${kind} after block ${head.number}`);
    if (task === undefined || task.round !== round) throw closed();
    // The round's committee and windows: from its CommitteeDrawn, or, before the draw, from pendingCommittee (the
    // commit report this item goes into then draws the committee).
    const current = await market.round(item.taskId, round, task.seedBlock).catch(() => { throw closed(); });
    const { state } = current;
    const seat = Number(item.index);
    const member = state.members[seat];
    if (member === undefined) throw new RelayRejectedError(403, "NotCommitteeMember", `task ${item.taskId} round ${round} has no seat ${seat}`);
    if (kind === "commit") {
      const c = item as SignedCommitItem;
      if (c.deadline <= head.timestamp) throw new RelayRejectedError(422, "SignatureExpired", `deadline ${c.deadline} has passed (chain time ${head.timestamp})`);
      let signer: Address;
      try {
        signer = await recoverCommitItemSigner(market.domain, c);
      } catch (error) {
        throw new RelayRejectedError(400, "BadSignature", `signature does not recover: ${(error as Error).message.split("\n")[0]}`);
      }
      if (signer.toLowerCase() !== member.toLowerCase()) throw new RelayRejectedError(403, "InvalidSigner", `signer ${signer} is not member ${seat} of task ${item.taskId} round ${round}`);
    }
    const phaseEnd = kind === "commit" ? current.commitEnd : current.revealEnd;
    // A report sent now lands in the next block at the earliest: the phase must still be open then. Openings only
    // once drawn (reveals follow commits).
    const inPhase = task.status === TaskStatus.Committee || (kind === "commit" && task.status === TaskStatus.Answered);
    if (!inPhase || head.number >= phaseEnd) throw closed();
    if (kind === "commit" && hasSeat(task.committedMask, seat)) throw new RelayRejectedError(409, "AlreadyCommitted", `seat ${seat} of task ${item.taskId} round ${round} is committed`);
    if (kind === "reveal") await this.#checkOpening(task, state, seat, item as SignedRevealItem);
    const key = `${kind}:${item.taskId}:${round}`;
    let group = this.#groups.get(key);
    if (group === undefined) {
      group = { kind, taskId: item.taskId, round, size: state.members.length, fromBlock: task.seedBlock, items: new Map(), fallbackAt: phaseEnd };
      this.#groups.set(key, group);
    }
    group.items.set(seat, item);
    const fallbackAt = sendBy ?? phaseEnd - DEFAULT_FALLBACK_BLOCKS;
    if (fallbackAt < group.fallbackAt) group.fallbackAt = fallbackAt;
    if (kind === "reveal") {
      if (this.#fallbackNear(group, head.number)) group.partialDue = true;
      await this.#recheck(group);
      return { signer: member };
    }
    const held = maskOf(group.items.keys());
    if (mask32(held | task.committedMask) === fullMask(group.size)) this.#release(group, "complete");
    else if (this.#fallbackNear(group, head.number)) this.#release(group, "fallback near");
    else if (this.held >= this.#p.maxBatch) void this.flush();
    else group.timer ??= setTimeout(() => this.#release(group, "timer"), this.#p.batchMs);
    return { signer: member };
  }

  /** Whether a report of `g` released at `head` must go now to land before its earliest member falls back. */
  #fallbackNear(g: Group, head: bigint): boolean {
    return head + this.#margin.blocks() >= g.fallbackAt;
  }

  /** Refuses an opening the contract would refuse (so that it cannot make the whole report revert). */
  async #checkOpening(task: TaskView, state: RoundState, seat: number, r: SignedRevealItem): Promise<void> {
    if (!hasSeat(task.committedMask, seat)) throw new RelayRejectedError(422, "NotCommitted", `seat ${seat} of task ${r.taskId} has not committed`);
    if (r.score > BigInt(SCORE_MAX)) throw new RelayRejectedError(422, "ScoreOutOfRange", `score ${r.score} is above ${SCORE_MAX}`);
    const member = state.members[seat]!;
    const expected = reportCommitment(state, seat) ?? (await this.#commitmentAlone(r.taskId, Number(r.round), member, task.seedBlock));
    const opened = computeCommitment({ score: r.score, salt: r.salt, validator: member, taskId: r.taskId, round: r.round, chainId: this.#p.market.manifest.chainId, market: this.#p.market.address });
    if (expected === undefined || opened.toLowerCase() !== expected.toLowerCase()) {
      throw new RelayRejectedError(422, "CommitmentMismatch", `the opening of seat ${seat} does not match its commitment`);
    }
  }

  /** The commitment `member` committed alone in the round (its ScoreCommitted), if it did. */
  async #commitmentAlone(taskId: bigint, round: number, member: Address, fromBlock: bigint): Promise<Hex | undefined> {
    const logs = await this.#p.client.getLogs({ address: this.#p.market.address, event: scoreCommitted, args: { taskId, validator: member }, fromBlock, strict: true });
    return logs.filter((l) => l.args.round === BigInt(round)).at(-1)?.args.commitment;
  }

  /** Seats of the round already open: revealed alone (ScoreRevealed) or by a partial report (RevealReported). */
  async #openedOnChain(g: Group, state: RoundState): Promise<number> {
    return maskOf((await readOpenings(this.#p.client, this.#p.market.address, g.taskId, g.round, state, g.fromBlock)).keys());
  }

  /** Releases a reveal group once reveals are open and its openings cover every committed seat not yet open, or
   * (once partialDue) open at least one. */
  async #recheck(g: Group): Promise<void> {
    if (this.#rechecking.has(g) || this.#groups.get(`reveal:${g.taskId}:${g.round}`) !== g) return;
    this.#rechecking.add(g);
    try {
      const report = await this.#build(g);
      if (report !== undefined) this.#release(g, report.settles ? "complete" : "partial");
    } catch (error) {
      this.#p.log.debug({ taskId: String(g.taskId), err: error }, "reveal group recheck failed; next head");
    } finally {
      this.#rechecking.delete(g);
    }
  }

  /** Sends everything held now (openings partial if need be, once reveals are open); resolves when it and every
   * report still being sent are settled. */
  async flush(): Promise<void> {
    for (const g of [...this.#groups.values()]) {
      if (g.kind === "commit") this.#release(g, "flush");
      else {
        g.partialDue = true;
        await this.#recheck(g);
      }
    }
    this.#drain();
    await Promise.all([...this.#inFlight]);
  }

  /** Stops following heads and sends what is held (accepting an item is a promise to try). */
  close(): Promise<void> {
    this.#unsubscribe();
    return this.flush();
  }

  /** Items held now, all groups (not yet handed to a report). */
  get held(): number {
    let n = 0;
    for (const g of this.#groups.values()) n += g.items.size;
    return n;
  }

  /** Moves a group to the send queue; the groups released in the same turn of the event loop share a transaction. */
  #release(g: Group, why: string): void {
    const key = `${g.kind}:${g.taskId}:${g.round}`;
    if (this.#groups.get(key) !== g) return;
    this.#groups.delete(key);
    clearTimeout(g.timer);
    g.releasedAt = Date.now();
    this.#p.log.debug({ kind: g.kind, taskId: String(g.taskId), held: g.items.size, size: g.size, why }, "report group ready");
    this.#ready.push(g);
    if (!this.#drainScheduled) {
      this.#drainScheduled = true;
      setImmediate(() => this.#drain());
    }
  }

  #drain(): void {
    this.#drainScheduled = false;
    const ready = this.#ready;
    this.#ready = [];
    if (ready.length === 0) return;
    const sending = this.#sendGroups(ready).catch((error) => this.#p.log.error({ err: error }, "report batch failed"));
    this.#inFlight.add(sending);
    void sending.finally(() => this.#inFlight.delete(sending));
  }

  /**
   * The report of `g` against the chain as it is now, or undefined when there is nothing to send (commit: every
   * held seat committed meanwhile) or it cannot be sent yet (reveal: reveals not open, no held seat still closed,
   * or, before partialDue, a committed seat neither held nor open).
   */
  async #build(g: Group): Promise<Report | undefined> {
    const { market } = this.#p;
    const [task, { state }, head] = await Promise.all([market.task(g.taskId), market.round(g.taskId, g.round, g.fromBlock), this.#p.client.getBlockNumber({ cacheTime: 0 })]);
    if (task.round !== g.round) return undefined;
    if (g.kind === "commit") {
      // An undrawn round's commit report draws its committee (the state is then pendingCommittee's).
      if (task.status !== TaskStatus.Committee && task.status !== TaskStatus.Answered) return undefined;
      // One report per deadline: every signature of a report signs the same one. Members sign the round's
      // deadline (relay-submit.ts), so there is one; the largest set goes first, the rest in a later report.
      const open = [...g.items.entries()].filter(([seat]) => !hasSeat(task.committedMask, seat)) as [number, SignedCommitItem][];
      if (open.length === 0) return undefined;
      const byDeadline = new Map<bigint, [number, SignedCommitItem][]>();
      for (const entry of open) byDeadline.set(entry[1].deadline, [...(byDeadline.get(entry[1].deadline) ?? []), entry]);
      const [deadline, chosen] = [...byDeadline.entries()].sort((a, b) => b[1].length - a[1].length)[0]!;
      chosen.sort((a, b) => a[0] - b[0]);
      const seats = chosen.map(([seat]) => seat);
      const report = {
        taskId: g.taskId, round: BigInt(g.round), mask: maskOf(seats), deadline,
        commitments: chosen.map(([, c]) => c.commitment), signatures: chosen.map(([, c]) => toCompactSignature(c.signature)),
      };
      const drawGas = task.status === TaskStatus.Answered ? await market.drawGasHeadroom(g.taskId) : undefined;
      return { group: g, functionName: "commitReport", args: [stateArg(state), report], seats, settles: false, drawGas };
    }
    if (task.status !== TaskStatus.Committee) return undefined;
    const full = fullMask(g.size);
    const revealsOpen = task.committedMask === full || head >= task.commitEnd;
    if (!revealsOpen || head >= task.revealEnd) return undefined;
    const needed = mask32(task.committedMask & ~(await this.#openedOnChain(g, state)));
    const seats = [...g.items.keys()].filter((seat) => hasSeat(needed, seat)).sort((a, b) => a - b);
    const settles = maskOf(seats) === needed;
    if (seats.length === 0 || (!settles && g.partialDue !== true)) return undefined;
    const openings = seats.map((seat) => g.items.get(seat) as SignedRevealItem);
    const report = { taskId: g.taskId, revealMask: maskOf(seats), scores: openings.map((o) => Number(o.score)), salts: openings.map((o) => o.salt) };
    return { group: g, functionName: "revealReport", args: [stateArg(state), report], seats, settles };
  }

  /** Sends the reports of `groups`: one transaction for one report, RelayBatcher.relayEach for several; a report
   * that did not land is rebuilt and sent alone (at most REPORT_ATTEMPTS times). */
  async #sendGroups(groups: Group[]): Promise<void> {
    for (const g of groups) {
      if (g.items.size >= g.size) this.stats.completeGroups++;
      else this.stats.incompleteGroups++;
    }
    let pending = groups;
    for (let attempt = 1; attempt <= REPORT_ATTEMPTS && pending.length > 0; attempt++) {
      const reports = (await Promise.all(pending.map((g) => this.#build(g).catch(() => undefined)))).filter((r): r is Report => r !== undefined);
      if (reports.length === 0) return;
      const relayBatcher = this.#p.market.manifest.contracts.relayBatcher;
      try {
        if (reports.length === 1 || relayBatcher === undefined) {
          for (const r of reports) await this.#sendOne(r).catch((error) => this.#p.log.info({ taskId: String(r.group.taskId), kind: r.group.kind, err: revertName(error) ?? (error as Error).message.split("\n")[0] }, "report refused; rebuilding"));
        } else {
          await this.#sendEach(relayBatcher, reports);
        }
      } catch (error) {
        this.#p.log.info({ err: revertName(error) ?? (error as Error).message.split("\n")[0] }, "report batch refused; rebuilding");
      }
      // What is left to send: rebuilt from the chain (a report that landed leaves nothing, or a later report).
      pending = (await Promise.all(reports.map(async (r) => ((await this.#build(r.group).catch(() => undefined)) === undefined ? undefined : r.group)))).filter((g): g is Group => g !== undefined);
      if (pending.length > 0 && attempt === REPORT_ATTEMPTS) {
        this.stats.dropped += pending.length;
        this.#p.log.warn({ tasks: pending.map((g) => String(g.taskId)) }, "reports not landed after retries: their members fall back");
      }
    }
  }

  #landed(r: Report): void {
    if (r.group.releasedAt !== undefined) this.#margin.landed(r.group.releasedAt);
    this.stats.relayed += r.seats.length;
    if (r.settles) this.stats.finalized++;
    else if (r.functionName === "revealReport") this.stats.partialReveals++;
  }

  #headroom(reports: Report[]): bigint {
    // What a settling reveal report may need beyond its estimate: the keeper's margin per payee.
    return reports.reduce((sum, r) => sum + (r.settles ? finalizeGasHeadroom(r.group.size) : 0n) + (r.drawGas ?? 0n), 0n);
  }

  async #sendOne(r: Report): Promise<void> {
    const event = r.functionName === "commitReport" ? "CommitReported" : "RevealReported";
    const sent = await this.#p.market.send(`${r.functionName}:${r.group.taskId}:${r.seats.length}`, r.functionName, r.args, event, (args) => args.taskId === r.group.taskId, { gasHeadroom: this.#headroom([r]) });
    this.stats.batches++;
    this.#landed(r);
    this.#p.log.info({ kind: r.group.kind, taskId: String(r.group.taskId), seats: r.seats.length, settles: r.settles, txHash: sent.hash }, "report sent");
  }

  async #sendEach(relayBatcher: Address, reports: Report[]): Promise<void> {
    const { market } = this.#p;
    const calls = reports.map((r) => encodeFunctionData({ abi: taskMarketAbi, functionName: r.functionName, args: r.args } as never));
    const tasks = new Set(reports.map((r) => r.group.taskId));
    const sent = await this.#p.sender.send({
      label: `relayEach:${reports.length}`,
      to: relayBatcher,
      data: encodeFunctionData({ abi: relayBatcherAbi, functionName: "relayEach", args: [market.address, calls] }),
      expect: { abi: taskMarketAbi, eventName: ["CommitReported", "RevealReported"], address: market.address, where: (args) => tasks.has(args.taskId as bigint) },
      gasHeadroom: this.#headroom(reports),
    });
    this.stats.batches++;
    // Which reports landed: their events in the receipt (a skipped one is rebuilt by the caller).
    const landed = new Set(sent.receipt.logs.filter((l) => l.address.toLowerCase() === market.address.toLowerCase()).map((l) => l.topics[1]));
    for (const r of reports) {
      const topic: Hex = `0x${r.group.taskId.toString(16).padStart(64, "0")}`;
      if (landed.has(topic)) this.#landed(r);
    }
    this.#p.log.info({ reports: reports.length, tasks: tasks.size, txHash: sent.hash }, "reports sent together");
  }
}
