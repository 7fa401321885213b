// Tiny SVG charts of our own: time-series lines with bands and rules, and bars with an optional line overlay.
import { h } from "./dom.js";

const NS = "http://www.w3.org/2000/svg";
function s(tag, attrs = {}, ...kids) {
  const el = document.createElementNS(NS, tag);
  for (const [k, v] of Object.entries(attrs)) if (v !== undefined && v !== null) el.setAttribute(k, v);
  for (const k of kids.flat()) if (k) el.append(k instanceof Node ? k : document.createTextNode(String(k)));
  return el;
}

function niceTicks(lo, hi, n = 5) {
  if (!Number.isFinite(lo) || !Number.isFinite(hi)) return [];
  if (hi === lo) { hi += 1; lo -= 1; }
  const raw = (hi - lo) / n;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * mag).find((x) => raw <= x) || 10 * mag;
  const out = [];
  for (let v = Math.ceil(lo / step) * step; v <= hi + 1e-9; v += step) out.push(+v.toFixed(10));
  return out;
}

function timeTicks(t0, t1, n = 6) {
  const span = t1 - t0;
  const steps = [60e3, 300e3, 900e3, 1800e3, 3600e3, 7200e3, 10800e3, 21600e3, 43200e3, 86400e3, 172800e3, 604800e3];
  const step = steps.find((x) => span / x <= n) || 604800e3;
  const tz = new Date().getTimezoneOffset() * 60e3;
  const out = [];
  for (let t = Math.ceil((t0 - tz) / step) * step + tz; t <= t1; t += step) out.push(t);
  return { ticks: out, step };
}

function timeLabel(t, step) {
  const d = new Date(t);
  if (step >= 86400e3) return d.toLocaleDateString(undefined, { month: "short", day: "numeric" });
  return d.toLocaleTimeString(undefined, { hour: "2-digit", minute: "2-digit" });
}

const W = 640;
const PAD = { l: 44, r: 16, t: 14, b: 26 };

/**
 * A time-series line chart.
 * opts: {series:[{t:[ms], v:[num], color, label}], bands:[{lo, hi, color, label}], rules:[{y, color, label}],
 *        yMin, yMax, height, unit, id, title}
 */
export function lineChart(opts) {
  const height = opts.height || 220;
  const series = (opts.series || []).map((x) => ({ ...x, pts: zip(x.t, x.v) })).filter((x) => x.pts.length);
  const all = series.flatMap((x) => x.pts);
  const svg = s("svg", { class: "chart", viewBox: `0 0 ${W} ${height}`, role: "img",
    "aria-label": opts.title || "chart", id: opts.id, "data-points": String(all.length) });
  const wrap = h("div", { class: "chart-wrap" }, svg);
  if (!all.length) return wrap;
  const t0 = opts.t0 ?? Math.min(...all.map((p) => p[0]));
  const t1 = opts.t1 ?? Math.max(...all.map((p) => p[0]));
  const ys = all.map((p) => p[1]);
  for (const b of opts.bands || []) ys.push(b.lo, b.hi);
  for (const r of opts.rules || []) ys.push(r.y);
  let lo = opts.yMin ?? Math.min(...ys);
  let hi = opts.yMax ?? Math.max(...ys);
  const padY = (hi - lo) * 0.08 || 1;
  if (opts.yMin === undefined) lo -= padY;
  if (opts.yMax === undefined) hi += padY;
  const yt = niceTicks(lo, hi, 4);
  if (opts.yMin === undefined && yt.length) lo = Math.min(lo, yt[0]);
  const x = (t) => PAD.l + ((t - t0) / Math.max(1, t1 - t0)) * (W - PAD.l - PAD.r);
  const y = (v) => PAD.t + (1 - (v - lo) / Math.max(1e-9, hi - lo)) * (height - PAD.t - PAD.b);

  const grid = s("g", { class: "grid" });
  const axis = s("g", { class: "axis" });
  for (const v of yt) {
    if (v < lo || v > hi) continue;
    grid.append(s("line", { x1: PAD.l, x2: W - PAD.r, y1: y(v), y2: y(v) }));
    axis.append(s("text", { x: PAD.l - 6, y: y(v) + 4, "text-anchor": "end" }, fmtTick(v)));
  }
  const { ticks, step } = timeTicks(t0, t1);
  for (const t of ticks) axis.append(s("text", { x: x(t), y: height - 6, "text-anchor": "middle" }, timeLabel(t, step)));
  svg.append(grid);
  for (const b of opts.bands || []) {
    const top = y(Math.min(hi, b.hi)); const bottom = y(Math.max(lo, b.lo));
    svg.append(s("rect", { class: "band", x: PAD.l, width: W - PAD.l - PAD.r, y: top, height: Math.max(0, bottom - top),
      fill: b.color, "data-role": "band" }));
  }
  svg.append(axis);
  for (const r of opts.rules || []) {
    if (r.y < lo || r.y > hi) continue;
    svg.append(s("line", { class: "rule", x1: PAD.l, x2: W - PAD.r, y1: y(r.y), y2: y(r.y), stroke: r.color, "data-role": "rule" }));
    svg.append(s("text", { class: "rule-label", x: W - PAD.r - 2, y: y(r.y) - 4, "text-anchor": "end", fill: r.color }, r.label || ""));
  }
  for (const se of series) {
    const gap = se.gapMs ?? gapOf(se.pts);
    let d = ""; let prev = null; let run = [];
    const flush = () => { // a lone sample has no segment to draw: show it as a dot
      if (run.length === 1) svg.append(s("circle", { cx: x(run[0][0]), cy: y(run[0][1]), r: 2.5, fill: se.color }));
      run = [];
    };
    for (const [t, v] of se.pts) {
      const jump = prev === null || t - prev > gap;
      if (jump) flush();
      run.push([t, v]);
      d += `${jump ? "M" : "L"}${x(t).toFixed(1)},${y(v).toFixed(1)}`;
      prev = t;
    }
    flush();
    svg.append(s("path", { class: "line", d, stroke: se.color, "data-series": se.label, "data-n": String(se.pts.length) }));
  }
  hover(wrap, svg, series, x, y, t0, t1, opts.unit || "");
  if (series.length > 1 || (opts.bands || []).length || (opts.rules || []).length) wrap.append(legend(series, opts));
  return wrap;
}

