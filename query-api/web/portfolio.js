// The Portfolio tab: value, P&L and value over time; holdings you add, edit, sell and delete;
// portfolios you create, rename and delete; CSV import with a preview and an undo, and export.

import { api, amount, cardLabel, el, money, signedMoney, when } from "./api.js";
import { drawChart } from "./chart.js";
import { $, ask, input, modal, pnlClass, segmented, select, showError, toast, today } from "./ui.js";

const INTERVALS = ["1h", "1d", "1w", "1M"];
const RANGE = { "1h": 24 * 7, "1d": 120, "1w": 78, "1M": 36 };
const SPAN_MS = { "1h": 3600e3, "1d": 86400e3, "1w": 7 * 86400e3, "1M": 31 * 86400e3 };

export const CONDITIONS = ["Near Mint", "Lightly Played", "Moderately Played", "Heavily Played", "Damaged"];
export const LANGUAGES = ["English", "Japanese", "French", "German", "Italian", "Spanish", "Portuguese (BR)",
  "Korean", "Chinese (S)", "Chinese (T)", "Russian"];
const GRADERS = ["PSA", "BGS", "CGC", "SGC", "TAG", "ACE"];
const GRADES = ["10", "9.5", "9", "8.5", "8", "7.5", "7", "6", "5", "4", "3", "2", "1"];
const FORMATS = [["", "Detect from the header"], ["collectr", "Collectr"], ["tcgplayer", "TCGplayer app"],
  ["tcgplayer_seller", "TCGplayer seller"], ["manabox", "ManaBox"], ["moxfield", "Moxfield"],
  ["dragon_shield", "Dragon Shield"], ["deckbox", "Deckbox"], ["archidekt", "Archidekt"],
  ["delver_lens", "Delver Lens"], ["generic", "Generic (tcgtracker)"]];

const prefs = { id: "", interval: "1d" };
let portfolios = [];
/// The last import of each portfolio this session (its undo).
const lastImport = new Map();

// ---- portfolios ---------------------------------------------------------------------------------

export async function showPortfolio() {
  const stats = $("portfolio-stats");
  try {
    portfolios = (await api("/v1/portfolios")).items;
  } catch (e) {
    showError(stats, e);
    return;
  }
  renderPortfolioBar();
  if (!portfolios.length) {
    stats.replaceChildren(el("div", { class: "panel empty" },
      el("p", {}, "No portfolio yet. Create one, then add cards from a card's page or the search results, or import a CSV from your collection app."),
      el("button", { type: "button", class: "primary", id: "portfolio-first", onclick: newPortfolio }, "Create a portfolio")));
    $("portfolio-chart").replaceChildren();
    $("portfolio-controls").replaceChildren();
    $("holdings-table").replaceChildren();
    $("portfolio-notes").replaceChildren();
    return;
  }
  if (!portfolios.some((p) => p.id === prefs.id)) prefs.id = portfolios[0].id;
  $("portfolio-select").value = prefs.id;
  loadPortfolio();
}

function renderPortfolioBar() {
  const sel = $("portfolio-select");
  sel.replaceChildren(...portfolios.map((p) => el("option", { value: p.id }, p.name)));
  sel.hidden = !portfolios.length;
  sel.onchange = () => {
    prefs.id = sel.value;
    loadPortfolio();
  };
  const has = portfolios.length > 0;
  const b = (id, text, fn, show = has) => (show ? el("button", { type: "button", class: "ghost small", id, onclick: fn }, text) : null);
  $("portfolio-actions").replaceChildren(
    b("holding-add", "Add card", () => addHolding()),
    b("portfolio-import", "Import CSV", importCsv),
    b("portfolio-export", "Export CSV", exportCsv),
    b("portfolio-new", "New", newPortfolio, true),
    b("portfolio-rename", "Rename", renamePortfolio),
    b("portfolio-delete", "Delete", deletePortfolio),
  );
}

async function newPortfolio() {
  const made = await modal({
    title: "New portfolio",
    id: "portfolio-dialog",
    body: input("portfolio-name", "Name", { required: true, maxlength: "100", value: portfolios.length ? "" : "My collection" }),
    submit: "Create",
    onSubmit: (f) => api("/v1/portfolios", { method: "POST", body: { name: f.elements["portfolio-name"].value.trim() } }),
  });
  if (!made) return;
  prefs.id = made.id;
  toast(`Portfolio “${made.name}” created`, "ok");
  showPortfolio();
}

