// tcgtracker's built-in page: card search, price charts, portfolio, alert rules, live feed.
// Plain ES modules, no build step; everything is drawn here (no CDN, works offline).

import {
  api, ApiError, amount, ago, el, getKey, money, onUnauthorized, seriesLabel, setKey,
  signedMoney, sourceLabel, streamUrl, takeKeyFromUrl, when, KINDS, SOURCES,
} from "./api.js";
import { drawChart } from "./chart.js";

const $ = (id) => document.getElementById(id);
const INTERVALS = ["1h", "1d", "1w", "1M"];
/// Buckets shown per interval (the API allows 5000; these keep charts readable).
const RANGE = { "1h": 24 * 7, "1d": 120, "1w": 78, "1M": 36 };
const SPAN_MS = { "1h": 3600e3, "1d": 86400e3, "1w": 7 * 86400e3, "1M": 31 * 86400e3 };

// ---- toasts and small helpers ---------------------------------------------------------------

function toast(text, kind = "info") {
  const t = el("div", { class: `toast ${kind}`, role: kind === "error" ? "alert" : "status" }, text);
  $("toasts").append(t);
  setTimeout(() => t.classList.add("out"), 5200);
  setTimeout(() => t.remove(), 5800);
}

function showError(host, err) {
  host.replaceChildren(el("p", { class: "error" }, err instanceof ApiError ? err.message : String(err)));
}

function fromRange(interval) {
  return new Date(Date.now() - RANGE[interval] * SPAN_MS[interval]).toISOString();
}

function segmented(options, current, onPick, label) {
  const box = el("div", { class: "segmented", role: "group", "aria-label": label });
  for (const [value, text] of options) {
    box.append(
      el("button", {
        type: "button",
        class: value === current ? "on" : "",
        "aria-pressed": String(value === current),
        dataset: { value },
        onclick: () => onPick(value),
      }, text),
    );
  }
  return box;
}

function select(id, options, current, onChange, label) {
  const s = el("select", { id, "aria-label": label, onchange: (e) => onChange(e.target.value) });
  for (const [value, text] of options) s.append(el("option", { value }, text));
  s.value = current;
  return el("label", { class: "field" }, el("span", {}, label), s);
}

const pnlClass = (v) => (v > 0 ? "pos" : v < 0 ? "neg" : "");

// ---- card names (cached; ticks and alerts carry only ids) -------------------------------------

