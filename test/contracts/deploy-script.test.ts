import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { createPublicClient, http, keccak256, toHex } from "viem";
import { getTaskMarket } from "../../sdk/contracts.ts";
import { readDeploymentManifest } from "../../sdk/deployment.ts";
import { startLocalChain } from "../../scripts/localnet/chain.ts";

const run = promisify(execFile);
const ROOT = fileURLToPath(new URL("../../", import.meta.url));

describe("scripts/deploy.ts", () => {
  for (const evm of ["hardhat", "anvil"] as const) it(`deploys over JSON-RPC to ${evm} and writes a manifest that matches the chain`, async () => {
    const chain = await startLocalChain(evm);
    const dir = mkdtempSync(join(tmpdir(), "poq-deploy-"));
    try {
      const url = chain.rpcUrl;
      const out = join(dir, "deployment.json");
      const evaluator = keccak256(toHex("evaluator"));
      const { stdout } = await run(
        process.execPath,
        ["--import", "tsx", "scripts/deploy.ts", "--rpc-url", url, "--out", out, "--evaluator", `${evaluator}=ipfs://m`],
        { cwd: ROOT },
      );
      assert.match(stdout, /manifest written/);
      const manifest = readDeploymentManifest(out);
      assert.deepEqual(manifest.evaluators, [{ id: evaluator, uri: "ipfs://m" }]);
      const publicClient = createPublicClient({ transport: http(url) });
      assert.equal(manifest.chainId, await publicClient.getChainId());
      const market = getTaskMarket(manifest.contracts.taskMarket, { public: publicClient });
      assert.equal(await market.read.registry(), manifest.contracts.stakeRegistry);
      assert.equal((await market.read.params()).committeeSize, manifest.parameters.market.committeeSize);
    } finally {
      rmSync(dir, { recursive: true, force: true });
      await chain.close();
    }
  });

  it("--params: overrides are applied; a misspelt name or a value out of bounds stops it with a one-line error before the market is deployed", async () => {
    const chain = await startLocalChain("hardhat");
    const dir = mkdtempSync(join(tmpdir(), "poq-deploy-"));
    const deploy = (params: unknown) => {
      const file = join(dir, "params.json");
      writeFileSync(file, JSON.stringify(params));
      return run(process.execPath, ["--import", "tsx", "scripts/deploy.ts", "--rpc-url", chain.rpcUrl, "--out", join(dir, "deployment.json"), "--params", file], { cwd: ROOT });
    };
    const failure = async (params: unknown) => {
      const error = await deploy(params).then(() => assert.fail("the deployment should have failed"), (e: { code: number; stderr: string }) => e);
      assert.equal(error.code, 1);
      assert.equal(error.stderr.trim().split("\n").length, 1, `one line: ${error.stderr}`);
      return error.stderr;
    };
    try {
      await deploy({ committeeSize: 3, commitWindow: 7, minFee: "5" });
      const manifest = readDeploymentManifest(join(dir, "deployment.json"));
      const params = await getTaskMarket(manifest.contracts.taskMarket, { public: createPublicClient({ transport: http(chain.rpcUrl) }) }).read.params();
      assert.deepEqual([params.committeeSize, params.commitWindow, params.minFee], [3, 7, 5n]);

      assert.match(await failure({ comitteeSize: 3 }), /comitteeSize.*known parameters: committeeSize/);
      assert.match(await failure({ commitWindow: 0 }), /market parameter commitWindow = 0 is out of its bounds/);
      assert.match(await failure({ minFee: 5 }), /minFee/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
      await chain.close();
    }
  });
});
