import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { getAddress, keccak256, toHex, zeroAddress } from "viem";
import { Role } from "../../sdk/contracts.ts";
import { EVALUATOR_ID, expectRevert, MODEL_ID, setupProtocol, STAKE } from "./protocol-fixture.ts";

describe("StakeRegistry", () => {
  it("stakes, joins the sortition pools and tops up", async () => {
    const env = await setupProtocol({ providers: 2, validators: 3 });
    assert.equal(await env.read.registry.read.activeValidators([EVALUATOR_ID]), 3n);
    assert.equal(await env.read.registry.read.activeProviders([MODEL_ID]), 2n);
    assert.equal(await env.read.registry.read.totalValidatorWeight([EVALUATOR_ID]), 3n * STAKE);
    const v = env.validators[0];
    await env.stake(v, Role.Validator, 5n);
    const info = await env.read.registry.read.stakeInfo([v.account.address]);
    assert.equal(info.amount, STAKE + 5n);
    assert.equal(info.role, Role.Validator);
    assert.deepEqual(await env.read.registry.read.modelsOf([env.providers[0].account.address]), [MODEL_ID]);
  });

  it("rejects bad stakes with typed errors", async () => {
    const env = await setupProtocol({ providers: 1, validators: 1 });
    const fresh = env.wallets[10];
    const registry = env.as(fresh).registry;
    await expectRevert(registry.write.stake([Role.None, 1n]), "InvalidRole");
    await expectRevert(registry.write.stake([Role.Validator, 0n]), "ZeroAmount");
    await env.fund(fresh, STAKE, env.manifest.contracts.stakeRegistry);
    await expectRevert(registry.write.stake([Role.Validator, 1n]), "BelowMinStake");
    await expectRevert(env.as(env.validators[0]).registry.write.stake([Role.Provider, STAKE]), "RoleMismatch");
    await expectRevert(registry.write.requestUnstake(), "NotStaked");
    await expectRevert(registry.write.withdraw(), "UnstakeNotRequested");
    await expectRevert(registry.write.registerModel([MODEL_ID]), "WrongRole");
    await expectRevert(env.as(env.validators[0]).registry.write.registerModel([MODEL_ID]), "WrongRole");
    await expectRevert(env.as(env.providers[0]).registry.write.registerEvaluator([EVALUATOR_ID]), "WrongRole");
    await expectRevert(env.as(env.providers[0]).registry.write.registerModel([MODEL_ID]), "AlreadyRegistered");
    await expectRevert(env.as(env.validators[0]).registry.write.registerEvaluator([EVALUATOR_ID]), "AlreadyRegistered");
    await expectRevert(env.as(env.providers[0]).registry.write.unregisterModel([keccak256(toHex("x"))]), "NotRegistered");
  });

  it("unstake: leaves the pool at once, withdraws only after the cooldown, can be cancelled", async () => {
    const env = await setupProtocol({ providers: 1, validators: 2 });
    const v = env.validators[0];
    const registry = env.as(v).registry;
    await env.wait(await registry.write.requestUnstake());
    assert.equal(await env.read.registry.read.activeValidators([EVALUATOR_ID]), 1n);
    await expectRevert(registry.write.requestUnstake(), "UnstakeAlreadyRequested");
    await expectRevert(registry.write.stake([Role.Validator, STAKE]), "UnstakeAlreadyRequested");
    await expectRevert(registry.write.withdraw(), "CooldownNotOver");
    await env.wait(await registry.write.cancelUnstake());
    assert.equal(await env.read.registry.read.activeValidators([EVALUATOR_ID]), 2n);
    await env.wait(await registry.write.requestUnstake());
    const cooldown = await env.read.registry.read.unstakeCooldown();
    await env.mine(Number(cooldown));
    const before = await env.read.token.read.balanceOf([v.account.address]);
    await env.wait(await registry.write.withdraw());
    assert.equal(await env.read.token.read.balanceOf([v.account.address]), before + STAKE);
    const info = await env.read.registry.read.stakeInfo([v.account.address]);
    assert.equal(info.amount, 0n);
    assert.equal(info.role, Role.None);
    // The role is cleared: the same key may now stake as a provider.
    await env.stake(v, Role.Provider);
    assert.equal(await env.read.registry.read.activeProviders([MODEL_ID]), 2n);
  });

  it("providers leave and rejoin model pools; a provider serves at most 8 models", async () => {
    const env = await setupProtocol({ providers: 1, validators: 0 });
    const p = env.as(env.providers[0]).registry;
    await env.wait(await p.write.unregisterModel([MODEL_ID]));
    assert.equal(await env.read.registry.read.activeProviders([MODEL_ID]), 0n);
    for (let i = 0; i < 8; i++) await env.wait(await p.write.registerModel([keccak256(toHex(`m${i}`))]));
    await expectRevert(p.write.registerModel([MODEL_ID]), "TooManyRegistrations");
  });

  it("only the task market locks and slashes; governance bounds and one-time market binding", async () => {
    const env = await setupProtocol({ providers: 1, validators: 1 });
    const stranger = env.as(env.wallets[12]).registry;
    const someone = [env.validators[0].account.address];
    await expectRevert(stranger.write.lock([someone]), "OnlyTaskMarket");
    await expectRevert(stranger.write.unlock([someone]), "OnlyTaskMarket");
    await expectRevert(stranger.write.slash([someone, 100n]), "OnlyTaskMarket");
    await expectRevert(stranger.write.setMinStake([Role.Validator, 1n]), "OwnableUnauthorizedAccount");
    const gov = env.read.registry;
    await expectRevert(gov.write.setTaskMarket([env.wallets[12].account.address]), "TaskMarketAlreadySet");
    await expectRevert(gov.write.setMinStake([Role.None, 1n]), "InvalidRole");
    await expectRevert(gov.write.setMinStake([Role.Validator, 0n]), "ParameterOutOfBounds");
    const lifetime = await env.read.market.read.maxTaskLifetime();
    await expectRevert(gov.write.setUnstakeCooldown([lifetime]), "ParameterOutOfBounds");
    await expectRevert(gov.write.setUnstakeCooldown([1_000_001n]), "ParameterOutOfBounds");
    await env.wait(await gov.write.setUnstakeCooldown([lifetime + 1n]));
    assert.equal(await gov.read.unstakeCooldown(), lifetime + 1n);
    await env.wait(await gov.write.setMinStake([Role.Validator, 5n]));
    assert.equal(await gov.read.minStake([Role.Validator]), 5n);
  });

  it("draws: providers never the excluded one, committees distinct and never the provider", async () => {
    const env = await setupProtocol({ providers: 2, validators: 6 });
    const reg = env.read.registry;
    const snapshot = (await env.blockNumber()) - 1n;
    const [p0, p1] = env.providers.map((p) => getAddress(p.account.address));
    for (let seed = 0n; seed < 10n; seed++) {
      assert.equal(await reg.read.drawProvider([MODEL_ID, seed, p0, snapshot]), p1);
      const members = await reg.read.drawCommittee([EVALUATOR_ID, seed, 5n, p0, snapshot]);
      assert.equal(members.length, 5);
      assert.equal(new Set(members).size, 5);
    }
    assert.equal(await reg.read.drawProvider([keccak256(toHex("unknown")), 1n, zeroAddress, snapshot]), zeroAddress);
    assert.deepEqual(await reg.read.drawCommittee([EVALUATOR_ID, 1n, 7n, zeroAddress, snapshot]), []); // pool of 6 cannot seat 7
  });

  it("draws without replacement: k == n seats the whole pool; single draws follow stake", async () => {
    const env = await setupProtocol({ providers: 1, validators: 4 });
    // Give validator 0 three times the stake of the others: weights 4:1:1:1 of 7.
    await env.stake(env.validators[0], Role.Validator, 3n * STAKE);
    const reg = env.read.registry;
    await env.mine(1);
    const snapshot = (await env.blockNumber()) - 1n;
    const everyone = new Set(env.validators.map((v) => getAddress(v.account.address)));
    for (let seed = 0n; seed < 20n; seed++) {
      const members = await reg.read.drawCommittee([EVALUATOR_ID, seed, 4n, zeroAddress, snapshot]);
      assert.deepEqual(new Set(members), everyone);
    }
    const heavy = getAddress(env.validators[0].account.address);
    const draws = 700;
    let hits = 0;
    for (let seed = 0; seed < draws; seed++) {
      const [first] = await reg.read.drawCommittee([EVALUATOR_ID, BigInt(seed), 1n, zeroAddress, snapshot]);
      if (first === heavy) hits++;
    }
    // Expected 400 of 700 (p = 4/7); 5 standard deviations (~65) keeps the test deterministic-seed safe.
    assert.ok(Math.abs(hits - 400) < 65, `heavy validator drawn ${hits} of ${draws}`);
  });
});