const cardCache = new Map();
function cardDetail(id) {
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
const nameQueue = [];
let nameBusy = false;
/// A span that fills in with the card's name when known (fetched one at a time).
function cardName(id) {
  const span = el("a", { href: `#/card/${id}`, class: "card-link" }, `#${id}`);
  nameQueue.push([id, span]);
  pumpNames();
  return span;
}
async function pumpNames() {
  if (nameBusy) return;
  nameBusy = true;
  while (nameQueue.length) {
    const [id, span] = nameQueue.shift();
    try {
      const d = await cardDetail(id);
      span.textContent = d.card.name;
    } catch {
      /* keep the id */
    }
  }
  nameBusy = false;
}

// ---- router -----------------------------------------------------------------------------------

const views = {};
let current = null;

function route() {
  if (takeKeyFromUrl()) toast("API key saved from the link", "ok");
  const hash = location.hash.replace(/^#\/?/, "") || "cards";
  const [name, arg] = hash.split("/");
  const view = views[name] ? name : "cards";
  document.querySelectorAll(".view").forEach((v) => (v.hidden = v.dataset.view !== view));
  document.querySelectorAll(".tabs a").forEach((a) =>
    a.classList.toggle("on", a.dataset.tab === view || (view === "card" && a.dataset.tab === "cards")),
  );
  current = view;
  if (!getKey()) {
    askKey();
    return;
  }
  views[view](arg ? decodeURIComponent(arg) : undefined);
}

// ---- API key ----------------------------------------------------------------------------------

function askKey(message) {
  const d = $("key-dialog");
  $("key-input").value = getKey();
  $("key-error").hidden = !message;
  $("key-error").textContent = message || "";
  if (!d.open) d.showModal();
}

function setupKeyDialog() {
  $("key-button").addEventListener("click", () => askKey());
  $("key-form").addEventListener("submit", async (e) => {
    e.preventDefault();
    const key = $("key-input").value.trim();
    if (!key) return;
    setKey(key);
    try {
      await api("/v1/portfolios");
    } catch (err) {
      askKey(err.status === 401 ? "This key is not valid." : err.message);
      return;
    }
    $("key-dialog").close();
    toast("Key saved", "ok");
    connectStreams();
    route();
  });
  $("key-forget").addEventListener("click", () => {
    setKey("");
    $("key-input").value = "";
    disconnectStreams();
    askKey("Key forgotten. Paste a key to continue.");
  });
  let asked = false;
  onUnauthorized(() => {
    if (!asked) {
      asked = true;
      askKey("The server refused this key (401).");
      setTimeout(() => (asked = false), 3000);
    }
  });
}

// ---- Cards: search and movers -------------------------------------------------------------------

let searchCursor = null;
let searchQuery = {};

function cardTile(c, setName) {
  return el("a", { class: "card-tile", href: `#/card/${c.product_id}`, dataset: { productId: c.product_id } },
    el("span", { class: `mono-tile g-${c.game}` }, (c.name || "?").slice(0, 1)),
    el("span", { class: "tile-text" },
      el("b", {}, c.name),
      el("small", {}, [setName, c.number && `#${c.number}`, c.rarity].filter(Boolean).join(" · ") || c.game),
    ),
  );
}

async function runSearch(more = false) {
  const host = $("search-results");
  if (!more) {
    searchCursor = null;
    host.replaceChildren(el("p", { class: "muted" }, "Searching…"));
  }
  try {
    const page = await api("/v1/cards", { query: { ...searchQuery, limit: 30, cursor: more ? searchCursor : undefined } });
    if (!more) host.replaceChildren();
    for (const c of page.items) host.append(cardTile(c, setNames.get(c.group_id)));
    if (!host.children.length) host.append(el("p", { class: "muted" }, "No cards match."));
    searchCursor = page.next_cursor || null;
    $("search-more").hidden = !searchCursor;
    $("search-count").textContent = `${host.querySelectorAll(".card-tile").length}${searchCursor ? "+" : ""}`;
  } catch (e) {
    showError(host, e);
  }
}

const setNames = new Map();
async function loadSets() {
  if (setNames.size) return;
  try {
    const sets = await api("/v1/sets");
    for (const s of sets.items) setNames.set(s.group_id, s.name);
  } catch {
    /* names are a nicety */
  }
}

async function loadMovers() {
  const host = $("movers");
  try {
    const m = await api("/v1/movers", { query: { window: "7d", limit: 6 } });
    host.replaceChildren();
    const block = (title, list) => {
      if (!list.length) return;
      host.append(el("h3", { class: "sub-title" }, title));
      for (const mv of list) {
        const pct = mv.change_bps / 100;
        host.append(el("a", { class: "mover", href: `#/card/${mv.product_id}` },
          el("span", { class: "mover-name" }, mv.name || `#${mv.product_id}`,
            el("small", {}, `${seriesIdLabel(mv.series_id)} · ${sourceLabel(mv.source)} ${KINDS[mv.kind] || mv.kind}`)),
          el("span", { class: "num" }, money(mv.end_usd)),
          el("span", { class: `num pill ${pnlClass(pct)}` }, `${pct > 0 ? "+" : ""}${pct.toFixed(1)}%`),
        ));
      }
    };
    block("Gainers", m.gainers);
    block("Losers", m.losers);
    if (!host.children.length) host.append(el("p", { class: "muted" }, "No moves yet: prices need a few days of history."));
  } catch (e) {
    showError(host, e);
  }
}

/// `42382/holofoil/nm/en` → "Holofoil NM EN"; `42382/psa/10` → "PSA 10".
function seriesIdLabel(id) {
  const parts = String(id).split("/").slice(1);
  if (parts.length === 2) return parts.join(" ").toUpperCase();
  return parts
    .map((p, i) => (i === 0 ? p.replace(/-/g, " ").replace(/\b\w/g, (c) => c.toUpperCase()) : p.toUpperCase()))
    .join(" ");
}

const STATUS_TEXT = { starting: "starting", ok: "ok", degraded: "degraded", down: "down" };

/// Each source's health after its last pass (`GET /v1/sources`): what failed, and what that cost.
async function loadSources() {
  const host = $("sources");
  try {
    const s = await api("/v1/sources");
    host.replaceChildren();
    if (!s.monitored) {
      host.append(el("li", { class: "muted" }, "The collectors run in other processes: see their /metrics (tcg_source_up)."));
      return;
    }
    for (const h of s.items) {
      const why = h.last_error && h.status !== "ok" ? `${h.last_error.during}: ${h.last_error.message}` : "";
      const seen = h.last_pass_at ? `last pass ${ago(h.last_pass_at)}, ${h.quotes_last_pass} quotes` : "no pass yet";
      host.append(el("li", { class: `source s-${h.status}`, dataset: { source: h.source, status: h.status } },
        el("span", { class: "dot", "aria-hidden": "true" }),
        el("b", {}, sourceLabel(h.source)),
        el("span", { class: "pill" }, STATUS_TEXT[h.status] || h.status),
        el("small", { class: "muted" }, seen),
        why ? el("small", { class: "why" }, why) : null,
      ));
    }
    if (!s.items.length) host.append(el("li", { class: "muted" }, "No source is running."));
  } catch (e) {
    showError(host, e);
  }
}

let cardsLoaded = false;
let sourcesTimer = null;
views.cards = async () => {
  loadSources();
  // Kept current while the cards view shows (a source's first pass may take a while).
  clearInterval(sourcesTimer);
  sourcesTimer = setInterval(() => (current === "cards" ? loadSources() : clearInterval(sourcesTimer)), 10000);
  if (cardsLoaded) return;
  cardsLoaded = true;
  await loadSets();
  runSearch();
  loadMovers();
};

function setupSearch() {
  $("search-form").addEventListener("submit", (e) => {
    e.preventDefault();
    searchQuery = { q: $("search-q").value.trim(), number: $("search-number").value.trim() };
    runSearch();
  });
  $("search-more").addEventListener("click", () => runSearch(true));
}

// ---- Card view: chart ---------------------------------------------------------------------------

const chartPrefs = { interval: "1d", mode: "candles", kind: "market", source: "" };
let cardState = null;

function distinct(list) {
  return [...new Set(list.filter((x) => x !== undefined && x !== null))];
}

views.card = async (id) => {
  const head = $("card-head");
  head.replaceChildren(el("p", { class: "muted" }, "Loading…"));
  $("chart-controls").replaceChildren();
  $("price-chart").replaceChildren();
  let d;
  try {
    d = await cardDetail(id);
    cardCache.delete(String(id)); // fresh prices next time
  } catch (e) {
    showError(head, e);
    return;
  }
  const c = d.card;
  head.replaceChildren(
    el("span", { class: `mono-tile big g-${c.game}` }, (c.name || "?").slice(0, 1)),
    el("div", {},
      el("h1", { id: "card-name" }, c.name),
      el("p", { class: "muted" }, [d.set?.name, c.number && `#${c.number}`, c.rarity, c.game].filter(Boolean).join(" · ")),
    ),
    el("div", { class: "head-actions" },
      el("a", { class: "button", href: `#/alerts/${c.product_id}` }, "Create alert"),
    ),
  );
  const all = [...d.raw, ...d.graded];
  const priced = all.filter((s) => s.prices.length);
  // Default: the raw printing with the most prices, Near Mint when it exists.
  const rawPriced = d.raw.filter((s) => s.prices.length);
  const best = (rawPriced.length ? rawPriced : priced).slice().sort((a, b) => b.prices.length - a.prices.length)[0];
  cardState = {
    id,
    detail: d,
    grade: best?.series.type === "graded" ? `${best.series.grader}|${best.series.grade}` : "raw",
    printing: best?.series.printing || "",
    condition: d.raw.some((s) => s.series.condition === "Near Mint" && s.prices.length) ? "Near Mint" : best?.series.condition || "",
    language: "",
  };
  renderLatest(d);
  renderChartControls();
  loadChart();
  loadRejections(id);
};

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
      el("td", {}, what, x.detail ? el("small", { class: "muted block" }, x.detail) : null),
      el("td", {}, sourceLabel(x.source)),
      el("td", {}, x.reason.replace(/_/g, " "),
        x.confidence !== undefined && x.confidence !== null ? el("small", { class: "muted" }, ` (${x.confidence}% match)`) : null),
      el("td", { class: "num" }, x.price ? money(x.price) : "—"),
      el("td", { title: when(x.at) }, ago(x.at)),
    ));
  }
  if (!body.children.length) {
    const text = r.monitored ? "Nothing refused recently." : "Rejections are kept by the collectors and processors of this installation, not by this API process.";
    body.append(el("tr", {}, el("td", { colspan: 5, class: "muted" }, text)));
  }
  t.append(body);
}

