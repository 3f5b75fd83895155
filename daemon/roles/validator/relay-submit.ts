import path from "node:path";
import type { Hex } from "viem";
import { sleep } from "../../chain/backoff.ts";
import { readJsonFile, writeFileDurable } from "../../store/durable-file.ts";
import { signCommit, signReveal } from "../../../sdk/eip712.ts";
import { taskMarketAbi } from "../market.ts";
import { formatSignedItem, type RelayKind, type SignedItem } from "../relayer/relay-messages.ts";
import type { ValidatorDeps } from "./deps.ts";

/** How long (chain seconds) a signed message stays valid: long enough for any batch, short enough not to linger. */
const SIGNATURE_LIFETIME_S = 600n;
const POST_TIMEOUT_MS = 3_000;

/**
 * This validator's next EIP-712 message nonce, kept durably in `<stateDir>/relay-nonce.json` and never below the
 * chain's `nonces(me)`. Taking a nonce, signing and handing the message to the relayer happen under one lock, so
 * the relayer receives them in nonce order. After any failure it resyncs to the chain's value: a message that
 * never landed leaves its nonce unused, and the next one must reuse it.
 */
export class RelayNonces {
  readonly #file: string;
  readonly #chainNonce: () => Promise<bigint>;
  #lock: Promise<unknown> = Promise.resolve();

  constructor(stateDir: string, chainNonce: () => Promise<bigint>) {
    this.#file = path.join(stateDir, "relay-nonce.json");
    this.#chainNonce = chainNonce;
  }

  /** Runs `use(nonce)` with the next nonce; the nonce counts as used only when `use` resolves true. */
  withNext(use: (nonce: bigint) => Promise<boolean>): Promise<boolean> {
    const run = this.#lock.then(async () => {
      const saved = BigInt(readJsonFile<{ next: string }>(this.#file)?.next ?? "0");
      const onChain = await this.#chainNonce();
      const nonce = saved > onChain ? saved : onChain;
      const used = await use(nonce);
      writeFileDurable(this.#file, JSON.stringify({ next: String(used ? nonce + 1n : onChain) }));
      return used;
    });
    this.#lock = run.catch(() => {});
    return run;
  }

  /** Back to the chain's nonce (after a relayed message did not land). */
  resync(): Promise<boolean> {
    return this.withNext(async () => false);
  }
}

export function createRelayNonces(deps: Pick<ValidatorDeps, "ctx" | "market" | "me">): RelayNonces {
  return new RelayNonces(deps.ctx.config.stateDir, () =>
    deps.ctx.chain.client.readContract({ address: deps.market.address, abi: taskMarketAbi, functionName: "nonces", args: [deps.me] }));
}

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
  const relay = deps.relayNonces!;
  const log = deps.log.child({ taskId: String(fields.taskId), round: Number(fields.round), kind: fields.kind });
  const accepted = await relay.withNext(async (nonce) => {
    // Chain time, not wall time: the contract checks block.timestamp, and local chains can run ahead.
    const deadline = (await ctx.chain.client.getBlock({ blockTag: "latest" })).timestamp + SIGNATURE_LIFETIME_S;
    const item: SignedItem = fields.kind === "commit"
      ? { taskId: fields.taskId, round: fields.round, index: fields.index, commitment: fields.commitment, nonce, deadline,
          signature: await signCommit(ctx.account, market.domain, { taskId: fields.taskId, round: fields.round, commitment: fields.commitment, nonce, deadline }) }
      : { taskId: fields.taskId, round: fields.round, index: fields.index, score: fields.score, salt: fields.salt, nonce, deadline,
          signature: await signReveal(ctx.account, market.domain, { taskId: fields.taskId, round: fields.round, score: fields.score, salt: fields.salt, nonce, deadline }) };
    try {
      const res = await fetch(`${v.relayerUrl!.replace(/\/$/, "")}/relay/${fields.kind}`, {
        method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(formatSignedItem(item)), signal: AbortSignal.timeout(POST_TIMEOUT_MS),
      });
      if (res.status === 202) return true;
      log.warn({ status: res.status, answer: (await res.text()).trim() }, "relayer refused the signed message; sending directly");
    } catch (error) {
      log.warn({ err: (error as Error).message }, "relayer unreachable; sending directly");
    }
    return false;
  });
  if (!accepted) return false;
  log.info("signed message handed to the relayer");
  const fallbackAt = phaseEnd - BigInt(v.relayFallbackBlocks);
  for (;;) {
    if (await landed()) return true;
    if ((await ctx.chain.client.getBlockNumber({ cacheTime: 0 })) >= fallbackAt) {
      log.warn({ fallbackAt: String(fallbackAt) }, "relayed message not on chain in time; sending directly");
      await relay.resync();
      return false;
    }
    await sleep(ctx.config.chain.pollIntervalMs);
  }
}


