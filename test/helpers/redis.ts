// Tests start Redis the same way the demo and the benchmarks do (scripts/localnet/redis.ts).
import { freePort, startLocalRedis, type LocalRedis } from "../../scripts/localnet/redis.ts";

export { freePort };

/** A real redis-server for one test file: own free port, own temp dir (AOF on, fsync always), stopped on exit. */
export type TestRedis = LocalRedis;

export const startTestRedis = (): Promise<TestRedis> => startLocalRedis();