async function renamePortfolio() {
  const p = portfolios.find((x) => x.id === prefs.id);
  const done = await modal({
    title: "Rename portfolio",
    id: "portfolio-dialog",
    body: input("portfolio-name", "Name", { required: true, maxlength: "100", value: p?.name || "" }),
    onSubmit: (f) => api(`/v1/portfolios/${prefs.id}`, { method: "PATCH", body: { name: f.elements["portfolio-name"].value.trim() } }),
  });
  if (done) showPortfolio();
}

async function deletePortfolio() {
  const p = portfolios.find((x) => x.id === prefs.id);
  if (!(await ask("Delete portfolio", `Delete “${p?.name}” and every holding in it? This cannot be undone.`))) return;
  try {
    await api(`/v1/portfolios/${prefs.id}`, { method: "DELETE" });
    toast(`Portfolio “${p?.name}” deleted`, "ok");
    prefs.id = "";
    showPortfolio();
  } catch (e) {
    toast(e.message, "error");
  }
}

// ---- value and holdings -------------------------------------------------------------------------

async function loadPortfolio() {
  const id = prefs.id;
  const stats = $("portfolio-stats");
  let v, holdings;
  try {
    [v, holdings] = await Promise.all([
      api(`/v1/portfolios/${id}/valuation`, { query: { limit: 1000 } }),
      api(`/v1/portfolios/${id}/holdings`, { query: { limit: 1000 } }),
    ]);
  } catch (e) {
    showError(stats, e);
    return;
  }
  if (id !== prefs.id) return;
  renderStats(v, holdings.items);
  renderControls();
  loadChart();
  renderHoldings(v, holdings.items);
}

function renderStats(v, holdings) {
  const value = amount(v.market_value_usd);
  const cost = amount(v.cost_basis_usd);
  const unreal = amount(v.unrealized_pnl_usd);
  const real = amount(v.realized_pnl_usd);
  const pct = cost ? (unreal / cost) * 100 : 0;
  const stat = (label, text, cls = "", sub = "") =>
    el("div", { class: "stat" }, el("span", {}, label), el("b", { class: cls }, text), sub ? el("small", { class: cls }, sub) : null);
  const stats = $("portfolio-stats");
  stats.replaceChildren(...[
    stat("Market value", money(value)),
    stat("Cost basis", money(cost)),
    stat("Unrealized P&L", signedMoney(unreal), pnlClass(unreal), cost ? `${pct > 0 ? "+" : ""}${pct.toFixed(1)}%` : ""),
    real ? stat("Realized P&L", signedMoney(real), pnlClass(real)) : null,
  ].filter(Boolean));
  stats.dataset.value = String(value);
  const notes = [];
  const unpriced = v.unpriced_holdings?.length || 0;
  if (unpriced) notes.push(`${unpriced} holding${unpriced > 1 ? "s have" : " has"} no price yet: left out of market value, cost basis and P&L.`);
  if (v.non_usd_holdings?.length) notes.push(`${v.non_usd_holdings.length} holding(s) with a cost in another currency are not in the totals.`);
  const noCost = holdings.filter((h) => Number(h.cost_per_unit.amount) === 0).length;
  if (noCost) notes.push(`${noCost} holding${noCost > 1 ? "s have" : " has"} no cost recorded (shown as “no cost”): their P&L counts the whole value as gain until you edit the cost.`);
  $("portfolio-notes").replaceChildren(...notes.map((n) => el("p", { class: "note" }, n)));
  const imp = lastImport.get(prefs.id);
  if (imp) {
    $("portfolio-notes").append(el("p", { class: "note", id: "import-undo-note" },
      `Imported ${imp.imported} holding${imp.imported === 1 ? "" : "s"} ${when(imp.at)}. `,
      el("button", { type: "button", class: "ghost small", id: "import-undo", onclick: () => undoImport(imp) }, "Undo this import")));
  }
}

