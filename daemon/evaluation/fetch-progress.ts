/**
 * Progress display for model downloads: live bars (cli-progress) on a terminal, one plain line per event
 * otherwise (CI logs, pipes), so logs stay readable and terminals stay informative.
 */
import cliProgress from "cli-progress";
import type { DownloadEvent } from "./download.ts";

export interface ProgressReporter {
  onProgress: (event: DownloadEvent) => void;
  /** Stops the bars (call once when fetching ends, also on failure). */
  stop: () => void;
}

const MB = 1024 * 1024;
/** Plain mode prints at most one progress line per file per this many bytes. */
const PLAIN_STEP_BYTES = 16 * MB;

export function createProgressReporter(stream: NodeJS.WriteStream = process.stderr): ProgressReporter {
  return stream.isTTY ? barReporter(stream) : plainReporter(stream);
}

function barReporter(stream: NodeJS.WriteStream): ProgressReporter {
  const bars = new cliProgress.MultiBar(
    { stream, format: " {file} |{bar}| {percentage}% {valueMb}/{totalMb} MB", hideCursor: true, clearOnComplete: false },
    cliProgress.Presets.shades_classic,
  );
  const byFile = new Map<string, cliProgress.SingleBar>();
  const mb = (bytes: number | undefined) => (bytes === undefined ? "?" : (bytes / MB).toFixed(1));
  return {
    onProgress(event) {
      switch (event.type) {
        case "start": {
          const total = event.totalBytes ?? 0;
          byFile.get(event.file)?.stop();
          byFile.set(event.file, bars.create(total, event.resumedFrom, { file: event.file, valueMb: mb(event.resumedFrom), totalMb: mb(event.totalBytes) }));
          break;
        }
        case "progress":
          byFile.get(event.file)?.update(event.receivedBytes, { valueMb: mb(event.receivedBytes) });
          break;
        case "retry":
          bars.log(`retrying ${event.file} in ${event.delayMs} ms: ${event.reason}\n`);
          break;
        case "done":
          if (event.skipped) bars.log(`${event.file}: already present, sha256 ok\n`);
          else byFile.get(event.file)?.update(event.bytes, { valueMb: mb(event.bytes) });
          break;
      }
    },
    stop: () => bars.stop(),
  };
}

function plainReporter(stream: NodeJS.WriteStream): ProgressReporter {
  const lastPrinted = new Map<string, number>();
  const line = (text: string) => stream.write(`${text}\n`);
  return {
    onProgress(event) {
      switch (event.type) {
        case "start":
          lastPrinted.set(event.file, event.resumedFrom);
          line(`${event.file}: ${event.resumedFrom > 0 ? `resuming at ${event.resumedFrom} bytes` : "downloading"} (${event.totalBytes ?? "unknown"} bytes)`);
          break;
        case "progress":
          if (event.receivedBytes - (lastPrinted.get(event.file) ?? 0) >= PLAIN_STEP_BYTES) {
            lastPrinted.set(event.file, event.receivedBytes);
            line(`${event.file}: ${event.receivedBytes} / ${event.totalBytes ?? "?"} bytes`);
          }
          break;
        case "retry":
          line(`${event.file}: attempt ${event.attempt} failed (${event.reason}); retrying in ${event.delayMs} ms`);
          break;
        case "done":
          line(`${event.file}: ${event.skipped ? "already present" : `${event.bytes} bytes`}, sha256 ${event.sha256}`);
          break;
      }
    },
    stop: () => undefined,
  };
}
