/**
 * Pins a model draft: `npx tsx scripts/models/pin.ts <model dir> [--dest DIR] [--base-url URL]`.
 * Reads `<model dir>/manifest.draft.json`, downloads every file (Hub or mirror), and writes `manifest.json`
 * with the sha256 and size of each file and the resolved commit. Prints the evaluator id.
 */
import { Command } from "commander";
import { createProgressReporter } from "../../daemon/evaluation/fetch-progress.ts";
import { loadDraft, pinModel } from "../../daemon/evaluation/pin.ts";

const program = new Command()
  .name("pin")
  .argument("<modelDir>", "folder holding manifest.draft.json")
  .option("--dest <dir>", "where to download the files and write manifest.json (default: the model folder)")
  .option("--base-url <url>", "mirror with the Hub layout <base>/<repo>/resolve/<revision>/<path>")
  .parse();

const [modelDir] = program.args as [string];
const options = program.opts<{ dest?: string; baseUrl?: string }>();
const reporter = createProgressReporter();
try {
  const draft = await loadDraft(modelDir);
  const { manifest, id } = await pinModel(draft, options.dest ?? modelDir, { baseUrl: options.baseUrl, onProgress: reporter.onProgress });
  reporter.stop();
  console.log(`pinned ${manifest.name} at ${manifest.source?.type === "hub" ? manifest.source.revision : "url"}; evaluator id ${id}`);
} catch (error) {
  reporter.stop();
  console.error(`pin failed: ${error instanceof Error ? error.message : String(error)}`);
  process.exitCode = 1;
}