function renderLatest(d) {
  const t = $("latest-table");
  t.replaceChildren(el("thead", {}, el("tr", {},
    el("th", {}, "Series"), el("th", {}, "Source"), el("th", {}, "Kind"),
    el("th", { class: "num" }, "Price"), el("th", {}, "Seen"))));
  const body = el("tbody");
  for (const s of [...d.raw, ...d.graded]) {
    for (const p of s.prices) {
      body.append(el("tr", {},
        el("td", {}, seriesLabel(s.series)),
        el("td", {}, sourceLabel(p.source)),
        el("td", {}, KINDS[p.kind] || p.kind),
        el("td", { class: "num" }, money(p.price_usd),
          p.original.currency !== "USD" ? el("small", { class: "muted" }, ` (${money(p.original)})`) : null),
        el("td", { title: when(p.observed_at) }, ago(p.observed_at)),
      ));
    }
  }
  if (!body.children.length) body.append(el("tr", {}, el("td", { colspan: 5, class: "muted" }, "No prices yet.")));
  t.append(body);
}

function renderChartControls() {
  const s = cardState;
  const d = s.detail;
  const graded = s.grade !== "raw";
  const grades = [["raw", "Raw (ungraded)"], ...distinct(d.graded.map((g) => `${g.series.grader}|${g.series.grade}`))
    .map((g) => [g, g.replace("|", " ")])];
  const printings = distinct(d.raw.map((r) => r.series.printing));
  const conditions = distinct(d.raw.map((r) => r.series.condition));
  const sources = distinct(all(d).flatMap((x) => x.prices.map((p) => p.source)));
  const kinds = distinct(all(d).flatMap((x) => x.prices.map((p) => p.kind)));
  const redraw = () => {
    renderChartControls();
    loadChart();
  };
  $("chart-controls").replaceChildren(
    el("div", { class: "controls-row" },
      select("pick-grade", grades, s.grade, (v) => { s.grade = v; redraw(); }, "Grade"),
      graded ? null : select("pick-printing", [["", "Any printing"], ...printings.map((p) => [p, p])], s.printing, (v) => { s.printing = v; redraw(); }, "Printing"),
      graded ? null : select("pick-condition", [["", "Any condition"], ...conditions.map((p) => [p, p])], s.condition, (v) => { s.condition = v; redraw(); }, "Condition"),
      select("pick-source", [["", "All sources"], ...distinct([...Object.keys(SOURCES).filter((k) => sources.includes(k)), ...sources]).map((k) => [k, sourceLabel(k)])],
        chartPrefs.source, (v) => { chartPrefs.source = v; redraw(); }, "Source"),
      select("pick-kind", [["", "All kinds"], ...distinct(["market", ...kinds]).map((k) => [k, KINDS[k] || k])],
        chartPrefs.kind, (v) => { chartPrefs.kind = v; redraw(); }, "Price"),
    ),
    el("div", { class: "controls-row end" },
      segmented(INTERVALS.map((i) => [i, i]), chartPrefs.interval, (v) => { chartPrefs.interval = v; redraw(); }, "Interval"),
      segmented([["candles", "Candles"], ["lines", "Lines"]], chartPrefs.mode, (v) => { chartPrefs.mode = v; redraw(); }, "Chart type"),
    ),
  );
}

