// The demo's two inference back ends: real local HTTP servers speaking the OpenAI chat-completions protocol (what
// vLLM, llama.cpp server and Ollama expose), so the provider daemons run exactly as they would in production.
import http from "node:http";
import type { AddressInfo } from "node:net";
import { QA_SET, answerFor } from "./qa-set.ts";

/** The cheap answers a lazy provider gives instead of running a model, in the order it cycles through them. */
export const LAZY_STYLES = ["off-topic", "echo", "empty", "truncated"] as const;
export type LazyStyle = (typeof LAZY_STYLES)[number];

export function honestAnswer(question: string): string {
  return answerFor(question) ?? "I do not have a reliable answer to that question, so I will not guess.";
}

/** What the lazy back end returns for `question` in `style`. */
export function lazyAnswer(question: string, style: LazyStyle): string {
  const index = Math.max(0, QA_SET.findIndex((p) => p.question === question.trim()));
  switch (style) {
    case "off-topic": // a fluent answer to some other question
      return QA_SET[(index + QA_SET.length / 2) % QA_SET.length | 0]!.answer;
    case "echo":
      return question;
    case "empty":
      return "";
    case "truncated": {
      // The first third of the real answer, cut after a word: fluent, on topic, and unfinished.
      const words = honestAnswer(question).split(" ");
      return words.slice(0, Math.max(3, Math.floor(words.length / 3))).join(" ");
    }
  }
}

export interface DemoChatServers {
  /** Base URL (…/v1) of the honest back end. */
  honestUrl: string;
  /** Base URL (…/v1) of the lazy back end. */
  lazyUrl: string;
  /** Requests served per back end and, for the lazy one, per style. */
  served: { honest: number; lazy: Record<LazyStyle, number> };
  close(): Promise<void>;
}

function completion(content: string, model: string): string {
  return JSON.stringify({
    id: `chatcmpl-demo-${Date.now()}`,
    object: "chat.completion",
    created: Math.floor(Date.now() / 1000),
    model,
    choices: [{ index: 0, message: { role: "assistant", content }, finish_reason: "stop" }],
    usage: { prompt_tokens: 0, completion_tokens: 0, total_tokens: 0 },
  });
}

/** Starts both back ends on one free port: `/honest/v1/chat/completions` and `/lazy/v1/chat/completions`. */
export async function startDemoChatServers(): Promise<DemoChatServers> {
  const served = { honest: 0, lazy: Object.fromEntries(LAZY_STYLES.map((s) => [s, 0])) as Record<LazyStyle, number> };
  let lazyCount = 0;
  const server = http.createServer((req, res) => {
    const match = /^\/(honest|lazy)\/v1\/chat\/completions$/.exec(req.url ?? "");
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const reply = (status: number, body: string) => res.writeHead(status, { "content-type": "application/json" }).end(body);
      if (req.method !== "POST" || match === null) return reply(404, '{"error":{"message":"not found"}}');
      let body: { model?: unknown; messages?: { role?: string; content?: unknown }[] };
      try {
        body = JSON.parse(Buffer.concat(chunks).toString("utf8"));
      } catch {
        return reply(400, '{"error":{"message":"body is not JSON"}}');
      }
      const question = [...(body.messages ?? [])].reverse().find((m) => m.role === "user")?.content;
      if (typeof question !== "string") return reply(400, '{"error":{"message":"no user message"}}');
      const model = String(body.model ?? "demo");
      if (match[1] === "honest") {
        served.honest++;
        return reply(200, completion(honestAnswer(question), model));
      }
      const style = LAZY_STYLES[lazyCount++ % LAZY_STYLES.length]!;
      served.lazy[style]++;
      return reply(200, completion(lazyAnswer(question, style), model));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    honestUrl: `${base}/honest/v1`,
    lazyUrl: `${base}/lazy/v1`,
    served,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