function renderControls() {
  $("portfolio-controls").replaceChildren(
    el("div", { class: "controls-row" }, el("span", { class: "muted" }, "Value over time")),
    el("div", { class: "controls-row end" },
      segmented(INTERVALS.map((i) => [i, i]), prefs.interval, (v) => {
        prefs.interval = v;
        renderControls();
        loadChart();
      }, "Interval"),
    ),
  );
}

async function loadChart() {
  const host = $("portfolio-chart");
  const interval = prefs.interval;
  try {
    const from = new Date(Date.now() - RANGE[interval] * SPAN_MS[interval]).toISOString();
    const h = await api(`/v1/portfolios/${prefs.id}/history`, { query: { interval, from } });
    // Start where the holdings first have a price, not with months of zero value before it.
    const first = Math.max(0, h.points.findIndex((p) => amount(p.market_value_usd) > 0));
    const pts = (f) => h.points.slice(first).map((p) => ({ t: new Date(p.start).getTime(), c: amount(p[f]) }));
    const series = [
      { label: "Market value", points: pts("market_value_usd") },
      { label: "Cost basis", points: pts("cost_basis_usd") },
    ];
    // Realized P&L only when there is some: an always-zero line would pin the axis at 0.
    if (h.points.some((p) => amount(p.realized_pnl_usd) !== 0)) series.push({ label: "Realized P&L", points: pts("realized_pnl_usd") });
    drawChart(host, { series, mode: "lines", interval, emptyText: "No valuation yet" });
  } catch (e) {
    showError(host, e);
  }
}

function variantOf(h) {
  return h.grading ? `${h.grading.grader} ${h.grading.grade}` : [h.printing, h.condition, h.language].join(" · ");
}

function renderHoldings(v, holdings) {
  const byId = new Map(v.holdings.map((h) => [h.holding_id, h]));
  const unpriced = new Set(v.unpriced_holdings || []);
  const t = $("holdings-table");
  t.replaceChildren(el("thead", {}, el("tr", {},
    el("th", {}, "Card"), el("th", {}, "Variant"), el("th", { class: "num" }, "Qty"),
    el("th", { class: "num" }, "Cost / unit"), el("th", { class: "num" }, "Price"),
    el("th", { class: "num" }, "Value"), el("th", { class: "num" }, "P&L"), el("th", {}, ""))));
  const body = el("tbody");
  for (const h of holdings) body.append(holdingRow(h, byId.get(h.id), unpriced.has(h.id)));
  if (!holdings.length) {
    body.append(el("tr", {}, el("td", { colspan: 8, class: "muted" },
      "No holdings yet: use “Add card”, the + on a search result or a card's page, or “Import CSV”.")));
  }
  t.append(body);
}

function holdingRow(h, hv, isUnpriced) {
  const priced = hv && hv.unit_price_usd && !isUnpriced;
  const pnl = priced ? amount(hv.unrealized_pnl_usd) : null;
  const basis = priced ? amount(hv.cost_basis_usd) : 0;
  const noCost = Number(h.cost_per_unit.amount) === 0;
  const act = (label, fn, cls = "ghost small") => el("button", { type: "button", class: cls, dataset: { action: label.toLowerCase() }, onclick: fn }, label);
  return el("tr", { dataset: { holdingId: h.id, productId: h.product_id } },
    el("td", { "data-label": "Card" }, el("a", { href: `#/card/${h.product_id}`, class: "card-link" }, cardLabel(hv?.card, h.product_id))),
    el("td", { "data-label": "Variant" }, variantOf(h)),
    el("td", { class: "num", "data-label": "Qty" }, h.quantity),
    el("td", { class: `num${noCost ? " warn" : ""}`, "data-label": "Cost / unit", title: noCost ? "No cost recorded: edit the holding to set it" : "" },
      noCost ? "no cost" : money(h.cost_per_unit)),
    el("td", { class: "num", "data-label": "Price", title: priced ? `priced ${when(hv.priced_at)}` : "no price yet" }, priced ? money(hv.unit_price_usd) : "unpriced"),
    el("td", { class: "num", "data-label": "Value" }, priced ? money(hv.market_value_usd) : "—"),
    el("td", { class: `num ${pnlClass(pnl)}`, "data-label": "P&L" }, pnl === null ? "—" : signedMoney(pnl),
      pnl !== null && basis ? el("small", {}, ` ${((pnl / basis) * 100).toFixed(1)}%`) : null),
    el("td", { class: "row-actions" },
      act("Edit", () => editHolding(h)),
      act("Sell", () => sellHolding(h, hv)),
      act("Delete", () => deleteHolding(h, hv), "ghost small danger")),
  );
}

