// The API client of the page: the key (localStorage, or `#key=…` in the URL), JSON calls with
// `Authorization: Bearer`, problem details turned into readable errors, and EventSource URLs
// (EventSource cannot send headers: the stream routes take `?access_token=`).

const KEY_STORE = "tcgtracker.apiKey";

export function takeKeyFromUrl() {
  const m = location.hash.match(/(?:^#|&)key=([^&]+)/);
  if (!m) return false;
  setKey(decodeURIComponent(m[1]));
  history.replaceState(null, "", location.pathname + location.search + "#/cards");
  return true;
}

export function getKey() {
  try {
    return localStorage.getItem(KEY_STORE) || "";
  } catch {
    return "";
  }
}

export function setKey(key) {
  try {
    if (key) localStorage.setItem(KEY_STORE, key.trim());
    else localStorage.removeItem(KEY_STORE);
  } catch {
    /* private mode: the key lives as long as the page */
  }
  memoryKey = key ? key.trim() : "";
}

let memoryKey = "";

function key() {
  return getKey() || memoryKey;
}

export class ApiError extends Error {
  constructor(status, problem) {
    const fields = (problem.errors || []).map((e) => `${e.field}: ${e.message}`).join("; ");
    super(problem.detail ? problem.detail + (fields ? ` (${fields})` : "") : `HTTP ${status}`);
    this.status = status;
    this.problem = problem;
  }
}

/// Listeners told when the key is refused (401), so the page can ask for another.
const unauthorizedListeners = [];
export function onUnauthorized(f) {
  unauthorizedListeners.push(f);
}

/// `body` is sent as JSON; `text` as is, with `contentType` (e.g. a CSV file); `blob: true`
/// answers the body as a Blob (downloads).
/// `key` overrides the saved key (to check one before keeping it).
export async function api(path, { method = "GET", body, query, text, contentType, blob = false, key: withKey } = {}) {
  let url = path;
  if (query) {
    const params = new URLSearchParams();
    for (const [k, v] of Object.entries(query)) {
      if (v !== undefined && v !== null && v !== "") params.set(k, v);
    }
    const qs = params.toString();
    if (qs) url += "?" + qs;
  }
  const headers = { Accept: "application/json" };
  const bearer = withKey || key();
  if (bearer) headers.Authorization = `Bearer ${bearer}`;
  if (body !== undefined) headers["Content-Type"] = "application/json";
  if (text !== undefined) headers["Content-Type"] = contentType || "text/plain";
  if (blob) headers.Accept = "*/*";
  let resp;
  for (let attempt = 0; ; attempt++) {
    resp = await fetch(url, {
      method,
      headers,
      // history, latest prices, movers and value histories carry an ETag and a max-age: ask the server every
      // time (a 304 reuses the browser's copy), so a tick seen on the page is never hidden
      cache: "no-cache",
      body: text !== undefined ? text : body === undefined ? undefined : JSON.stringify(body),
    });
    // Over the per-key rate: wait as told, a few times.
    if (resp.status === 429 && attempt < 3) {
      const wait = Number(resp.headers.get("Retry-After") || "1");
      await new Promise((r) => setTimeout(r, Math.min(wait, 5) * 1000));
      continue;
    }
    break;
  }
  if (resp.status === 204) return null;
  if (blob && resp.ok) return resp.blob();
  const answer = await resp.text();
  let data = null;
  try {
    data = answer ? JSON.parse(answer) : null;
  } catch {
    data = { detail: answer };
  }
  if (!resp.ok) {
    if (resp.status === 401 && !withKey) unauthorizedListeners.forEach((f) => f());
    throw new ApiError(resp.status, data || {});
  }
  return data;
}

export function streamUrl(path, query = {}) {
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) if (v) params.set(k, v);
  params.set("access_token", key());
  return `${path}?${params}`;
}

// ---- formatting -----------------------------------------------------------------------------

const usd = new Intl.NumberFormat("en-US", { style: "currency", currency: "USD" });

/// A `Money` ({amount: "12.34", currency: "USD"}) as a number.
export function amount(m) {
  return m ? Number(m.amount) : null;
}

export function money(m) {
  if (m === null || m === undefined) return "—";
  if (typeof m === "number") return usd.format(m);
  if (m.currency === "USD") return usd.format(Number(m.amount));
  return `${m.amount} ${m.currency}`;
}

export function signedMoney(m) {
  const v = typeof m === "number" ? m : amount(m);
  if (v === null) return "—";
  return (v > 0 ? "+" : v < 0 ? "−" : "") + usd.format(Math.abs(v));
}

export function when(ts) {
  if (!ts) return "—";
  const d = new Date(ts);
  return d.toLocaleString(undefined, { dateStyle: "medium", timeStyle: "short" });
}

export function ago(ts) {
  const s = Math.round((Date.now() - new Date(ts).getTime()) / 1000);
  if (s < 5) return "just now";
  if (s < 60) return `${s}s ago`;
  if (s < 3600) return `${Math.round(s / 60)}m ago`;
  if (s < 86400) return `${Math.round(s / 3600)}h ago`;
  return `${Math.round(s / 86400)}d ago`;
}

/// A card in words from a `CardRef` (`card` of history, latest, stream, alert and valuation
/// answers): "Charizard · Base Set #4/102".
export function cardLabel(card, productId) {
  if (!card) return `Card #${productId}`;
  const where = [card.set, card.number && `#${card.number}`].filter(Boolean).join(" ");
  return where ? `${card.name} · ${where}` : card.name;
}

/// A series key in words: "Holofoil · Near Mint · English" or "PSA 10".
export function seriesLabel(series) {
  if (!series) return "";
  if (series.type === "graded") return `${series.grader} ${series.grade}`;
  return [series.printing, series.condition, series.language].filter(Boolean).join(" · ");
}

/// Sources in a collector's words.
export const SOURCES = {
  tcgplayer: "TCGplayer",
  tcgcsv: "TCGplayer (daily)",
  ebay_browse: "eBay listings",
  ebay_sold: "eBay sold",
  tcgtracker: "Fair value (all sources)",
  cardmarket: "Cardmarket",
  scryfall: "Scryfall",
  pricecharting: "PriceCharting",
  justtcg: "JustTCG",
  cardkingdom: "Card Kingdom",
};

export const KINDS = {
  market: "market",
  low: "low",
  mid: "mid",
  high: "high",
  direct_low: "direct low",
  lowest_listing: "lowest listing",
  listing: "listing",
  sold: "sold",
  fair: "fair value",
  trend: "trend",
  avg: "average sale",
  avg1: "1-day average",
  avg7: "7-day average",
  avg30: "30-day average",
  sales: "recent sales",
  retail: "retail",
  buylist: "buylist",
};

export function sourceLabel(s) {
  return SOURCES[s] || s;
}

/// `el("div", {class: "x", onclick: f}, child, "text", …)`: a small DOM builder (no innerHTML,
/// so nothing from the API is ever parsed as HTML).
export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith("on") && typeof v === "function") node.addEventListener(k.slice(2), v);
    else if (k === "class") node.className = v;
    else if (k === "dataset") Object.assign(node.dataset, v);
    else if (k === "value") node.value = v;
    else if (v === true) node.setAttribute(k, "");
    else node.setAttribute(k, v);
  }
  for (const c of children.flat()) {
    if (c === null || c === undefined || c === false) continue;
    node.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return node;
}
