import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { startFakeChatServer, type Behaviour, type FakeChatServer } from "../../helpers/openai-server.ts";
import {
  AllEndpointsFailedError,
  UnknownModelError,
  createChatClient,
  type ModelRoute,
} from "../../../daemon/roles/provider/openai-client.ts";
import { createMetrics } from "../../../daemon/observe/metrics.ts";

const messages = [{ role: "user" as const, content: "What is 2+2?" }];

describe("provider/openai-client against a real HTTP server", () => {
  let server: FakeChatServer;
  before(async () => (server = await startFakeChatServer()));
  after(async () => server?.close());

  const route = (behaviours: Behaviour[], extra: Partial<ModelRoute> = {}): ModelRoute => ({
    endpoints: behaviours.map((b) => ({ url: server.base(b), timeoutMs: 300 })),
    maxOutputBytes: 1_024,
    attemptsPerEndpoint: 2,
    ...extra,
  });
  const client = (models: Record<string, ModelRoute>, metrics = createMetrics({ withProcessMetrics: false })) =>
    createChatClient({ models, metrics, retryBaseMs: 10 });

  it("returns the answer, sends the OpenAI request shape and the API key", async () => {
    const models = { "llama-3-8b": { ...route(["ok"]), endpoints: [{ url: server.base("ok"), timeoutMs: 1_000, apiKey: "sk-test", remoteModel: "meta/llama3" }] } };
    const answer = await client(models).complete({ model: "llama-3-8b", messages, maxTokens: 64, temperature: 0, seed: 7 });
    assert.equal(answer.content, "answer from meta/llama3");
    assert.equal(answer.finishReason, "stop");
    assert.deepEqual(answer.usage, { promptTokens: 12, completionTokens: 5 });
    assert.deepEqual(server.lastBody, { model: "meta/llama3", messages, max_tokens: 64, temperature: 0, seed: 7, stream: false });
    assert.equal(server.lastAuthorization, "Bearer sk-test");
  });

  it("retries a 5xx on the same endpoint before moving on", async () => {
    const before = server.hits.flaky ?? 0;
    const answer = await client({ m: route(["flaky"]) }).complete({ model: "m", messages });
    assert.equal(answer.content, "flaky but fine");
    assert.equal(answer.attempts, 2);
    assert.equal(server.hits.flaky! - before, 2);
  });

  it("falls back past 500s, timeouts and malformed JSON to a working endpoint, counting each outcome", async () => {
    const metrics = createMetrics({ withProcessMetrics: false });
    const started = Date.now();
    const answer = await client({ m: route(["500", "hang", "malformed", "wrong-shape", "ok"]) }, metrics).complete({ model: "m", messages });
    assert.equal(answer.endpoint, server.base("ok"));
    assert.equal(answer.attempts, 9, "two tries on each of the four failing endpoints, then success");
    assert.ok(Date.now() - started < 5_000, "timeouts are enforced");
    const text = await metrics.registry.metrics();
    for (const outcome of ["http", "timeout", "malformed", "ok"]) assert.match(text, new RegExp(`poq_provider_requests_total\\{model="m",outcome="${outcome}"\\} [1-9]`));
  });

  it("does not retry a 401 on the same endpoint", async () => {
    const before = server.hits["401"] ?? 0;
    await assert.rejects(client({ m: route(["401"]) }).complete({ model: "m", messages }), AllEndpointsFailedError);
    assert.equal(server.hits["401"]! - before, 1);
  });

  it("refuses output over the byte cap without retrying it, and says so", async () => {
    const before = server.hits.huge ?? 0;
    const error = await client({ m: route(["huge"]) }).complete({ model: "m", messages }).catch((e: unknown) => e);
    assert.ok(error instanceof AllEndpointsFailedError);
    assert.equal(error.onlyOversizeOutput, true);
    assert.equal(server.hits.huge! - before, 1);
    // The cap counts UTF-8 bytes, not characters.
    await assert.rejects(client({ m: route(["unicode"], { maxOutputBytes: 79 }) }).complete({ model: "m", messages }), /80 bytes/);
    assert.equal((await client({ m: route(["unicode"], { maxOutputBytes: 80 }) }).complete({ model: "m", messages })).content.length, 40);
  });

  it("reports every failure when all endpoints fail, and refuses unknown models", async () => {
    const error = await client({ m: route(["500", "hang"]) }).complete({ model: "m", messages }).catch((e: unknown) => e);
    assert.ok(error instanceof AllEndpointsFailedError);
    assert.deepEqual(error.failures.map((f) => f.kind), ["http", "http", "timeout", "timeout"]);
    assert.equal(error.onlyOversizeOutput, false);
    await assert.rejects(client({ m: route(["ok"]) }).complete({ model: "other", messages }), UnknownModelError);
    const down = createChatClient({ models: { m: { endpoints: [{ url: "http://127.0.0.1:9/v1", timeoutMs: 500 }], maxOutputBytes: 10, attemptsPerEndpoint: 1 } } });
    await assert.rejects(down.complete({ model: "m", messages }), (e: unknown) => e instanceof AllEndpointsFailedError && e.failures[0]!.kind === "network");
  });
});
