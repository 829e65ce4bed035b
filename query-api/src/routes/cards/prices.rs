//! Latest prices of a batch of series, and movers.

use std::{
    collections::{HashMap, HashSet},
    sync::Arc,
};

use axum::{extract::State, response::Response};
use schemars::{JsonSchema, SchemaGenerator};
use serde::{Deserialize, Serialize};
use tcg_schemas::{Game, GroupId, Money, PriceKind, ProductId, SeriesKey, Source, Timestamp};
use tcg_store::{LatestPrice, Mover, MoversQuery, PriceFilter};
use utoipa::IntoParams;

use crate::{
    auth::Caller,
    card_names::CardRef,
    error::ApiResult,
    openapi::{api_schema, doc},
    problem::FieldError,
    query::{ApiQuery, QueryParams, check_limit, limit_or, opt},
    response_cache::Cover,
    routes::{
        cards::{
            PriceView,
            cached::{Cacheable, cached},
            confirm, price_view,
            sudden::{self, Jump},
        },
        params::{MoversDirection, MoversWindow, SeriesIds},
    },
    state::AppState,
};

/// The latest price of one (series, source, kind).
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct LatestView {
    pub series_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub product_id: Option<ProductId>,
    /// The card in words (absent when the catalog does not know it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub card: Option<CardRef>,
    #[serde(flatten)]
    pub price: PriceView,
}

/// Latest prices of a batch of series.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct LatestList {
    pub items: Vec<LatestView>,
    /// Requested series with no price (unknown or never priced).
    pub missing: Vec<String>,
}

/// A series whose price moved.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct MoverView {
    pub series_id: String,
    pub product_id: ProductId,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// The card in words (absent when the catalog does not know it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub card: Option<CardRef>,
    pub source: Source,
    pub kind: PriceKind,
    pub start_usd: Money,
    pub start_at: Timestamp,
    pub end_usd: Money,
    pub end_at: Timestamp,
    /// Change in basis points (1/100 of a percent), rounded towards zero.
    pub change_bps: i64,
    /// The largest change between two of the series' daily closes at most two days apart within
    /// the window.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jump: Option<Jump>,
    /// `true` when that jump made most of the move (at least half of it, and 10 % or more on
    /// its own): news or a spike, not a drift.
    pub sudden: bool,
    /// Independent sources whose price of the series (TCGplayer market, eBay sales; TCGplayer's
    /// API and TCGCSV are one source) moved the same way over the window by at least half as
    /// much, this mover's own source included: "confirmed by `confirmed_by` of
    /// `sources_priced` sources". Start prices are the close of the hour (24h window) or day
    /// (7d, 30d) holding the window's start.
    pub confirmed_by: u8,
    /// Independent sources with a market or sale price of the series at both ends of the window.
    pub sources_priced: u8,
    /// `true` when no other source confirms the move (`confirmed_by` ≤ 1): one source's spike or
    /// a broken price until another shows it too.
    pub single_source: bool,
}

/// Top gainers and losers over a window.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct MoversView {
    pub window: MoversWindow,
    pub since: Timestamp,
    pub as_of: Timestamp,
    /// Biggest rise first (empty for `direction=down`).
    pub gainers: Vec<MoverView>,
    /// Biggest fall first (empty for `direction=up`).
    pub losers: Vec<MoverView>,
}

api_schema!(LatestList, MoversView);

pub(crate) fn schemas(g: &mut SchemaGenerator) {
    g.subschema_for::<LatestList>();
    g.subschema_for::<MoversView>();
}

/// Latest-price parameters.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct LatestParams {
    /// Comma-separated series ids (`451784/holofoil/nm/en,451784/psa/10`), 1 to 200
    /// (required).
    #[serde(default, deserialize_with = "opt")]
    #[param(value_type = String, required = true)]
    series: Option<SeriesIds>,
    /// Only this source.
    #[serde(default, deserialize_with = "opt")]
    #[param(value_type = Option<doc::Source>)]
    source: Option<Source>,
    /// Only this price kind.
    #[serde(default, deserialize_with = "opt")]
    #[param(value_type = Option<doc::PriceKind>)]
    kind: Option<PriceKind>,
}

impl QueryParams for LatestParams {
    fn check(&mut self, state: &AppState, errors: &mut Vec<FieldError>) {
        if errors.iter().any(|e| e.field == "series") {
            return;
        }
        let count = self.series.as_ref().map_or(0, |s| s.0.len());
        let max = state.config().max_latest_series;
        if count == 0 {
            errors.push(FieldError::new(
                "series",
                "give 1 or more comma-separated series ids",
            ));
        } else if count > max {
            errors.push(FieldError::new(
                "series",
                format!("at most {max} series ids"),
            ));
        }
    }
}

