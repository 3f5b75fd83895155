import { encodeFunctionData, type Address } from "viem";
import type { DaemonContext } from "../runtime/context.ts";
import type { Logger } from "../observe/logger.ts";
import { enqueueStep } from "../queue/queues.ts";
import { ClaimStore } from "../store/claim-store.ts";
import { claimableNow } from "../../sdk/contracts.ts";
import { sendTolerating, taskMarketAbi, type Market } from "./market.ts";
import { decideClaim } from "./claim-policy.ts";

/**
 * Claim checks share one id per `batchMs` window, so every task settled in that window costs one check; the
 * check itself (claimStep) decides whether claiming is worth it now. 0 = check at once.
 */
export async function scheduleClaim(ctx: DaemonContext, batchMs: number): Promise<void> {
  const bucket = batchMs === 0 ? Date.now() : Math.floor(Date.now() / batchMs);
  const runAtMs = batchMs === 0 ? undefined : (bucket + 1) * batchMs;
  await enqueueStep(ctx.queues, { step: "claim", data: { taskId: "batch", round: bucket }, runAtMs });
}

/**
 * Withdraws all of this account's credits in one claim() when the claim policy (claim-policy.ts, config
 * `claim`) says it is worth it; otherwise leaves them to accumulate and schedules a last check for when the
 * credit will have waited claim.maxIntervalMs. `role` labels the metric.
 */
export async function claimStep(ctx: DaemonContext, market: Market, me: Address, role: string, log: Logger): Promise<{ claimed: string; why: string }> {
  const store = new ClaimStore(ctx.config.stateDir, market.address);
  // claim() keeps 1 wei of the credit (the slot stays non-zero): what it would transfer is the rest.
  const amount = claimableNow(await market.claimable(me));
  const now = Date.now();
  let since = store.creditSinceMs();
  if (amount === 0n) {
    if (since !== undefined) store.save(undefined);
    return { claimed: "0", why: "nothing" };
  }
  if (since === undefined) store.save((since = now));
  const policy = ctx.config.claim;
  // The claim's cost only matters with a token price to weigh it against.
  const [gas, fees] = policy.tokenPerNative === undefined ? [0n, { maxFeePerGas: 0n }] : await Promise.all([
    ctx.chain.client.estimateGas({ account: me, to: market.address, data: encodeFunctionData({ abi: taskMarketAbi, functionName: "claim" }) }),
    ctx.chain.client.estimateFeesPerGas(),
  ]);
  const decision = decideClaim({
    credit: amount, gas, gasPriceWei: fees.maxFeePerGas, margin: policy.gasMargin,
    tokenPerNative: policy.tokenPerNative, creditSinceMs: since, nowMs: now, maxIntervalMs: policy.maxIntervalMs,
  });
  if (!decision.claim) {
    const due = since + policy.maxIntervalMs;
    await enqueueStep(ctx.queues, { step: "claim", data: { taskId: "interval", round: Math.floor(due / 1_000) }, runAtMs: due });
    log.debug({ amount: amount.toString(), why: decision.why }, "credits left to accumulate");
    return { claimed: "0", why: decision.why };
  }
  const sent = await sendTolerating(["NothingToClaim"], () =>
    market.send(`claim:${now}`, "claim", [], "Claimed", (args) => String(args.account).toLowerCase() === me.toLowerCase()));
  store.save(undefined);
  if (sent === undefined) return { claimed: "0", why: "nothing" };
  ctx.metrics.tasksClaimed.inc({ role });
  log.info({ amount: amount.toString(), txHash: sent.hash, why: decision.why }, "credits claimed");
  return { claimed: amount.toString(), why: decision.why };
}
