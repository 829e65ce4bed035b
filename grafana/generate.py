import json, os
# Dashboards as code: `python3 grafana/generate.py` rewrites grafana/dashboards/*.json.
OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "dashboards")
QDB = {"type": "questdb-questdb-datasource", "uid": "questdb"}
PROM = {"type": "prometheus", "uid": "prometheus"}

def sql_target(sql, fmt=0, ref="A"):
    return {"refId": ref, "datasource": QDB, "queryType": "sql", "rawSql": " ".join(sql.split()), "format": fmt, "selectedFormat": fmt}

def prom_target(expr, legend="", ref="A"):
    return {"refId": ref, "datasource": PROM, "expr": expr, "legendFormat": legend, "range": True}

_id = [0]
def panel(title, ptype, targets, x, y, w, h, ds, unit=None, desc=None, extra=None, field_extra=None):
    _id[0] += 1
    p = {"id": _id[0], "title": title, "type": ptype, "datasource": ds,
         "gridPos": {"x": x, "y": y, "w": w, "h": h}, "targets": targets,
         "fieldConfig": {"defaults": {}, "overrides": []}, "options": {}}
    if unit: p["fieldConfig"]["defaults"]["unit"] = unit
    if field_extra: p["fieldConfig"]["defaults"].update(field_extra)
    if desc: p["description"] = desc
    if extra: p.update(extra)
    return p

def qvar(name, label, sql, multi=False, include_all=False, refresh=1, current=None):
    v = {"name": name, "label": label, "type": "query", "datasource": QDB,
         "query": {"rawSql": " ".join(sql.split()), "queryType": "sql", "format": 1},
         "definition": " ".join(sql.split()), "refresh": refresh, "multi": multi, "includeAll": include_all, "sort": 1}
    if current is not None: v["current"] = current
    return v

def custom(name, label, values, default, multi=False, include_all=False):
    opts = [{"text": v, "value": v, "selected": (v in default if multi else v == default)} for v in values]
    cur = {"text": default, "value": default}
    return {"name": name, "label": label, "type": "custom", "query": ",".join(values), "options": opts,
            "current": cur, "multi": multi, "includeAll": include_all}

def textbox(name, label, default):
    return {"name": name, "label": label, "type": "textbox", "query": default, "current": {"text": default, "value": default}}

def dashboard(uid, title, desc, panels, variables, time="now-30d", refresh="1m", tags=None):
    return {"uid": uid, "title": title, "description": desc, "tags": tags or ["tcgtracker"],
            "schemaVersion": 39, "version": 1, "editable": False, "graphTooltip": 1,
            "time": {"from": time, "to": "now"}, "timezone": "utc", "refresh": refresh,
            "templating": {"list": variables}, "annotations": {"list": []}, "panels": panels, "links": []}

def write(name, d):
    with open(os.path.join(OUT, name), "w") as f:
        json.dump(d, f, indent=2, ensure_ascii=False)
        f.write("\n")

# ------------------------------------------------------------------ price history
_id[0] = 0
v = [
    qvar("game", "Game", "SELECT DISTINCT game FROM card_sets ORDER BY game"),
    qvar("set", "Set", "SELECT group_id, name FROM card_sets WHERE game = '$game' LATEST ON updated_at PARTITION BY group_id"),
    qvar("card", "Card", "SELECT product_id, name FROM products WHERE group_id = $set LATEST ON updated_at PARTITION BY product_id"),
    qvar("series", "Series (printing/condition/language or grader/grade)", "SELECT DISTINCT series FROM ticks WHERE product_id = $card AND $__timeFilter(observed_at) ORDER BY series", refresh=2),
    qvar("source", "Source", "SELECT DISTINCT source FROM ticks WHERE product_id = $card ORDER BY source", multi=True, include_all=True),
    custom("kind", "Price kind", ["market", "low", "mid", "high", "direct_low", "lowest_listing", "listing", "sold", "fair"], "market"),
]
P = []
P.append(panel("Candles · $series · $source · $kind (USD)", "candlestick", [sql_target("""
SELECT observed_at AS time, first(price_cents) / 100.0 AS open, max(price_cents) / 100.0 AS high,
       min(price_cents) / 100.0 AS low, last(price_cents) / 100.0 AS close, count() AS ticks
FROM ticks
WHERE series = '$series' AND source = '$source' AND kind = '$kind' AND $__timeFilter(observed_at)
SAMPLE BY $__sampleByInterval ALIGN TO CALENDAR""")], 0, 0, 24, 10, QDB, unit="currencyUSD",
    desc="OHLC candles of one series (a SKU: printing, condition, language; or a graded card: grader, grade) from one source; one panel per selected source. Money is stored as integer cents.",
    extra={"repeat": "source", "repeatDirection": "v", "interval": "1h", "maxDataPoints": 200,
           "options": {"mode": "candles+volume", "candleStyle": "candles", "colorStrategy": "open-close", "includeAllFields": False,
                       # the volume bars are the tick count (Grafana finds volume by name otherwise)
                       "fields": {"open": "open", "high": "high", "low": "low", "close": "close", "volume": "ticks"}}}))
