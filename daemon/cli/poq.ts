#!/usr/bin/env -S npx tsx
import { realpathSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { Command, CommanderError } from "commander";
import { registerAuditCommands } from "./commands/audit.ts";
import { registerConfigCommands } from "./commands/config.ts";
import { registerDevCommands } from "./commands/dev.ts";
import { registerJobCommands } from "./commands/job.ts";
import { registerKeysCommands } from "./commands/keys.ts";
import { registerModelsCommands } from "./commands/models.ts";
import { registerRoleCommands } from "./commands/roles.ts";
import { registerStakeCommands } from "./commands/stake.ts";
import { registerStatusCommand } from "./commands/status.ts";
import { userMessage } from "./errors.ts";
import { CliExit, type CliIo } from "./io.ts";
import { visibleLines, visibleText } from "./visible-text.ts";

/** Builds the `poq` program; exported so tests can inspect it without spawning a process. */
export function buildProgram(io: CliIo): Command {
  const program = new Command("poq")
    .description("Proof-of-Quality network daemon: validator and provider roles, keys, status")
    .option("-c, --config <file>", "JSON config file (POQ_* environment variables override it)", process.env.POQ_CONFIG)
    .option("--dev", "local development mode: allows a raw key in POQ_DEV_PRIVATE_KEY (never with real funds)")
    .showHelpAfterError("(add --help for usage)")
    .exitOverride()
    // Set before the subcommands exist: commander copies these settings into each one when it is created.
    .configureOutput({ writeOut: (s) => io.out(s.trimEnd()), writeErr: (s) => io.err(s.trimEnd()) });
  registerRoleCommands(program, io);
  registerStakeCommands(program, io);
  registerKeysCommands(program, io);
  registerStatusCommand(program, io);
  registerConfigCommands(program, io);
  registerModelsCommands(program, io);
  registerAuditCommands(program, io);
  registerJobCommands(program, io);
  registerDevCommands(program, io);
  return program;
}

/** Runs the CLI and returns the exit code: 0 ok, 1 failure, 64 usage error. */
export async function runCli(argv: string[], io: CliIo): Promise<number> {
  const program = buildProgram(io);
  try {
    await program.parseAsync(argv, { from: "user" });
    return 0;
  } catch (error) {
    if (error instanceof CommanderError) return error.exitCode === 0 ? 0 : 64;
    // Messages can quote chain- or server-sourced text (revert data, RPC error bodies): made visible like all output.
    if (error instanceof CliExit) {
      io.err(`poq: ${visibleText(error.message)}`);
      return error.code;
    }
    // Operator-fixable errors print one line; anything else prints its stack for a bug report.
    const message = userMessage(error);
    if (message !== undefined) {
      io.err(`poq: ${visibleText(message)}`);
      return 1;
    }
    io.err(`poq: ${visibleLines((error instanceof Error ? (error.stack ?? error.message) : String(error)).split("\n"))}`);
    return 1;
  }
}

const isEntryPoint = process.argv[1] !== undefined && realpathSync(process.argv[1]) === realpathSync(fileURLToPath(import.meta.url));
if (isEntryPoint) {
  // `poq audit export | head`: the reader went away, which is not an error of ours. Stop quietly.
  process.stdout.on("error", (error: NodeJS.ErrnoException) => {
    if (error.code === "EPIPE") process.exit(0);
    throw error;
  });
  const io: CliIo = { out: (s) => process.stdout.write(`${s}\n`), err: (s) => process.stderr.write(`${s}\n`) };
  const code = await runCli(process.argv.slice(2), io);
  // Long-running commands never return from runCli; a command that returned is done, even if a failed start left
  // a socket or timer open (a supervisor must see the exit). Writes to pipes and terminals are synchronous on
  // Linux and macOS, so nothing printed is lost.
  process.exit(code);
}
