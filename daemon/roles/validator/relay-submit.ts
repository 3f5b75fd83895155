import type { Hex } from "viem";
import { signCommit, signReveal } from "../../../sdk/eip712.ts";
import { formatSignedItem, type RelayKind, type SignedItem } from "../relayer/relay-messages.ts";
import type { ValidatorDeps } from "./deps.ts";

/** How long (chain seconds) a signed message stays valid: long enough for any batch, short enough not to linger. */
const SIGNATURE_LIFETIME_S = 600n;
const POST_TIMEOUT_MS = 3_000;

export type RelayFields =
  | { kind: "commit"; taskId: bigint; round: bigint; index: bigint; commitment: Hex }
  | { kind: "reveal"; taskId: bigint; round: bigint; index: bigint; score: bigint; salt: Hex };

/**
 * Submits a commit or reveal through the relayer and waits for it on chain. Returns true once the chain shows it
 * (`landed` reads the member's state), false when the caller must send it directly: the relayer refused or was
 * unreachable, or the message was not on chain `relayFallbackBlocks` before `phaseEnd`. The salt is already on
 * disk, so falling back loses nothing; if the relayed message lands after all, the direct one reverts harmlessly.
 */
export async function submitThroughRelayer(deps: ValidatorDeps, fields: RelayFields, phaseEnd: bigint, landed: () => Promise<boolean>): Promise<boolean> {
  const { ctx, market } = deps;
  const v = ctx.config.roles.validator!;
  const log = deps.log.child({ taskId: String(fields.taskId), round: Number(fields.round), kind: fields.kind });
  // Chain time, not wall time: the contract checks block.timestamp, and local chains can run ahead.
  const deadline = (await ctx.chain.client.getBlock({ blockTag: "latest" })).timestamp + SIGNATURE_LIFETIME_S;
  // No nonce: a commit or reveal is single-use per member, task and round, so it never waits for another message.
  const item: SignedItem = fields.kind === "commit"
    ? { taskId: fields.taskId, round: fields.round, index: fields.index, commitment: fields.commitment, deadline,
        signature: await signCommit(ctx.account, market.domain, { taskId: fields.taskId, round: fields.round, commitment: fields.commitment, deadline }) }
    : { taskId: fields.taskId, round: fields.round, index: fields.index, score: fields.score, salt: fields.salt, deadline,
        signature: await signReveal(ctx.account, market.domain, { taskId: fields.taskId, round: fields.round, score: fields.score, salt: fields.salt, deadline }) };
  // The relayer is told when this validator stops waiting for it, so that it never holds the message past that.
  const fallbackAt = phaseEnd - BigInt(v.relayFallbackBlocks);
  let accepted = false;
  try {
    const res = await fetch(`${v.relayerUrl!.replace(/\/$/, "")}/relay/${fields.kind}`, {
      method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(formatSignedItem(item, fallbackAt)), signal: AbortSignal.timeout(POST_TIMEOUT_MS),
    });
    accepted = res.status === 202;
    if (!accepted) log.warn({ status: res.status, answer: (await res.text()).trim() }, "relayer refused the signed message; sending directly");
  } catch (error) {
    log.warn({ err: (error as Error).message }, "relayer unreachable; sending directly");
  }
  if (!accepted) return false;
  log.info("signed message handed to the relayer");
  for (;;) {
    if (await landed()) return true;
    if ((await ctx.chain.client.getBlockNumber({ cacheTime: 0 })) >= fallbackAt) {
      log.warn({ fallbackAt: String(fallbackAt) }, "relayed message not on chain in time; sending directly");
      return false;
    }
    // Looked at again on the next block (the relayed batch can only land in one), or after a poll interval
    // without one.
    await ctx.heads.nextHead(ctx.config.chain.pollIntervalMs);
  }
}


