// The alerts-per-minute chart: an inline SVG built with createElementNS (no
// library, no inline styles: colours come from classes in console.css).

import { svg, el, replaceChildren } from "./dom.js";
import { SEVERITIES } from "./severity.js";
import { absolute } from "./time.js";

const HEIGHT = 220;
const M = { top: 12, right: 12, bottom: 26, left: 44 };
// Most severe at the bottom of each bar, where it is easiest to compare.
const STACK = SEVERITIES.slice().reverse();

/** A round number >= n for the top of the y axis: 1, 2, 5, 10, 20, 50, ... */
function niceCeil(n) {
  if (n <= 5) return Math.max(1, Math.ceil(n));
  const power = 10 ** Math.floor(Math.log10(n));
  for (const step of [1, 2, 5, 10]) if (step * power >= n) return step * power;
  return 10 * power;
}

/**
 * buckets: [{start: epoch seconds of the minute, counts: {0: n, 5: n, ...}}], oldest
 * first; width: the pixels available, so text keeps its size at any width.
 * Returns the <svg id="rate-chart"> element.
 */
export function rateChart(buckets, width) {
  const WIDTH = Math.max(320, Math.round(width) || 720);
  const plotW = WIDTH - M.left - M.right;
  const plotH = HEIGHT - M.top - M.bottom;
  const totals = buckets.map((b) => Object.values(b.counts).reduce((a, c) => a + c, 0));
  const top = niceCeil(Math.max(0, ...totals));
  const y = (v) => M.top + plotH - (v / top) * plotH;
  const barW = plotW / Math.max(buckets.length, 1);

  const root = svg("svg", {
    id: "rate-chart",
    class: "rate-chart",
    viewBox: `0 0 ${WIDTH} ${HEIGHT}`,
    width: WIDTH,
    height: HEIGHT,
    role: "img",
    "aria-label": `Alerts per minute over the last hour; peak ${Math.max(0, ...totals)} per minute`,
  });

  const grid = svg("g", { class: "grid" });
  for (const v of [0, top / 2, top]) {
    grid.append(
      svg("line", { x1: M.left, x2: WIDTH - M.right, y1: y(v), y2: y(v) }),
      svg("text", { x: M.left - 6, y: y(v) + 4, class: "axis-label", "text-anchor": "end", text: Number.isInteger(v) ? v : v.toFixed(1) }),
    );
  }
  root.append(grid);

  const bars = svg("g", { class: "bars" });
  buckets.forEach((bucket, i) => {
    if (!totals[i]) return;
    const x = M.left + i * barW + 1;
    const g = svg("g", { class: "bar" });
    let base = 0;
    for (const sev of STACK) {
      const n = bucket.counts[sev.value] || 0;
      if (!n) continue;
      g.append(svg("rect", {
        x, width: Math.max(barW - 2, 1), y: y(base + n), height: Math.max(y(base) - y(base + n), 0.5),
        class: `fill-${sev.name.toLowerCase()}`,
      }));
      base += n;
    }
    const detail = STACK.filter((s) => bucket.counts[s.value]).map((s) => `${s.name} ${bucket.counts[s.value]}`).join(", ");
    g.append(svg("title", { text: `${absolute(bucket.start)}: ${totals[i]} (${detail})` }));
    bars.append(g);
  });
  root.append(bars);

  const axis = svg("g", { class: "x-axis" });
  axis.append(svg("line", { x1: M.left, x2: WIDTH - M.right, y1: M.top + plotH, y2: M.top + plotH }));
  const n = buckets.length;
  for (const back of [60, 45, 30, 15, 0]) {
    const i = n - 1 - back;
    const x = back === 60 ? M.left : M.left + (i + 1) * barW;
    axis.append(svg("text", {
      x, y: HEIGHT - 8, class: "axis-label",
      "text-anchor": back === 60 ? "start" : back === 0 ? "end" : "middle",
      text: back === 0 ? "now" : `−${back} min`,
    }));
  }
  root.append(axis);
  return root;
}

/** The colour key under the chart, in HTML (words, not only colour). */
export function legend(node) {
  replaceChildren(node, STACK.map((s) => el("span", { class: "legend-item" }, el("span", { class: `swatch fill-${s.name.toLowerCase()}` }), s.name)));
}
