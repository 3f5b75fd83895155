import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { waitFor } from "../../helpers/child-process.ts";
import { STAKE } from "../../helpers/daemon.ts";
import { startTestNetwork, type TestDaemon, type TestNetwork } from "./helpers/network.ts";
import { roundSeats } from "./helpers/rounds.ts";
import { startValidatorRole } from "../../../daemon/roles/validator/validator-role.ts";
import { TaskStatus } from "../../../sdk/contracts.ts";

/**
 * Quorum missed, then a new committee: three of five validators are down for round 0 (they neither commit nor
 * reveal), so the round rolls; they come back, and round 1 is drawn, scored and settled by all five.
 */
describe("roles: a round below quorum rolls to a new committee", () => {
  let net: TestNetwork;
  before(async () => {
    net = await startTestNetwork();
  });
  after(async () => {
    await net?.close();
  });

  it("finalizes in round 1 after round 0 missed quorum; only the absent validators are slashed", async () => {
    await net.startProvider([{ url: net.chat.base("ok"), timeoutMs: 5_000 }]);
    const validators: TestDaemon[] = [];
    for (let i = 0; i < 5; i++) validators.push(await net.startValidator());
    const absent = validators.slice(0, 3);
    for (const v of absent) await v.role.stop();
    await net.startBlocks(); // 40-block windows of 8 s: restarted validators catch up and score within them
    const taskId = await net.createTask();
    const c = net.contracts;
    await waitFor(async () => (await c.taskMarket.read.task([taskId])).round === 1, 60_000, "round 0 to roll");
    for (const v of absent) v.role = await startValidatorRole(v.ctx);
    await waitFor(async () => (await c.taskMarket.read.task([taskId])).status === TaskStatus.Finalized, 60_000, "round 1 to settle");

    const round0 = await roundSeats(net, taskId, 0);
    assert.equal(round0.filter((m) => m.revealed).length, 2, "round 0: only the two running validators revealed");
    const round1 = await roundSeats(net, taskId, 1);
    assert.ok(round1.every((m) => m.revealed), "round 1: everyone revealed");
    for (const v of validators) {
      const stake = (await c.stakeRegistry.read.stakeInfo([v.account.address])).amount;
      if (absent.includes(v)) assert.ok(stake < STAKE, "an absent member of round 0 is slashed");
      else assert.equal(stake, STAKE, "a member that revealed is not");
      const published = await (await fetch(`${v.ctx.health.url}/attestations?task=${taskId}`)).text();
      assert.equal(published.trim().split("\n").length, 1, "one attestation per task");
    }
  });
});
