//! A portfolio's value now and over time (the store's average-cost arithmetic, in USD; holdings
//! with non-USD costs are listed apart).

use std::{collections::HashMap, sync::Arc};

use axum::{
    Json,
    extract::{Path, State},
    response::Response,
};
use schemars::{JsonSchema, SchemaGenerator};
use serde::{Deserialize, Serialize};
use tcg_schemas::{
    HoldingId, Money, PortfolioId, PriceKind, ProductId, SeriesKey, Source, Timestamp,
};
use tcg_store::{HoldingValue, PriceFilter, ValuationPrice};

use super::valuing::Valuing;
use utoipa::IntoParams;

use crate::{
    auth::Caller,
    card_names::CardRef,
    error::{ApiError, ApiResult},
    limits,
    openapi::{api_schema, doc},
    problem::{FieldError, Problem},
    query::{ApiQuery, QueryParams, check_limit, limit_or, opt, query_value},
    routes::{
        cards::{cached::cached_with_cover, candles::range},
        params::{Interval, Pricing},
        portfolios::{
            history_cache, holdings_and_events, owned,
            valuing::{self, Totals},
        },
    },
    state::AppState,
};

/// Valuation of a portfolio now (USD; holdings with non-USD costs are listed, not totalled).
/// The totals cover every holding; `holdings` is one page of them (`limit`, `cursor`).
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct Valuation {
    pub portfolio_id: PortfolioId,
    pub at: Timestamp,
    pub market_value_usd: Money,
    pub cost_basis_usd: Money,
    pub realized_pnl_usd: Money,
    pub unrealized_pnl_usd: Money,
    /// A page of the holdings, in the order of their ids.
    pub holdings: Vec<HoldingValuation>,
    pub non_usd_holdings: Vec<HoldingId>,
    /// Holdings with copies held and no price yet: left out of market value, cost basis and
    /// unrealized P&L (so market value − cost basis = unrealized P&L); shown, not valued at 0.
    pub unpriced_holdings: Vec<HoldingId>,
    /// Holdings in the portfolio (every page).
    pub holdings_total: usize,
    /// Pass as `cursor` for the next page of holdings; absent on the last page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
}

/// One holding's figures.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct HoldingValuation {
    pub holding_id: HoldingId,
    pub series_id: String,
    pub product_id: ProductId,
    /// The card in words (absent when the catalog does not know it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub card: Option<CardRef>,
    pub quantity: u32,
    /// Last price at or before the instant; absent when never priced.
    pub unit_price_usd: Option<Money>,
    pub priced_at: Option<Timestamp>,
    pub market_value_usd: Money,
    pub cost_basis_usd: Money,
    pub realized_pnl_usd: Money,
    pub unrealized_pnl_usd: Money,
}

/// One point of a portfolio's value over time.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct ValuationPointView {
    /// Bucket start; figures are as of the bucket's end.
    pub start: Timestamp,
    pub market_value_usd: Money,
    pub cost_basis_usd: Money,
    pub realized_pnl_usd: Money,
    pub unrealized_pnl_usd: Money,
}

/// A portfolio's value over time.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct ValuationHistory {
    pub portfolio_id: PortfolioId,
    pub interval: Interval,
    pub from: Timestamp,
    pub to: Timestamp,
    pub points: Vec<ValuationPointView>,
}

api_schema!(Valuation, ValuationHistory);

pub(crate) fn schemas(g: &mut SchemaGenerator) {
    g.subschema_for::<Valuation>();
    g.subschema_for::<ValuationHistory>();
}

/// Which prices value the holdings, and which page of them to list.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ValuationParams {
    /// `market` (default): value holdings at the price `source` and `kind` name. `fair`: at
    /// tcgtracker's fair value of each holding's series (kind `fair`, a blend of every source
    /// with outliers left out), falling back per holding to the price `source` and `kind` name
    /// (the market price by default) while the series has no fair value yet.
    #[serde(default, deserialize_with = "opt")]
    price: Option<Pricing>,
    /// Source of prices (default any).
    #[serde(default, deserialize_with = "opt")]
    #[param(value_type = Option<doc::Source>)]
    source: Option<Source>,
    /// Price kind (default `market`).
    #[serde(default, deserialize_with = "opt")]
    #[param(value_type = Option<doc::PriceKind>)]
    kind: Option<PriceKind>,
    /// Holdings listed, 1–1000 (default 1000); the totals always cover every holding.
    #[serde(default, deserialize_with = "opt")]
    #[param(minimum = 1, maximum = 1000, value_type = Option<u32>, format = Int32)]
    limit: Option<u32>,
    /// `next_cursor` of the previous page: holdings are listed by id, and a page starts after
    /// this id (any UUID; one of no holding of this portfolio works as well).
    #[serde(default, deserialize_with = "opt")]
    #[param(value_type = Option<String>, format = "uuid")]
    cursor: Option<HoldingId>,
}

query_value! {
    HoldingId => "a holding id (UUID) from next_cursor", |s: &str| s.parse().ok();
}

