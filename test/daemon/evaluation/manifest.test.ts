import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { mkdtemp, mkdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { keccak256, stringToHex } from "viem";
import { ManifestInvalidError, ManifestMismatchError } from "../../../daemon/evaluation/evaluator.ts";
import { canonicalJson, loadManifest, manifestId, parseManifest, verifyFiles, type Manifest } from "../../../daemon/evaluation/manifest.ts";

const sha = (data: string) => createHash("sha256").update(data).digest("hex");

function sampleManifest(): Manifest {
  return parseManifest(
    {
      schema: 1,
      name: "sample-model",
      kind: "cross-encoder",
      source: { type: "url", baseUrl: "https://mirror.example/sample" },
      files: [
        { path: "onnx/model.onnx", sha256: sha("weights"), size: 7 },
        { path: "tokenizer.json", sha256: sha("{}"), size: 2 },
      ],
      model: { file: "onnx/model.onnx", output: "logits" },
      tokenizer: { file: "tokenizer.json", maxTokens: 512 },
      scoreMapping: { type: "sigmoid", center: 0, scale: 1, rawDecimals: 4 },
    },
    "test",
  );
}

describe("manifest", () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(path.join(tmpdir(), "poq-manifest-"));
    await mkdir(path.join(dir, "onnx"));
    await writeFile(path.join(dir, "onnx", "model.onnx"), "weights");
    await writeFile(path.join(dir, "tokenizer.json"), "{}");
    await writeFile(path.join(dir, "manifest.json"), JSON.stringify(sampleManifest(), null, 2));
  });
  after(() => rm(dir, { recursive: true, force: true }));

  it("canonical JSON sorts keys recursively and drops whitespace", () => {
    assert.equal(canonicalJson({ b: [2, { z: 1, a: "x" }], a: null, c: undefined }), '{"a":null,"b":[2,{"a":"x","z":1}]}');
  });

  it("id is keccak256 of the canonical JSON and ignores key order and formatting", async () => {
    const m = sampleManifest();
    assert.equal(manifestId(m), keccak256(stringToHex(canonicalJson(m))));
    const reordered = Object.fromEntries(Object.entries(m).reverse()) as Manifest;
    assert.equal(manifestId(reordered), manifestId(m));
    assert.equal(manifestId(await loadManifest(dir)), manifestId(m));
    assert.match(manifestId(m), /^0x[0-9a-f]{64}$/);
  });

  it("any change to mapping or files changes the id", () => {
    const m = sampleManifest();
    const otherMapping = { ...m, scoreMapping: { type: "sigmoid" as const, center: 0, scale: 2, rawDecimals: 4 } };
    const otherFile = { ...m, files: [{ ...m.files[0]!, sha256: sha("other") }, m.files[1]!] };
    assert.notEqual(manifestId(otherMapping), manifestId(m));
    assert.notEqual(manifestId(otherFile), manifestId(m));
  });

  it("verifyFiles accepts matching files", async () => {
    await verifyFiles(await loadManifest(dir), dir);
  });

  it("verifyFiles refuses a changed file, naming file, expected and actual hash", async () => {
    const m = sampleManifest();
    await writeFile(path.join(dir, "tokenizer.json"), "{ }");
    try {
      await assert.rejects(verifyFiles(m, dir), (err: unknown) => {
        assert.ok(err instanceof ManifestMismatchError);
        assert.equal(err.file, "tokenizer.json");
        assert.equal(err.expected, sha("{}"));
        assert.equal(err.actual, sha("{ }"));
        assert.match(err.message, /tokenizer\.json/);
        return true;
      });
    } finally {
      await writeFile(path.join(dir, "tokenizer.json"), "{}");
    }
  });

  it("verifyFiles refuses a missing file", async () => {
    const m = sampleManifest();
    const missing = { ...m, files: [...m.files, { path: "extra.bin", sha256: sha("x"), size: 1 }] };
    await assert.rejects(verifyFiles(missing, dir), (err: unknown) => err instanceof ManifestMismatchError && err.actual === "missing");
  });

  it("rejects malformed manifests with ManifestInvalidError", async () => {
    const base = sampleManifest() as unknown as Record<string, unknown>;
    const bad: unknown[] = [
      { ...base, schema: 2 },
      { ...base, unknownKey: true },
      { ...base, files: [{ path: "../escape", sha256: sha("x"), size: 1 }] },
      { ...base, files: [{ path: "a", sha256: "ABC", size: 1 }] },
      { ...base, source: { type: "hub", repo: "cross-encoder/x", revision: "main" } },
      { ...base, scoreMapping: { type: "linear", min: 1, max: 1, rawDecimals: 4 } },
      { ...base, scoreMapping: undefined },
      { ...base, model: { file: "not-listed.onnx" } },
      { ...base, kind: "composite" },
      null,
      "text",
    ];
    for (const value of bad) assert.throws(() => parseManifest(value, "bad"), ManifestInvalidError, JSON.stringify(value));
  });

  it("loadManifest reports unreadable and non-JSON manifests", async () => {
    await assert.rejects(loadManifest(path.join(dir, "nope")), ManifestInvalidError);
    const broken = await mkdtemp(path.join(tmpdir(), "poq-manifest-broken-"));
    await writeFile(path.join(broken, "manifest.json"), "{ not json");
    await assert.rejects(loadManifest(broken), /not valid JSON/);
    await rm(broken, { recursive: true, force: true });
  });
});
