import { z } from "zod";
import type { Logger } from "../../observe/logger.ts";
import type { DaemonMetrics } from "../../observe/metrics.ts";
import { backoffDelayMs, sleep } from "../../chain/backoff.ts";
import { AllEndpointsFailedError, EndpointError, UnknownModelError } from "./openai-errors.ts";

export { AllEndpointsFailedError, EndpointError, UnknownModelError } from "./openai-errors.ts";

export interface ChatMessage {
  role: "system" | "user" | "assistant";
  content: string;
}

export interface ChatEndpoint {
  /** Base URL of an OpenAI-compatible API, e.g. http://127.0.0.1:8000/v1 (vLLM, llama.cpp server, Ollama). */
  url: string;
  apiKey?: string;
  timeoutMs: number;
  /** Model name the endpoint expects, when it differs from the on-chain model name. */
  remoteModel?: string;
}

export interface ModelRoute {
  endpoints: ChatEndpoint[];
  /** Largest answer accepted, in UTF-8 bytes. */
  maxOutputBytes: number;
  attemptsPerEndpoint: number;
}

export interface ChatCompletionRequest {
  model: string;
  messages: ChatMessage[];
  maxTokens?: number;
  temperature?: number;
  seed?: number;
}

export interface ChatCompletion {
  content: string;
  finishReason: string | null;
  /** The endpoint that answered. */
  endpoint: string;
  attempts: number;
  usage?: { promptTokens: number; completionTokens: number };
}

export interface ChatClient {
  complete(request: ChatCompletionRequest): Promise<ChatCompletion>;
}

const responseSchema = z.object({
  choices: z
    .array(z.object({ message: z.object({ content: z.string() }), finish_reason: z.string().nullable().optional() }))
    .min(1),
  usage: z.object({ prompt_tokens: z.number(), completion_tokens: z.number() }).partial().optional(),
});

// JSON escaping can blow an answer up to 6x (\uXXXX); the body cap leaves room for that and the envelope.
const bodyCapFor = (maxOutputBytes: number) => maxOutputBytes * 6 + 16 * 1024;

async function readCapped(response: Response, cap: number, endpoint: string): Promise<string> {
  const reader = response.body?.getReader();
  if (reader === undefined) return "";
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > cap) {
      await reader.cancel();
      throw new EndpointError(endpoint, "oversize", `response body over ${cap} bytes`);
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks).toString("utf8");
}

async function callEndpoint(endpoint: ChatEndpoint, request: ChatCompletionRequest, maxOutputBytes: number): Promise<ChatCompletion> {
  const url = `${endpoint.url.replace(/\/+$/, "")}/chat/completions`;
  const body = JSON.stringify({
    model: endpoint.remoteModel ?? request.model,
    messages: request.messages,
    max_tokens: request.maxTokens,
    temperature: request.temperature,
    seed: request.seed,
    stream: false,
  });
  const headers: Record<string, string> = { "content-type": "application/json", accept: "application/json" };
  if (endpoint.apiKey !== undefined) headers.authorization = `Bearer ${endpoint.apiKey}`;
  let response: Response;
  let text: string;
  const signal = AbortSignal.timeout(endpoint.timeoutMs);
  try {
    response = await fetch(url, { method: "POST", headers, body, signal });
    text = await readCapped(response, bodyCapFor(maxOutputBytes), endpoint.url);
  } catch (error) {
    if (error instanceof EndpointError) throw error;
    if (signal.aborted) throw new EndpointError(endpoint.url, "timeout", `no answer within ${endpoint.timeoutMs} ms`, undefined, { cause: error });
    throw new EndpointError(endpoint.url, "network", (error as Error).message, undefined, { cause: error });
  }
  if (!response.ok) throw new EndpointError(endpoint.url, "http", `HTTP ${response.status}: ${text.slice(0, 200)}`, response.status);
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new EndpointError(endpoint.url, "malformed", "response is not JSON", undefined, { cause: error });
  }
  const parsed = responseSchema.safeParse(json);
  if (!parsed.success) {
    throw new EndpointError(endpoint.url, "malformed", `response is not a chat completion: ${parsed.error.issues[0]?.path.join(".")} ${parsed.error.issues[0]?.message}`);
  }
  const choice = parsed.data.choices[0]!;
  const bytes = Buffer.byteLength(choice.message.content, "utf8");
  if (bytes > maxOutputBytes) throw new EndpointError(endpoint.url, "oversize", `answer of ${bytes} bytes is over the ${maxOutputBytes}-byte cap`);
  const usage = parsed.data.usage;
  return {
    content: choice.message.content,
    finishReason: choice.finish_reason ?? null,
    endpoint: endpoint.url,
    attempts: 1,
    usage: usage?.prompt_tokens === undefined || usage.completion_tokens === undefined ? undefined : { promptTokens: usage.prompt_tokens, completionTokens: usage.completion_tokens },
  };
}

export interface CreateChatClientParameters {
  models: Record<string, ModelRoute>;
  logger?: Logger;
  metrics?: DaemonMetrics;
  /** First delay between tries on one endpoint (ms); doubles, with jitter, up to 5 s. */
  retryBaseMs?: number;
}

/**
 * Client for OpenAI-compatible chat-completions servers. Per model: endpoints in order of preference, each
 * tried up to `attemptsPerEndpoint` times (only for faults that may pass: 5xx, 408, 429, timeouts, network
 * errors, malformed bodies), then the next endpoint. Answers over the byte cap are refused without retry.
 */
export function createChatClient({ models, logger, metrics, retryBaseMs = 200 }: CreateChatClientParameters): ChatClient {
  return {
    async complete(request) {
      const route = models[request.model];
      if (route === undefined) throw new UnknownModelError(request.model);
      const failures: EndpointError[] = [];
      for (const endpoint of route.endpoints) {
        for (let attempt = 0; attempt < route.attemptsPerEndpoint; attempt++) {
          try {
            const completion = await callEndpoint(endpoint, request, route.maxOutputBytes);
            metrics?.providerRequests.inc({ model: request.model, outcome: "ok" });
            return { ...completion, attempts: failures.length + 1 };
          } catch (error) {
            const failure = error instanceof EndpointError ? error : new EndpointError(endpoint.url, "network", String(error));
            failures.push(failure);
            metrics?.providerRequests.inc({ model: request.model, outcome: failure.kind });
            logger?.warn({ model: request.model, endpoint: endpoint.url, kind: failure.kind, status: failure.status, attempt }, "chat completion failed");
            if (!failure.retryable) break;
            if (attempt + 1 < route.attemptsPerEndpoint) await sleep(backoffDelayMs(attempt, { baseMs: retryBaseMs, maxMs: 5_000 }));
          }
        }
      }
      throw new AllEndpointsFailedError(request.model, failures);
    },
  };
}
