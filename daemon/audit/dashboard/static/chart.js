// Inline SVG line chart with points (no library): one series per provider, x = time (or block), y = consensus
// 0..10000. A series' line breaks where consecutive points are far apart in x (a provider idle for a long time),
// so the chart never draws a trend through a period without data.
const SVG = "http://www.w3.org/2000/svg";
const COLORS = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#17becf", "#8c564b", "#e377c2"];
const Y_MAX = 10000;
/** A gap this many times the series' median spacing starts a new line (with at least two gaps to compare). */
const GAP_FACTOR = 4;

function el(name, attrs, text) {
  const node = document.createElementNS(SVG, name);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, String(v));
  if (text !== undefined) node.textContent = text;
  return node;
}

const median = (values) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted.length === 0 ? 0 : sorted[Math.floor(sorted.length / 2)];
};

/** Splits sorted points into runs wherever the spacing jumps far above the series' usual spacing. */
export function segments(sorted) {
  const gaps = sorted.slice(1).map((p, i) => p.x - sorted[i].x);
  const limit = median(gaps) * GAP_FACTOR;
  const runs = [];
  let run = [];
  sorted.forEach((p, i) => {
    if (i > 0 && gaps.length >= 2 && limit > 0 && gaps[i - 1] > limit) {
      runs.push(run);
      run = [];
    }
    run.push(p);
  });
  if (run.length > 0) runs.push(run);
  return runs;
}

function timeLabel(seconds, span) {
  const iso = new Date(seconds * 1000).toISOString(); // UTC: the same for every reader
  return span < 86_400 ? iso.slice(11, 19) : `${iso.slice(0, 10)} ${iso.slice(11, 16)}`;
}

/**
 * series: [{ label, points: [{ x: number, y: number, title: string }] }]; xKind "time" (x in unix seconds) or
 * "block". Returns an <svg class="chart"> with a <circle class="point"> per point, a polyline per unbroken run,
 * x ticks, axis labels and a legend.
 */
export function lineChart(series, { width = 720, height = 300, xKind = "time", yLabel = "consensus score (0-10000)" } = {}) {
  const pad = { left: 64, right: 16, top: 16, bottom: 48 };
  const xLabel = xKind === "time" ? "time (UTC, block timestamps)" : "block";
  const svg = el("svg", { class: "chart", viewBox: `0 0 ${width} ${height}`, role: "img", "aria-label": `${yLabel} by ${xLabel}` });
  const xs = series.flatMap((s) => s.points.map((p) => p.x));
  const xMin = xs.length ? Math.min(...xs) : 0;
  const xMax = xs.length ? Math.max(...xs) : 1;
  const span = xMax > xMin ? xMax - xMin : 1;
  const innerW = width - pad.left - pad.right;
  const innerH = height - pad.top - pad.bottom;
  const px = (x) => pad.left + (xMax > xMin ? ((x - xMin) / span) * innerW : innerW / 2);
  const py = (y) => pad.top + innerH - (y / Y_MAX) * innerH;
  for (const tick of [0, 2500, 5000, 7500, 10000]) {
    svg.append(el("line", { class: "grid", x1: pad.left, x2: width - pad.right, y1: py(tick), y2: py(tick) }));
    svg.append(el("text", { class: "tick", x: pad.left - 6, y: py(tick) + 4, "text-anchor": "end" }, String(tick)));
  }
  const xTicks = xMax > xMin ? [0, 0.25, 0.5, 0.75, 1].map((f) => xMin + f * span) : [xMin];
  xTicks.forEach((x, i) => {
    svg.append(el("line", { class: "axis", x1: px(x), x2: px(x), y1: pad.top + innerH, y2: pad.top + innerH + 4 }));
    const label = xKind === "time" ? timeLabel(x, span) : String(Math.round(x));
    // The outer labels align inwards so they stay inside the chart.
    const anchor = xTicks.length === 1 ? "middle" : i === 0 ? "start" : i === xTicks.length - 1 ? "end" : "middle";
    svg.append(el("text", { class: "tick x-tick", x: px(x), y: pad.top + innerH + 16, "text-anchor": anchor }, label));
  });
  svg.append(el("text", { class: "axis-label", x: pad.left + innerW / 2, y: height - 6, "text-anchor": "middle" }, xLabel));
  svg.append(el("text", { class: "axis-label y-label", transform: `translate(14 ${pad.top + innerH / 2}) rotate(-90)`, "text-anchor": "middle" }, yLabel));
  series.forEach((s, i) => {
    const color = COLORS[i % COLORS.length];
    const sorted = [...s.points].sort((a, b) => a.x - b.x);
    for (const run of segments(sorted)) {
      if (run.length > 1) {
        svg.append(el("polyline", { class: "series", fill: "none", stroke: color, "data-series": s.label, points: run.map((p) => `${px(p.x)},${py(p.y)}`).join(" ") }));
      }
    }
    for (const p of sorted) {
      const dot = el("circle", { class: "point", cx: px(p.x), cy: py(p.y), r: 4, fill: color, "data-series": s.label });
      dot.append(el("title", {}, p.title));
      svg.append(dot);
    }
    const ly = pad.top + 4 + i * 16;
    svg.append(el("rect", { x: width - pad.right - 150, y: ly, width: 10, height: 10, fill: color }));
    svg.append(el("text", { class: "legend", x: width - pad.right - 135, y: ly + 9 }, s.label));
  });
  return svg;
}