P.append(panel("Every series of the card · $kind, closing price (USD)", "timeseries", [sql_target("""
SELECT observed_at AS time, series, last(price_cents) / 100.0 AS close
FROM ticks
WHERE product_id = $card AND source IN ($source) AND kind = '$kind' AND $__timeFilter(observed_at)
SAMPLE BY $__sampleByInterval ALIGN TO CALENDAR""")], 0, 20, 24, 9, QDB, unit="currencyUSD",
    desc="One line per series (printing × condition × language, grader × grade) of the selected card, sources together.",
    extra={"interval": "1h"}))
P.append(panel("Latest price of every series and source", "table", [sql_target("""
SELECT series, source, kind, observed_at, price_cents / 100.0 AS price_usd, orig_minor, orig_currency
FROM ticks WHERE product_id = $card
LATEST ON observed_at PARTITION BY series, source, kind""", fmt=1)], 0, 29, 14, 10, QDB))
P.append(panel("eBay items (listings and sales)", "table", [sql_target("""
SELECT observed_at, series, source, listing_id, price_cents / 100.0 AS price_usd, ship_minor, confidence
FROM ticks
WHERE product_id = $card AND source IN ('ebay_browse', 'ebay_sold') AND $__timeFilter(observed_at)
ORDER BY observed_at DESC LIMIT 200""", fmt=1)], 14, 29, 10, 10, QDB))
write("price-history.json", dashboard("tcg-price-history", "tcgtracker · Card price history",
    "Candles and prices of one card per source, printing, condition and grade (QuestDB).", P, v))

# ------------------------------------------------------------------ movers
_id[0] = 0
v = [
    qvar("game", "Game", "SELECT DISTINCT game FROM ticks WHERE $__timeFilter(observed_at) ORDER BY game", refresh=2),
    custom("source", "Source", ["tcgcsv", "tcgplayer", "ebay_sold", "ebay_browse", "tcgtracker"], "tcgcsv"),
    custom("kind", "Price kind", ["market", "low", "mid", "lowest_listing", "sold", "listing", "fair"], "market"),
    textbox("min_price", "Minimum start price (USD)", "1"),
]
MOVERS = """
SELECT m.series, p.name, m.start_usd, m.end_usd, m.change_pct, m.ticks
FROM (
  SELECT series, product_id, first(price_cents) / 100.0 AS start_usd, last(price_cents) / 100.0 AS end_usd,
         (last(price_cents) - first(price_cents)) * 100.0 / first(price_cents) AS change_pct, count() AS ticks
  FROM ticks
  WHERE game = '$game' AND source = '$source' AND kind = '$kind' AND price_cents > 0 AND $__timeFilter(observed_at)
) m
JOIN (SELECT product_id, name FROM products LATEST ON updated_at PARTITION BY product_id) p ON m.product_id = p.product_id
WHERE m.start_usd >= $min_price AND m.ticks > 1
ORDER BY m.change_pct {dir} LIMIT 25"""
pct = {"overrides": []}
P = []
P.append(panel("Top gainers over the time range", "table", [sql_target(MOVERS.format(dir="DESC"), fmt=1)], 0, 0, 12, 13, QDB,
    desc="First and last price of each series inside the dashboard's time range (first/last follow the designated timestamp)."))
