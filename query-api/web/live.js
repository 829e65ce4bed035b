// The Live tab: ticks as the processor stores them (read only while the tab shows), filtered by
// card name or id; and the alert stream (always open, for the toasts and the Alerts badge).

import { amount, cardLabel, el, getKey, KINDS, money, seriesLabel, sourceLabel, streamUrl } from "./api.js";
import { $ } from "./ui.js";

let tickSource = null;
let alertSource = null;
let paused = false;
let tickTimes = [];
const pending = [];
const lastPrice = new Map();

function setDot(on) {
  const dot = $("live-dot");
  dot.classList.toggle("on", on);
  dot.title = on ? "live stream connected" : "stream disconnected";
}

/// Opens the alert stream; `onAlert` gets each of the caller's alerts (with its card).
export function connectAlerts(onAlert) {
  alertSource?.close();
  alertSource = null;
  if (!getKey()) return;
  alertSource = new EventSource(streamUrl("/v1/stream/alerts"));
  alertSource.addEventListener("open", () => setDot(true));
  alertSource.addEventListener("error", () => setDot(false));
  alertSource.addEventListener("alert", (ev) => onAlert(JSON.parse(ev.data)));
}

export function disconnectStreams() {
  leaveLive();
  alertSource?.close();
  alertSource = null;
  setDot(false);
}

/// The filter: digits are a card id (the server filters), anything else part of a name.
function filter() {
  const f = $("live-filter").value.trim();
  return /^\d+$/.test(f) ? { id: f } : { name: f.toLowerCase() };
}

/// Opens the tick stream (the Live tab is showing).
export function showLive() {
  tickSource?.close();
  tickSource = null;
  if (!getKey()) return;
  const { id } = filter();
  tickSource = new EventSource(streamUrl("/v1/stream/ticks", { product_id: id || "" }));
  tickSource.addEventListener("tick", (ev) => {
    if (paused) return;
    pending.push(JSON.parse(ev.data));
    if (pending.length > 200) pending.splice(0, pending.length - 200);
    if (pending.length === 1) setTimeout(flush, 150);
  });
}

/// Closes the tick stream (the Live tab was left): nothing is read for a hidden table.
export function leaveLive() {
  tickSource?.close();
  tickSource = null;
}

function flush() {
  const body = $("tick-table").tBodies[0];
  const { name } = filter();
  const now = Date.now();
  for (const t of pending.splice(0)) {
    tickTimes.push(now);
    const key = `${t.series_id}|${t.source}|${t.kind}`;
    const before = lastPrice.get(key);
    const price = amount(t.price_usd);
    lastPrice.set(key, price);
    if (name && !(t.card?.name || "").toLowerCase().includes(name)) continue;
    body.querySelector("tr.empty")?.remove();
    const dir = before === undefined || before === price ? "" : price > before ? "pos" : "neg";
    const pid = t.series.product_id;
    body.prepend(el("tr", { class: "flash", dataset: { seriesId: t.series_id, productId: pid, source: t.source, kind: t.kind } },
      el("td", { "data-label": "Time" }, new Date(t.observed_at).toLocaleTimeString()),
      el("td", { "data-label": "Card" }, el("a", { href: `#/card/${pid}`, class: "card-link" }, cardLabel(t.card, pid))),
      el("td", { "data-label": "Series" }, seriesLabel(t.series)),
      el("td", { "data-label": "Source" }, `${sourceLabel(t.source)} ${KINDS[t.kind] || t.kind}`),
      el("td", { class: `num ${dir}`, "data-label": "Price" }, money(t.price_usd), dir ? (dir === "pos" ? " ▲" : " ▼") : ""),
    ));
  }
  while (body.rows.length > 200) body.deleteRow(body.rows.length - 1);
  tickTimes = tickTimes.filter((x) => now - x < 60e3);
  $("tick-rate").textContent = `${tickTimes.length} in the last minute`;
}

export function setupLive() {
  $("live-pause").addEventListener("click", () => {
    paused = !paused;
    $("live-pause").textContent = paused ? "Resume" : "Pause";
  });
  let timer = null;
  $("live-filter").addEventListener("input", () => {
    clearTimeout(timer);
    // An id filter is the server's (a new stream); a name filter applies to what arrives.
    timer = setTimeout(() => {
      if (tickSource) showLive();
    }, 400);
  });
}
