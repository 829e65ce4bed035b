//! ILP rows: one encoder per table (symbols first, then columns; a NULL is an omitted column).

use questdb::ingress::{Buffer, TimestampMicros};
use tcg_schemas::{
    AlertEvent, AlertRule, CardSet, Currency, Holding, HoldingId, Portfolio, PortfolioEvent,
    PortfolioId, Product, RuleId, Sku, Tick, Timestamp, UserId,
};

use crate::{Result, StoreError};

pub(crate) fn ilp_err(e: questdb::Error) -> StoreError {
    StoreError::Ilp(e)
}

/// What QuestDB said when it refused a batch (its HTTP 400 answer to `/write`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    /// The table of the first refused line, when the server named it.
    pub table: Option<String>,
    /// Its column, when the server named it.
    pub column: Option<String>,
    /// Why, e.g. `cast error from protocol type: STRING to column type: LONG`.
    pub reason: String,
}

/// Reads a refusal out of a questdb-rs flush error message: `Could not flush buffer: ` and then
/// either the raw JSON body (QuestDB answers `application/json; charset=utf-8`, which questdb-rs
/// 7.2 does not take for JSON) or `message [id: …, code: …, line: …]`. A refusal is QuestDB's
/// error code `invalid` (a line it cannot parse or a value its column cannot take); `None` for
/// anything else (a 5xx, a network error), which is worth retrying as it is.
pub fn parse_refusal(msg: &str) -> Option<Refusal> {
    let body = msg
        .strip_prefix("Could not flush buffer: ")
        .unwrap_or(msg)
        .trim();
    let (code, message) = match serde_json::from_str::<serde_json::Value>(body) {
        Ok(json) => (
            json.get("code").and_then(|v| v.as_str()).map(str::to_owned),
            json.get("message")
                .and_then(|v| v.as_str())
                .unwrap_or(body)
                .to_owned(),
        ),
        Err(_) => match body.rsplit_once(" [") {
            Some((message, details)) if details.ends_with(']') => (
                details
                    .trim_end_matches(']')
                    .split(", ")
                    .find_map(|kv| kv.strip_prefix("code: "))
                    .map(str::to_owned),
                message.to_owned(),
            ),
            _ => (None, body.to_owned()),
        },
    };
    if code.as_deref() != Some("invalid") {
        return None;
    }
    // "failed to parse line protocol:errors encountered on line(s):\nerror in line 1: table: ticks,
    // column: price_cents; cast error from protocol type: STRING to column type: LONG"
    let Some(at) = message.find("table: ") else {
        return Some(Refusal {
            table: None,
            column: None,
            reason: message,
        });
    };
    let first = message[at..].lines().next().unwrap_or_default();
    let (place, reason) = first.split_once("; ").unwrap_or((first, first));
    let mut table = None;
    let mut column = None;
    for part in place.split(", ") {
        if let Some(t) = part.strip_prefix("table: ") {
            table = Some(t.trim().to_owned());
        } else if let Some(c) = part.strip_prefix("column: ") {
            column = Some(c.trim().to_owned());
        }
    }
    Some(Refusal {
        table,
        column,
        reason: reason.trim().to_owned(),
    })
}

/// The error of a failed flush of `pending_rows` rows (kept in the buffer either way).
pub(crate) fn flush_error(source: questdb::Error, pending_rows: usize) -> StoreError {
    match parse_refusal(source.msg()) {
        Some(r) if source.code() == questdb::ErrorCode::ServerFlushError => StoreError::Refused {
            table: r.table,
            column: r.column,
            reason: r.reason,
            pending_rows,
            source,
        },
        _ => StoreError::FlushFailed {
            pending_rows,
            source,
        },
    }
}

pub(crate) fn ts(t: Timestamp) -> TimestampMicros {
    TimestampMicros::new(t.as_micros())
}

