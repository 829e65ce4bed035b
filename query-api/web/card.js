// The card page: image, headline price with its 7/30/90-day change, a chart (one line by
// default; candles only where a bucket holds several prices), filters that offer only what
// exists, a condition × grade price grid, and the listings and rows that were not priced.

import { api, amount, ago, cardLabel, el, KINDS, money, SOURCES, seriesLabel, sourceLabel, when } from "./api.js";
import { drawChart } from "./chart.js";
import { addHolding } from "./portfolio.js";
import { $, segmented, select, showError } from "./ui.js";

const INTERVALS = ["1h", "1d", "1w", "1M"];
const RANGE = { "1h": 24 * 7, "1d": 120, "1w": 78, "1M": 36 };
const SPAN_MS = { "1h": 3600e3, "1d": 86400e3, "1w": 7 * 86400e3, "1M": 31 * 86400e3 };
const CONDITION_ORDER = ["Near Mint", "Lightly Played", "Moderately Played", "Heavily Played", "Damaged"];
/// The price a source is best summed up by, in order of preference.
const KIND_ORDER = ["market", "fair", "sold", "sales", "trend", "avg7", "avg30", "avg1", "avg", "retail", "lowest_listing", "listing", "mid", "low", "direct_low", "buylist", "high"];
/// Sources in the order a default is picked: TCGplayer's daily prices first (they carry the
/// history, back-filled), then its live API, then eBay.
const SOURCE_ORDER = ["tcgcsv", ...Object.keys(SOURCES).filter((s) => s !== "tcgcsv")];

const cardCache = new Map();
/// `GET /v1/cards/{id}` (kept while a view uses it).
export function cardDetail(id) {
  id = String(id);
  if (!cardCache.has(id)) {
    const p = api(`/v1/cards/${id}`).catch((e) => {
      cardCache.delete(id);
      throw e;
    });
    cardCache.set(id, p);
  }
  return cardCache.get(id);
}

/// Set names by group id (`GET /v1/sets`, read once).
export const setNames = new Map();
export async function loadSets() {
  if (setNames.size) return;
  try {
    const sets = await api("/v1/sets");
    for (const s of sets.items) setNames.set(s.group_id, s.name);
  } catch {
    /* names are a nicety */
  }
}

const prefs = { interval: "1d", mode: "lines" };

/// A history series' candles (`{start, open, high, low, close, count}`, column by column; starts
/// in Unix seconds, prices as decimal strings) as chart points.
function points(cols) {
  const num = (v) => (v === null || v === undefined ? null : Number(v));
  return cols.start.map((t, i) => ({
    t: t * 1000,
    o: num(cols.open[i]), h: num(cols.high[i]), l: num(cols.low[i]), c: num(cols.close[i]),
    count: cols.count[i],
    // no tick in the bucket, the previous close carried over
    filled: cols.count[i] === 0 && cols.close[i] !== null,
  }));
}
let state = null;

/// Every (series, price) pair of the card, flattened: what the filters choose among.
function rows(d) {
  return [...d.raw, ...d.graded].flatMap((s) => s.prices.map((p) => ({
    s,
    grade: s.series.type === "graded" ? `${s.series.grader} ${s.series.grade}` : "raw",
    printing: s.series.printing || "",
    condition: s.series.condition || "",
    language: s.series.language || "",
    source: p.source,
    kind: p.kind,
    p,
  })));
}

const FILTERS = ["grade", "printing", "condition", "language", "source", "kind"];

/// The values of `field` among the rows that match every other chosen filter.
function options(field) {
  const others = FILTERS.filter((f) => f !== field && state.pick[f]);
  const vals = state.rows.filter((r) => others.every((f) => r[f] === state.pick[f])).map((r) => r[field]);
  return [...new Set(vals.filter(Boolean))];
}

/// Drops any choice that no longer has data under the others (so a pick never shows "No prices").
function settle() {
  for (let round = 0; round < FILTERS.length; round++) {
    const stale = FILTERS.find((f) => state.pick[f] && !options(f).includes(state.pick[f]));
    if (!stale) return;
    state.pick[stale] = "";
  }
}

