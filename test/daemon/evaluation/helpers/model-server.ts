/**
 * A real HTTP server (node:http) that serves files in the Hugging Face Hub layout
 * `/<owner>/<name>/resolve/<revision>/<path>`, with Range support and the Hub's x-repo-commit header.
 * Knobs let a test cut a response short or make a path fail, to exercise resume and error handling.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

export interface ModelServer {
  baseUrl: string;
  /** Every request seen: path and Range header. */
  requests: { path: string; range: string | undefined }[];
  /** path -> bytes to send before destroying the socket (applies once, then cleared). */
  cutOnce: Map<string, number>;
  /** path -> status to answer instead of the file (stays until deleted). */
  failWith: Map<string, number>;
  close(): Promise<void>;
}

export async function startModelServer(repo: string, commit: string, files: Record<string, Buffer>, options: { branch?: string } = {}): Promise<ModelServer> {
  const requests: ModelServer["requests"] = [];
  const cutOnce = new Map<string, number>();
  const failWith = new Map<string, number>();
  const revisions = new Set([commit, options.branch ?? "main"]);

  const handle = (req: IncomingMessage, res: ServerResponse) => {
    const url = decodeURIComponent(req.url ?? "");
    requests.push({ path: url, range: req.headers.range });
    const prefix = `/${repo}/resolve/`;
    const rest = url.startsWith(prefix) ? url.slice(prefix.length) : "";
    const slash = rest.indexOf("/");
    const revision = rest.slice(0, slash);
    const filePath = rest.slice(slash + 1);
    const body = files[filePath];
    const failure = failWith.get(filePath);
    if (failure !== undefined) {
      res.writeHead(failure).end("failure requested by test");
      return;
    }
    if (slash < 0 || !revisions.has(revision) || body === undefined) {
      res.writeHead(404).end("Entry not found");
      return;
    }
    const headers: Record<string, string> = { "x-repo-commit": commit, "accept-ranges": "bytes" };
    let start = 0;
    const range = /^bytes=(\d+)-$/.exec(req.headers.range ?? "");
    if (range) {
      start = Number(range[1]);
      if (start >= body.length) {
        res.writeHead(416, { ...headers, "content-range": `bytes */${body.length}` }).end();
        return;
      }
      res.writeHead(206, { ...headers, "content-length": String(body.length - start), "content-range": `bytes ${start}-${body.length - 1}/${body.length}` });
    } else {
      res.writeHead(200, { ...headers, "content-length": String(body.length) });
    }
    const cut = cutOnce.get(filePath);
    if (cut !== undefined) {
      cutOnce.delete(filePath);
      // End the TCP stream gracefully (FIN, not RST) so the client surely receives the bytes sent before the cut.
      res.write(body.subarray(start, start + cut), () => res.socket?.end());
      return;
    }
    res.end(body.subarray(start));
  };

  const server: Server = createServer(handle);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    baseUrl: `http://127.0.0.1:${port}`,
    requests,
    cutOnce,
    failWith,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