P.append(panel("Top losers over the time range", "table", [sql_target(MOVERS.format(dir="ASC"), fmt=1)], 12, 0, 12, 13, QDB))
P.append(panel("Ticks stored per game", "timeseries", [sql_target("""
SELECT observed_at AS time, game, count() AS ticks
FROM ticks WHERE $__timeFilter(observed_at)
SAMPLE BY $__sampleByInterval ALIGN TO CALENDAR""")], 0, 13, 12, 8, QDB, extra={"interval": "1h"}))
P.append(panel("Alerts fired", "timeseries", [sql_target("""
SELECT observed_at AS time, count() AS alerts
FROM alerts WHERE $__timeFilter(observed_at)
SAMPLE BY $__sampleByInterval ALIGN TO CALENDAR""")], 12, 13, 12, 8, QDB, extra={"interval": "1h"}))
write("movers.json", dashboard("tcg-movers", "tcgtracker · Movers",
    "Biggest price changes per game, source and price kind over the selected time range (QuestDB).", P, v, time="now-7d"))

# ------------------------------------------------------------------ portfolio
_id[0] = 0
v = [
    qvar("portfolio", "Portfolio", "SELECT portfolio_id, name FROM (SELECT * FROM portfolios LATEST ON updated_at PARTITION BY portfolio_id) WHERE deleted = false ORDER BY name"),
    custom("price_source", "Valued by source", ["tcgplayer", "tcgcsv", "ebay_sold", "ebay_browse"], ["tcgplayer", "tcgcsv"], multi=True),
    custom("price_kind", "Valued by price kind", ["market", "lowest_listing", "low", "mid", "sold"], ["market"], multi=True),
]
COND = [("Near Mint", "nm"), ("Lightly Played", "lp"), ("Moderately Played", "mp"), ("Heavily Played", "hp"),
        ("Damaged", "dmg"), ("Unopened", "unopened"), ("Excellent", "ex"), ("Very Good", "vg"), ("Poor", "poor")]
LANG = [("English", "en"), ("Chinese (S)", "zh-hans"), ("Chinese (T)", "zh-hant"), ("French", "fr"), ("German", "de"),
        ("Italian", "it"), ("Japanese", "ja"), ("Korean", "ko"), ("Portuguese (BR)", "pt-br"), ("Russian", "ru"), ("Spanish", "es")]
def case(path, pairs):
    arms = " ".join(f"WHEN json_extract(body, '{path}') = '{a}' THEN '{b}'" for a, b in pairs)
    return f"CASE {arms} ELSE concat('~', replace(json_extract(body, '{path}'), ' ', '%20')) END"
HOLDINGS = f"""
h AS (
  SELECT holding_id,
         json_extract(body, '$.product_id')::long AS product_id,
         json_extract(body, '$.quantity')::long AS quantity,
         json_extract(body, '$.cost_per_unit.amount')::double AS cost_usd,
         CASE WHEN json_extract(body, '$.grading.grader') IS NULL
              THEN concat(json_extract(body, '$.product_id'), '/', lower(replace(json_extract(body, '$.printing'), ' ', '-')), '/',
                          {case('$.condition', COND)}, '/', {case('$.language', LANG)})
              ELSE concat(json_extract(body, '$.product_id'), '/', lower(json_extract(body, '$.grading.grader')), '/',
                          lower(replace(json_extract(body, '$.grading.grade'), ' ', '-')))
         END AS series
  FROM (SELECT * FROM holdings LATEST ON updated_at PARTITION BY holding_id)
  WHERE portfolio_id = '$portfolio' AND deleted = false AND json_extract(body, '$.cost_per_unit.currency') = 'USD'
)"""
PRICED = f"""
WITH {HOLDINGS},
px AS (
  SELECT series, observed_at, price_cents FROM ticks
  WHERE source IN ($price_source) AND kind IN ($price_kind)
  LATEST ON observed_at PARTITION BY series
),
priced AS (
SELECT h.series, p.name, h.quantity, h.cost_usd, px.price_cents / 100.0 AS price_usd, px.observed_at AS priced_at,
       h.quantity * px.price_cents / 100.0 AS value_usd, h.quantity * h.cost_usd AS cost_basis_usd,
       h.quantity * px.price_cents / 100.0 - h.quantity * h.cost_usd AS pnl_usd
FROM h
LEFT JOIN px ON h.series = px.series
LEFT JOIN (SELECT product_id, name FROM products LATEST ON updated_at PARTITION BY product_id) p ON h.product_id = p.product_id
)"""
P = []
P.append(panel("Market value", "stat", [sql_target(f"{PRICED} SELECT sum(value_usd) AS market_value FROM priced", fmt=1)], 0, 0, 6, 5, QDB, unit="currencyUSD"))
P.append(panel("Cost basis", "stat", [sql_target(f"{PRICED} SELECT sum(cost_basis_usd) AS cost_basis FROM priced", fmt=1)], 6, 0, 6, 5, QDB, unit="currencyUSD"))
P.append(panel("Unrealized P&L", "stat", [sql_target(f"{PRICED} SELECT sum(pnl_usd) AS unrealized_pnl FROM priced", fmt=1)], 12, 0, 6, 5, QDB, unit="currencyUSD",
    field_extra={"color": {"mode": "thresholds"}, "thresholds": {"mode": "absolute", "steps": [{"color": "red", "value": None}, {"color": "green", "value": 0}]}}))