/// The default series: TCGplayer market, Near Mint, the printing priced most, in the card's own
/// language (the one most of its series are in).
function defaultPick(all) {
  const raw = all.filter((r) => r.grade === "raw");
  const count = (list, f) => {
    const m = new Map();
    for (const r of list) m.set(r[f], (m.get(r[f]) || 0) + 1);
    return [...m.entries()].sort((a, b) => b[1] - a[1]).map(([k]) => k);
  };
  const language = count(raw, "language")[0] || "";
  const inLang = raw.filter((r) => r.language === language);
  const nm = inLang.filter((r) => r.condition === "Near Mint");
  const base = nm.length ? nm : inLang;
  const market = base.filter((r) => r.kind === "market");
  const pool = market.length ? market : base;
  const source = SOURCE_ORDER.find((s) => pool.some((r) => r.source === s)) || pool[0]?.source || "";
  const printing = count(pool.filter((r) => r.source === source), "printing")[0] || "";
  return {
    grade: raw.length ? "raw" : "",
    printing,
    condition: nm.length ? "Near Mint" : "",
    language,
    source,
    kind: market.length ? "market" : "",
  };
}

export async function showCard(id) {
  const head = $("card-head");
  head.replaceChildren(el("p", { class: "muted" }, "Loading…"));
  for (const x of ["chart-controls", "price-chart", "price-grid"]) $(x).replaceChildren();
  let d;
  try {
    d = await cardDetail(id);
    cardCache.delete(String(id)); // fresh prices next time
  } catch (e) {
    showError(head, e);
    return;
  }
  const all = rows(d);
  state = { id, detail: d, rows: all, pick: defaultPick(all) };
  renderHead(d);
  renderHeadline();
  renderGrid();
  renderControls();
  loadChart();
  loadRejections(id);
}

function renderHead(d) {
  const c = d.card;
  const image = el("span", { class: `mono-tile big g-${c.game}` }, (c.name || "?").slice(0, 1));
  let art = image;
  if (c.image_url) {
    art = el("img", { class: "card-img big", id: "card-image", src: c.image_url, alt: c.name, referrerpolicy: "no-referrer" });
    art.addEventListener("error", () => art.replaceWith(image));
  }
  $("card-head").replaceChildren(
    art,
    el("div", { class: "grow" },
      el("h1", { id: "card-name" }, c.name),
      el("p", { class: "muted" }, [d.set?.name, c.number && `#${c.number}`, c.rarity, c.game].filter(Boolean).join(" · ")),
      el("div", { id: "card-headline", class: "headline" }),
    ),
    el("div", { class: "head-actions" },
      el("button", { type: "button", class: "primary", id: "card-add", onclick: () => addHolding(c) }, "Add to portfolio"),
      el("a", { class: "button ghost", id: "card-alert", href: `#/alerts/${c.product_id}` }, "Create alert"),
    ),
  );
}

/// The default series' latest price and its change over 7, 30 and 90 days (daily closes).
async function renderHeadline() {
  const host = $("card-headline");
  const pick = defaultPick(state.rows);
  const match = state.rows.filter((r) => r.grade === "raw" && FILTERS.slice(1).every((f) => !pick[f] || r[f] === pick[f]));
  if (!match.length) {
    host.replaceChildren(el("span", { class: "muted" }, "No price yet."));
    return;
  }
  const latest = match.slice().sort((a, b) => b.p.observed_at.localeCompare(a.p.observed_at))[0];
  const label = `${sourceLabel(latest.source)} ${KINDS[latest.kind] || latest.kind} · ${seriesLabel(latest.s.series)}`;
  host.replaceChildren(
    el("b", { class: "headline-price", id: "headline-price" }, money(latest.p.price_usd)),
    el("small", { class: "muted" }, ` ${label} · ${ago(latest.p.observed_at)}`),
    el("span", { class: "changes", id: "headline-changes" }),
  );
  try {
    const from = new Date(Date.now() - 91 * 86400e3).toISOString();
    const h = await api(`/v1/cards/${state.id}/history`, {
      query: { series: latest.s.series_id, source: latest.source, kind: latest.kind, interval: "1d", from, fill: "previous" },
    });
    const closes = h.series[0] ? points(h.series[0].candles).filter((p) => p.c).map((p) => ({ t: p.t, v: p.c })) : [];
    const now = amount(latest.p.price_usd);
    const changes = [7, 30, 90].map((days) => {
      const at = Date.now() - days * 86400e3;
      const then = closes.filter((c) => c.t <= at).pop();
      if (!then || !then.v) return el("span", { class: "pill muted", title: `not ${days} days of prices yet` }, `${days}d —`);
      const pct = Math.round(((now - then.v) / then.v) * 1000) / 10;
      return el("span", { class: `pill ${pct > 0 ? "pos" : pct < 0 ? "neg" : ""}`, dataset: { days } }, `${days}d ${pct > 0 ? "+" : ""}${pct.toFixed(1)}%`);
    });
    $("headline-changes")?.replaceChildren(...changes);
  } catch {
    /* the price alone */
  }
}