/// Appends one tick row (table `ticks`). Symbols first, then columns; a NULL is an omitted column;
/// the designated timestamp is the observation time.
pub fn encode_tick(buf: &mut Buffer, t: &Tick) -> Result<()> {
    if t.price_usd.currency != Currency::USD {
        return Err(StoreError::InvalidTick(format!(
            "price_usd is in {}",
            t.price_usd.currency
        )));
    }
    buf.table("ticks")
        .and_then(|b| b.symbol("series", &t.series_id))
        .and_then(|b| b.symbol("source", t.source.as_str()))
        .and_then(|b| b.symbol("kind", t.kind.as_str()))
        .and_then(|b| b.symbol("game", t.game.slug()))
        .and_then(|b| b.symbol("orig_currency", t.original.currency.as_str()))
        .and_then(|b| match &t.shipping {
            Some(s) => b.symbol("ship_currency", s.currency.as_str()),
            None => Ok(b),
        })
        .and_then(|b| b.column_str("listing_id", t.listing_id.as_deref().unwrap_or("")))
        .and_then(|b| b.column_i64("product_id", t.series.product_id().0 as i64))
        .and_then(|b| b.column_i64("price_cents", t.price_usd.minor))
        .and_then(|b| b.column_i64("orig_minor", t.original.minor))
        .and_then(|b| match &t.shipping {
            Some(s) => b.column_i64("ship_minor", s.minor),
            None => Ok(b),
        })
        .and_then(|b| match t.confidence {
            Some(c) => b.column_i64("confidence", i64::from(c)),
            None => Ok(b),
        })
        .and_then(|b| b.column_bool("heartbeat", t.heartbeat))
        .and_then(|b| match crate::codes::sources_text(&t.agreeing) {
            Some(a) => b.column_str("agreeing", a),
            None => Ok(b),
        })
        .and_then(|b| b.at(ts(t.observed_at)))
        .map_err(ilp_err)
}

/// Appends one alert row; its designated timestamp is the tick's observation time, so a replay
/// has the same keys and is deduplicated.
pub fn encode_alert(buf: &mut Buffer, a: &AlertEvent) -> Result<()> {
    let body = serde_json::to_string(a)?;
    buf.table("alerts")
        .and_then(|b| b.symbol("owner", &a.owner.0))
        .and_then(|b| b.symbol("series", &a.series_id))
        .and_then(|b| b.column_str("alert_id", a.id.to_string()))
        .and_then(|b| b.column_str("rule_id", a.rule_id.to_string()))
        .and_then(|b| b.column_str("body", &body))
        .and_then(|b| b.at(ts(a.observed_at)))
        .map_err(ilp_err)
}

fn opt_str<'b>(b: &'b mut Buffer, name: &str, v: Option<&str>) -> questdb::Result<&'b mut Buffer> {
    match v {
        Some(v) => b.column_str(name, v),
        None => Ok(b),
    }
}

pub fn encode_set(buf: &mut Buffer, s: &CardSet, at: Timestamp) -> Result<()> {
    buf.table("card_sets")
        .and_then(|b| b.symbol("game", s.game.slug()))
        .and_then(|b| b.column_i64("group_id", i64::from(s.group_id.0)))
        .and_then(|b| b.column_i64("category_id", i64::from(s.category_id.0)))
        .and_then(|b| b.column_str("name", &s.name))
        .and_then(|b| opt_str(b, "abbreviation", s.abbreviation.as_deref()))
        .and_then(|b| opt_str(b, "published_on", s.published_on.as_deref()))
        .and_then(|b| b.at(ts(at)))
        .map_err(ilp_err)
}

