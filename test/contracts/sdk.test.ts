import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { getAddress, keccak256, toHex } from "viem";
import { generatePrivateKey, privateKeyToAccount } from "viem/accounts";
import { renderAbiModule } from "../../scripts/gen-abi.ts";
import { computeCommitment } from "../../sdk/commitment.ts";
import { getStakeRegistry } from "../../sdk/contracts.ts";
import { deployProtocol, maxTaskLifetime } from "../../sdk/deploy.ts";
import {
  DEFAULT_MARKET_PARAMS,
  InvalidManifestError,
  readDeploymentManifest,
  writeDeploymentManifest,
} from "../../sdk/deployment.ts";
import { recoverCommitSigner, signAttestation, signCommit, taskMarketDomain, verifyAttestation } from "../../sdk/eip712.ts";
import { setupProtocol } from "./protocol-fixture.ts";

describe("sdk", () => {
  it("sdk/abi.ts matches the build artifacts (regenerate: npx tsx scripts/gen-abi.ts)", () => {
    const committed = readFileSync(fileURLToPath(new URL("../../sdk/abi.ts", import.meta.url)), "utf8");
    assert.equal(committed, renderAbiModule());
  });

  it("manifest: written, read back and validated; bad files give InvalidManifestError", async () => {
    const env = await setupProtocol({ providers: 0, validators: 0 });
    const dir = mkdtempSync(join(tmpdir(), "poq-manifest-"));
    try {
      const path = join(dir, "nested", "deployment.json");
      writeDeploymentManifest(path, env.manifest);
      assert.deepEqual(readDeploymentManifest(path), env.manifest);
      assert.equal(env.manifest.chainId, env.chainId);
      assert.equal(BigInt(env.manifest.parameters.unstakeCooldown), await env.read.registry.read.unstakeCooldown());
      assert.equal(BigInt(env.manifest.parameters.unstakeCooldown), maxTaskLifetime(DEFAULT_MARKET_PARAMS) + 100n);
      assert.equal(await env.read.market.read.maxTaskLifetime(), maxTaskLifetime(DEFAULT_MARKET_PARAMS));
      const broken = join(dir, "broken.json");
      writeFileSync(broken, JSON.stringify({ ...env.manifest, contracts: { ...env.manifest.contracts, taskMarket: "0x12" } }));
      assert.throws(() => readDeploymentManifest(broken), (e: unknown) => e instanceof InvalidManifestError && /taskMarket/.test(e.message));
      writeFileSync(broken, "{ not json");
      assert.throws(() => readDeploymentManifest(broken), InvalidManifestError);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("deployProtocol hands the registries to governance in two steps", async () => {
    const env = await setupProtocol({ providers: 0, validators: 0 });
    const governance = env.wallets[17];
    const manifest = await deployProtocol({
      publicClient: env.publicClient,
      walletClient: env.deployer,
      token: env.manifest.contracts.token,
      governance: governance.account.address,
    });
    assert.equal(manifest.token.mock, false);
    assert.equal(await env.read.market.read.owner(), getAddress(env.deployer.account.address));
    const registry = getStakeRegistry(manifest.contracts.stakeRegistry, { public: env.publicClient, wallet: governance });
    assert.equal(await registry.read.pendingOwner(), getAddress(governance.account.address));
    await env.wait(await registry.write.acceptOwnership());
    assert.equal(await registry.read.owner(), getAddress(governance.account.address));
  });

  it("eip712: local-key signatures recover; attestations verify only for their signer and domain", async () => {
    const account = privateKeyToAccount(generatePrivateKey());
    const market = getAddress(keccak256(toHex("market")).slice(0, 42));
    const domain = taskMarketDomain(31337, market);
    const commitment = computeCommitment({
      score: 1, salt: keccak256(toHex("salt")), validator: account.address, taskId: 1n, round: 0, chainId: 31337, market,
    });
    const message = { taskId: 1n, round: 0n, commitment, deadline: 10n };
    const signature = await signCommit(account, domain, message);
    assert.equal(await recoverCommitSigner(domain, message, signature), account.address);
    const attestation = { taskId: 1n, outputHash: keccak256(toHex("out")), evaluatorId: keccak256(toHex("ev")), score: 42 };
    const sig = await signAttestation(account, domain, attestation);
    assert.equal(await verifyAttestation(domain, attestation, sig, account.address), true);
    assert.equal(await verifyAttestation(taskMarketDomain(1, market), attestation, sig, account.address), false);
    assert.equal(await verifyAttestation(domain, { ...attestation, score: 43 }, sig, account.address), false);
    assert.equal(await verifyAttestation(domain, attestation, "0x1234", account.address), false);
  });
});