impl QueryParams for ValuationParams {
    fn check(&mut self, state: &AppState, errors: &mut Vec<FieldError>) {
        check_limit(
            errors,
            "limit",
            self.limit,
            state.config().max_valuation_page,
        );
    }
}

fn valuation_price(
    price: Option<Pricing>,
    source: Option<Source>,
    kind: Option<PriceKind>,
) -> Valuing {
    Valuing {
        prices: ValuationPrice {
            prices: PriceFilter {
                sources: source.into_iter().collect(),
                kinds: vec![kind.unwrap_or(PriceKind::Market)],
            },
        },
        fair: price == Some(Pricing::Fair),
    }
}

fn holding_view(h: HoldingValue, cards: &HashMap<ProductId, Arc<CardRef>>) -> HoldingValuation {
    let product_id = h
        .series_id
        .parse::<SeriesKey>()
        .map_or(ProductId(0), |k| k.product_id());
    HoldingValuation {
        product_id,
        card: cards.get(&product_id).map(|c| (**c).clone()),
        holding_id: h.holding_id,
        series_id: h.series_id,
        quantity: h.quantity,
        unit_price_usd: h.unit_price_usd,
        priced_at: h.priced_at,
        market_value_usd: h.market_value_usd,
        cost_basis_usd: h.cost_basis_usd,
        realized_pnl_usd: h.realized_pnl_usd,
        unrealized_pnl_usd: h.unrealized_pnl_usd,
    }
}

/// The page of `all` (in holding id order) after `cursor` (keyset: the holdings whose id is
/// greater), at most `limit` long, and the cursor of the next page.
fn page(
    mut all: Vec<HoldingValue>,
    cursor: Option<HoldingId>,
    limit: usize,
) -> (Vec<HoldingValue>, Option<String>) {
    all.sort_by_key(|h| h.holding_id);
    let start = cursor.map_or(0, |c| all.partition_point(|h| h.holding_id <= c));
    let total = all.len();
    let items: Vec<HoldingValue> = all.into_iter().skip(start).take(limit).collect();
    let next = (start + items.len() < total)
        .then(|| items.last().map(|h| h.holding_id.to_string()))
        .flatten();
    (items, next)
}

/// Value now: market value, cost basis, unrealized and realized P&L, in total and per holding
/// (a page of them).
#[utoipa::path(get, path = "/v1/portfolios/{id}/valuation", tag = "portfolios",
    params(("id" = String, Path, format = "uuid", description = "Portfolio id (UUID)"), ValuationParams),
    responses((status = 200, description = "Valuation", body = Valuation),
              (status = 400, description = "Bad parameters", body = Problem),
              (status = 404, description = "No such portfolio of the caller", body = Problem),
              (status = 503, description = "The store did not answer within the deadline, or is saturated", body = Problem)))]
pub async fn valuation(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    query: Result<ApiQuery<ValuationParams>, ApiError>,
) -> ApiResult<Json<Valuation>> {
    let p = owned(&state, &caller, &id).await?;
    let ApiQuery(q) = query?;
    let price = valuation_price(q.price, q.source, q.kind);
    let at = state.now();
    let (holdings, events) = holdings_and_events(&state, &p).await?;
    let total = holdings.len();
    let v = valuing::value(&state, holdings, events, vec![at], &price, true).await?;
    let sum = v.totals.first().copied().unwrap_or_default();
    let limit = limit_or(q.limit, state.config().max_valuation_page);
    let (items, next_cursor) = page(v.holdings, q.cursor, limit);
    let products: Vec<ProductId> = items
        .iter()
        .filter_map(|h| h.series_id.parse::<SeriesKey>().ok())
        .map(|k| k.product_id())
        .collect();
    let cards = state
        .card_names()
        .many(state.prices().as_ref(), products)
        .await?;
    let items = items.into_iter().map(|h| holding_view(h, &cards)).collect();
    Ok(Json(Valuation {
        portfolio_id: p.id,
        at,
        market_value_usd: Totals::usd(sum.market),
        cost_basis_usd: Totals::usd(sum.cost),
        realized_pnl_usd: Totals::usd(sum.realized),
        unrealized_pnl_usd: Totals::usd(sum.unrealized),
        holdings: items,
        non_usd_holdings: v.non_usd,
        unpriced_holdings: v.unpriced,
        holdings_total: total,
        next_cursor,
    }))
}

/// History parameters.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct HistoryParams {
    /// `1h`, `1d` (default), `1w` or `1M`.
    #[serde(default, deserialize_with = "opt")]
    interval: Option<Interval>,
    /// RFC 3339; default 90 buckets before `to`.
    #[serde(default, deserialize_with = "opt")]
    #[param(value_type = Option<doc::Timestamp>)]
    from: Option<Timestamp>,
    /// RFC 3339, exclusive; default now.
    #[serde(default, deserialize_with = "opt")]
    #[param(value_type = Option<doc::Timestamp>)]
    to: Option<Timestamp>,
    /// `market` (default) or `fair`: as for the valuation, at each bucket's end.
    #[serde(default, deserialize_with = "opt")]
    price: Option<Pricing>,
    #[serde(default, deserialize_with = "opt")]
    #[param(value_type = Option<doc::Source>)]
    source: Option<Source>,
    #[serde(default, deserialize_with = "opt")]
    #[param(value_type = Option<doc::PriceKind>)]
    kind: Option<PriceKind>,
}