// ---- add, edit, sell, delete --------------------------------------------------------------------

/// The add dialog for `card` (a catalog product; asked for when absent). Printings offered are
/// the card's own (from its priced series), with the usual ones as a fallback.
export async function addHolding(card) {
  if (!portfolios.length) {
    try {
      portfolios = (await api("/v1/portfolios")).items;
    } catch (e) {
      toast(e.message, "error");
      return;
    }
  }
  let printings = ["Normal", "Holofoil", "Reverse Holofoil"];
  if (card) {
    try {
      const d = await api(`/v1/cards/${card.product_id}`);
      const own = [...new Set(d.raw.map((s) => s.series.printing))];
      if (own.length) printings = own;
    } catch {
      /* the usual printings */
    }
  }
  const cardField = card
    ? el("p", { class: "chosen", id: "holding-card" }, el("b", {}, card.name), el("small", { class: "muted" }, ` #${card.product_id}`))
    : input("holding-product", "Card id (the number in the card page's address)", { required: true, inputmode: "numeric", pattern: "[0-9]+" });
  const portfolioField = portfolios.length
    ? select("holding-portfolio", portfolios.map((p) => [p.id, p.name]), prefs.id || portfolios[0].id, () => {}, "Portfolio")
    : el("p", { class: "muted" }, "A portfolio “My collection” is created for it.");
  const body = [
    cardField,
    el("div", { class: "form-row" }, portfolioField,
      select("holding-printing", printings.map((p) => [p, p]), printings[0], () => {}, "Printing")),
    el("div", { class: "form-row" },
      select("holding-condition", CONDITIONS.map((c) => [c, c]), "Near Mint", () => {}, "Condition"),
      select("holding-language", LANGUAGES.map((c) => [c, c]), "English", () => {}, "Language")),
    el("div", { class: "form-row" },
      select("holding-grader", [["", "Raw (ungraded)"], ...GRADERS.map((g) => [g, g])], "", () => {}, "Grading"),
      select("holding-grade", GRADES.map((g) => [g, g]), "10", () => {}, "Grade")),
    el("div", { class: "form-row" },
      input("holding-quantity", "Quantity", { type: "number", min: "1", max: "1000000", step: "1", value: "1", required: true }),
      input("holding-cost", "Cost per copy (USD)", { type: "number", min: "0", step: "0.01", placeholder: "what you paid", required: true }),
      input("holding-date", "Acquired", { type: "date", value: today(), max: today() })),
    input("holding-note", "Note", { maxlength: "500", placeholder: "optional", wide: true }),
  ];
  const added = await modal({
    title: "Add to portfolio",
    id: "holding-dialog",
    body,
    submit: "Add",
    onSubmit: async (f) => {
      const val = (n) => f.elements[n]?.value.trim() ?? "";
      let pid = val("holding-portfolio");
      if (!pid) pid = (await api("/v1/portfolios", { method: "POST", body: { name: "My collection" } })).id;
      const grader = val("holding-grader");
      const input = {
        product_id: card ? card.product_id : Number(val("holding-product")),
        printing: val("holding-printing"),
        condition: val("holding-condition"),
        language: val("holding-language"),
        quantity: Number(val("holding-quantity")),
        cost_per_unit: { amount: Number(val("holding-cost")).toFixed(2), currency: "USD" },
        acquired_on: val("holding-date") || undefined,
        note: val("holding-note") || undefined,
      };
      if (grader) input.grading = { grader, grade: val("holding-grade") };
      const h = await api(`/v1/portfolios/${pid}/holdings`, { method: "POST", body: input });
      prefs.id = pid;
      return h;
    },
  });
  if (!added) return;
  toast(`${card ? card.name : "Card"} added to your portfolio`, "ok");
  if (location.hash.startsWith("#/portfolio")) showPortfolio();
}