function all(d) {
  return [...d.raw, ...d.graded];
}

let chartToken = 0;
async function loadChart() {
  const s = cardState;
  const host = $("price-chart");
  const token = ++chartToken;
  host.classList.add("loading");
  const [grader, grade] = s.grade === "raw" ? [] : s.grade.split("|");
  const query = {
    interval: chartPrefs.interval,
    from: fromRange(chartPrefs.interval),
    source: chartPrefs.source,
    kind: chartPrefs.kind,
    graded: s.grade === "raw" ? "false" : "true",
    grader,
    grade,
    printing: s.grade === "raw" ? s.printing : "",
    condition: s.grade === "raw" ? s.condition : "",
    fill: "empty",
  };
  let h;
  try {
    h = await api(`/v1/cards/${s.id}/history`, { query });
  } catch (e) {
    if (token === chartToken) showError(host, e);
    host.classList.remove("loading");
    return;
  }
  if (token !== chartToken) return;
  host.classList.remove("loading");
  const bySeries = new Map(all(s.detail).map((x) => [x.series_id, x.series]));
  const multiSeries = new Set(h.series.map((x) => x.series_id)).size > 1;
  const series = h.series
    .filter((x) => x.candles.some((c) => c.close))
    .map((x) => ({
      label: `${sourceLabel(x.source)} ${KINDS[x.kind] || x.kind}`,
      note: multiSeries ? seriesLabel(bySeries.get(x.series_id)) || x.series_id : "",
      // Buckets before a series' first price are empty: start the chart where the data starts.
      points: x.candles.slice(Math.max(0, x.candles.findIndex((c) => c.close))).map((c) => ({
        t: new Date(c.start).getTime(),
        o: amount(c.open), h: amount(c.high), l: amount(c.low), c: amount(c.close),
        filled: c.filled,
      })),
    }));
  drawChart(host, {
    series,
    mode: chartPrefs.mode,
    interval: chartPrefs.interval,
    emptyText: "No prices for these filters in this range",
  });
}

// ---- Portfolio ----------------------------------------------------------------------------------

const portfolioPrefs = { id: "", interval: "1d" };

views.portfolio = async () => {
  const stats = $("portfolio-stats");
  let list;
  try {
    list = await api("/v1/portfolios");
  } catch (e) {
    showError(stats, e);
    return;
  }
  const sel = $("portfolio-select");
  sel.replaceChildren(...list.items.map((p) => el("option", { value: p.id }, p.name)));
  sel.hidden = list.items.length < 2;
  const title = document.querySelector("#view-portfolio .section-title");
  title.replaceChildren("Portfolio", list.items.length === 1 ? el("small", {}, list.items[0].name) : "");
  if (!list.items.length) {
    stats.replaceChildren(el("div", { class: "panel empty" },
      el("p", {}, "No portfolio yet."),
      el("button", { type: "button", onclick: createPortfolio }, "Create a portfolio")));
    $("portfolio-chart").replaceChildren();
    $("holdings-table").replaceChildren();
    return;
  }
  if (!list.items.some((p) => p.id === portfolioPrefs.id)) portfolioPrefs.id = list.items[0].id;
  sel.value = portfolioPrefs.id;
  sel.onchange = () => {
    portfolioPrefs.id = sel.value;
    loadPortfolio();
  };
  loadPortfolio();
};

async function createPortfolio() {
  try {
    await api("/v1/portfolios", { method: "POST", body: { name: "My collection" } });
    views.portfolio();
  } catch (e) {
    toast(e.message, "error");
  }
}