/// Conditions and grades down, sources across; each cell the latest of the source's summary price
/// for the chosen printing and language.
function renderGrid() {
  const t = $("price-grid");
  const pick = defaultPick(state.rows);
  const rowsIn = state.rows.filter((r) => r.grade !== "raw" || ((!pick.printing || r.printing === pick.printing) && (!pick.language || r.language === pick.language)));
  const sources = SOURCE_ORDER.filter((s) => rowsIn.some((r) => r.source === s));
  const grades = [...new Set(rowsIn.filter((r) => r.grade !== "raw").map((r) => r.grade))]
    .sort((a, b) => parseFloat(b.split(" ")[1]) - parseFloat(a.split(" ")[1]) || a.localeCompare(b));
  const lines = [
    ...CONDITION_ORDER.filter((c) => rowsIn.some((r) => r.grade === "raw" && r.condition === c)).map((c) => [c, (r) => r.grade === "raw" && r.condition === c]),
    ...grades.map((g) => [g, (r) => r.grade === g]),
  ];
  t.replaceChildren(el("thead", {}, el("tr", {}, el("th", {}, [pick.printing, pick.language].filter(Boolean).join(" · ") || "Series"),
    ...sources.map((s) => el("th", { class: "num" }, sourceLabel(s))))));
  const body = el("tbody");
  for (const [label, test] of lines) {
    body.append(el("tr", { dataset: { row: label } }, el("th", { scope: "row" }, label),
      ...sources.map((src) => {
        const cell = best(rowsIn.filter((r) => test(r) && r.source === src));
        return el("td", { class: "num", title: cell ? cellTitle(cell) : "" },
          cell ? money(cell.p.price_usd) : "—", cell && cell.kind !== "market" ? el("small", { class: "muted" }, ` ${KINDS[cell.kind] || cell.kind}`) : null);
      })));
  }
  if (!lines.length) body.append(el("tr", {}, el("td", { class: "muted" }, "No prices yet.")));
  t.append(body);
}

/// A grid cell's details: the kind and time, a fair value's confidence and agreeing sources, the
/// source's other prices (a shop's buylist with its share of market).
function cellTitle(cell) {
  const p = cell.p;
  const parts = [`${KINDS[cell.kind] || cell.kind} · ${when(p.observed_at)}`];
  if (cell.kind === "fair" && p.confidence != null) parts.push(`confidence ${p.confidence}/100`);
  if (p.agreeing?.length) parts.push(`agreeing: ${p.agreeing.map(sourceLabel).join(", ")}`);
  if (p.spread) parts.push(`buylist ${money(p.price_usd)} = ${Number(p.spread.share_percent).toFixed(0)}% of market ${money(p.spread.market_usd)}`);
  return parts.join("\n");
}

function best(list) {
  return list.slice().sort((a, b) => KIND_ORDER.indexOf(a.kind) - KIND_ORDER.indexOf(b.kind) || b.p.observed_at.localeCompare(a.p.observed_at))[0];
}

function renderControls() {
  settle();
  const pick = state.pick;
  const redraw = () => {
    renderControls();
    loadChart();
  };
  const choose = (field, id, label, any, text = (v) => v) => {
    const opts = options(field);
    return select(id, [["", any], ...opts.map((v) => [v, text(v)])], pick[field], (v) => {
      pick[field] = v;
      redraw();
    }, label);
  };
  const graded = pick.grade && pick.grade !== "raw";
  $("chart-controls").replaceChildren(
    el("div", { class: "controls-row" },
      choose("grade", "pick-grade", "Grade", "Raw or graded", (v) => (v === "raw" ? "Raw (ungraded)" : v)),
      graded ? null : choose("printing", "pick-printing", "Printing", "Any printing"),
      graded ? null : choose("condition", "pick-condition", "Condition", "Any condition"),
      graded ? null : choose("language", "pick-language", "Language", "Any language"),
      choose("source", "pick-source", "Source", "All sources", sourceLabel),
      choose("kind", "pick-kind", "Price", "All kinds", (k) => KINDS[k] || k),
    ),
    el("div", { class: "controls-row end" },
      segmented(INTERVALS.map((i) => [i, i]), prefs.interval, (v) => { prefs.interval = v; redraw(); }, "Interval"),
      el("span", { id: "mode-host" }),
    ),
  );
}