pub fn encode_product(buf: &mut Buffer, p: &Product, at: Timestamp) -> Result<()> {
    buf.table("products")
        .and_then(|b| b.symbol("game", p.game.slug()))
        .and_then(|b| b.column_i64("product_id", p.product_id.0 as i64))
        .and_then(|b| b.column_i64("category_id", i64::from(p.category_id.0)))
        .and_then(|b| b.column_i64("group_id", i64::from(p.group_id.0)))
        .and_then(|b| b.column_str("name", &p.name))
        .and_then(|b| opt_str(b, "clean_name", p.clean_name.as_deref()))
        .and_then(|b| opt_str(b, "number", p.number.as_deref()))
        .and_then(|b| opt_str(b, "rarity", p.rarity.as_deref()))
        .and_then(|b| opt_str(b, "image_url", p.image_url.as_deref()))
        .and_then(|b| opt_str(b, "url", p.url.as_deref()))
        .and_then(|b| b.at(ts(at)))
        .map_err(ilp_err)
}

pub fn encode_sku(buf: &mut Buffer, s: &Sku, at: Timestamp) -> Result<()> {
    buf.table("skus")
        .and_then(|b| b.column_i64("sku_id", s.sku_id.0 as i64))
        .and_then(|b| b.column_i64("product_id", s.product_id.0 as i64))
        .and_then(|b| b.column_str("printing", s.printing.as_str()))
        .and_then(|b| b.column_str("condition", s.condition.as_str()))
        .and_then(|b| b.column_str("language", s.language.as_str()))
        .and_then(|b| b.at(ts(at)))
        .map_err(ilp_err)
}

pub fn encode_portfolio(
    buf: &mut Buffer,
    p: &Portfolio,
    deleted: bool,
    at: Timestamp,
) -> Result<()> {
    buf.table("portfolios")
        .and_then(|b| b.symbol("portfolio_id", p.id.to_string()))
        .and_then(|b| b.symbol("owner", &p.owner.0))
        .and_then(|b| b.column_str("name", &p.name))
        .and_then(|b| b.column_ts("created_at", ts(p.created_at)))
        .and_then(|b| b.column_bool("deleted", deleted))
        .and_then(|b| b.at(ts(at)))
        .map_err(ilp_err)
}

pub fn encode_holding(
    buf: &mut Buffer,
    portfolio_id: PortfolioId,
    holding_id: HoldingId,
    body: Option<&Holding>,
    at: Timestamp,
) -> Result<()> {
    let json = body
        .map(serde_json::to_string)
        .transpose()?
        .unwrap_or_default();
    buf.table("holdings")
        .and_then(|b| b.symbol("holding_id", holding_id.to_string()))
        .and_then(|b| b.symbol("portfolio_id", portfolio_id.to_string()))
        .and_then(|b| b.column_str("body", &json))
        .and_then(|b| b.column_bool("deleted", body.is_none()))
        .and_then(|b| b.at(ts(at)))
        .map_err(ilp_err)
}

pub fn encode_event(buf: &mut Buffer, e: &PortfolioEvent) -> Result<()> {
    let body = serde_json::to_string(e)?;
    buf.table("portfolio_events")
        .and_then(|b| b.symbol("portfolio_id", e.portfolio_id.to_string()))
        .and_then(|b| b.symbol("holding_id", e.holding_id.to_string()))
        .and_then(|b| b.column_str("event_id", e.id.to_string()))
        .and_then(|b| b.column_str("body", &body))
        .and_then(|b| b.at(ts(e.at)))
        .map_err(ilp_err)
}

pub fn encode_rule(
    buf: &mut Buffer,
    rule_id: RuleId,
    owner: &UserId,
    rule: Option<&AlertRule>,
    at: Timestamp,
) -> Result<()> {
    let json = rule
        .map(serde_json::to_string)
        .transpose()?
        .unwrap_or_default();
    buf.table("alert_rules")
        .and_then(|b| b.symbol("rule_id", rule_id.to_string()))
        .and_then(|b| b.symbol("owner", &owner.0))
        .and_then(|b| b.column_i64("product_id", rule.map_or(0, |r| r.product_id.0 as i64)))
        .and_then(|b| b.column_str("body", &json))
        .and_then(|b| b.column_bool("deleted", rule.is_none()))
        .and_then(|b| b.at(ts(at)))
        .map_err(ilp_err)
}
