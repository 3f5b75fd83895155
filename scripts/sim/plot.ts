/**
 * A minimal, dependency-free SVG writer for one figure: consensus error against attacker share, one line per
 * aggregation rule, one panel per attack, with the reward tolerance drawn as a dashed line (above it a rule is
 * "broken"). No plotting package installs offline here without a browser or native canvas, and this figure needs
 * only lines, ticks and text, so a hand-made SVG (about a hundred lines) is the smaller dependency.
 */
import type { Attack } from "./robustness.ts";
import type { MaeTable } from "./robustness.ts";
import type { SimRule } from "./model.ts";

const COLORS: Record<SimRule, string> = {
  mean: "#d62728",
  median: "#1f77b4",
  trimmedMean: "#2ca02c",
  weightedMedian: "#9467bd",
};
const PANEL_W = 360;
const PANEL_H = 250;
const MARGIN = { left: 56, right: 16, top: 34, bottom: 44 };

const escapeXml = (s: string) => s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
const text = (x: number, y: number, s: string, extra = "") =>
  `<text x="${x.toFixed(1)}" y="${y.toFixed(1)}" ${extra}>${escapeXml(s)}</text>`;

/** Rounds `max` up to a "nice" axis top (1, 2 or 5 times a power of ten). */
function niceCeil(max: number): number {
  const power = 10 ** Math.floor(Math.log10(Math.max(1, max)));
  return ([1, 2, 5, 10].find((m) => m * power >= max) ?? 10) * power;
}

function panel(attack: Attack, table: MaeTable, ox: number, oy: number, yMax: number, tolerance: number): string {
  const rules = Object.keys(table) as SimRule[];
  const shares = Object.keys(table[rules[0]]).map(Number);
  const xMax = Math.max(...shares);
  const plotW = PANEL_W - MARGIN.left - MARGIN.right;
  const plotH = PANEL_H - MARGIN.top - MARGIN.bottom;
  const x = (f: number) => ox + MARGIN.left + (f / xMax) * plotW;
  const y = (v: number) => oy + MARGIN.top + plotH - (v / yMax) * plotH;
  const parts: string[] = [text(ox + PANEL_W / 2, oy + 20, `attack: ${attack}`, 'text-anchor="middle" font-weight="bold"')];
  parts.push(
    `<rect x="${x(0)}" y="${y(yMax)}" width="${plotW}" height="${plotH}" fill="none" stroke="#444" stroke-width="1"/>`,
  );
  for (let i = 0; i <= 5; i++) {
    const v = (yMax / 5) * i;
    parts.push(`<line x1="${x(0) - 4}" y1="${y(v)}" x2="${x(0)}" y2="${y(v)}" stroke="#444"/>`);
    parts.push(text(x(0) - 7, y(v) + 4, String(Math.round(v)), 'text-anchor="end" font-size="10"'));
  }
  for (const f of shares.filter((_, i) => i % 2 === 0)) {
    parts.push(`<line x1="${x(f)}" y1="${y(0)}" x2="${x(f)}" y2="${y(0) + 4}" stroke="#444"/>`);
    parts.push(text(x(f), y(0) + 16, f.toFixed(2), 'text-anchor="middle" font-size="10"'));
  }
  parts.push(text(x(xMax / 2), oy + PANEL_H - 6, "attacker share of the validator pool", 'text-anchor="middle" font-size="11"'));
  parts.push(
    text(ox + 14, y(yMax / 2), "consensus MAE (bps)", `text-anchor="middle" font-size="11" transform="rotate(-90 ${ox + 14} ${y(yMax / 2)})"`),
  );
  parts.push(
    `<line x1="${x(0)}" y1="${y(tolerance)}" x2="${x(xMax)}" y2="${y(tolerance)}" stroke="#888" stroke-dasharray="5,4"/>`,
  );
  parts.push(text(x(0) + 4, y(tolerance) - 4, `tolerance ${tolerance}`, 'font-size="10" fill="#666"'));
  for (const rule of rules) {
    const points = shares.map((f) => `${x(f).toFixed(1)},${y(table[rule][f.toFixed(2)]).toFixed(1)}`).join(" ");
    parts.push(`<polyline points="${points}" fill="none" stroke="${COLORS[rule]}" stroke-width="2"/>`);
  }
  return parts.join("\n");
}

/** The whole figure as an SVG document: panels in a 2-column grid and a legend at the bottom. */
export function maeVsShareSvg(byAttack: Record<Attack, MaeTable>, tolerance: number, title: string): string {
  const attacks = Object.keys(byAttack) as Attack[];
  const cols = 2;
  const rows = Math.ceil(attacks.length / cols);
  const width = cols * PANEL_W;
  const height = rows * PANEL_H + 70;
  const allValues = attacks.flatMap((a) => Object.values(byAttack[a]).flatMap((t) => Object.values(t)));
  const yMax = niceCeil(Math.max(tolerance, ...allValues));
  const panels = attacks.map((a, i) => panel(a, byAttack[a], (i % cols) * PANEL_W, 30 + Math.floor(i / cols) * PANEL_H, yMax, tolerance));
  const rules = Object.keys(byAttack[attacks[0]]) as SimRule[];
  const legend = rules.map((rule, i) => {
    const lx = 40 + i * 170;
    const ly = height - 22;
    return `<line x1="${lx}" y1="${ly}" x2="${lx + 28}" y2="${ly}" stroke="${COLORS[rule]}" stroke-width="3"/>${text(lx + 34, ly + 4, rule, 'font-size="12"')}`;
  });
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="12">`,
    `<rect width="100%" height="100%" fill="white"/>`,
    text(width / 2, 20, title, 'text-anchor="middle" font-size="14" font-weight="bold"'),
    ...panels,
    ...legend,
    "</svg>",
  ].join("\n");
}
