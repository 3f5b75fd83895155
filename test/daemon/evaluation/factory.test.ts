import assert from "node:assert/strict";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { ManifestInvalidError, ManifestMismatchError, SCORE_MAX } from "../../../daemon/evaluation/evaluator.ts";
import { createEvaluator } from "../../../daemon/evaluation/factory.ts";
import { fetchModel } from "../../../daemon/evaluation/fetch.ts";
import { loadManifest, manifestId, parseManifest } from "../../../daemon/evaluation/manifest.ts";
import { ensureGeneratedModel } from "../../../scripts/models/generated-models.ts";
import { startModelServer, type ModelServer } from "./helpers/model-server.ts";

const REPO = "poq-test/generated-tiny";
const COMMIT = "fedcba9876543210fedcba9876543210fedcba98";

describe("createEvaluator: fetched cross-encoder end to end", () => {
  let modelDir: string;
  let server: ModelServer;
  let dest: string;
  before(async () => {
    modelDir = ensureGeneratedModel("generated-tiny-fp32");
    const manifest = await loadManifest(modelDir);
    const files = Object.fromEntries(await Promise.all(manifest.files.map(async (f) => [f.path, await readFile(path.join(modelDir, f.path))] as const)));
    server = await startModelServer(REPO, COMMIT, files);
    dest = await mkdtemp(path.join(tmpdir(), "poq-factory-"));
  });
  after(async () => {
    await server.close();
    await rm(dest, { recursive: true, force: true });
  });

  it("fetches a Hub-layout model, verifies it, and loads the cross-encoder engine for it", async () => {
    const generated = await loadManifest(modelDir);
    const hubManifest = parseManifest({ ...generated, name: "hub-tiny", source: { type: "hub", repo: REPO, revision: COMMIT } }, "test");
    await fetchModel(hubManifest, dest, { baseUrl: server.baseUrl });
    const evaluator = await createEvaluator(dest);
    try {
      assert.equal(evaluator.id, manifestId(hubManifest));
      const results = await evaluator.score([{ prompt: "What is the capital of France?", answer: "Paris." }, { prompt: "", answer: "" }]);
      assert.equal(results.length, 2);
      for (const r of results) assert.ok(Number.isInteger(r.score) && r.score >= 0 && r.score <= SCORE_MAX);
    } finally {
      await evaluator.close();
    }
  });

  it("refuses to load when a fetched file was altered afterwards", async () => {
    await writeFile(path.join(dest, "config.json"), "{}");
    await assert.rejects(createEvaluator(dest), (err: unknown) => err instanceof ManifestMismatchError && err.file === "config.json");
  });

  it("reports a folder without a manifest as ManifestInvalidError", async () => {
    await assert.rejects(createEvaluator(path.join(dest, "nowhere")), ManifestInvalidError);
  });
});
