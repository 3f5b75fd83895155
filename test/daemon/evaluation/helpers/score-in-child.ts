/**
 * Child-process half of the determinism and offline tests: loads an evaluator from a manifest folder with every
 * network path trapped (fetch, TCP/IPC sockets, DNS), scores fixed pairs, and prints one JSON line:
 * { id, results, networkAttempts }. Usage: npx tsx score-in-child.ts <manifestDir>
 */
import dns from "node:dns";
import net from "node:net";

// The test runner also imports every .ts under test/ as a test file: act only when started with a manifest folder.
if (process.env.POQ_TEST_CHILD) {

  const networkAttempts: string[] = [];
  const originalConnect = net.Socket.prototype.connect;
  net.Socket.prototype.connect = function (this: net.Socket, ...args: unknown[]) {
    networkAttempts.push(`socket ${JSON.stringify(args[0])}`);
    return (originalConnect as (...a: unknown[]) => net.Socket).apply(this, args);
  } as typeof net.Socket.prototype.connect;
  const originalLookup = dns.lookup;
  (dns as { lookup: unknown }).lookup = (...args: unknown[]) => {
    networkAttempts.push(`dns ${String(args[0])}`);
    return (originalLookup as (...a: unknown[]) => unknown)(...args);
  };
  globalThis.fetch = async (input: unknown) => {
    networkAttempts.push(`fetch ${String(input)}`);
    throw new Error("network is disabled in this test");
  };

  const { createEvaluator } = await import("../../../../daemon/evaluation/factory.ts");
  const { SCORING_FIXTURE_PAIRS } = await import("./pairs.ts");
  const evaluator = await createEvaluator(process.argv[2]!);
  const results = await evaluator.score(SCORING_FIXTURE_PAIRS);
  await evaluator.close();
  process.stdout.write(`${JSON.stringify({ id: evaluator.id, results, networkAttempts })}\n`);
}
