import { readFileSync } from "node:fs";
import { InvalidArgumentError, type Command } from "commander";
import type { CliIo } from "../io.ts";

export function registerModelsCommands(program: Command, io: CliIo): void {
  const models = program.command("models").description("Evaluator model files");
  models
    .command("fetch")
    .description("Download every file a pinned manifest lists, verifying each sha256 (kept files with the right hash are skipped)")
    .argument("<manifest>", "manifest JSON file (e.g. models/<name>/manifest.json)")
    .requiredOption("--out <dir>", "folder to put the model files and manifest in")
    .option("--base-url <url>", "mirror serving the same layout as the manifest's source")
    .option("--attempts <n>", "tries per file before giving up (with backoff)", (v) => {
      const n = Number(v);
      if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError("must be a positive integer");
      return n;
    }, 5)
    .action(async (manifestPath: string, opts: { out: string; baseUrl?: string; attempts: number }) => {
      const { fetchModel } = await import("../../evaluation/fetch.ts");
      const { createProgressReporter } = await import("../../evaluation/fetch-progress.ts");
      const { parseManifest } = await import("../../evaluation/manifest.ts");
      const manifest = parseManifest(JSON.parse(readFileSync(manifestPath, "utf8")), manifestPath);
      const progress = createProgressReporter();
      try {
        const result = await fetchModel(manifest, opts.out, { baseUrl: opts.baseUrl, onProgress: progress.onProgress, attempts: opts.attempts });
        io.out(`fetched ${result.downloaded.length} file(s), kept ${result.skipped.length} already verified, into ${result.dir}`);
      } finally {
        progress.stop();
      }
    });
}