fn latest_view(l: LatestPrice, cards: &HashMap<ProductId, Arc<CardRef>>) -> LatestView {
    let product_id = product_of(&l.series_id);
    LatestView {
        series_id: l.series_id.clone(),
        product_id,
        card: product_id
            .and_then(|p| cards.get(&p))
            .map(|c| (**c).clone()),
        price: price_view(l),
    }
}

fn product_of(series_id: &str) -> Option<ProductId> {
    series_id.parse::<SeriesKey>().ok().map(|k| k.product_id())
}

/// The latest price of each (series, source, kind) of a batch of series.
#[utoipa::path(get, path = "/v1/prices/latest", tag = "cards", params(LatestParams),
    responses((status = 200, description = "Latest prices (served from the response cache until a tick of a named series is written)", body = LatestList, headers(("ETag" = String, description = "Weak entity tag of the answer; send it back in `If-None-Match` to get 304 while it is unchanged"), ("Cache-Control" = String, description = "`private, max-age=N`: N seconds at most (15 by default), never longer than the answer stays valid"))),
              (status = 304, description = "Not modified: `If-None-Match` names the current answer's ETag (no body)"),
              (status = 400, description = "Bad parameters", body = crate::problem::Problem)))]
pub async fn latest(
    State(state): State<AppState>,
    _caller: Caller,
    ApiQuery(q): ApiQuery<LatestParams>,
) -> ApiResult<Response> {
    let ids = q.series.unwrap_or_default().0;
    let mut unique = Vec::with_capacity(ids.len());
    let mut seen = HashSet::new();
    for id in ids {
        if seen.insert(id.clone()) {
            unique.push(id);
        }
    }
    let prices = PriceFilter {
        sources: q.source.into_iter().collect(),
        kinds: q.kind.into_iter().collect(),
    };
    let mut sorted = unique.clone();
    sorted.sort_unstable();
    let request = Cacheable {
        route: "/v1/prices/latest",
        // the order of the answer's items is the store's, not the request's: one key for any
        // order of the same ids
        key: format!("latest|{}|{prices:?}", sorted.join(",")),
        cover: Cover::Series {
            series: sorted
                .iter()
                .filter_map(|id| Some((id.parse::<SeriesKey>().ok()?.product_id(), id.clone())))
                .collect(),
            prices: prices.clone(),
        },
        fresh_for: state.config().cache_ttl,
    };
    cached(&state, request, async {
        let items = state.prices().latest_prices(&unique, &prices).await?;
        let priced: HashSet<&str> = items.iter().map(|l| l.series_id.as_str()).collect();
        let missing = unique
            .iter()
            .filter(|s| !priced.contains(s.as_str()))
            .cloned()
            .collect();
        let products: Vec<ProductId> = items
            .iter()
            .filter_map(|l| product_of(&l.series_id))
            .collect();
        let cards = state
            .card_names()
            .many(state.prices().as_ref(), products)
            .await?;
        let mut items: Vec<LatestView> =
            items.into_iter().map(|l| latest_view(l, &cards)).collect();
        let mut priced: Vec<(String, &mut PriceView)> = items
            .iter_mut()
            .map(|l| (l.series_id.clone(), &mut l.price))
            .collect();
        super::spread::annotate_all(state.prices().as_ref(), &mut priced).await?;
        Ok(LatestList { items, missing })
    })
    .await
}

/// Mover parameters.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct MoversParams {
    /// Game slug or category id.
    #[serde(default, deserialize_with = "opt")]
    #[param(value_type = Option<String>)]
    game: Option<Game>,
    /// Set (group) id.
    #[serde(default, deserialize_with = "opt")]
    #[param(value_type = Option<doc::GroupId>)]
    set: Option<GroupId>,
    /// `24h`, `7d` (default) or `30d`.
    #[serde(default, deserialize_with = "opt")]
    window: Option<MoversWindow>,
    /// `up`, `down` or `both` (default).
    #[serde(default, deserialize_with = "opt")]
    direction: Option<MoversDirection>,
    /// Movers per direction, 1–100 (default 20).
    #[serde(default, deserialize_with = "opt")]
    #[param(minimum = 1, maximum = 100)]
    limit: Option<u32>,
    /// Source (default any).
    #[serde(default, deserialize_with = "opt")]
    #[param(value_type = Option<doc::Source>)]
    source: Option<Source>,
    /// Price kind (default `market`).
    #[serde(default, deserialize_with = "opt")]
    #[param(value_type = Option<doc::PriceKind>)]
    kind: Option<PriceKind>,
    /// Ignore series whose start price is below this many USD cents (default 100); 0 to
    /// 9223372036854775807 (a signed 64-bit integer).
    #[serde(default, deserialize_with = "opt")]
    #[param(minimum = 0)]
    min_price_cents: Option<i64>,
}

