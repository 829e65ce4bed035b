// tcgtracker's built-in page: card search, price charts, portfolio, alert rules, live feed.
// Plain ES modules, no build step; everything is drawn here (no CDN, works offline).

import {
  api, ago, cardLabel, el, getKey, money, onUnauthorized, seriesLabel, setKey,
  sourceLabel, takeKeyFromUrl, when, KINDS, SOURCES,
} from "./api.js";
import { cardDetail, showCard } from "./card.js";
import { connectAlerts, disconnectStreams, leaveLive, setupLive, showLive } from "./live.js";
import { addHolding, showPortfolio } from "./portfolio.js";
import { $, ask, pnlClass, select, showError, toast } from "./ui.js";

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
        const j = mv.jump;
        const news = mv.sudden && j
          ? el("small", { class: "sudden", title: "most of this move happened within a day or two: news or a spike, check before trusting it" },
            `sudden: ${j.change_bps > 0 ? "+" : ""}${(j.change_bps / 100).toFixed(1)}% by ${new Date(j.to).toLocaleDateString(undefined, { month: "short", day: "numeric", timeZone: "UTC" })}`)
          : null;
        host.append(el("a", { class: "mover", href: `#/card/${mv.product_id}`, dataset: { sudden: String(Boolean(mv.sudden)) } },
          el("span", { class: "mover-name" }, cardLabel(mv.card, mv.product_id),
            el("small", {}, `${seriesIdLabel(mv.series_id)} · ${sourceLabel(mv.source)} ${KINDS[mv.kind] || mv.kind}`), news),
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

// ---- Card page (card.js) ------------------------------------------------------------------------

views.card = showCard;

// ---- Portfolio (portfolio.js) ------------------------------------------------------------------

views.portfolio = showPortfolio;

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
    el("div", { class: "form-row", id: "rule-series" }),
    el("p", { class: "muted", id: "rule-now" }),
    el("div", { class: "form-row" },
      select("rule-source", [["", "Any source"], ...Object.entries(SOURCES)], "", () => {}, "Source"),
      select("rule-kind", [["", "Market, listings, sales"], ...Object.entries(KINDS)], "", () => {}, "Price"),
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
  renderRuleSeries();
  $("rule-form").addEventListener("change", (e) => {
    if (["rule-printing", "rule-condition", "rule-language", "rule-grading", "rule-source", "rule-kind"].includes(e.target.id)) showRuleNow();
  });
}

/// The chosen card's printings, conditions, languages and grades (only those it has prices for).
async function renderRuleSeries() {
  const host = $("rule-series");
  const p = ruleForm.product;
  ruleForm.detail = null;
  if (!host) return;
  host.replaceChildren();
  $("rule-now").textContent = "";
  if (!p) return;
  try {
    ruleForm.detail = await cardDetail(p.product_id);
  } catch {
    return;
  }
  if (ruleForm.product !== p) return;
  const d = ruleForm.detail;
  const uniq = (xs) => [...new Set(xs.filter(Boolean))];
  const raw = d.raw.filter((x) => x.prices.length);
  const grades = uniq(d.graded.filter((x) => x.prices.length).map((x) => `${x.series.grader} ${x.series.grade}`));
  host.replaceChildren(
    select("rule-printing", [["", "Any printing"], ...uniq(raw.map((x) => x.series.printing)).map((v) => [v, v])], "", () => {}, "Printing"),
    select("rule-condition", [["", "Any condition"], ...uniq(raw.map((x) => x.series.condition)).map((v) => [v, v])], "", () => {}, "Condition"),
    select("rule-language", [["", "Any language"], ...uniq(raw.map((x) => x.series.language)).map((v) => [v, v])], "", () => {}, "Language"),
    select("rule-grading", [["", "Raw or graded"], ["raw", "Raw only"], ["graded", "Any grade"], ...grades.map((g) => [g, g])], "", () => {}, "Grade"),
  );
  showRuleNow();
}

/// The latest price of what the rule would watch, so a threshold can be set against it.
function showRuleNow() {
  const d = ruleForm.detail;
  const out = $("rule-now");
  if (!d || !out) return;
  const v = (id) => ($(id) ? $(id).value : "");
  const g = v("rule-grading");
  const series = [...d.raw, ...d.graded].filter((x) => {
    const s = x.series;
    if (s.type === "graded") return g !== "raw" && (!g || g === "graded" || g === `${s.grader} ${s.grade}`);
    return (!g || g === "raw") && (!v("rule-printing") || s.printing === v("rule-printing"))
      && (!v("rule-condition") || s.condition === v("rule-condition")) && (!v("rule-language") || s.language === v("rule-language"));
  });
  const prices = series.flatMap((x) => x.prices.map((p) => ({ x, p })))
    .filter(({ p }) => (!v("rule-source") || p.source === v("rule-source")) && (v("rule-kind") ? p.kind === v("rule-kind") : ["market", "listing", "sold"].includes(p.kind)))
    .sort((a, b) => (a.p.kind === "market" ? -1 : 0) - (b.p.kind === "market" ? -1 : 0) || b.p.observed_at.localeCompare(a.p.observed_at));
  const now = prices[0];
  out.textContent = now
    ? `Now: ${money(now.p.price_usd)} (${sourceLabel(now.p.source)} ${KINDS[now.p.kind] || now.p.kind}, ${seriesLabel(now.x.series)}, ${ago(now.p.observed_at)})${series.length > 1 ? ` · ${series.length} series match` : ""}`
    : "No price yet for this choice.";
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
              renderRuleSeries();
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
  for (const f of ["printing", "condition", "language"]) if (v(`rule-${f}`)) filter[f] = v(`rule-${f}`);
  const grading = v("rule-grading");
  if (grading === "raw") filter.graded = false;
  else if (grading === "graded") filter.graded = true;
  else if (grading) {
    const [grader, ...grade] = grading.split(" ");
    Object.assign(filter, { graded: true, grader, grade: grade.join(" ") });
  }
  if (filter.printing || filter.condition || filter.language) filter.graded = false;
  const body = {
    name: v("rule-name") || `${p.name}${filter.condition ? ` ${filter.condition}` : ""}${filter.grader ? ` ${filter.grader} ${filter.grade}` : ""}: ${describeCondition(condition)}`.slice(0, 200),
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
          el("small", {}, el("a", { href: `#/card/${r.product_id}`, class: "card-link" }, cardLabel(r.card, r.product_id)), " · ", describeCondition(r.condition),
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
      if (!(await ask("Delete rule", `Delete the rule “${rule.name}”?`))) return;
      await api(`/v1/alert-rules/${rule.id}`, { method: "DELETE" });
    } else {
      await api(`/v1/alert-rules/${rule.id}/${action}`, { method: "POST" });
    }
    loadRules();
  } catch (e) {
    toast(e.message, "error");
  }
}

/// What fired, in words: "rose above $40.00", "moved -12.5% from $50.00", …
function triggerText(t) {
  switch (t?.type) {
    case "price_above": return `rose above ${money(t.threshold_usd)}`;
    case "price_below": return `fell below ${money(t.threshold_usd)}`;
    case "percent_change": return `moved ${Number(t.change_percent) > 0 ? "+" : ""}${Number(t.change_percent).toFixed(1)}% from ${money(t.from_usd)}`;
    case "new_low": return `is a new ${t.days}-day low (was ${money(t.previous_low_usd)})`;
    case "new_high": return `is a new ${t.days}-day high (was ${money(t.previous_high_usd)})`;
    case "deal": return `is ${Number(t.discount_percent).toFixed(0)}% under the market price ${money(t.market_usd)}`;
    default: return "";
  }
}

/// An alert as a sentence: "Charizard · Base Set #4/102 (Holofoil · Near Mint · English):
/// TCGplayer market $42.00 rose above $40.00".
function alertText(a) {
  return `${cardLabel(a.card, a.product_id)} (${seriesLabel(a.series)}): ${sourceLabel(a.source)} ${KINDS[a.kind] || a.kind} ${money(a.price_usd)} ${triggerText(a.trigger)}`;
}

function alertItem(a, fresh = false) {
  return el("div", { class: `alert-item${fresh ? " fresh" : ""}`, dataset: { alertId: a.id, ruleId: a.rule_id } },
    el("div", { class: "alert-top" },
      el("b", {}, a.rule_name),
      el("span", { class: "num" }, money(a.price_usd)),
    ),
    el("div", { class: "alert-msg" }, alertText(a)),
    el("small", { class: "muted" }, el("a", { href: `#/card/${a.product_id}`, class: "card-link" }, "Open card"), " · ",
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

// ---- Live (live.js): the tick stream while the tab shows; the alert stream always ------------------

views.live = showLive;

function onAlert(a) {
  if (seenAlerts.has(a.id)) return;
  seenAlerts.add(a.id);
  toast(`${a.rule_name}: ${alertText(a)}`, "alert", { group: "alerts", many: (n) => `${n} alerts fired: see the Alerts tab` });
  const live = $("live-alerts");
  live.querySelector("p.muted")?.remove();
  live.prepend(alertItem(a, true));
  while (live.children.length > 50) live.lastChild.remove();
  const list = $("alerts");
  list.querySelector("p.muted")?.remove();
  list.prepend(alertItem(a, true));
  if (current !== "alerts") bumpBadge(unseen + 1);
}

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