async function loadPortfolio() {
  const id = portfolioPrefs.id;
  const stats = $("portfolio-stats");
  let v, holdings;
  try {
    [v, holdings] = await Promise.all([
      api(`/v1/portfolios/${id}/valuation`),
      api(`/v1/portfolios/${id}/holdings`),
    ]);
  } catch (e) {
    showError(stats, e);
    return;
  }
  const value = amount(v.market_value_usd);
  const cost = amount(v.cost_basis_usd);
  const unreal = amount(v.unrealized_pnl_usd);
  const real = amount(v.realized_pnl_usd);
  const pct = cost ? (unreal / cost) * 100 : 0;
  const stat = (label, text, cls = "", sub = "") =>
    el("div", { class: "stat" }, el("span", {}, label), el("b", { class: cls }, text), sub ? el("small", { class: cls }, sub) : null);
  stats.replaceChildren(
    stat("Market value", money(value)),
    stat("Cost basis", money(cost)),
    stat("Unrealized P&L", signedMoney(unreal), pnlClass(unreal), cost ? `${pct > 0 ? "+" : ""}${pct.toFixed(1)}%` : ""),
    stat("Realized P&L", signedMoney(real), pnlClass(real)),
  );
  stats.dataset.value = String(value);
  renderPortfolioControls();
  loadPortfolioChart();
  renderHoldings(v, holdings.items);
}

function renderPortfolioControls() {
  $("portfolio-controls").replaceChildren(
    el("div", { class: "controls-row" }, el("span", { class: "muted" }, "Value over time")),
    el("div", { class: "controls-row end" },
      segmented(INTERVALS.map((i) => [i, i]), portfolioPrefs.interval, (v) => {
        portfolioPrefs.interval = v;
        renderPortfolioControls();
        loadPortfolioChart();
      }, "Interval"),
    ),
  );
}

async function loadPortfolioChart() {
  const host = $("portfolio-chart");
  const interval = portfolioPrefs.interval;
  try {
    const h = await api(`/v1/portfolios/${portfolioPrefs.id}/history`, { query: { interval, from: fromRange(interval) } });
    // Start where the holdings first have a price, not with months of zero value before it.
    const first = Math.max(0, h.points.findIndex((p) => amount(p.market_value_usd) > 0));
    const pts = (f) => h.points.slice(first).map((p) => ({ t: new Date(p.start).getTime(), c: amount(p[f]) }));
    drawChart(host, {
      series: [
        { label: "Market value", points: pts("market_value_usd") },
        { label: "Cost basis", points: pts("cost_basis_usd") },
        { label: "Realized P&L", points: pts("realized_pnl_usd") },
      ],
      mode: "lines",
      interval,
      emptyText: "No valuation yet",
    });
  } catch (e) {
    showError(host, e);
  }
}

function renderHoldings(v, holdings) {
  const byId = new Map(v.holdings.map((h) => [h.holding_id, h]));
  const t = $("holdings-table");
  t.replaceChildren(el("thead", {}, el("tr", {},
    el("th", {}, "Card"), el("th", {}, "Variant"), el("th", { class: "num" }, "Qty"),
    el("th", { class: "num" }, "Cost / unit"), el("th", { class: "num" }, "Price"),
    el("th", { class: "num" }, "Value"), el("th", { class: "num" }, "P&L"))));
  const body = el("tbody");
  for (const h of holdings) {
    const hv = byId.get(h.id);
    const pnl = hv ? amount(hv.unrealized_pnl_usd) : null;
    const basis = hv ? amount(hv.cost_basis_usd) : 0;
    const variant = h.grading ? `${h.grading.grader} ${h.grading.grade}` : [h.printing, h.condition, h.language].join(" · ");
    body.append(el("tr", { dataset: { holdingId: h.id } },
      el("td", {}, cardName(h.product_id)),
      el("td", {}, variant),
      el("td", { class: "num" }, h.quantity),
      el("td", { class: "num" }, money(h.cost_per_unit)),
      el("td", { class: "num", title: hv?.priced_at ? `priced ${when(hv.priced_at)}` : "no price yet" }, hv?.unit_price_usd ? money(hv.unit_price_usd) : "—"),
      el("td", { class: "num" }, hv ? money(hv.market_value_usd) : "—"),
      el("td", { class: `num ${pnlClass(pnl)}` }, pnl === null ? "—" : signedMoney(pnl),
        pnl !== null && basis ? el("small", {}, ` ${((pnl / basis) * 100).toFixed(1)}%`) : null),
    ));
  }
  if (!holdings.length) body.append(el("tr", {}, el("td", { colspan: 7, class: "muted" }, "No holdings. Import a CSV through the API (POST /v1/portfolios/{id}/import).")));
  t.append(body);
}

// ---- Alerts: rules and fired alerts ------------------------------------------------------------

const RULE_TYPES = [
  ["price_above", "Price above"],
  ["price_below", "Price below"],
  ["percent_change", "Percent change"],
  ["new_low", "New low"],
  ["new_high", "New high"],
  ["deal", "Deal (listing under market)"],
];

const ruleForm = { product: null, type: "price_above" };

function describeCondition(c) {
  switch (c.type) {
    case "price_above": return `price above ${money(c.threshold_usd)}`;
    case "price_below": return `price below ${money(c.threshold_usd)}`;
    case "percent_change": return `moves ${c.direction === "either" ? "±" : c.direction === "up" ? "up" : "down"} ${c.percent}% within ${Math.round(c.window_secs / 3600)}h`;
    case "new_low": return `new ${c.days}-day low`;
    case "new_high": return `new ${c.days}-day high`;
    case "deal": return `listing ${c.percent}% under market`;
    default: return c.type;
  }
}

