import type { Address } from "viem";
import type { DaemonContext } from "../runtime/context.ts";
import type { Logger } from "../observe/logger.ts";
import { enqueueStep } from "../queue/queues.ts";
import { sendTolerating, type Market } from "./market.ts";

/**
 * Claim jobs share one id per `batchMs` window, so the rewards of every task settled in that window leave in
 * one claim() (claimable credits accumulate per account on-chain). 0 = claim at once.
 */
export async function scheduleClaim(ctx: DaemonContext, batchMs: number): Promise<void> {
  const bucket = batchMs === 0 ? Date.now() : Math.floor(Date.now() / batchMs);
  const runAtMs = batchMs === 0 ? undefined : (bucket + 1) * batchMs;
  await enqueueStep(ctx.queues, { step: "claim", data: { taskId: "batch", round: bucket }, runAtMs });
}

/** Withdraws all of this account's credits in one claim() when there are any; `role` labels the metric. */
export async function claimStep(ctx: DaemonContext, market: Market, me: Address, role: string, log: Logger): Promise<{ claimed: string }> {
  const amount = await market.claimable(me);
  if (amount === 0n) return { claimed: "0" };
  const sent = await sendTolerating(["NothingToClaim"], () =>
    market.send(`claim:${Date.now()}`, "claim", [], "Claimed", (args) => String(args.account).toLowerCase() === me.toLowerCase()));
  if (sent === undefined) return { claimed: "0" };
  ctx.metrics.tasksClaimed.inc({ role });
  log.info({ amount: amount.toString(), txHash: sent.hash }, "credits claimed");
  return { claimed: amount.toString() };
}