P.append(panel("Sales proceeds in range", "stat", [sql_target("""
SELECT sum(json_extract(body, '$.change.quantity')::double * json_extract(body, '$.change.price_per_unit.amount')::double) AS proceeds
FROM portfolio_events
WHERE portfolio_id = '$portfolio' AND json_extract(body, '$.change.type') = 'sold' AND $__timeFilter(at)""", fmt=1)], 18, 0, 6, 5, QDB, unit="currencyUSD"))
P.append(panel("Holdings, valued at the latest price", "table", [sql_target(PRICED + " SELECT * FROM priced ORDER BY value_usd DESC", fmt=1)], 0, 5, 24, 10, QDB,
    desc="Each holding's series is rebuilt from its stored body (product/printing/condition/language, or product/grader/grade) and valued at the newest tick of the chosen sources and kinds. USD holdings only. The query API's /v1/portfolios/{id}/valuation is the reference figure (it also accounts for sales)."))
P.append(panel("Market value over time, by holding (stacked)", "timeseries", [sql_target(f"""
WITH {HOLDINGS}
SELECT t.observed_at AS time, t.series, last(t.price_cents) * first(h.quantity) / 100.0 AS value_usd
FROM ticks t JOIN h ON t.series = h.series
WHERE t.source IN ($price_source) AND t.kind IN ($price_kind) AND $__timeFilter(t.observed_at)
SAMPLE BY $__sampleByInterval FILL(PREV) ALIGN TO CALENDAR""")], 0, 15, 24, 10, QDB, unit="currencyUSD",
    extra={"interval": "1h"}, field_extra={"custom": {"stacking": {"mode": "normal", "group": "A"}, "fillOpacity": 30}}))
write("portfolio.json", dashboard("tcg-portfolio", "tcgtracker · Portfolio value and P&L",
    "Value, cost basis and unrealized P&L of one portfolio from QuestDB (holdings are append-the-newest-state rows).", P, v, time="now-90d"))

# ------------------------------------------------------------------ pipeline health
_id[0] = 0
R = "[$__rate_interval]"
v = []
P = []
def pp(title, exprs, x, y, w, h, unit=None, ptype="timeseries", desc=None, extra=None, field_extra=None):
    ts = [prom_target(e, l, chr(65 + i)) for i, (e, l) in enumerate(exprs)]
    return panel(title, ptype, ts, x, y, w, h, PROM, unit=unit, desc=desc, extra=extra, field_extra=field_extra)
P.append(pp("Quotes/s by source (collectors)", [(f"sum by (source) (rate(tcg_collector_quotes_total{R}))", "{{source}}")], 0, 0, 12, 8, "ops"))
P.append(pp("Processor throughput", [
    (f"sum(rate(tcg_processor_quotes_total{R}))", "quotes/s"),
    (f"sum(rate(tcg_processor_ticks_total{R}))", "ticks/s"),
    (f"sum(rate(tcg_processor_alerts_total{R}))", "alerts/s")], 12, 0, 12, 8, "ops"))
P.append(pp("Consumer lag (messages)", [
    ("sum by (topic) (tcg_consumer_lag)", "{{topic}}"),
    ("max by (partition) (tcg_consumer_lag{topic=\"tcg.quotes.raw.v1\"})", "partition {{partition}}")], 0, 8, 12, 8, "short"))
