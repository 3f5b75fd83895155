import http from "node:http";
import type { AddressInfo } from "node:net";

/** How one scripted endpoint answers POST <base>/chat/completions. */
export type Behaviour = "ok" | "500" | "flaky" | "hang" | "malformed" | "wrong-shape" | "huge" | "401" | "unicode";

/**
 * A real HTTP server speaking the OpenAI chat-completions protocol, with one base URL per behaviour:
 * `${url}/<behaviour>/v1`. It answers like vLLM / llama.cpp server would, or fails the way they do.
 */
export interface FakeChatServer {
  url: string;
  base(behaviour: Behaviour): string;
  hits: Record<string, number>;
  lastBody: Record<string, unknown> | undefined;
  lastAuthorization: string | undefined;
  close(): Promise<void>;
}

const completion = (content: string, model: string) =>
  JSON.stringify({
    id: "chatcmpl-test",
    object: "chat.completion",
    created: 1_700_000_000,
    model,
    choices: [{ index: 0, message: { role: "assistant", content }, finish_reason: "stop" }],
    usage: { prompt_tokens: 12, completion_tokens: 5, total_tokens: 17 },
  });

export async function startFakeChatServer(): Promise<FakeChatServer> {
  const state: FakeChatServer = { url: "", base: () => "", hits: {}, lastBody: undefined, lastAuthorization: undefined, close: async () => {} };
  const server = http.createServer((req, res) => {
    const match = /^\/([a-z0-9-]+)\/v1\/chat\/completions$/.exec(req.url ?? "");
    let raw = "";
    req.on("data", (c: Buffer) => (raw += c.toString()));
    req.on("end", () => {
      if (req.method !== "POST" || match === null) return void res.writeHead(404).end();
      const behaviour = match[1] as Behaviour;
      state.hits[behaviour] = (state.hits[behaviour] ?? 0) + 1;
      state.lastBody = JSON.parse(raw) as Record<string, unknown>;
      state.lastAuthorization = req.headers.authorization;
      const model = String(state.lastBody.model);
      const json = (status: number, body: string) => res.writeHead(status, { "content-type": "application/json" }).end(body);
      switch (behaviour) {
        case "ok":
          return json(200, completion(`answer from ${model}`, model));
        case "unicode":
          return json(200, completion("é".repeat(40), model)); // 80 bytes of UTF-8, 40 characters
        case "500":
          return json(500, '{"error":{"message":"CUDA out of memory"}}');
        case "flaky":
          return state.hits.flaky! % 2 === 1 ? json(503, '{"error":"warming up"}') : json(200, completion("flaky but fine", model));
        case "hang":
          return; // never answers: the client's timeout must fire
        case "malformed":
          return json(200, '{"choices":[{"message":');
        case "wrong-shape":
          return json(200, '{"result":"not a chat completion"}');
        case "huge":
          return json(200, completion("x".repeat(200_000), model));
        case "401":
          return json(401, '{"error":"bad key"}');
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  state.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  state.base = (behaviour) => `${state.url}/${behaviour}/v1`;
  state.close = () =>
    new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
  return state;
}
