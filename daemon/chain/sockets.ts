import { socketClientCache } from "viem/utils";

/**
 * Closes every viem WebSocket client of this process connected to `url`, without opening one. viem keeps one
 * socket per URL and options for the whole process (its socket cache), pings it to keep it alive, and opens a new
 * one for any request that finds none, so asking a transport for its client in order to close it opens a socket
 * when another client of the same process closed the shared one first; an open socket then keeps the process alive
 * and the node's server from closing (a server with a WebSocket connection open never finishes closing).
 */
export function closeWebSocketClients(url: string): number {
  const target = withoutTrailingSlash(url);
  let closed = 0;
  for (const client of [...socketClientCache.values()]) {
    if (withoutTrailingSlash(client.url) !== target) continue;
    client.close();
    closed++;
  }
  return closed;
}

const withoutTrailingSlash = (url: string) => url.replace(/\/+$/, "");
