import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { SCORE_MAX } from "../../daemon/evaluation/evaluator.ts";
import { startDemoChatServers } from "../../scripts/demo/chat-servers.ts";
import { createLazyEvaluator } from "../../scripts/demo/lazy-evaluator.ts";
import { QA_SET, questionAt } from "../../scripts/demo/qa-set.ts";

const ask = async (base: string, question: string) => {
  const res = await fetch(`${base}/chat/completions`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ model: "demo-chat-1", messages: [{ role: "user", content: question }] }),
  });
  assert.equal(res.status, 200);
  return ((await res.json()) as { choices: { message: { content: string } }[] }).choices[0]!.message.content;
};

describe("demo parts: question set, chat back ends, lazy evaluator", () => {
  it("the question set has 30+ distinct questions of six or more words, each with its own answer", () => {
    assert.ok(QA_SET.length >= 30);
    assert.equal(new Set(QA_SET.map((p) => p.question)).size, QA_SET.length);
    assert.equal(new Set(QA_SET.map((p) => p.answer)).size, QA_SET.length);
    for (const p of QA_SET) assert.ok(p.question.split(/\s+/).length >= 6, p.question);
    assert.equal(questionAt(QA_SET.length + 2), QA_SET[2]!.question, "cycles past the end");
  });

  it("the honest back end answers from the set; the lazy one cycles off-topic, echo, empty and truncated", async () => {
    const servers = await startDemoChatServers();
    try {
      const q = QA_SET[4]!;
      assert.equal(await ask(servers.honestUrl, q.question), q.answer);
      assert.match(await ask(servers.honestUrl, "Something not in the set?"), /will not guess/);
      const lazy: string[] = [];
      for (let i = 0; i < 4; i++) lazy.push(await ask(servers.lazyUrl, q.question));
      assert.ok(QA_SET.some((p) => p.answer === lazy[0] && p.question !== q.question), "off-topic: another question's answer");
      assert.equal(lazy[1], q.question, "echo");
      assert.equal(lazy[2], "", "empty");
      assert.ok(q.answer.startsWith(lazy[3]!) && lazy[3]!.length < q.answer.length / 2, "truncated");
      assert.deepEqual(servers.served, { honest: 2, lazy: { "off-topic": 1, echo: 1, empty: 1, truncated: 1 } });
      const bad = await fetch(`${servers.lazyUrl}/chat/completions`, { method: "POST", body: "not json" });
      assert.equal(bad.status, 400);
    } finally {
      await servers.close();
    }
  });

  it("the lazy evaluator claims the registered id and returns random in-range scores", async () => {
    const id = `0x${"12".repeat(32)}` as const;
    const lazy = createLazyEvaluator(id);
    assert.equal(lazy.id, id);
    const results = await lazy.score(Array.from({ length: 50 }, () => ({ prompt: "p", answer: "a" })));
    assert.ok(results.every((r) => Number.isInteger(r.score) && r.score >= 0 && r.score <= SCORE_MAX));
    assert.ok(new Set(results.map((r) => r.score)).size > 40, "not a constant");
    await lazy.close();
    await assert.rejects(lazy.score([{ prompt: "p", answer: "a" }]), /closed/);
  });
});
