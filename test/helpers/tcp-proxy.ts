import { createServer, connect, type Server, type Socket } from "node:net";
import { freePort } from "./redis.ts";

/**
 * A TCP proxy in front of a JSON-RPC server, so a test can drop the network path (every open HTTP keep-alive
 * and WebSocket connection is cut, new ones are refused) and restore it on the same port: an RPC outage.
 */
export interface TcpProxy {
  port: number;
  url(scheme: "http" | "ws"): string;
  drop(): Promise<void>;
  restore(): Promise<void>;
  close(): Promise<void>;
  /** Connections accepted so far. */
  opened(): number;
}

export async function startTcpProxy(targetPort: number, targetHost = "127.0.0.1"): Promise<TcpProxy> {
  const port = await freePort();
  const sockets = new Set<Socket>();
  let opened = 0;
  let server: Server | undefined;
  const listen = () =>
    new Promise<void>((resolve, reject) => {
      server = createServer((client) => {
        opened++;
        const upstream = connect(targetPort, targetHost);
        sockets.add(client).add(upstream);
        const cleanup = () => {
          client.destroy();
          upstream.destroy();
          sockets.delete(client);
          sockets.delete(upstream);
        };
        client.on("error", cleanup).on("close", cleanup);
        upstream.on("error", cleanup).on("close", cleanup);
        client.pipe(upstream).pipe(client);
      });
      server.once("error", reject);
      server.listen(port, "127.0.0.1", () => resolve());
    });
  const drop = async () => {
    const current = server;
    server = undefined;
    for (const s of sockets) s.destroy();
    sockets.clear();
    if (current !== undefined) await new Promise<void>((r) => current.close(() => r()));
  };
  await listen();
  return {
    port,
    url: (scheme) => `${scheme}://127.0.0.1:${port}`,
    drop,
    restore: async () => {
      if (server === undefined) await listen();
    },
    close: drop,
    opened: () => opened,
  };
}
