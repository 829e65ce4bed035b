// The Alerts tab: the rule form (a card, what to watch, its current price), the rules, and the
// alerts that fired, each as a sentence naming the card.

import { ago, api, cardLabel, el, KINDS, money, seriesLabel, SOURCES, sourceLabel, when } from "./api.js";
import { cardDetail, setNames } from "./card.js";
import { $, ask, select, showError, toast } from "./ui.js";

const RULE_TYPES = [
  ["price_above", "Price above"],
  ["price_below", "Price below"],
  ["percent_change", "Percent change"],
  ["new_low", "New low"],
  ["new_high", "New high"],
  ["deal", "Deal (listing under market)"],
  ["buylist_above", "Buylist reaches % of market"],
];

const ruleForm = { product: null, type: "price_above" };

function describeCondition(c) {
  switch (c.type) {
    case "price_above": return `price above ${money(c.threshold_usd)}`;
    case "price_below": return `price below ${money(c.threshold_usd)}`;
    case "percent_change": return `moves ${c.direction === "either" ? "±" : c.direction === "up" ? "up" : "down"} ${c.percent}% within ${Math.round(c.window_secs / 3600)}h${c.min_confirming_sources ? `, confirmed by ${c.min_confirming_sources}+ sources` : ""}`;
    case "new_low": return `new ${c.days}-day low`;
    case "new_high": return `new ${c.days}-day high`;
    case "deal": return `listing ${c.percent}% under market`;
    case "buylist_above": return `buylist at ${c.percent}% of market or more`;
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
    // A move one source alone makes (a parked price, a broken value) is not a move of the card.
    fields.push(select("rule-confirm", [["", "Any source alone"], ["2", "At least 2 sources"]], "", () => {}, "Confirmed by"));
  }
  if (t === "new_low" || t === "new_high") fields.push(num("rule-days", "Days", { min: "1", max: "365", step: "1", value: "30" }));
  if (t === "deal") fields.push(num("rule-percent", "At least % under market", { min: "1", step: "1", value: "20" }));
  // A shop's buylist is what it pays; one that is not buying quotes none, so the rule waits.
  if (t === "buylist_above") fields.push(num("rule-percent", "Buylist at least % of market", { min: "1", max: "200", step: "1", value: "70" }));
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

export async function submitRule(e) {
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
    if (v("rule-confirm")) condition.min_confirming_sources = Number(v("rule-confirm"));
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
    case "percent_change": return `moved ${Number(t.change_percent) > 0 ? "+" : ""}${Number(t.change_percent).toFixed(1)}% from ${money(t.from_usd)}${confirmedText(t)}`;
    case "new_low": return `is a new ${t.days}-day low (was ${money(t.previous_low_usd)})`;
    case "new_high": return `is a new ${t.days}-day high (was ${money(t.previous_high_usd)})`;
    case "deal": return `is ${Number(t.discount_percent).toFixed(0)}% under the market price ${money(t.market_usd)}`;
    case "buylist_above": return `is ${Number(t.share_percent).toFixed(0)}% of the market price ${money(t.market_usd)}`;
    default: return "";
  }
}

/// ", confirmed by 2 of 3 sources" (or a single-source move) when the trigger counted them.
function confirmedText(t) {
  if (t.confirmed_by == null || t.sources_priced == null) return "";
  return t.confirmed_by <= 1
    ? `, a single-source move (${t.confirmed_by} of ${t.sources_priced} sources)`
    : `, confirmed by ${t.confirmed_by} of ${t.sources_priced} sources`;
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
export async function loadAlerts() {
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

export async function showAlerts(productId) {
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
}


/// One alert from the stream: a toast (grouped), the lists, the badge unless the tab shows.
export function onAlert(a) {
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
  if (!location.hash.startsWith("#/alerts")) bumpBadge(unseen + 1);
}