function legend(series, opts) {
  return h("div", { class: "legend" },
    series.map((x) => h("span", {}, h("i", { style: { background: x.color } }), x.label)),
    (opts.bands || []).map((b) => h("span", {}, h("i", { class: "box", style: { background: b.color } }), b.label)),
    (opts.rules || []).map((r) => h("span", {}, h("i", { style: { background: r.color } }), r.label)));
}

function hover(wrap, svg, series, x, y, t0, t1, unit) {
  const line = s("line", { class: "hover-line", y1: PAD.t, y2: "100%", visibility: "hidden" });
  const dot = s("circle", { r: 3.5, fill: "#fff", "stroke-width": 2, visibility: "hidden" });
  svg.append(line, dot);
  const tip = h("div", { class: "tip", hidden: true });
  wrap.append(tip);
  const main = series[0];
  svg.addEventListener("pointermove", (ev) => {
    const box = svg.getBoundingClientRect();
    const px = ((ev.clientX - box.left) / box.width) * W;
    const t = t0 + ((px - PAD.l) / (W - PAD.l - PAD.r)) * (t1 - t0);
    let best = main.pts[0];
    for (const p of main.pts) if (Math.abs(p[0] - t) < Math.abs(best[0] - t)) best = p;
    line.setAttribute("x1", x(best[0])); line.setAttribute("x2", x(best[0]));
    line.setAttribute("y2", svg.viewBox.baseVal.height - PAD.b);
    dot.setAttribute("cx", x(best[0])); dot.setAttribute("cy", y(best[1])); dot.setAttribute("stroke", main.color);
    line.setAttribute("visibility", "visible"); dot.setAttribute("visibility", "visible");
    tip.hidden = false;
    tip.style.left = `${(x(best[0]) / W) * box.width}px`;
    tip.style.top = `${(y(best[1]) / svg.viewBox.baseVal.height) * box.height}px`;
    tip.textContent = `${fmtTick(best[1])} ${unit} · ${new Date(best[0]).toLocaleTimeString(undefined, { hour: "2-digit", minute: "2-digit" })}`;
  });
  svg.addEventListener("pointerleave", () => {
    line.setAttribute("visibility", "hidden"); dot.setAttribute("visibility", "hidden"); tip.hidden = true;
  });
}

/**
 * Bars by category, with an optional line on a right-hand axis.
 * opts: {labels:[str], bars:[{values, color, label}], line:{values, color, label, unit}, height, id, title, target}
 */
