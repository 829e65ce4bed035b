// tcgtracker's built-in page: the router, the API key, card search, movers and sources; the other
// views live in card.js, portfolio.js, alerts.js and live.js. Plain ES modules, no build step;
// everything is drawn here (no CDN, works offline).

import {
  api, ago, cardLabel, el, getKey, money, onUnauthorized, setKey, sourceLabel, takeKeyFromUrl, KINDS,
} from "./api.js";
import { loadAlerts, onAlert, showAlerts, submitRule } from "./alerts.js";
import { loadSets, setNames, showCard } from "./card.js";
import { connectAlerts, disconnectStreams, leaveLive, setupLive, showLive } from "./live.js";
import { addHolding, showPortfolio } from "./portfolio.js";
import { $, pnlClass, showError, toast } from "./ui.js";

// ---- router -----------------------------------------------------------------------------------

const views = {};
let current = null;

function route() {
  if (takeKeyFromUrl()) {
    // A key link pasted into an open tab: the dialog asking for one has its answer.
    if ($("key-dialog").open) $("key-dialog").close();
    toast("API key saved from the link", "ok");
    connectStreams();
  }
  const hash = location.hash.replace(/^#\/?/, "") || "cards";
  const [name, arg] = hash.split("/");
  const view = views[name] ? name : "cards";
  document.querySelectorAll(".view").forEach((v) => (v.hidden = v.dataset.view !== view));
  document.querySelectorAll(".tabs a").forEach((a) =>
    a.classList.toggle("on", a.dataset.tab === view || (view === "card" && a.dataset.tab === "cards")),
  );
  if (current === "live" && view !== "live") leaveLive();
  current = view;
  $("key-needed").hidden = Boolean(getKey());
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
    // Checked before it is kept: a refused key never replaces a good one.
    try {
      await api("/v1/portfolios", { key });
    } catch (err) {
      askKey(err.status === 401 ? "This key is not valid: the server refused it." : err.message);
      $("key-input").value = key;
      return;
    }
    setKey(key);
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
  // Escape (or closing) without a key: the page says what it needs instead of staying blank.
  $("key-dialog").addEventListener("close", () => {
    $("key-needed").hidden = Boolean(getKey());
  });
  $("key-needed-open").addEventListener("click", () => askKey());
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
  return el("div", { class: "card-tile", dataset: { productId: c.product_id } },
    el("a", { class: "tile-link", href: `#/card/${c.product_id}` },
      thumb(c, ""),
      el("span", { class: "tile-text" },
        el("b", {}, c.name),
        el("small", {}, [setName, c.number && `#${c.number}`, c.rarity].filter(Boolean).join(" · ") || c.game),
      )),
    el("button", { type: "button", class: "ghost small add-holding", title: "Add to portfolio", "aria-label": `Add ${c.name} to portfolio`,
      onclick: () => addHolding(c) }, "+"),
  );
}

/// The card's image when the catalog has one, its initial on the game's colour otherwise (and
/// when the image does not load: offline, or blocked).
function thumb(c, size) {
  const tile = el("span", { class: `mono-tile ${size} g-${c.game}` }, (c.name || "?").slice(0, 1));
  if (!c.image_url) return tile;
  const img = el("img", { class: `card-img ${size}`, src: c.image_url, alt: "", loading: "lazy", referrerpolicy: "no-referrer" });
  img.addEventListener("error", () => img.replaceWith(tile));
  return img;
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
        const j = mv.jump;
        const news = mv.sudden && j
          ? el("small", { class: "sudden", title: "most of this move happened within a day or two: news or a spike, check before trusting it" },
            `sudden: ${j.change_bps > 0 ? "+" : ""}${(j.change_bps / 100).toFixed(1)}% by ${new Date(j.to).toLocaleDateString(undefined, { month: "short", day: "numeric", timeZone: "UTC" })}`)
          : null;
        host.append(el("a", { class: "mover", href: `#/card/${mv.product_id}`, dataset: { sudden: String(Boolean(mv.sudden)) } },
          el("span", { class: "mover-name" }, cardLabel(mv.card, mv.product_id),
            el("small", {}, `${seriesIdLabel(mv.series_id)} · ${sourceLabel(mv.source)} ${KINDS[mv.kind] || mv.kind}`,
              mv.sources_priced > 1 ? ` · confirmed by ${mv.confirmed_by} of ${mv.sources_priced} sources` : ""), news),
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

/// Sources whose list of unmapped products the user opened (kept open across refreshes).
const openUnmapped = new Set();

/// A market's products that no card of ours fits, or several do: their number, and the most
/// recently met of them once opened (`GET /v1/sources/unmapped?source=`).
function unmappedList(h) {
  if (!h.unmapped_products) return null;
  const items = el("ul", {});
  const fill = async () => {
    try {
      const page = await api("/v1/sources/unmapped", { query: { source: h.source, limit: 50 } });
      items.replaceChildren(...page.items.map((u) => el("li", {},
        [u.name, u.number && `#${u.number}`, u.set].filter(Boolean).join(" · "),
        el("small", { class: "muted" }, u.why === "ambiguous" ? ` fits ${u.candidates?.length || "several"} cards` : " fits none"))));
    } catch (e) {
      showError(items, e);
    }
  };
  const list = el("details", { class: "unmapped", open: openUnmapped.has(h.source) },
    el("summary", {}, `${h.unmapped_products} products not mapped to a card`), items);
  list.addEventListener("toggle", () => {
    if (list.open) {
      openUnmapped.add(h.source);
      fill();
    } else {
      openUnmapped.delete(h.source);
    }
  });
  if (list.open) fill();
  return list;
}

/// Each source's health after its last pass (`GET /v1/sources`): what failed, and what that cost;
/// and the other markets' products not mapped to a card.
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
        unmappedList(h),
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

// ---- Card page (card.js) ------------------------------------------------------------------------

views.card = showCard;

// ---- Portfolio (portfolio.js) ------------------------------------------------------------------

views.portfolio = showPortfolio;

// ---- Alerts (alerts.js) -------------------------------------------------------------------------

views.alerts = showAlerts;

// ---- Live (live.js): the tick stream while the tab shows; the alert stream always ------------------

views.live = showLive;

function connectStreams() {
  connectAlerts(onAlert);
  if (current === "live") showLive();
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