impl QueryParams for MoversParams {
    fn check(&mut self, _state: &AppState, errors: &mut Vec<FieldError>) {
        check_limit(errors, "limit", self.limit, 100);
        if let Some(c) = self.min_price_cents
            && c < 0
        {
            errors.push(FieldError::new(
                "min_price_cents",
                format!("\"{c}\" is not an integer from 0 to {}", i64::MAX),
            ));
        }
    }
}

/// Top gainers and losers over a window.
#[utoipa::path(get, path = "/v1/movers", tag = "cards", params(MoversParams),
    responses((status = 200, description = "Movers (served from the response cache until a tick of the market is written, or for `cache_ttl`: the window slides)", body = MoversView, headers(("ETag" = String, description = "Weak entity tag of the answer; send it back in `If-None-Match` to get 304 while it is unchanged"), ("Cache-Control" = String, description = "`private, max-age=N`: N seconds at most (15 by default), never longer than the answer stays valid"))),
              (status = 304, description = "Not modified: `If-None-Match` names the current answer's ETag (no body)"),
              (status = 400, description = "Bad parameters", body = crate::problem::Problem)))]
pub async fn movers(
    State(state): State<AppState>,
    _caller: Caller,
    ApiQuery(q): ApiQuery<MoversParams>,
) -> ApiResult<Response> {
    let window = q.window.unwrap_or_default();
    let direction = q.direction.unwrap_or_default();
    let prices = PriceFilter {
        sources: q.source.into_iter().collect(),
        kinds: vec![q.kind.unwrap_or(PriceKind::Market)],
    };
    let (limit, min_start_cents) = (limit_or(q.limit, 20), q.min_price_cents.unwrap_or(100));
    // Movers are "up to now": the window slides, so an answer is kept `cache_ttl` at most.
    let request = Cacheable {
        route: "/v1/movers",
        key: format!(
            "movers|{:?}|{:?}|{window:?}|{direction:?}|{limit}|{min_start_cents}|{prices:?}",
            q.game, q.set
        ),
        cover: Cover::Market {
            game: q.game,
            prices: prices.clone(),
        },
        fresh_for: state.config().cache_ttl,
    };
    cached(&state, request, async {
        let (window_secs, lookback) = window.secs();
        let as_of = state.now();
        let since = as_of.minus_secs(window_secs);
        let m = state
            .prices()
            .movers(&MoversQuery {
                since,
                as_of,
                game: q.game,
                group_id: q.set,
                prices,
                limit,
                min_start_cents,
                start_lookback_secs: lookback,
            })
            .await?;
        let (gainers, losers) = match direction {
            MoversDirection::Up => (m.gainers, Vec::new()),
            MoversDirection::Down => (Vec::new(), m.losers),
            MoversDirection::Both => (m.gainers, m.losers),
        };
        let span = Span {
            since,
            as_of,
            lookback,
        };
        Ok(MoversView {
            window,
            since,
            as_of,
            gainers: named(&state, gainers, span).await?,
            losers: named(&state, losers, span).await?,
        })
    })
    .await
}

/// The window of a movers answer: its start and end, and how far before its start a start
/// price may be.
#[derive(Debug, Clone, Copy)]
struct Span {
    since: Timestamp,
    as_of: Timestamp,
    lookback: i64,
}

async fn named(state: &AppState, movers: Vec<Mover>, span: Span) -> ApiResult<Vec<MoverView>> {
    let mut out = Vec::with_capacity(movers.len());
    for m in movers {
        let card = state
            .card_names()
            .get(state.prices().as_ref(), m.product_id)
            .await?;
        let jump = sudden::of(state, &m).await?;
        let c = confirm::of(state, &m, (span.since, span.as_of), span.lookback).await?;
        out.push(MoverView {
            jump,
            sudden: jump.is_some_and(|j| sudden::is_sudden(j, m.change_bps)),
            confirmed_by: c.confirmed_by,
            sources_priced: c.sources_priced,
            single_source: c.confirmed_by <= 1,
            series_id: m.series_id,
            product_id: m.product_id,
            name: card.as_ref().map(|c| c.name.clone()),
            card: card.map(|c| (*c).clone()),
            source: m.source,
            kind: m.kind,
            start_usd: m.start_usd,
            start_at: m.start_at,
            end_usd: m.end_usd,
            end_at: m.end_at,
            change_bps: m.change_bps,
        });
    }
    Ok(out)
}