function describeFilter(f) {
  return [f.source && sourceLabel(f.source), f.kind && KINDS[f.kind], f.printing, f.condition, f.language,
    f.graded === true ? "graded" : f.graded === false ? "raw" : null, f.grader, f.grade].filter(Boolean).join(" · ");
}

function renderRuleForm() {
  const f = $("rule-form");
  const t = ruleForm.type;
  const num = (id, label, attrs = {}) =>
    el("label", { class: "field" }, el("span", {}, label), el("input", { id, name: id, type: "number", required: true, ...attrs }));
  const picker = el("div", { class: "picker" },
    el("input", { id: "rule-card", type: "search", placeholder: "Search a card…", autocomplete: "off", "aria-label": "Card",
      value: ruleForm.product ? ruleForm.product.name : "" }),
    el("ul", { id: "rule-card-results", class: "picker-results", hidden: true }),
  );
  const fields = [];
  if (t === "price_above" || t === "price_below") fields.push(num("rule-threshold", "Threshold (USD)", { min: "0.01", step: "0.01", placeholder: "100.00" }));
  if (t === "percent_change") {
    fields.push(num("rule-percent", "Percent", { min: "0.1", step: "0.1", value: "10" }));
    fields.push(num("rule-window", "Within (hours)", { min: "1", step: "1", value: "24" }));
    fields.push(select("rule-direction", [["either", "Up or down"], ["up", "Up"], ["down", "Down"]], "either", () => {}, "Direction"));
  }
  if (t === "new_low" || t === "new_high") fields.push(num("rule-days", "Days", { min: "1", max: "365", step: "1", value: "30" }));
  if (t === "deal") fields.push(num("rule-percent", "At least % under market", { min: "1", step: "1", value: "20" }));
  f.replaceChildren(
    el("label", { class: "field wide" }, el("span", {}, "Card"), picker,
      ruleForm.product ? el("small", { class: "muted", id: "rule-card-chosen" }, `#${ruleForm.product.product_id} · ${ruleForm.product.name}`) : null),
    el("div", { class: "form-row" },
      select("rule-type", RULE_TYPES, t, (v) => { ruleForm.type = v; renderRuleForm(); }, "When"),
      ...fields),
    el("div", { class: "form-row" },
      select("rule-source", [["", "Any source"], ...Object.entries(SOURCES)], "", () => {}, "Source"),
      select("rule-kind", [["", "Market, listings, sales"], ...Object.entries(KINDS)], "", () => {}, "Price"),
      select("rule-graded", [["", "Raw or graded"], ["false", "Raw only"], ["true", "Graded only"]], "", () => {}, "Grading"),
    ),
    el("div", { class: "form-row" },
      el("label", { class: "field grow" }, el("span", {}, "Name"), el("input", { id: "rule-name", type: "text", maxlength: "200", placeholder: "optional" })),
      // The API takes 60 s to 90 days (MIN_COOLDOWN_SECS); whole minutes here.
      num("rule-cooldown", "Cooldown (min)", { min: "1", max: "129600", step: "1", value: "60", required: false }),
      el("button", { type: "submit", id: "rule-create" }, "Create rule"),
    ),
    el("p", { class: "error", id: "rule-error", hidden: true }),
  );
  wirePicker();
}

function wirePicker() {
  const input = $("rule-card");
  const list = $("rule-card-results");
  let timer = null;
  let token = 0;
  input.addEventListener("input", () => {
    clearTimeout(timer);
    ruleForm.product = null;
    const q = input.value.trim();
    if (!q) {
      list.hidden = true;
      return;
    }
    timer = setTimeout(async () => {
      const my = ++token;
      try {
        const page = /^\d+$/.test(q)
          ? { items: [(await cardDetail(q)).card] }
          : await api("/v1/cards", { query: { q, limit: 8 } });
        if (my !== token) return;
        list.replaceChildren(...page.items.map((c) =>
          el("li", {}, el("button", { type: "button", class: "pick", dataset: { productId: c.product_id },
            onclick: () => {
              ruleForm.product = c;
              list.hidden = true;
              input.value = c.name;
              const chosen = $("rule-card-chosen");
              const text = `#${c.product_id} · ${c.name}`;
              if (chosen) chosen.textContent = text;
              else input.closest(".field").append(el("small", { class: "muted", id: "rule-card-chosen" }, text));
            } }, c.name, el("small", {}, [setNames.get(c.group_id), c.number && `#${c.number}`].filter(Boolean).join(" · "))))));
        if (!page.items.length) list.replaceChildren(el("li", { class: "muted" }, "No match"));
        list.hidden = false;
      } catch (e) {
        list.replaceChildren(el("li", { class: "error" }, e.message));
        list.hidden = false;
      }
    }, 200);
  });
}