P.append(pp("Dead letters/s by reason", [
    (f"sum by (reason) (rate(tcg_processor_dead_letters_total{R}))", "{{reason}}"),
    (f"sum(rate(tcg_processor_dlq_total{R})) / clamp_min(sum(rate(tcg_processor_quotes_total{R})), 1e-9)", "share of quotes")], 12, 8, 12, 8, "ops",
    desc="Quotes sent to tcg.quotes.dlq.v1 (undecodable or unbelievable), and their share of all quotes."))
P.append(pp("Circuit breakers (0 closed, 1 open, 2 half-open)", [("max by (source) (tcg_collector_breaker_state)", "{{source}}")], 0, 16, 12, 7,
    ptype="state-timeline", field_extra={"mappings": [{"type": "value", "options": {
        "0": {"text": "closed", "color": "green"}, "1": {"text": "open", "color": "red"}, "2": {"text": "half-open", "color": "orange"}}}]}))
P.append(pp("eBay daily budget left (calls)", [("min by (source) (tcg_collector_budget_remaining{source=~\"ebay.*\"})", "{{source}}"),
    ("min by (source) (tcg_collector_budget_remaining{source!~\"ebay.*\"})", "{{source}}")], 12, 16, 12, 7, "short"))
P.append(pp("Webhook failures/s by outcome", [
    (f"sum by (outcome) (rate(tcg_webhook_deliveries_total{{outcome!=\"delivered\"}}{R}))", "{{outcome}}"),
    (f"sum(rate(tcg_webhook_deliveries_total{{outcome=\"delivered\"}}{R}))", "delivered"),
    (f"sum(increase(tcg_webhook_endpoints_disabled_total{R}))", "endpoints disabled")], 0, 23, 12, 8, "ops"))
P.append(pp("Webhook outbox backlog and attempt latency", [
    ("max(tcg_webhook_outbox_backlog)", "backlog"),
    (f"histogram_quantile(0.95, sum by (le) (rate(tcg_webhook_attempt_duration_seconds_bucket{R})))", "p95 attempt (s)")], 12, 23, 12, 8, "short"))
P.append(pp("Collector errors/s and retries/s", [
    (f"sum by (source, kind) (rate(tcg_collector_errors_total{R}))", "error {{source}} {{kind}}"),
    (f"sum by (source, reason) (rate(tcg_collector_retries_total{R}))", "retry {{source}} {{reason}}")], 0, 31, 12, 8, "ops"))
P.append(pp("Upstream request latency p95 (s)", [
    (f"histogram_quantile(0.95, sum by (le, source) (rate(tcg_collector_request_duration_seconds_bucket{R})))", "{{source}}")], 12, 31, 12, 8, "s"))
P.append(pp("Processor batch duration", [
    (f"histogram_quantile(0.5, sum by (le) (rate(tcg_processor_batch_seconds_bucket{R})))", "p50"),
    (f"histogram_quantile(0.99, sum by (le) (rate(tcg_processor_batch_seconds_bucket{R})))", "p99"),
    (f"sum(rate(tcg_processor_batch_seconds_sum{R})) / clamp_min(sum(rate(tcg_processor_batch_seconds_count{R})), 1e-9)", "mean")], 0, 39, 12, 8, "s"))
P.append(pp("Kafka produce failures/s and rejections/s", [
    (f"sum by (topic) (rate(tcg_kafka_delivery_failures_total{R}))", "produce failed {{topic}}"),
    (f"sum by (reason) (rate(tcg_processor_rejected_total{R}))", "rejected {{reason}}")], 12, 39, 12, 8, "ops"))
P.append(pp("Query API requests/s by status and p95 latency", [
    (f"sum by (status) (rate(tcg_api_requests_total{R}))", "{{status}}"),
    (f"histogram_quantile(0.95, sum by (le) (rate(tcg_api_request_duration_seconds_bucket{R})))", "p95 (s)")], 0, 47, 12, 8, "short"))
P.append(pp("Targets up", [("up{job=~\"tcg-.*\"}", "{{job}} {{instance}}")], 12, 47, 12, 8, ptype="state-timeline",
    field_extra={"mappings": [{"type": "value", "options": {"0": {"text": "down", "color": "red"}, "1": {"text": "up", "color": "green"}}}]}))
write("pipeline-health.json", dashboard("tcg-pipeline-health", "tcgtracker · Pipeline health",
    "Collectors, processors, dead letters, breakers, budgets, webhooks and the API, from Prometheus.", P, v, time="now-6h", refresh="30s"))
