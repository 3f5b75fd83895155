import cliProgress from "cli-progress";
import type { JobsProgress } from "./run-jobs.ts";

/** Live progress: a cli-progress bar on a terminal, plain lines (only when something changed) otherwise. */
export interface ProgressView {
  update(progress: JobsProgress): void;
  /** A message that must not be torn by the bar. */
  log(line: string): void;
  stop(): void;
}

const summary = ({ counts }: JobsProgress) =>
  `assigned ${counts.assigned}, answered ${counts.answered}, committee ${counts.committee + counts.revealing}, finalized ${counts.finalized}, refunded ${counts.refunded}`;

export function createProgressView(stream: NodeJS.WriteStream = process.stdout): ProgressView {
  if (stream.isTTY !== true) {
    let last = "";
    return {
      update(progress) {
        const line = `progress: ${progress.counts.finalized + progress.counts.refunded}/${progress.total} settled (${summary(progress)})`;
        if (line !== last) stream.write(`${line}\n`);
        last = line;
      },
      log: (line) => void stream.write(`${line}\n`),
      stop: () => {},
    };
  }
  const bar = new cliProgress.SingleBar(
    { format: "jobs [{bar}] {value}/{total} settled | {stages}", hideCursor: true, clearOnComplete: false, stream },
    cliProgress.Presets.shades_classic,
  );
  let started = false;
  return {
    update(progress) {
      const settled = progress.counts.finalized + progress.counts.refunded;
      if (!started) {
        bar.start(progress.total, settled, { stages: summary(progress) });
        started = true;
      }
      bar.setTotal(progress.total);
      bar.update(settled, { stages: summary(progress) });
    },
    log(line) {
      // cli-progress redraws on the current line: clear it, print, let the next update redraw.
      if (started) stream.write("\r\x1b[2K");
      stream.write(`${line}\n`);
      if (started) bar.render();
    },
    stop: () => (started ? bar.stop() : undefined),
  };
}