async function submitRule(e) {
  e.preventDefault();
  const err = $("rule-error");
  err.hidden = true;
  const p = ruleForm.product;
  if (!p) {
    err.textContent = "Pick a card from the search results.";
    err.hidden = false;
    return;
  }
  const v = (id) => ($(id) ? $(id).value.trim() : "");
  const t = ruleForm.type;
  let condition;
  if (t === "price_above" || t === "price_below") {
    const n = Number(v("rule-threshold"));
    condition = { type: t, threshold_usd: { amount: n.toFixed(2), currency: "USD" } };
  } else if (t === "percent_change") {
    condition = { type: t, percent: v("rule-percent"), window_secs: Math.round(Number(v("rule-window")) * 3600), direction: v("rule-direction") };
  } else if (t === "new_low" || t === "new_high") {
    condition = { type: t, days: Number(v("rule-days")) };
  } else {
    condition = { type: t, percent: v("rule-percent") };
  }
  const filter = {};
  if (v("rule-source")) filter.source = v("rule-source");
  if (v("rule-kind")) filter.kind = v("rule-kind");
  if (v("rule-graded")) filter.graded = v("rule-graded") === "true";
  const body = {
    name: v("rule-name") || `${p.name}: ${describeCondition(condition)}`.slice(0, 200),
    product_id: p.product_id,
    filter,
    condition,
  };
  if (v("rule-cooldown") !== "") body.cooldown_secs = Math.round(Number(v("rule-cooldown")) * 60);
  const button = $("rule-create");
  button.disabled = true;
  try {
    const rule = await api("/v1/alert-rules", { method: "POST", body });
    toast(`Rule “${rule.name}” created`, "ok");
    $("rule-name").value = "";
    loadRules();
  } catch (e2) {
    err.textContent = e2.message;
    err.hidden = false;
  } finally {
    button.disabled = false;
  }
}

async function loadRules() {
  const host = $("rules");
  try {
    const list = await api("/v1/alert-rules");
    host.replaceChildren();
    for (const r of list.items.slice().sort((a, b) => b.created_at.localeCompare(a.created_at))) {
      const act = (label, fn, cls = "ghost small") => el("button", { type: "button", class: cls, onclick: fn }, label);
      host.append(el("div", { class: `rule${r.paused ? " paused" : ""}`, dataset: { ruleId: r.id } },
        el("div", { class: "rule-main" },
          el("b", {}, r.name),
          el("small", {}, cardName(r.product_id), " · ", describeCondition(r.condition),
            describeFilter(r.filter) ? ` · ${describeFilter(r.filter)}` : "",
            ` · cooldown ${Math.round(r.cooldown_secs / 60)} min`),
        ),
        el("span", { class: `pill ${r.paused ? "" : "pos"}` }, r.paused ? "paused" : "active"),
        el("div", { class: "rule-actions" },
          r.paused
            ? act("Resume", () => ruleAction(r, "resume"))
            : act("Pause", () => ruleAction(r, "pause")),
          act("Delete", () => ruleAction(r, "delete"), "ghost small danger"),
        ),
      ));
    }
    if (!list.items.length) host.append(el("p", { class: "muted" }, "No rules yet."));
  } catch (e) {
    showError(host, e);
  }
}

async function ruleAction(rule, action) {
  try {
    if (action === "delete") {
      if (!confirm(`Delete the rule “${rule.name}”?`)) return;
      await api(`/v1/alert-rules/${rule.id}`, { method: "DELETE" });
    } else {
      await api(`/v1/alert-rules/${rule.id}/${action}`, { method: "POST" });
    }
    loadRules();
  } catch (e) {
    toast(e.message, "error");
  }
}

function alertItem(a, fresh = false) {
  return el("div", { class: `alert-item${fresh ? " fresh" : ""}`, dataset: { alertId: a.id, ruleId: a.rule_id } },
    el("div", { class: "alert-top" },
      el("b", {}, a.rule_name),
      el("span", { class: "num" }, money(a.price_usd)),
    ),
    el("div", { class: "alert-msg" }, a.message),
    el("small", { class: "muted" }, cardName(a.product_id), ` · ${seriesLabel(a.series)} · ${sourceLabel(a.source)} ${KINDS[a.kind] || a.kind} · `,
      el("time", { datetime: a.observed_at, title: when(a.observed_at) }, ago(a.observed_at))),
  );
}

const seenAlerts = new Set();
async function loadAlerts() {
  const host = $("alerts");
  try {
    const list = await api("/v1/alerts", { query: { limit: 50 } });
    host.replaceChildren(...list.items.map((a) => alertItem(a)));
    list.items.forEach((a) => seenAlerts.add(a.id));
    if (!list.items.length) host.append(el("p", { class: "muted" }, "No alerts have fired yet."));
    $("alerts-updated").textContent = `updated ${new Date().toLocaleTimeString()}`;
  } catch (e) {
    showError(host, e);
  }
}

let unseen = 0;
function bumpBadge(n) {
  unseen = n;
  const b = $("alert-badge");
  b.textContent = String(n);
  b.hidden = n === 0;
}

