/**
 * SVG -> PNG through a real headless Chromium driven by playwright-core (already a project dependency), for
 * `--plot file.png`. playwright-core ships no browser, so this uses a system Chromium: `CHROMIUM_PATH` if set, else
 * the first `chromium`, `chromium-browser` or `google-chrome` on PATH. Fails with a clear message when none exists.
 */
import { existsSync } from "node:fs";
import { delimiter, join } from "node:path";
import { chromium } from "playwright-core";

const BROWSER_NAMES = ["chromium", "chromium-browser", "google-chrome"];

function findChromium(): string {
  const fromEnv = process.env.CHROMIUM_PATH;
  if (fromEnv) {
    if (!existsSync(fromEnv)) throw new Error(`CHROMIUM_PATH=${fromEnv} does not exist`);
    return fromEnv;
  }
  for (const dir of (process.env.PATH ?? "").split(delimiter)) {
    for (const name of BROWSER_NAMES) {
      const candidate = join(dir, name);
      if (dir && existsSync(candidate)) return candidate;
    }
  }
  throw new Error("--plot *.png needs a Chromium (set CHROMIUM_PATH or install chromium); or write .svg instead");
}

/** Renders `svg` (its width/height attributes give the page size) and returns PNG bytes. */
export async function svgToPng(svg: string): Promise<Buffer> {
  const size = /width="(\d+)" height="(\d+)"/.exec(svg);
  if (!size) throw new Error("SVG has no width/height attributes");
  const browser = await chromium.launch({
    executablePath: findChromium(),
    // The closed network of CI machines: no background fetches, no sandbox when running as root.
    args: ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update"],
  });
  try {
    const page = await browser.newPage({ viewport: { width: Number(size[1]), height: Number(size[2]) } });
    await page.setContent(`<html><body style="margin:0">${svg}</body></html>`);
    return await page.screenshot({ type: "png" });
  } finally {
    await browser.close();
  }
}
