// Inline SVG line chart with points (no library): one series per provider, x = block, y = consensus 0..10000.
const SVG = "http://www.w3.org/2000/svg";
const COLORS = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#17becf", "#8c564b", "#e377c2"];
const Y_MAX = 10000;

function el(name, attrs, text) {
  const node = document.createElementNS(SVG, name);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, String(v));
  if (text !== undefined) node.textContent = text;
  return node;
}

/**
 * series: [{ label, points: [{ x: number, y: number, title: string }] }]. Returns an <svg class="chart"> with a
 * <circle class="point"> per point, a polyline per series and a legend.
 */
export function lineChart(series, { width = 720, height = 280, xLabel = "block", yLabel = "consensus score" } = {}) {
  const pad = { left: 56, right: 16, top: 16, bottom: 40 };
  const svg = el("svg", { class: "chart", viewBox: `0 0 ${width} ${height}`, role: "img", "aria-label": `${yLabel} by ${xLabel}` });
  const xs = series.flatMap((s) => s.points.map((p) => p.x));
  const xMin = xs.length ? Math.min(...xs) : 0;
  const xMax = xs.length ? Math.max(...xs) : 1;
  const span = xMax > xMin ? xMax - xMin : 1;
  const innerW = width - pad.left - pad.right;
  const innerH = height - pad.top - pad.bottom;
  const px = (x) => pad.left + (xs.length > 1 && xMax > xMin ? ((x - xMin) / span) * innerW : innerW / 2);
  const py = (y) => pad.top + innerH - (y / Y_MAX) * innerH;
  for (const tick of [0, 2500, 5000, 7500, 10000]) {
    svg.append(el("line", { class: "grid", x1: pad.left, x2: width - pad.right, y1: py(tick), y2: py(tick) }));
    svg.append(el("text", { class: "tick", x: pad.left - 6, y: py(tick) + 4, "text-anchor": "end" }, String(tick)));
  }
  svg.append(el("text", { class: "tick", x: pad.left, y: height - 8 }, String(xMin)));
  svg.append(el("text", { class: "tick", x: width - pad.right, y: height - 8, "text-anchor": "end" }, String(xMax)));
  svg.append(el("text", { class: "axis-label", x: pad.left + innerW / 2, y: height - 8, "text-anchor": "middle" }, xLabel));
  series.forEach((s, i) => {
    const color = COLORS[i % COLORS.length];
    const sorted = [...s.points].sort((a, b) => a.x - b.x);
    if (sorted.length > 1) {
      svg.append(el("polyline", { class: "series", fill: "none", stroke: color, points: sorted.map((p) => `${px(p.x)},${py(p.y)}`).join(" ") }));
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