let chartToken = 0;
async function loadChart() {
  const pick = state.pick;
  const host = $("price-chart");
  const token = ++chartToken;
  host.classList.add("loading");
  const [grader, ...gradeWords] = pick.grade && pick.grade !== "raw" ? pick.grade.split(" ") : [];
  const grade = gradeWords.join(" ") || undefined;
  const raw = pick.grade === "raw";
  const query = {
    interval: prefs.interval,
    from: new Date(Date.now() - RANGE[prefs.interval] * SPAN_MS[prefs.interval]).toISOString(),
    source: pick.source,
    kind: pick.kind,
    graded: pick.grade ? String(!raw) : "",
    grader,
    grade,
    printing: raw ? pick.printing : "",
    condition: raw ? pick.condition : "",
    language: raw ? pick.language : "",
    fill: "empty",
  };
  let h;
  try {
    h = await api(`/v1/cards/${state.id}/history`, { query });
  } catch (e) {
    if (token === chartToken) showError(host, e);
    host.classList.remove("loading");
    return;
  }
  if (token !== chartToken) return;
  host.classList.remove("loading");
  const bySeries = new Map([...state.detail.raw, ...state.detail.graded].map((x) => [x.series_id, x.series]));
  const multiSeries = new Set(h.series.map((x) => x.series_id)).size > 1;
  const shown = h.series.map((x) => ({ ...x, points: points(x.candles) })).filter((x) => x.points.some((p) => p.c));
  // Candles only mean something where a bucket holds several prices.
  const several = shown.some((x) => x.points.some((p) => p.count > 1));
  const mode = several ? prefs.mode : "lines";
  $("mode-host")?.replaceChildren(several
    ? segmented([["lines", "Line"], ["candles", "Candles"]], prefs.mode, (v) => { prefs.mode = v; loadChart(); }, "Chart type")
    : el("small", { class: "muted", title: "each bucket holds one price: candles would be flat dashes" }, "one price per bucket"));
  const series = shown.map((x) => ({
    label: `${sourceLabel(x.source)} ${KINDS[x.kind] || x.kind}`,
    note: multiSeries ? seriesLabel(bySeries.get(x.series_id)) || x.series_id : "",
    // Buckets before a series' first price are empty: start the chart where the data starts.
    points: x.points.slice(Math.max(0, x.points.findIndex((p) => p.c))),
  }));
  drawChart(host, { series, mode, interval: prefs.interval, emptyText: "No prices for these filters in this range" });
  host.dataset.title = cardLabel(state.detail.card, state.id);
}

/// The card's recent rejected listings and rows (`GET /v1/cards/{id}/rejections`).
async function loadRejections(id) {
  const t = $("rejections-table");
  t.replaceChildren();
  let r;
  try {
    r = await api(`/v1/cards/${id}/rejections`, { query: { limit: 20 } });
  } catch (e) {
    t.append(el("tbody", {}, el("tr", {}, el("td", { class: "error" }, e.message))));
    return;
  }
  t.append(el("thead", {}, el("tr", {},
    el("th", {}, "Listing or row"), el("th", {}, "Source"), el("th", {}, "Reason"),
    el("th", { class: "num" }, "Price"), el("th", {}, "When"))));
  const body = el("tbody");
  for (const x of r.items) {
    const what = x.title || [x.printing, x.group_id && `set ${x.group_id}`].filter(Boolean).join(" · ") || "—";
    body.append(el("tr", {},
      el("td", { "data-label": "Listing" }, what, x.detail ? el("small", { class: "muted block" }, x.detail) : null),
      el("td", { "data-label": "Source" }, sourceLabel(x.source)),
      el("td", { "data-label": "Reason" }, x.reason.replace(/_/g, " "),
        x.confidence !== undefined && x.confidence !== null ? el("small", { class: "muted" }, ` (${x.confidence}% match)`) : null),
      el("td", { class: "num", "data-label": "Price" }, x.price ? money(x.price) : "—"),
      el("td", { title: when(x.at), "data-label": "When" }, ago(x.at)),
    ));
  }
  if (!body.children.length) {
    const text = r.monitored ? "Nothing refused recently." : "Rejections are kept by the collectors and processors of this installation, not by this API process.";
    body.append(el("tr", {}, el("td", { colspan: 5, class: "muted" }, text)));
  }
  t.append(body);
}