async function editHolding(h) {
  const done = await modal({
    title: "Edit holding",
    id: "holding-dialog",
    body: [
      el("p", { class: "muted" }, variantOf(h)),
      el("div", { class: "form-row" },
        input("edit-quantity", "Quantity held", { type: "number", min: "0", max: "1000000", step: "1", value: String(h.quantity), required: true }),
        input("edit-cost", "Cost per copy (USD)", { type: "number", min: "0", step: "0.01", value: h.cost_per_unit.amount, required: true })),
      input("edit-note", "Note", { maxlength: "500", value: h.note || "", wide: true }),
      el("small", { class: "muted" }, "A new quantity is recorded as copies bought (at this cost) or removed today; a new cost applies to the copies held."),
    ],
    onSubmit: (f) => {
      const note = f.elements["edit-note"].value.trim();
      return api(`/v1/portfolios/${prefs.id}/holdings/${h.id}`, {
        method: "PATCH",
        body: {
          quantity: Number(f.elements["edit-quantity"].value),
          cost_per_unit: { amount: Number(f.elements["edit-cost"].value).toFixed(2), currency: "USD" },
          note: note || null,
        },
      });
    },
  });
  if (done) {
    toast("Holding updated", "ok");
    loadPortfolio();
  }
}

async function sellHolding(h, hv) {
  const done = await modal({
    title: "Record a sale",
    id: "sale-dialog",
    body: [
      el("p", { class: "muted" }, `${cardLabel(hv?.card, h.product_id)} · ${variantOf(h)} · ${h.quantity} held`),
      el("div", { class: "form-row" },
        input("sale-quantity", "Copies sold", { type: "number", min: "1", max: String(h.quantity), step: "1", value: "1", required: true }),
        input("sale-price", "Price per copy (USD)", { type: "number", min: "0", step: "0.01", required: true,
          value: hv?.unit_price_usd ? hv.unit_price_usd.amount : "" }),
        input("sale-fees", "Fees, whole sale (USD)", { type: "number", min: "0", step: "0.01", placeholder: "0.00" })),
    ],
    submit: "Record sale",
    onSubmit: (f) => {
      const fees = f.elements["sale-fees"].value;
      return api(`/v1/portfolios/${prefs.id}/holdings/${h.id}/sales`, {
        method: "POST",
        body: {
          quantity: Number(f.elements["sale-quantity"].value),
          price_per_unit: { amount: Number(f.elements["sale-price"].value).toFixed(2), currency: "USD" },
          fees: fees ? { amount: Number(fees).toFixed(2), currency: "USD" } : undefined,
        },
      });
    },
  });
  if (done) {
    toast("Sale recorded", "ok");
    loadPortfolio();
  }
}

async function deleteHolding(h, hv) {
  if (!(await ask("Delete holding", `Delete ${cardLabel(hv?.card, h.product_id)} (${variantOf(h)}, ${h.quantity} held) and its history?`))) return;
  try {
    await api(`/v1/portfolios/${prefs.id}/holdings/${h.id}`, { method: "DELETE" });
    toast("Holding deleted", "ok");
    loadPortfolio();
  } catch (e) {
    toast(e.message, "error");
  }
}

// ---- CSV import and export ----------------------------------------------------------------------