impl QueryParams for HistoryParams {}

/// 422 when valuing `holdings` at `buckets` instants is over `max_history_cells`, saying how
/// many buckets this portfolio may ask for.
fn check_cells(
    state: &AppState,
    holdings: usize,
    buckets: usize,
    interval: Interval,
) -> ApiResult<()> {
    let max = state.config().max_history_cells;
    let cells = holdings.saturating_mul(buckets);
    if cells <= max {
        return Ok(());
    }
    let fit = max / holdings.max(1);
    let detail = format!(
        "this history would value {holdings} holdings at {buckets} buckets of {} ({cells} \
         holding-buckets), more than the limit of {max} (max_history_cells); ask for at most \
         {fit} buckets: a shorter range (`from`, `to`) or a coarser interval (1d, 1w, 1M)",
        interval.as_str()
    );
    Err(ApiError::TooLarge {
        errors: vec![
            FieldError::new("from", format!("at most {fit} buckets for this portfolio")),
            FieldError::new("interval", "or a coarser interval (1d, 1w, 1M)"),
        ],
        detail,
    })
}

/// Value over time, one point per bucket (each valued as of its bucket's end). Holdings ×
/// buckets is capped (`max_history_cells`, 2,000,000 by default; 422 beyond, naming how many
/// buckets fit). Answers are kept in the response cache, keyed by the request and the
/// portfolio's revision (raised by every change to its holdings and events), until a tick of a
/// held series is written.
#[utoipa::path(get, path = "/v1/portfolios/{id}/history", tag = "portfolios",
    params(("id" = String, Path, format = "uuid", description = "Portfolio id (UUID)"), HistoryParams),
    responses((status = 200, description = "Points (served from the response cache until a holding changes or a tick of a held series is written)", body = ValuationHistory, headers(("ETag" = String, description = "Weak entity tag of the answer; send it back in `If-None-Match` to get 304 while it is unchanged"), ("Cache-Control" = String, description = "`private, max-age=N`: N seconds at most (15 by default), never longer than the answer stays valid"))),
              (status = 304, description = "Not modified: `If-None-Match` names the current answer's ETag (no body)"),
              (status = 400, description = "Bad parameters", body = Problem),
              (status = 404, description = "No such portfolio of the caller", body = Problem),
              (status = 422, description = "A range the server does not compute: `from` not before `to` (`validation`), more than 5000 buckets of `interval`, or holdings × buckets over the limit (`too-large`: ask for fewer buckets)", body = Problem),
              (status = 503, description = "The store did not answer within the deadline, or is saturated", body = Problem)))]
pub async fn history(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    query: Result<ApiQuery<HistoryParams>, ApiError>,
) -> ApiResult<Response> {
    let portfolio = owned(&state, &caller, &id).await?;
    let ApiQuery(q) = query?;
    let interval = q.interval.unwrap_or_default();
    let (from, to) = range(interval, q.from, q.to, &state)?;
    let price = valuation_price(q.price, q.source, q.kind);
    let starts = interval.buckets().buckets(from, to);
    let (version, held) = history_cache::version(&state, &portfolio).await?;
    let request = history_cache::keyed(
        &state,
        &portfolio,
        (interval, q.to),
        (from, to),
        &price,
        &version,
    );
    let compute = async {
        let (holdings, events) = match held {
            Some(held) => held,
            None => holdings_and_events(&state, &portfolio).await?,
        };
        check_cells(&state, holdings.len(), starts.len(), interval)?;
        let cover = history_cache::cover(&holdings, &price);
        // Only computing takes a heavy slot: a kept answer is served without one.
        let _heavy = limits::heavy_slot(&state).await?;
        // Each bucket is valued as of its end.
        let instants = starts
            .iter()
            .map(|s| Timestamp::from_micros(interval.buckets().next(*s).as_micros() - 1))
            .collect();
        let v = valuing::value(&state, holdings, events, instants, &price, false).await?;
        let history = ValuationHistory {
            portfolio_id: portfolio.id,
            interval,
            from,
            to,
            points: starts
                .into_iter()
                .zip(v.totals)
                .map(|(start, t)| ValuationPointView {
                    start,
                    market_value_usd: Totals::usd(t.market),
                    cost_basis_usd: Totals::usd(t.cost),
                    realized_pnl_usd: Totals::usd(t.realized),
                    unrealized_pnl_usd: Totals::usd(t.unrealized),
                })
                .collect(),
        };
        Ok((history, cover))
    };
    cached_with_cover(&state, request, compute).await
}
