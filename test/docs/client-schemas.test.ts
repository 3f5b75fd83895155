// docs/CLIENT.md points outside clients at JSON Schemas of the two manifests they must read. These tests keep the
// schemas true: real manifests (a fresh deployment, every committed evaluator manifest) validate, broken ones do
// not, and the schemas name the same fields as the zod schemas the TypeScript side parses with.
import assert from "node:assert/strict";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { after, before, describe, it } from "node:test";
import { Ajv } from "ajv";
import { ManifestSchema } from "../../daemon/evaluation/manifest.ts";
import { deploymentManifestSchema, DEFAULT_MARKET_PARAMS, type MarketParams } from "../../sdk/deployment.ts";
import { settlementMathAbi } from "../../sdk/abi.ts";
import { startTestChain, type TestChain } from "../helpers/chain.ts";
import { deployTestProtocol } from "../helpers/daemon.ts";

const REPO = fileURLToPath(new URL("../../", import.meta.url));
const schema = (name: string) => JSON.parse(readFileSync(path.join(REPO, "docs/schemas", name), "utf8")) as { required: string[]; properties: Record<string, unknown> };

describe("docs/schemas: the manifests an outside client reads", () => {
  const ajv = new Ajv({ allErrors: true, strict: true });
  const deployment = schema("deployment-manifest.schema.json");
  const evaluator = schema("evaluator-manifest.schema.json");
  const validDeployment = ajv.compile(deployment);
  const validEvaluator = ajv.compile(evaluator);
  let chain: TestChain;
  before(async () => {
    chain = await startTestChain();
  });
  after(async () => chain?.close());

  it("a fresh deployment's manifest validates; one missing a field or with a bad address does not", async () => {
    const { manifestPath } = await deployTestProtocol(chain);
    const manifest = JSON.parse(readFileSync(manifestPath, "utf8"));
    assert.ok(validDeployment(manifest), ajv.errorsText(validDeployment.errors));
    assert.deepEqual(manifest.evaluators, [], "a plain deploy registers no evaluator");
    const { chainId: _dropped, ...noChain } = manifest;
    assert.equal(validDeployment(noChain), false);
    assert.equal(validDeployment({ ...manifest, contracts: { ...manifest.contracts, taskMarket: "0x1234" } }), false);
    assert.deepEqual([...deployment.required].sort(), Object.keys(deploymentManifestSchema.shape).sort(), "same fields as sdk/deployment.ts");
  });

  it("every market parameter's bounds in the schema are the contract's own (checkParams at min - 1, min, max, max + 1)", async () => {
    const { manifest } = await deployTestProtocol(chain);
    const market = (deployment.properties.parameters as { properties: { market: { properties: Record<string, { minimum?: number; maximum?: number; type: string }> } } }).properties.market.properties;
    const check = (params: MarketParams) => chain.publicClient.readContract({ address: manifest.contracts.settlementMath, abi: settlementMathAbi, functionName: "checkParams", args: [params] });
    const integers = Object.entries(market).filter(([, p]) => p.type === "integer");
    assert.equal(integers.length, Object.keys(market).length - 1, "every parameter but minFee (a decimal string) is an integer");
    for (const [name, { minimum, maximum }] of integers) {
      assert.ok(minimum !== undefined && maximum !== undefined, `${name} has both bounds in the schema`);
      const at = (value: number) => check({ ...DEFAULT_MARKET_PARAMS, [name]: value });
      await at(minimum);
      await at(maximum);
      if (minimum > 0) await assert.rejects(at(minimum - 1), new RegExp(`ParameterOutOfBounds[\\s\\S]*${name}`), `${name} = ${minimum - 1}`);
      await assert.rejects(at(maximum + 1), new RegExp(`ParameterOutOfBounds[\\s\\S]*${name}`), `${name} = ${maximum + 1}`);
    }
  });

  it("every committed evaluator manifest validates; an unknown key or an escaping path does not", () => {
    const models = path.join(REPO, "models");
    const files = readdirSync(models).map((d) => path.join(models, d, "manifest.json")).filter(existsSync);
    assert.ok(files.length >= 3);
    for (const file of files) {
      const manifest = JSON.parse(readFileSync(file, "utf8"));
      assert.ok(validEvaluator(manifest), `${file}: ${ajv.errorsText(validEvaluator.errors)}`);
    }
    const sample = JSON.parse(readFileSync(files.find((f) => f.includes("generated-tiny-int8"))!, "utf8"));
    assert.equal(validEvaluator({ ...sample, extra: 1 }), false);
    assert.equal(validEvaluator({ ...sample, files: [{ ...sample.files[0], path: "../../etc/passwd" }] }), false);
    assert.deepEqual(Object.keys(evaluator.properties).sort(), Object.keys(ManifestSchema.innerType().shape).sort(), "same fields as daemon/evaluation/manifest.ts");
  });
});