async function importCsv() {
  const preview = el("div", { id: "import-preview", class: "table-wrap" });
  let checked = null;
  const read = async (f) => {
    const file = f.elements["import-file"].files[0];
    const pasted = f.elements["import-text"].value;
    if (file) return file.text();
    if (pasted.trim()) return pasted;
    throw new Error("Choose a CSV file or paste its text.");
  };
  const done = await modal({
    title: "Import a CSV",
    id: "import-dialog",
    wide: true,
    body: [
      el("p", { class: "muted" }, "Exports of Collectr, TCGplayer (app and seller), ManaBox, Moxfield, Dragon Shield, Deckbox, Archidekt and Delver Lens are recognised by their header. Nothing is written until you confirm the preview."),
      el("div", { class: "form-row" },
        input("import-file", "File", { type: "file", accept: ".csv,.tsv,.txt,text/csv" }),
        select("import-format", FORMATS, "", () => {}, "Format")),
      el("label", { class: "field wide" }, el("span", {}, "…or paste it"),
        el("textarea", { id: "import-text", name: "import-text", rows: "4", spellcheck: "false" })),
      preview,
    ],
    submit: "Preview",
    onSubmit: async (f) => {
      const text = await read(f);
      const format = f.elements["import-format"].value || undefined;
      const submit = f.querySelector("[data-action=submit]");
      if (!checked || checked.text !== text || checked.format !== format) {
        const report = await api(`/v1/portfolios/${prefs.id}/import`, { method: "POST", text, contentType: "text/csv", query: { format, dry_run: "true" } });
        checked = { text, format, report };
        renderPreview(preview, report);
        submit.textContent = importable(report) ? `Import ${importable(report)} row${importable(report) === 1 ? "" : "s"}` : "Preview";
        return false;
      }
      const report = await api(`/v1/portfolios/${prefs.id}/import`, { method: "POST", text, contentType: "text/csv", query: { format } });
      return report;
    },
  });
  if (!done) return;
  lastImport.set(prefs.id, { id: done.import_id, imported: done.imported, at: new Date().toISOString() });
  toast(`Imported ${done.imported} holding${done.imported === 1 ? "" : "s"}${done.unmatched.length ? `, ${done.unmatched.length} row(s) skipped` : ""}`, "ok");
  loadPortfolio();
}

function importable(report) {
  return report.preview ? report.preview.length : report.rows - report.unmatched.length;
}

function renderPreview(host, report) {
  const rows = report.preview || [];
  const problems = new Map(report.unmatched.map((u) => [u.row, u]));
  const warnings = new Map((report.warnings || []).map((w) => [w.row, w]));
  const t = el("table", { class: "data", id: "import-preview-table" },
    el("thead", {}, el("tr", {}, el("th", {}, "Row"), el("th", {}, "Card"), el("th", {}, "Variant"),
      el("th", { class: "num" }, "Qty"), el("th", { class: "num" }, "Cost"), el("th", {}, "Status"))));
  const body = el("tbody");
  const all = [...rows, ...report.unmatched.map((u) => ({ row: u.row, error: u.reason, name: u.card }))]
    .sort((a, b) => a.row - b.row);
  for (const r of all) {
    const bad = r.error || problems.get(r.row)?.reason;
    const warn = warnings.get(r.row)?.reason;
    body.append(el("tr", { class: bad ? "bad" : warn ? "warn" : "", dataset: { row: r.row } },
      el("td", {}, r.row),
      el("td", {}, r.card ? cardLabel(r.card, r.product_id) : r.name || "—"),
      el("td", {}, r.printing ? [r.printing, r.condition, r.language].filter(Boolean).join(" · ") + (r.grading ? ` · ${r.grading.grader} ${r.grading.grade}` : "") : ""),
      el("td", { class: "num" }, r.quantity ?? ""),
      el("td", { class: "num" }, r.cost_per_unit ? money(r.cost_per_unit) : ""),
      el("td", {}, bad ? el("span", { class: "error" }, bad) : warn ? el("span", { class: "warn" }, warn) : "ok"),
    ));
  }
  host.replaceChildren(
    el("p", {}, `${report.format ? `Format: ${report.format}. ` : ""}${report.rows} rows: ${importable(report)} will be imported, ${report.unmatched.length} cannot be.`),
    t,
  );
  t.append(body);
}

async function undoImport(imp) {
  if (!(await ask("Undo import", `Remove the ${imp.imported} holding(s) this import added?`, "Undo import"))) return;
  try {
    await api(`/v1/portfolios/${prefs.id}/imports/${imp.id}`, { method: "DELETE" });
    lastImport.delete(prefs.id);
    toast("Import undone", "ok");
    loadPortfolio();
  } catch (e) {
    toast(e.message, "error");
  }
}

async function exportCsv() {
  try {
    const blob = await api(`/v1/portfolios/${prefs.id}/export`, { blob: true });
    const url = URL.createObjectURL(blob);
    const p = portfolios.find((x) => x.id === prefs.id);
    const a = el("a", { href: url, download: `${(p?.name || "portfolio").replace(/[^\w.-]+/g, "_")}.csv` });
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 10_000);
  } catch (e) {
    toast(e.message, "error");
  }
}
