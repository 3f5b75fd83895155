import type { Command } from "commander";
import { configWarnings, loadConfig } from "../../config/load.ts";
import { configReferenceMarkdown } from "../../config/reference.ts";
import type { CliIo } from "../io.ts";

export function registerConfigCommands(program: Command, io: CliIo): void {
  const config = program.command("config").description("Check the config or print its reference");
  config
    .command("check")
    .description("Validate the config file plus POQ_* environment overrides, the deployment manifest and the validator's evaluator (files and on-chain registration); print warnings")
    .action(async () => {
      const loaded = loadConfig({ file: program.opts<{ config?: string }>().config });
      for (const warning of configWarnings(loaded)) io.out(`warning: ${warning}`);
      const { checkDeployment, checkEvaluator } = await import("../preflight.ts");
      const chain = await checkDeployment(loaded, (warning) => io.out(`warning: ${warning}`));
      try {
        if (loaded.roles.validator !== undefined) {
          const evaluator = await checkEvaluator(loaded, { load: true, chain });
          io.out(`evaluator ${evaluator.name} ${evaluator.id}: loaded, files verified${chain ? ", registered and active on chain" : ""}`);
        }
      } finally {
        await chain?.close();
      }
      io.out("config ok");
    });
  config
    .command("reference")
    .description("Print the config reference (Markdown table generated from the schema; docs/OPERATOR.md embeds it)")
    .action(() => io.out(configReferenceMarkdown()));
}