export function barChart(opts) {
  const height = opts.height || 220;
  const n = opts.labels.length;
  const svg = s("svg", { class: "chart", viewBox: `0 0 ${W} ${height}`, role: "img", "aria-label": opts.title || "chart",
    id: opts.id, "data-points": String(n) });
  const wrap = h("div", { class: "chart-wrap" }, svg);
  if (!n) return wrap;
  const bars = opts.bars || [];
  const pr = opts.line ? 44 : PAD.r;
  const vals = bars.flatMap((b) => b.values).filter(Number.isFinite);
  if (opts.target !== undefined) vals.push(opts.target);
  const hi = Math.max(1, ...vals) * 1.08;
  const yt = niceTicks(0, hi, 4);
  const top = Math.max(hi, yt[yt.length - 1] || hi);
  const y = (v) => PAD.t + (1 - v / top) * (height - PAD.t - PAD.b);
  const bw = (W - PAD.l - pr) / n;
  const grid = s("g", { class: "grid" }); const axis = s("g", { class: "axis" });
  for (const v of yt) {
    grid.append(s("line", { x1: PAD.l, x2: W - pr, y1: y(v), y2: y(v) }));
    axis.append(s("text", { x: PAD.l - 6, y: y(v) + 4, "text-anchor": "end" }, fmtTick(v)));
  }
  svg.append(grid, axis);
  const every = Math.ceil(n / 10);
  opts.labels.forEach((lab, i) => {
    if (i % every === 0) axis.append(s("text", { x: PAD.l + bw * (i + 0.5), y: height - 6, "text-anchor": "middle" }, lab));
  });
  const inner = bw * 0.7; const each = inner / Math.max(1, bars.length);
  bars.forEach((b, j) => b.values.forEach((v, i) => {
    if (!Number.isFinite(v)) return;
    const x0 = PAD.l + bw * i + (bw - inner) / 2 + each * j;
    svg.append(s("rect", { class: "bar", x: x0, width: Math.max(1, each - 2), y: y(v), height: Math.max(0, y(0) - y(v)),
      fill: b.color, "data-series": b.label }, s("title", {}, `${opts.labels[i]} · ${b.label}: ${fmtTick(v)}`)));
  }));
  if (opts.target !== undefined) {
    svg.append(s("line", { class: "rule", x1: PAD.l, x2: W - pr, y1: y(opts.target), y2: y(opts.target), stroke: "#b7791f" }));
  }
  if (opts.line) {
    const lv = opts.line.values.filter(Number.isFinite);
    if (lv.length) {
      const lmax = Math.max(...lv) * 1.1 || 1;
      const ly = (v) => PAD.t + (1 - v / lmax) * (height - PAD.t - PAD.b);
      let d = ""; let started = false;
      opts.line.values.forEach((v, i) => {
        if (!Number.isFinite(v)) return;
        d += `${started ? "L" : "M"}${(PAD.l + bw * (i + 0.5)).toFixed(1)},${ly(v).toFixed(1)}`; started = true;
        svg.append(s("circle", { cx: PAD.l + bw * (i + 0.5), cy: ly(v), r: 3.5, fill: opts.line.color },
          s("title", {}, `${opts.labels[i]} · ${opts.line.label}: ${fmtTick(v)} ${opts.line.unit || ""}`)));
      });
      svg.append(s("path", { class: "line", d, stroke: opts.line.color, "data-series": opts.line.label }));
      for (const v of niceTicks(0, lmax, 4)) {
        axis.append(s("text", { x: W - pr + 6, y: ly(v) + 4, "text-anchor": "start" }, fmtTick(v)));
      }
    }
  }
  wrap.append(h("div", { class: "legend" },
    bars.map((b) => h("span", {}, h("i", { class: "box", style: { background: b.color, opacity: 1 } }), b.label)),
    opts.line ? h("span", {}, h("i", { style: { background: opts.line.color } }), `${opts.line.label} (right axis)`) : null,
    opts.target !== undefined ? h("span", {}, h("i", { style: { background: "#b7791f" } }), opts.targetLabel || "target") : null));
  return wrap;
}

function zip(t, v) {
  const out = [];
  for (let i = 0; i < Math.min(t?.length || 0, v?.length || 0); i++) {
    const val = Array.isArray(v[i]) ? Math.hypot(...v[i]) : v[i];
    if (val !== null && Number.isFinite(Number(val))) out.push([Number(t[i]), Number(val)]);
  }
  return out;
}

function gapOf(pts) {
  if (pts.length < 3) return Infinity;
  const d = [];
  for (let i = 1; i < pts.length; i++) d.push(pts[i][0] - pts[i - 1][0]);
  d.sort((a, b) => a - b);
  return Math.max(d[Math.floor(d.length / 2)] * 4, 60e3);
}

function fmtTick(v) {
  const a = Math.abs(v);
  if (a >= 10000) return `${(v / 1000).toFixed(a >= 100000 ? 0 : 1)}k`;
  return Number.isInteger(v) ? String(v) : v.toFixed(a < 10 ? 1 : 0);
}
