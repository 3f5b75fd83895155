import type { Command } from "commander";
import { configWarnings, loadConfig } from "../../config/load.ts";
import { CliExit, type CliIo } from "../io.ts";

/** Exit code of a role command whose pipeline is not wired yet (distinct from 1, a real failure). */
export const NOT_WIRED_EXIT_CODE = 2;

export function registerRoleCommands(program: Command, io: CliIo): void {
  for (const role of ["validator", "provider"] as const) {
    program
      .command(role)
      .description(role === "validator" ? "Score answers, commit and reveal scores, claim rewards" : "Answer tasks with an OpenAI-compatible endpoint")
      .command("start")
      .description(`Run the ${role} role until stopped (SIGTERM/SIGINT drain the queues first)`)
      .action(() => {
        const config = loadConfig({ file: program.opts<{ config?: string }>().config });
        if (config.roles[role] === undefined) throw new CliExit(1, `the config does not enable roles.${role}`);
        for (const warning of configWarnings(config)) io.err(`warning: ${warning}`);
        throw new CliExit(NOT_WIRED_EXIT_CODE, `${role} start: config is valid, but the ${role} pipeline is not wired into this build yet`);
      });
  }
}
