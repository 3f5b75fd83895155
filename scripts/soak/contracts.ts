// `npm run soak:contracts -- --seeds 20`: the Solidity fuzz and invariant suites under fresh fuzzer seeds.
// `npm test` replays one fixed seed (the same code, the same sequences), so a bug that only some sequences reach can
// hide there for good; this walks through new seeds, one `hardhat test solidity` each, and prints the seed of every
// failure so that `POQ_FUZZ_SEED=<seed> npm run test:contracts` replays it.
import { spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { Command, InvalidArgumentError } from "commander";

const program = new Command()
  .name("soak:contracts")
  .option("--seeds <n>", "fresh seeds to run", (v) => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError("a positive integer");
    return n;
  }, 10)
  .option("--profile <name>", "fuzz profile of hardhat.config.ts (default, quick, deep)", "default")
  .option("--file <path>", "one Solidity test file instead of all of test/contracts")
  .option("--json", "print one JSON object at the end")
  .parse();
const o = program.opts<{ seeds: number; profile: string; file?: string; json?: boolean }>();

const runs: { seed: string; ok: boolean; seconds: number }[] = [];
for (let i = 0; i < o.seeds; i++) {
  const seed = `0x${randomBytes(32).toString("hex")}`;
  const started = Date.now();
  const result = spawnSync("npx", ["hardhat", "test", "solidity", ...(o.file ? [o.file] : [])], {
    env: { ...process.env, POQ_FUZZ_SEED: seed, HARDHAT_TEST_PROFILE: o.profile },
    encoding: "utf8",
    maxBuffer: 256 * 1024 * 1024,
  });
  const run = { seed, ok: result.status === 0, seconds: Math.round((Date.now() - started) / 100) / 10 };
  runs.push(run);
  if (!o.json) console.log(`${run.ok ? "pass" : "FAIL"}  seed ${seed}  ${run.seconds} s`);
  if (!run.ok && !o.json) console.log((result.stdout + result.stderr).split("\n").filter((l) => /failing|Error|reverted|Counterexample/.test(l)).slice(0, 8).join("\n"));
}
const failed = runs.filter((r) => !r.ok);
if (o.json) console.log(JSON.stringify({ profile: o.profile, seeds: runs.length, failed: failed.map((r) => r.seed), runs }));
else console.log(`${runs.length - failed.length}/${runs.length} seeds passed${failed.length ? `; replay a failure with POQ_FUZZ_SEED=${failed[0]!.seed} npm run test:contracts` : ""}`);
process.exitCode = failed.length === 0 ? 0 : 1;
