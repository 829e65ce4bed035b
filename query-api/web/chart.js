// A small SVG chart: OHLC candles or lines for several series, axes, legend, hover read-out.
// No library: the page must work offline.
//
// drawChart(host, {series, mode, interval, format, emptyText})
//   series: [{label, points: [{t (ms), o, h, l, c, filled}]}]   (o/h/l/c numbers or null)
//   mode:   "candles" | "lines"
// The <svg> gets `data-points` (how many candles or points are drawn) and `data-series`.

const SVG = "http://www.w3.org/2000/svg";
const PALETTE_SIZE = 8;

/// A series' style: 8 colours, then the same colours dashed, then dotted (24 distinct looks).
function look(i) {
  return `s${i % PALETTE_SIZE} d${Math.floor(i / PALETTE_SIZE) % 3}`;
}

function svg(tag, attrs = {}, parent) {
  const n = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) n.setAttribute(k, String(v));
  if (parent) parent.append(n);
  return n;
}

/// 1, 2, 2.5, 5 × 10^k steps giving about `count` ticks over [lo, hi].
export function niceTicks(lo, hi, count = 5) {
  if (!(hi > lo)) {
    const pad = Math.abs(lo) * 0.05 || 1;
    lo -= pad;
    hi += pad;
  }
  const raw = (hi - lo) / count;
  const mag = Math.pow(10, Math.floor(Math.log10(raw)));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * mag).find((s) => s >= raw) || raw;
  const start = Math.floor(lo / step) * step;
  const end = Math.ceil(hi / step) * step;
  const ticks = [];
  for (let v = start; v <= end + step / 2; v += step) ticks.push(Number(v.toFixed(10)));
  return { lo: start, hi: end, ticks, step };
}

function timeLabel(t, interval, spanMs) {
  const d = new Date(t);
  if (interval === "1M") return d.toLocaleDateString(undefined, { month: "short", year: "numeric" });
  if (interval === "1h" && spanMs < 3 * 86400e3)
    return d.toLocaleTimeString(undefined, { hour: "2-digit", minute: "2-digit" });
  if (interval === "1h")
    return d.toLocaleString(undefined, { month: "short", day: "numeric", hour: "2-digit" });
  return d.toLocaleDateString(undefined, { month: "short", day: "numeric" });
}

function fullTime(t, interval) {
  const d = new Date(t);
  if (interval === "1h") return d.toLocaleString(undefined, { dateStyle: "medium", timeStyle: "short" });
  if (interval === "1M") return d.toLocaleDateString(undefined, { month: "long", year: "numeric" });
  if (interval === "1w") return "week of " + d.toLocaleDateString(undefined, { dateStyle: "medium" });
  return d.toLocaleDateString(undefined, { dateStyle: "medium" });
}

const defaultFormat = (v) =>
  v.toLocaleString("en-US", {
    style: "currency",
    currency: "USD",
    minimumFractionDigits: Number.isInteger(v) || Math.abs(v) >= 100 ? 0 : 2,
    maximumFractionDigits: Math.abs(v) >= 100 ? 0 : 2,
  });

export function drawChart(host, opts) {
  const state = { hidden: new Set(), ...opts };
  const render = () => renderInto(host, state, render);
  render();
  if (!host._chartResize) {
    let last = host.clientWidth;
    host._chartResize = new ResizeObserver(() => {
      if (Math.abs(host.clientWidth - last) > 4) {
        last = host.clientWidth;
        host._chartRender && host._chartRender();
      }
    });
    host._chartResize.observe(host);
  }
  host._chartRender = render;
}

