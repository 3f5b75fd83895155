import type { Hex } from "viem";
import { signCommit } from "../../../sdk/eip712.ts";
import { formatSignedItem, type RelayKind, type SignedItem } from "../relayer/relay-messages.ts";
import type { ValidatorDeps } from "./deps.ts";

/**
 * How long (chain seconds) after its round's seed block a signed commit stays valid. Every signature of one commit
 * report signs the same deadline, so members derive it from the round (the seed block's timestamp: fixed before
 * anyone can know the committee, whenever the draw lands), not from their own clock. A long one costs nothing: a signed commit is single-use (one seat of one round) and the commit phase ends
 * at commitEnd anyway.
 */
export const COMMIT_SIGNATURE_LIFETIME_S = 86_400n;
const POST_TIMEOUT_MS = 3_000;

export type RelayFields =
  | { kind: "commit"; taskId: bigint; round: bigint; index: bigint; commitment: Hex; seedBlock: bigint }
  | { kind: "reveal"; taskId: bigint; round: bigint; index: bigint; score: bigint; salt: Hex };

/**
 * Hands a signed commit or an opening to the aggregator and waits for its report on chain. Returns true once the
 * chain shows it (`landed`), false when the caller must commit or reveal alone: the aggregator refused or was
 * unreachable, or no report carried it `relayFallbackBlocks` before `phaseEnd`. For the reveal this fallback is
 * the member's only protection: a reveal report is refused after revealEnd, so an aggregator that withholds it
 * would otherwise have the member slashed as a non-revealer. The salt is already on disk, so falling back loses
 * nothing; if the report lands after all, the call alone reverts harmlessly (AlreadyCommitted, or the round settled).
 */
export async function submitThroughRelayer(deps: ValidatorDeps, fields: RelayFields, phaseEnd: bigint, landed: () => Promise<boolean>): Promise<boolean> {
  const { ctx, market } = deps;
  const v = ctx.config.roles.validator!;
  const log = deps.log.child({ taskId: String(fields.taskId), round: Number(fields.round), kind: fields.kind });
  let item: SignedItem;
  if (fields.kind === "commit") {
    // Chain time, not wall time: the contract checks block.timestamp. The same deadline for every member.
    const deadline = (await ctx.chain.client.getBlock({ blockNumber: fields.seedBlock })).timestamp + COMMIT_SIGNATURE_LIFETIME_S;
    // No nonce: a commit is single-use per member, task and round, so it never waits for another message.
    item = { taskId: fields.taskId, round: fields.round, index: fields.index, commitment: fields.commitment, deadline,
      signature: await signCommit(ctx.account, market.domain, { taskId: fields.taskId, round: fields.round, commitment: fields.commitment, deadline }) };
  } else {
    // An opening needs no signature: the commitment binds this member's address, and only the salt opens it.
    item = { taskId: fields.taskId, round: fields.round, index: fields.index, score: fields.score, salt: fields.salt };
  }
  // The relayer is told when this validator stops waiting for it, so that it never holds the message past that.
  const fallbackAt = phaseEnd - BigInt(v.relayFallbackBlocks);
  let accepted = false;
  try {
    const res = await fetch(`${v.relayerUrl!.replace(/\/$/, "")}/relay/${fields.kind}`, {
      method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(formatSignedItem(item, fallbackAt)), signal: AbortSignal.timeout(POST_TIMEOUT_MS),
    });
    accepted = res.status === 202;
    if (!accepted) log.warn({ status: res.status, answer: (await res.text()).trim() }, "aggregator refused the item; sending alone");
  } catch (error) {
    log.warn({ err: (error as Error).message }, "aggregator unreachable; sending alone");
  }
  if (!accepted) return false;
  log.info("item handed to the aggregator");
  for (;;) {
    if (await landed()) return true;
    if ((await ctx.chain.client.getBlockNumber({ cacheTime: 0 })) >= fallbackAt) {
      log.warn({ fallbackAt: String(fallbackAt) }, "no report carried it in time; sending alone");
      return false;
    }
    // Looked at again on the next block (the relayed batch can only land in one), or after a poll interval
    // without one.
    await ctx.heads.nextHead(ctx.config.chain.pollIntervalMs);
  }
}