views.alerts = async (productId) => {
  bumpBadge(0);
  if (productId) {
    try {
      ruleForm.product = (await cardDetail(productId)).card;
    } catch {
      ruleForm.product = null;
    }
    history.replaceState(null, "", "#/alerts");
  }
  renderRuleForm();
  loadRules();
  loadAlerts();
};

// ---- Live: SSE ticks and alerts ----------------------------------------------------------------

let tickSource = null;
let alertSource = null;
let livePaused = false;
let tickTimes = [];
const pendingTicks = [];
const lastPrice = new Map();

function disconnectStreams() {
  tickSource?.close();
  alertSource?.close();
  tickSource = alertSource = null;
  setLive(false);
}

function setLive(on) {
  const dot = $("live-dot");
  dot.classList.toggle("on", on);
  dot.title = on ? "live stream connected" : "stream disconnected";
}

function connectStreams() {
  disconnectStreams();
  if (!getKey()) return;
  const filter = $("live-filter").value.trim();
  tickSource = new EventSource(streamUrl("/v1/stream/ticks", { product_id: /^\d+$/.test(filter) ? filter : "" }));
  tickSource.addEventListener("open", () => setLive(true));
  tickSource.addEventListener("error", () => setLive(false));
  tickSource.addEventListener("tick", (ev) => {
    if (livePaused) return;
    pendingTicks.push(JSON.parse(ev.data));
    if (pendingTicks.length > 200) pendingTicks.splice(0, pendingTicks.length - 200);
    if (pendingTicks.length === 1) setTimeout(flushTicks, 150);
  });
  alertSource = new EventSource(streamUrl("/v1/stream/alerts"));
  alertSource.addEventListener("alert", (ev) => {
    const a = JSON.parse(ev.data);
    if (seenAlerts.has(a.id)) return;
    seenAlerts.add(a.id);
    // The message usually starts with the rule's name already.
    toast(a.message.startsWith(a.rule_name) ? a.message : `${a.rule_name}: ${a.message}`, "alert");
    const live = $("live-alerts");
    live.querySelector("p.muted")?.remove();
    live.prepend(alertItem(a, true));
    while (live.children.length > 50) live.lastChild.remove();
    const list = $("alerts");
    list.querySelector("p.muted")?.remove();
    list.prepend(alertItem(a, true));
    if (current !== "alerts") bumpBadge(unseen + 1);
  });
}

function flushTicks() {
  const body = $("tick-table").tBodies[0];
  body.querySelector("tr.empty")?.remove();
  const now = Date.now();
  for (const t of pendingTicks.splice(0)) {
    tickTimes.push(now);
    const key = `${t.series_id}|${t.source}|${t.kind}`;
    const before = lastPrice.get(key);
    const price = amount(t.price_usd);
    lastPrice.set(key, price);
    const dir = before === undefined || before === price ? "" : price > before ? "pos" : "neg";
    const pid = t.series.product_id;
    body.prepend(el("tr", { class: "flash", dataset: { seriesId: t.series_id, productId: pid, source: t.source, kind: t.kind } },
      el("td", {}, new Date(t.observed_at).toLocaleTimeString()),
      el("td", {}, liveName(pid)),
      el("td", {}, seriesLabel(t.series)),
      el("td", {}, `${sourceLabel(t.source)} ${KINDS[t.kind] || t.kind}`),
      el("td", { class: `num ${dir}` }, money(t.price_usd), dir ? (dir === "pos" ? " ▲" : " ▼") : ""),
    ));
  }
  while (body.rows.length > 200) body.deleteRow(body.rows.length - 1);
  tickTimes = tickTimes.filter((x) => now - x < 60e3);
  $("tick-rate").textContent = `${tickTimes.length} in the last minute`;
}

/// Ticks arrive fast: only names already fetched are used, the rest are fetched a few at a time.
const liveNames = new Map();
function liveName(pid) {
  const a = el("a", { href: `#/card/${pid}`, class: "card-link" }, liveNames.get(pid) || `#${pid}`);
  if (!liveNames.has(pid)) {
    liveNames.set(pid, `#${pid}`);
    nameQueue.push([String(pid), { set textContent(v) { liveNames.set(pid, v); } }]);
    pumpNames();
  }
  return a;
}

views.live = () => {};

function setupLive() {
  $("live-pause").addEventListener("click", () => {
    livePaused = !livePaused;
    $("live-pause").textContent = livePaused ? "Resume" : "Pause";
  });
  let timer = null;
  $("live-filter").addEventListener("input", () => {
    clearTimeout(timer);
    timer = setTimeout(connectStreams, 400);
  });
}

// ---- start ----------------------------------------------------------------------------------------

function start() {
  takeKeyFromUrl();
  setupKeyDialog();
  setupSearch();
  setupLive();
  $("rule-form").addEventListener("submit", submitRule);
  window.addEventListener("hashchange", route);
  // Fired alerts also refresh on a timer, in case the stream was down when one fired.
  setInterval(() => {
    if (getKey() && current === "alerts") loadAlerts();
  }, 10_000);
  connectStreams();
  route();
  document.documentElement.dataset.ready = "true";
}

start();
