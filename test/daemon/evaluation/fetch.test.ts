import assert from "node:assert/strict";
import { createHash, randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { PassThrough } from "node:stream";
import { fileURLToPath } from "node:url";
import { after, before, beforeEach, describe, it } from "node:test";
import { ModelFetchError } from "../../../daemon/evaluation/evaluator.ts";
import { createProgressReporter } from "../../../daemon/evaluation/fetch-progress.ts";
import { fetchModel, fileUrl, ModelNotFetchableError, type DownloadEvent } from "../../../daemon/evaluation/fetch.ts";
import { loadManifest, manifestId, parseManifest, verifyFiles, type Manifest } from "../../../daemon/evaluation/manifest.ts";
import { loadDraft, pinModel, type ManifestDraft } from "../../../daemon/evaluation/pin.ts";
import { startModelServer, type ModelServer } from "./helpers/model-server.ts";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../..");
const REPO = "cross-encoder/test-model";
const COMMIT = "0123456789abcdef0123456789abcdef01234567";
const MODEL = randomBytes(1_000_000);
const TOKENIZER = Buffer.from(JSON.stringify({ version: "1.0", model: { type: "WordPiece" } }));
const sha = (b: Buffer) => createHash("sha256").update(b).digest("hex");
const FAST = { retryDelayMs: 5, attempts: 3 };

function manifestFor(model: Buffer = MODEL): Manifest {
  return parseManifest(
    {
      schema: 1,
      name: "test-model",
      kind: "cross-encoder",
      source: { type: "hub", repo: REPO, revision: COMMIT },
      files: [
        { path: "onnx/model.onnx", sha256: sha(model), size: model.length },
        { path: "tokenizer.json", sha256: sha(TOKENIZER), size: TOKENIZER.length },
      ],
      model: { file: "onnx/model.onnx" },
      tokenizer: { file: "tokenizer.json", maxTokens: 512 },
      scoreMapping: { type: "sigmoid", center: 0, scale: 1, rawDecimals: 4 },
    },
    "test",
  );
}

describe("fetchModel against a local Hub-layout server", () => {
  let server: ModelServer;
  let root: string;
  let dest: string;
  before(async () => {
    server = await startModelServer(REPO, COMMIT, { "onnx/model.onnx": MODEL, "tokenizer.json": TOKENIZER });
    root = await mkdtemp(path.join(tmpdir(), "poq-fetch-"));
  });
  after(async () => {
    await server.close();
    await rm(root, { recursive: true, force: true });
  });
  beforeEach(async () => {
    dest = await mkdtemp(path.join(root, "model-"));
    server.requests.length = 0;
    server.cutOnce.clear();
    server.failWith.clear();
  });

  it("downloads, verifies, writes the manifest, and skips verified files next time", async () => {
    const events: DownloadEvent[] = [];
    const result = await fetchModel(manifestFor(), dest, { baseUrl: server.baseUrl, onProgress: (e) => events.push(e) });
    assert.deepEqual(result.downloaded, ["onnx/model.onnx", "tokenizer.json"]);
    assert.deepEqual(await readFile(path.join(dest, "onnx", "model.onnx")), MODEL);
    assert.equal(server.requests[0]!.path, `/${REPO}/resolve/${COMMIT}/onnx/model.onnx`);
    assert.ok(events.some((e) => e.type === "progress"));
    assert.equal(manifestId(await loadManifest(dest)), manifestId(manifestFor()));
    await verifyFiles(manifestFor(), dest);
    assert.ok(!existsSync(path.join(dest, "onnx", "model.onnx.partial")));

    server.requests.length = 0;
    const again = await fetchModel(manifestFor(), dest, { baseUrl: server.baseUrl });
    assert.deepEqual(again.skipped, ["onnx/model.onnx", "tokenizer.json"]);
    assert.equal(server.requests.length, 0);
  });

  it("prints plain progress lines when the output is not a terminal", async () => {
    const sink = new PassThrough();
    const chunks: Buffer[] = [];
    sink.on("data", (c: Buffer) => chunks.push(c));
    const reporter = createProgressReporter(sink as unknown as NodeJS.WriteStream);
    await fetchModel(manifestFor(), dest, { baseUrl: server.baseUrl, onProgress: reporter.onProgress });
    reporter.stop();
    const text = Buffer.concat(chunks).toString();
    assert.match(text, /onnx\/model\.onnx: downloading \(1000000 bytes\)/);
    assert.match(text, new RegExp(`tokenizer\\.json: ${TOKENIZER.length} bytes, sha256 ${sha(TOKENIZER)}`));
    assert.doesNotMatch(text, /\x1b\[/); // no terminal control sequences
  });

  it("replaces a stale manifest in the destination with the fetched one", async () => {
    const stale = manifestFor(randomBytes(10));
    await writeFile(path.join(dest, "manifest.json"), JSON.stringify(stale));
    await fetchModel(manifestFor(), dest, { baseUrl: server.baseUrl });
    assert.equal(manifestId(await loadManifest(dest)), manifestId(manifestFor()));
  });

  it("resumes an interrupted download with an HTTP Range request", async () => {
    server.cutOnce.set("onnx/model.onnx", 300_000);
    const events: DownloadEvent[] = [];
    await fetchModel(manifestFor(), dest, { baseUrl: server.baseUrl, onProgress: (e) => events.push(e), ...FAST });
    const modelRequests = server.requests.filter((r) => r.path.endsWith("model.onnx"));
    assert.equal(modelRequests.length, 2);
    assert.equal(modelRequests[0]!.range, undefined);
    const resumedAt = Number(/^bytes=(\d+)-$/.exec(modelRequests[1]!.range ?? "")?.[1]);
    assert.ok(resumedAt > 0 && resumedAt <= 300_000, `resumed at ${resumedAt}`);
    assert.ok(events.some((e) => e.type === "retry"));
    assert.ok(events.some((e) => e.type === "start" && e.resumedFrom === resumedAt));
    assert.deepEqual(await readFile(path.join(dest, "onnx", "model.onnx")), MODEL);
  });

  it("resumes from a partial file left by an earlier process", async () => {
    await mkdir(path.join(dest, "onnx"));
    await writeFile(path.join(dest, "onnx", "model.onnx.partial"), MODEL.subarray(0, 123_456));
    await fetchModel(manifestFor(), dest, { baseUrl: server.baseUrl, ...FAST });
    assert.equal(server.requests[0]!.range, "bytes=123456-");
    assert.deepEqual(await readFile(path.join(dest, "onnx", "model.onnx")), MODEL);
  });

  it("restarts from zero when a resumed partial turns out corrupt", async () => {
    await mkdir(path.join(dest, "onnx"));
    await writeFile(path.join(dest, "onnx", "model.onnx.partial"), randomBytes(5_000));
    await fetchModel(manifestFor(), dest, { baseUrl: server.baseUrl, ...FAST });
    const ranges = server.requests.filter((r) => r.path.endsWith("model.onnx")).map((r) => r.range);
    assert.deepEqual(ranges, ["bytes=5000-", undefined]);
    assert.deepEqual(await readFile(path.join(dest, "onnx", "model.onnx")), MODEL);
  });

  it("refuses a file whose sha256 differs and leaves nothing in place", async () => {
    const expectedOther = manifestFor(randomBytes(MODEL.length));
    await assert.rejects(fetchModel(expectedOther, dest, { baseUrl: server.baseUrl, ...FAST }), (err: unknown) => {
      assert.ok(err instanceof ModelFetchError);
      assert.match(err.message, /expected sha256 [0-9a-f]{64}, got [0-9a-f]{64}/);
      return true;
    });
    assert.ok(!existsSync(path.join(dest, "onnx", "model.onnx")));
    assert.ok(!existsSync(path.join(dest, "onnx", "model.onnx.partial")));
    assert.ok(!existsSync(path.join(dest, "manifest.json")));
  });

  it("fails at once on 404 with the status, and retries 503 before giving up", async () => {
    const missing = parseManifest({ ...manifestFor(), files: [{ path: "onnx/absent.onnx", sha256: sha(MODEL), size: 1 }], model: { file: "onnx/absent.onnx" }, tokenizer: undefined }, "t");
    await assert.rejects(fetchModel(missing, dest, { baseUrl: server.baseUrl, ...FAST }), (err: unknown) => err instanceof ModelFetchError && err.status === 404);
    assert.equal(server.requests.length, 1);

    server.requests.length = 0;
    server.failWith.set("onnx/model.onnx", 503);
    await assert.rejects(fetchModel(manifestFor(), dest, { baseUrl: server.baseUrl, ...FAST }), /failed after 3 attempts: HTTP 503/);
    assert.equal(server.requests.length, 3);
  });

  it("reports a network error as ModelFetchError", async () => {
    await assert.rejects(fetchModel(manifestFor(), dest, { baseUrl: "http://127.0.0.1:1", attempts: 1 }), ModelFetchError);
  });

  it("pins a draft: resolves the branch to the served commit and records hashes", async () => {
    const draft: ManifestDraft = {
      schema: 1,
      name: "test-model",
      kind: "cross-encoder",
      source: { type: "hub", repo: REPO, revision: "main" },
      files: [{ path: "onnx/model.onnx" }, { path: "tokenizer.json" }],
      model: { file: "onnx/model.onnx" },
      tokenizer: { file: "tokenizer.json", maxTokens: 512 },
      scoreMapping: { type: "sigmoid", center: 0, scale: 1, rawDecimals: 4 },
    };
    const { manifest, id } = await pinModel(draft, dest, { baseUrl: server.baseUrl });
    assert.deepEqual(manifest.source, { type: "hub", repo: REPO, revision: COMMIT });
    assert.equal(id, manifestId(manifestFor()));
    assert.equal(server.requests[1]!.path, `/${REPO}/resolve/${COMMIT}/tokenizer.json`);
    assert.equal(manifestId(await loadManifest(dest)), id);
  });

  it("stops on abort with a typed error, keeping only the partial file for a later resume", async () => {
    const controller = new AbortController();
    server.cutOnce.set("onnx/model.onnx", 400_000); // slow the first response down: it ends early anyway
    const onProgress = (e: DownloadEvent) => e.type === "progress" && controller.abort();
    await assert.rejects(fetchModel(manifestFor(), dest, { baseUrl: server.baseUrl, onProgress, signal: controller.signal, ...FAST }), (err: unknown) => err instanceof ModelFetchError && /aborted/.test(err.message));
    assert.ok(!existsSync(path.join(dest, "onnx", "model.onnx")));
    assert.ok(existsSync(path.join(dest, "onnx", "model.onnx.partial")));
  });

  it("pins a draft that already carries a publisher's hash, and refuses other bytes for that file", async () => {
    const draft: ManifestDraft = {
      schema: 1,
      name: "test-model",
      kind: "cross-encoder",
      source: { type: "hub", repo: REPO, revision: COMMIT },
      files: [{ path: "onnx/model.onnx", sha256: sha(MODEL), size: MODEL.length }, { path: "tokenizer.json" }],
      model: { file: "onnx/model.onnx" },
      tokenizer: { file: "tokenizer.json", maxTokens: 512 },
      scoreMapping: { type: "sigmoid", center: 0, scale: 1, rawDecimals: 4 },
    };
    const { id } = await pinModel(draft, dest, { baseUrl: server.baseUrl });
    assert.equal(id, manifestId(manifestFor()));
    const other = await mkdtemp(path.join(root, "model-"));
    const wrong = { ...draft, files: [{ path: "onnx/model.onnx", sha256: sha(TOKENIZER) }, { path: "tokenizer.json" }] };
    await assert.rejects(pinModel(wrong, other, { baseUrl: server.baseUrl, ...FAST }), (err: unknown) => err instanceof ModelFetchError && /expected sha256/.test(err.message));
    assert.ok(!existsSync(path.join(other, "onnx", "model.onnx")), "nothing unverified in place");
    assert.ok(!existsSync(path.join(other, "manifest.json")));
  });

  it("ships the ms-marco and judge drafts: valid, on pinned commits where known, never a guessed hash", async () => {
    const draft = await loadDraft(path.join(ROOT, "models", "ms-marco-minilm-l6"));
    assert.deepEqual(draft.source, { type: "hub", repo: "Xenova/ms-marco-MiniLM-L-6-v2", revision: "fec3517fe1016cfeee39338ef98ba76fc449dbcc" });
    assert.ok(!existsSync(path.join(ROOT, "models", "ms-marco-minilm-l6", "manifest.json")), "no unverified pinned manifest is committed");
    for (const name of ["skywork-reward-v2-qwen3-0.6b", "oasst-deberta-v3-large-reward"]) {
      const judge = await loadDraft(path.join(ROOT, "models", name));
      assert.ok(judge.files.every((f) => f.sha256 === undefined), `${name}: the ONNX exports are not on the Hub, so no file hash can be known`);
    }
  });

  it("refuses to build URLs for generated and npm sources", () => {
    assert.throws(() => fileUrl({ type: "generated", generator: "g", seed: 1, shape: "tiny" }, "a"), ModelNotFetchableError);
    assert.throws(() => fileUrl({ type: "npm", package: "p", version: "1" }, "a"), ModelNotFetchableError);
    assert.equal(fileUrl({ type: "url", baseUrl: "https://m.example/x/" }, "onnx/a b.onnx"), "https://m.example/x/onnx/a%20b.onnx");
  });
});
