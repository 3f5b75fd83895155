import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { getAddress, keccak256, toHex, zeroHash } from "viem";
import { EVALUATOR_ID, expectRevert, setupProtocol } from "./protocol-fixture.ts";

describe("EvaluatorRegistry", () => {
  it("registers by manifest hash, toggles, moves the URI; governance only", async () => {
    const env = await setupProtocol({ providers: 0, validators: 0 });
    const reg = env.read.evaluators;
    assert.equal(await reg.read.isActive([EVALUATOR_ID]), true);
    const id = keccak256(toHex("manifest-2"));
    await env.wait(await reg.write.register([id, "ipfs://two"]));
    assert.deepEqual(await reg.read.evaluatorIds(), [EVALUATOR_ID, id]);
    await env.wait(await reg.write.setActive([id, false]));
    assert.equal(await reg.read.isActive([id]), false);
    await env.wait(await reg.write.setUri([id, "https://mirror/two"]));
    assert.equal((await reg.read.evaluator([id])).uri, "https://mirror/two");
    await expectRevert(reg.write.register([id, "x"]), "EvaluatorAlreadyRegistered");
    await expectRevert(reg.write.register([zeroHash, "x"]), "ZeroEvaluatorId");
    await expectRevert(reg.write.register([keccak256(toHex("3")), ""]), "InvalidUri");
    await expectRevert(reg.write.register([keccak256(toHex("3")), "x".repeat(513)]), "InvalidUri");
    await expectRevert(reg.write.setActive([keccak256(toHex("nope")), true]), "UnknownEvaluator");
    await expectRevert(reg.read.evaluator([keccak256(toHex("nope"))]), "UnknownEvaluator");
    const stranger = env.as(env.wallets[15]).evaluators;
    await expectRevert(stranger.write.register([keccak256(toHex("4")), "x"]), "OwnableUnauthorizedAccount");
  });

  it("hands governance over in two steps", async () => {
    const env = await setupProtocol({ providers: 0, validators: 0 });
    const next = env.wallets[16];
    await env.wait(await env.read.evaluators.write.transferOwnership([next.account.address]));
    assert.equal(await env.read.evaluators.read.owner(), getAddress(env.deployer.account.address));
    await env.wait(await env.as(next).evaluators.write.acceptOwnership());
    assert.equal(await env.read.evaluators.read.owner(), getAddress(next.account.address));
  });
});