function renderInto(host, state, rerender) {
  const { series = [], mode = "candles", interval = "1d", format = defaultFormat } = state;
  host.replaceChildren();
  host.classList.add("chart");
  const width = Math.max(320, host.clientWidth || 640);
  const height = state.height || Math.round(Math.min(380, Math.max(240, width * 0.42)));
  const m = { l: 64, r: 14, t: 14, b: 30 };
  const W = width - m.l - m.r;
  const H = height - m.t - m.b;

  const visible = series
    .map((s, i) => ({ ...s, index: i }))
    .filter((s) => !state.hidden.has(s.index));
  const pts = visible.flatMap((s) => s.points.filter((p) => p.c !== null && p.c !== undefined));

  const root = svg("svg", {
    viewBox: `0 0 ${width} ${height}`,
    width,
    height,
    role: "img",
    class: `chart-svg mode-${mode}`,
    "aria-label": `${mode} chart of ${visible.length} series`,
  });
  host.append(root);

  let drawn = 0;
  if (pts.length === 0) {
    const t = svg("text", { x: width / 2, y: height / 2, class: "chart-empty", "text-anchor": "middle" }, root);
    t.textContent = state.emptyText || "No prices in this range";
  } else {
    const times = [...new Set(visible.flatMap((s) => s.points.map((p) => p.t)))].sort((a, b) => a - b);
    let step = Infinity;
    for (let i = 1; i < times.length; i++) step = Math.min(step, times[i] - times[i - 1]);
    if (!isFinite(step)) step = { "1h": 3600e3, "1d": 86400e3, "1w": 7 * 86400e3, "1M": 30 * 86400e3 }[interval] || 86400e3;
    const t0 = times[0];
    const t1 = times[times.length - 1] + step;
    const x = (t) => m.l + ((t - t0) / (t1 - t0)) * W;
    const lows = pts.map((p) => (mode === "candles" ? p.l ?? p.c : p.c));
    const highs = pts.map((p) => (mode === "candles" ? p.h ?? p.c : p.c));
    let lo = Math.min(...lows);
    let hi = Math.max(...highs);
    const pad = (hi - lo) * 0.06 || Math.abs(hi) * 0.05 || 1;
    const yt = niceTicks(Math.max(0, lo - pad), hi + pad, Math.max(3, Math.round(H / 60)));
    const y = (v) => m.t + H - ((v - yt.lo) / (yt.hi - yt.lo)) * H;

    // grid and axes
    const grid = svg("g", { class: "chart-grid" }, root);
    for (const v of yt.ticks) {
      svg("line", { x1: m.l, x2: m.l + W, y1: y(v), y2: y(v) }, grid);
      const label = svg("text", { x: m.l - 8, y: y(v) + 4, "text-anchor": "end", class: "chart-axis" }, root);
      label.textContent = format(v);
    }
    const xCount = Math.max(2, Math.floor(W / 110));
    const every = Math.max(1, Math.ceil(times.length / xCount));
    for (let i = 0; i < times.length; i += every) {
      const cx = x(times[i] + step / 2);
      svg("line", { x1: cx, x2: cx, y1: m.t + H, y2: m.t + H + 5, class: "chart-tick" }, root);
      const label = svg("text", { x: cx, y: m.t + H + 19, "text-anchor": "middle", class: "chart-axis" }, root);
      label.textContent = timeLabel(times[i], interval, t1 - t0);
    }
    svg("line", { x1: m.l, x2: m.l + W, y1: m.t + H, y2: m.t + H, class: "chart-baseline" }, root);

    const slot = (W * step) / (t1 - t0);
    const single = visible.length === 1;
    if (mode === "candles") {
      const groupW = slot * 0.78;
      const bodyW = Math.max(1, Math.min(18, groupW / visible.length - 1));
      visible.forEach((s, k) => {
        const g = svg("g", { class: `series ${look(s.index)}` }, root);
        for (const p of s.points) {
          if (p.c === null || p.c === undefined) continue;
          const o = p.o ?? p.c;
          const cx = x(p.t) + (slot - groupW) / 2 + (k + 0.5) * (groupW / visible.length);
          const up = p.c >= o;
          const cls = `candle ${up ? "up" : "down"}${single ? " mono" : ""}${p.filled ? " filled" : ""}`;
          const c = svg("g", { class: cls, "data-t": p.t }, g);
          svg("line", { x1: cx, x2: cx, y1: y(p.h ?? Math.max(o, p.c)), y2: y(p.l ?? Math.min(o, p.c)), class: "wick" }, c);
          const top = y(Math.max(o, p.c));
          const bottom = y(Math.min(o, p.c));
          svg("rect", { x: cx - bodyW / 2, y: top, width: bodyW, height: Math.max(1, bottom - top), class: "body" }, c);
          drawn++;
        }
      });
    } else {
      visible.forEach((s) => {
        const g = svg("g", { class: `series ${look(s.index)}` }, root);
        const ps = s.points.filter((p) => p.c !== null && p.c !== undefined);
        if (!ps.length) return;
        const d = ps.map((p, i) => `${i ? "L" : "M"}${x(p.t + step / 2).toFixed(1)},${y(p.c).toFixed(1)}`).join("");
        if (single) {
          const area = `${d}L${x(ps[ps.length - 1].t + step / 2).toFixed(1)},${m.t + H}L${x(ps[0].t + step / 2).toFixed(1)},${m.t + H}Z`;
          svg("path", { d: area, class: "area" }, g);
        }
        svg("path", { d, class: "line" }, g);
        const r = ps.length > 120 ? 1.2 : 2.4;
        for (const p of ps) {
          svg("circle", { cx: x(p.t + step / 2), cy: y(p.c), r, class: `point${p.filled ? " filled" : ""}`, "data-t": p.t }, g);
          drawn++;
        }
      });
    }

    // hover read-out
    const cross = svg("line", { y1: m.t, y2: m.t + H, class: "chart-cross", visibility: "hidden" }, root);
    const overlay = svg("rect", { x: m.l, y: m.t, width: W, height: H, class: "chart-overlay" }, root);
    const tip = document.createElement("div");
    tip.className = "chart-tip";
    tip.hidden = true;
    host.append(tip);
    overlay.addEventListener("mousemove", (ev) => {
      const box = root.getBoundingClientRect();
      const px = ((ev.clientX - box.left) / box.width) * width;
      const t = t0 + ((px - m.l) / W) * (t1 - t0);
      let best = times[0];
      for (const tt of times) if (tt <= t) best = tt;
      const cx = x(best + step / 2);
      cross.setAttribute("x1", cx);
      cross.setAttribute("x2", cx);
      cross.setAttribute("visibility", "visible");
      tip.replaceChildren();
      const head = document.createElement("div");
      head.className = "chart-tip-time";
      head.textContent = fullTime(best, interval);
      tip.append(head);
      for (const s of visible) {
        const p = s.points.find((pp) => pp.t === best);
        if (!p || p.c === null || p.c === undefined) continue;
        const row = document.createElement("div");
        const sw = document.createElement("span");
        sw.className = `swatch ${look(s.index)}`;
        row.append(sw, `${s.label}: `);
        const b = document.createElement("b");
        b.textContent =
          mode === "candles" && p.o !== null && p.o !== undefined
            ? `O ${format(p.o)} H ${format(p.h)} L ${format(p.l)} C ${format(p.c)}`
            : format(p.c);
        row.append(b);
        if (p.filled) row.append(" (carried)");
        tip.append(row);
      }
      tip.hidden = false;
      const left = (cx / width) * box.width;
      tip.style.left = `${Math.max(0, Math.min(left + 12, box.width - tip.offsetWidth - 4))}px`;
      tip.style.top = `${m.t + 6}px`;
    });
    overlay.addEventListener("mouseleave", () => {
      cross.setAttribute("visibility", "hidden");
      tip.hidden = true;
    });
  }
  root.dataset.points = String(drawn);
  root.dataset.series = String(visible.length);

  // legend (click to hide or show a series)
  if (series.length) {
    const legend = document.createElement("div");
    legend.className = "chart-legend";
    series.forEach((s, i) => {
      const item = document.createElement("button");
      item.type = "button";
      item.className = "legend-item" + (state.hidden.has(i) ? " off" : "");
      item.setAttribute("aria-pressed", String(!state.hidden.has(i)));
      const sw = document.createElement("span");
      sw.className = `swatch ${look(i)}`;
      item.append(sw, s.label);
      if (s.note) {
        const note = document.createElement("span");
        note.className = "legend-note";
        note.textContent = s.note;
        item.append(note);
      }
      item.addEventListener("click", () => {
        if (state.hidden.has(i)) state.hidden.delete(i);
        else state.hidden.add(i);
        rerender();
      });
      legend.append(item);
    });
    host.append(legend);
  }
}
