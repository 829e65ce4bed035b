//! Cards and prices: search, one card, OHLC history, latest prices, movers.

use std::collections::{BTreeMap, HashSet};

use axum::{
    Json,
    extract::{Path, State},
};
use schemars::{JsonSchema, SchemaGenerator};
use serde::{Deserialize, Serialize};
use tcg_schemas::{
    CardSet, Condition, Game, Grade, Grader, GroupId, Language, Money, PriceKind, Printing,
    Product, ProductId, SeriesKey, Sku, Source, Timestamp,
};
use tcg_store::{
    CandleQuery, CatalogQuery, FillMode, Interval, LatestPrice, Mover, MoversQuery, PriceFilter,
    SeriesSelection, SeriesTarget,
};
use utoipa::IntoParams;

use crate::{
    auth::Caller,
    error::{ApiError, ApiResult},
    openapi::api_schema,
    problem::ApiQuery,
    routes::{Params, limit_param, path_id},
    state::AppState,
};

/// A page of cards.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct CardPage {
    pub items: Vec<Product>,
    /// Pass as `cursor` for the next page; absent on the last page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
}

/// Sets (TCGplayer groups).
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct SetList {
    pub items: Vec<CardSet>,
}

/// A price as last seen from one source.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct PriceView {
    pub source: Source,
    pub kind: PriceKind,
    pub observed_at: Timestamp,
    pub price_usd: Money,
    /// The price as quoted, in its own currency.
    pub original: Money,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub listing_id: Option<String>,
}

/// One price series of a card with its latest price per source and kind.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct SeriesPrices {
    pub series_id: String,
    pub series: SeriesKey,
    /// The TCGplayer SKU of a raw series, when the catalog has it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sku_id: Option<tcg_schemas::SkuId>,
    pub prices: Vec<PriceView>,
}

/// One card: its set, its SKUs and every series seen, each with its latest prices by source.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct CardDetail {
    pub card: Product,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub set: Option<CardSet>,
    pub skus: Vec<Sku>,
    /// Raw series: one per SKU (priced or not), then raw series seen without a SKU.
    pub raw: Vec<SeriesPrices>,
    /// Graded series seen (grader × grade).
    pub graded: Vec<SeriesPrices>,
}

/// One OHLC bucket (prices in USD).
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct CandleView {
    /// Bucket start (inclusive).
    pub start: Timestamp,
    pub open: Option<Money>,
    pub high: Option<Money>,
    pub low: Option<Money>,
    pub close: Option<Money>,
    /// Ticks in the bucket.
    pub count: u64,
    /// True when the prices were carried from the previous close (`fill=previous`).
    pub filled: bool,
}

/// Candles of one (series, source, kind).
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct CandleSeries {
    pub series_id: String,
    pub source: Source,
    pub kind: PriceKind,
    pub candles: Vec<CandleView>,
}

/// OHLC history of a card.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct History {
    pub product_id: ProductId,
    /// `1h`, `1d`, `1w` or `1M`.
    pub interval: String,
    pub from: Timestamp,
    pub to: Timestamp,
    pub series: Vec<CandleSeries>,
}

/// The latest price of one (series, source, kind).
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct LatestView {
    pub series_id: String,
    pub source: Source,
    pub kind: PriceKind,
    pub observed_at: Timestamp,
    pub price_usd: Money,
    pub original: Money,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub listing_id: Option<String>,
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
    pub source: Source,
    pub kind: PriceKind,
    pub start_usd: Money,
    pub start_at: Timestamp,
    pub end_usd: Money,
    pub end_at: Timestamp,
    /// Change in basis points (1/100 of a percent), rounded towards zero.
    pub change_bps: i64,
}

/// Top gainers and losers over a window.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct MoversView {
    /// `24h`, `7d` or `30d`.
    pub window: String,
    pub since: Timestamp,
    pub as_of: Timestamp,
    /// Biggest rise first (empty for `direction=down`).
    pub gainers: Vec<MoverView>,
    /// Biggest fall first (empty for `direction=up`).
    pub losers: Vec<MoverView>,
}

api_schema!(
    CardPage, SetList, CardDetail, History, LatestList, MoversView
);

pub(crate) fn schemas(g: &mut SchemaGenerator) {
    g.subschema_for::<CardPage>();
    g.subschema_for::<SetList>();
    g.subschema_for::<CardDetail>();
    g.subschema_for::<History>();
    g.subschema_for::<LatestList>();
    g.subschema_for::<MoversView>();
}

fn price_view(l: LatestPrice) -> PriceView {
    PriceView {
        source: l.source,
        kind: l.kind,
        observed_at: l.observed_at,
        price_usd: l.price_usd,
        original: l.original,
        listing_id: Some(l.listing_id).filter(|s| !s.is_empty()),
    }
}

fn parse_game(s: &str) -> Option<Game> {
    Game::parse(s)
}

fn parse_u32(s: &str) -> Option<u32> {
    s.parse().ok()
}

/// Search parameters.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct SearchParams {
    /// Case-insensitive substring of the card name.
    q: Option<String>,
    /// Game slug (`pokemon`, `magic`, …) or TCGplayer category id.
    game: Option<String>,
    /// Set: TCGplayer group id.
    set: Option<String>,
    /// Card number: exact (`139/195`) or the part before the slash (`139`).
    number: Option<String>,
    /// Page size, 1–200 (default 50).
    limit: Option<String>,
    /// `next_cursor` of the previous page.
    cursor: Option<String>,
}

/// Search the catalog (ordered by name, then id; keyset pagination).
#[utoipa::path(get, path = "/v1/cards", tag = "cards", params(SearchParams),
    responses((status = 200, description = "A page of cards", body = CardPage),
              (status = 400, description = "Bad parameters", body = crate::problem::Problem)))]
pub async fn search(
    State(state): State<AppState>,
    _caller: Caller,
    ApiQuery(q): ApiQuery<SearchParams>,
) -> ApiResult<Json<CardPage>> {
    let mut p = Params::default();
    let game = p.opt("game", &q.game, "a game slug or category id", parse_game);
    let set = p.opt("set", &q.set, "a set (group) id", parse_u32);
    let limit = limit_param(&mut p, &q.limit, 50, state.config().max_page);
    if let Some(c) = q.cursor.as_deref()
        && (c.len() > 1024
            || c.split_once(':')
                .is_none_or(|(id, _)| id.parse::<u64>().is_err()))
    {
        p.fail("cursor", "not a cursor returned by this endpoint");
    }
    if q.q.as_deref().is_some_and(|s| s.len() > 200) {
        p.fail("q", "at most 200 characters");
    }
    p.finish()?;
    let page = state
        .store()
        .search_catalog(&CatalogQuery {
            name: q.q,
            number: q.number,
            group_id: set.map(GroupId),
            game,
            limit,
            cursor: q.cursor,
        })
        .await?;
    Ok(Json(CardPage {
        items: page.items,
        next_cursor: page.next_cursor,
    }))
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct SetParams {
    /// Game slug or TCGplayer category id.
    game: Option<String>,
}

/// List sets, optionally of one game.
#[utoipa::path(get, path = "/v1/sets", tag = "cards", params(SetParams),
    responses((status = 200, description = "Sets by name", body = SetList)))]
pub async fn sets(
    State(state): State<AppState>,
    _caller: Caller,
    ApiQuery(q): ApiQuery<SetParams>,
) -> ApiResult<Json<SetList>> {
    let mut p = Params::default();
    let game = p.opt("game", &q.game, "a game slug or category id", parse_game);
    p.finish()?;
    Ok(Json(SetList {
        items: state.store().sets(game).await?,
    }))
}

pub(crate) async fn product_or_404(state: &AppState, id: ProductId) -> ApiResult<Product> {
    state
        .store()
        .product(id)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("no card {id}")))
}

/// One card with its SKUs, every series seen, and the latest price of each by source.
#[utoipa::path(get, path = "/v1/cards/{product_id}", tag = "cards",
    params(("product_id" = u64, Path, description = "TCGplayer product id")),
    responses((status = 200, description = "The card", body = CardDetail),
              (status = 404, description = "No such card", body = crate::problem::Problem)))]
pub async fn card(
    State(state): State<AppState>,
    _caller: Caller,
    Path(raw): Path<String>,
) -> ApiResult<Json<CardDetail>> {
    let id = ProductId(path_id(&raw, "card")?);
    let card = product_or_404(&state, id).await?;
    let store = state.store();
    let (skus, seen, sets) = tokio::try_join!(
        store.skus(id),
        store.product_series(id),
        store.sets(Some(card.game))
    )?;
    let set = sets.into_iter().find(|s| s.group_id == card.group_id);
    let mut ids: Vec<String> = Vec::new();
    let mut raw_series: Vec<(String, SeriesKey, Option<tcg_schemas::SkuId>)> = Vec::new();
    let mut in_skus = HashSet::new();
    for s in &skus {
        let key = SeriesKey::Sku {
            product_id: id,
            printing: s.printing.clone(),
            condition: s.condition.clone(),
            language: s.language.clone(),
        };
        let sid = key.id();
        in_skus.insert(sid.clone());
        ids.push(sid.clone());
        raw_series.push((sid, key, Some(s.sku_id)));
    }
    let mut graded = Vec::new();
    for sid in seen {
        if in_skus.contains(&sid) {
            continue;
        }
        let Ok(key) = sid.parse::<SeriesKey>() else {
            continue;
        };
        ids.push(sid.clone());
        if key.is_graded() {
            graded.push((sid, key, None));
        } else {
            raw_series.push((sid, key, None));
        }
    }
    let latest = store.latest_prices(&ids, &PriceFilter::any()).await?;
    let mut by_series: BTreeMap<String, Vec<PriceView>> = BTreeMap::new();
    for l in latest {
        by_series
            .entry(l.series_id.clone())
            .or_default()
            .push(price_view(l));
    }
    let mut assemble = |list: Vec<(String, SeriesKey, Option<tcg_schemas::SkuId>)>| {
        list.into_iter()
            .map(|(series_id, series, sku_id)| SeriesPrices {
                prices: by_series.remove(&series_id).unwrap_or_default(),
                series_id,
                series,
                sku_id,
            })
            .collect::<Vec<_>>()
    };
    let raw = assemble(raw_series);
    let graded = assemble(graded);
    Ok(Json(CardDetail {
        card,
        set,
        skus,
        raw,
        graded,
    }))
}

/// History parameters.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct HistoryParams {
    /// Bucket width: `1h`, `1d` (default), `1w` (Monday-aligned) or `1M`.
    interval: Option<String>,
    /// Start (RFC 3339); default: 90 buckets before `to`.
    from: Option<String>,
    /// End, exclusive (RFC 3339); default: now.
    to: Option<String>,
    /// One series id of this card (otherwise every series passing the filters below).
    series: Option<String>,
    /// `tcgplayer`, `tcgcsv`, `ebay_browse` or `ebay_sold`.
    source: Option<String>,
    /// Price kind (`market`, `low`, `mid`, `high`, `direct_low`, `lowest_listing`, `listing`, `sold`).
    kind: Option<String>,
    /// Printing, e.g. `Holofoil`, `Reverse Holofoil`, `Normal`.
    printing: Option<String>,
    /// Condition, e.g. `Near Mint`, `NM`, `LP`.
    condition: Option<String>,
    /// Language, e.g. `English`, `Japanese`.
    language: Option<String>,
    /// `true`: graded series only; `false`: raw only.
    graded: Option<String>,
    /// Grader: `PSA`, `BGS`, `CGC`, `SGC`, `TAG`, `ACE`.
    grader: Option<String>,
    /// Grade: `10`, `9.5`, `10 Pristine`, …
    grade: Option<String>,
    /// Empty buckets: `previous` (carry the previous close, default) or `empty`.
    fill: Option<String>,
}

pub(crate) fn parse_interval(s: &str) -> Option<Interval> {
    match s {
        "1h" => Some(Interval::HOUR),
        "1d" => Some(Interval::DAY),
        "1w" => Some(Interval::Week),
        "1M" => Some(Interval::Month),
        _ => None,
    }
}

pub(crate) fn parse_time(s: &str) -> Option<Timestamp> {
    Timestamp::parse(s).ok()
}

fn parse_bool(s: &str) -> Option<bool> {
    match s {
        "true" | "1" => Some(true),
        "false" | "0" => Some(false),
        _ => None,
    }
}

/// Start of a default range: `n` buckets before `to`.
pub(crate) fn default_from(interval: Interval, to: Timestamp, n: usize) -> Timestamp {
    let mut t = interval.floor(to);
    for _ in 0..n {
        t = interval.floor(Timestamp::from_micros(t.as_micros() - 1));
    }
    t
}

/// Buckets in `[from, to)`, stopping early past `max`.
pub(crate) fn bucket_count(
    interval: Interval,
    from: Timestamp,
    to: Timestamp,
    max: usize,
) -> usize {
    if let Interval::Seconds(s) = interval {
        let w = i128::from(s.max(1)) * 1_000_000;
        let n =
            (i128::from(to.as_micros()) - i128::from(interval.floor(from).as_micros()) + w - 1) / w;
        return usize::try_from(n.max(0)).unwrap_or(usize::MAX);
    }
    let mut n = 0;
    let mut b = interval.floor(from);
    while b < to && n <= max {
        n += 1;
        b = interval.next(b);
    }
    n
}

/// OHLC history of a card's series, per source and kind.
#[utoipa::path(get, path = "/v1/cards/{product_id}/history", tag = "cards",
    params(("product_id" = u64, Path, description = "TCGplayer product id"), HistoryParams),
    responses((status = 200, description = "Candles", body = History),
              (status = 400, description = "Bad parameters", body = crate::problem::Problem),
              (status = 404, description = "No such card", body = crate::problem::Problem)))]
pub async fn history(
    State(state): State<AppState>,
    _caller: Caller,
    Path(raw): Path<String>,
    ApiQuery(q): ApiQuery<HistoryParams>,
) -> ApiResult<Json<History>> {
    let id = ProductId(path_id(&raw, "card")?);
    let mut p = Params::default();
    let interval_text = q.interval.clone().unwrap_or_else(|| "1d".into());
    let interval = p
        .opt(
            "interval",
            &Some(interval_text.clone()),
            "1h, 1d, 1w or 1M",
            parse_interval,
        )
        .unwrap_or(Interval::DAY);
    let to = p.opt("to", &q.to, "an RFC 3339 instant", parse_time);
    let from = p.opt("from", &q.from, "an RFC 3339 instant", parse_time);
    let source = p.opt("source", &q.source, "a source", Source::parse);
    let kind = p.opt("kind", &q.kind, "a price kind", PriceKind::parse);
    let graded = p.opt("graded", &q.graded, "true or false", parse_bool);
    let grade = p.opt("grade", &q.grade, "a grade (1-10 in half steps)", |s| {
        Grade::parse(s).ok()
    });
    let fill = p
        .opt("fill", &q.fill, "previous or empty", |s| match s {
            "previous" => Some(FillMode::PreviousClose),
            "empty" => Some(FillMode::Empty),
            _ => None,
        })
        .unwrap_or(FillMode::PreviousClose);
    let series = p.opt("series", &q.series, "a series id of this card", |s| {
        s.parse::<SeriesKey>()
            .ok()
            .filter(|k| k.product_id() == id)
            .map(|k| k.id())
    });
    let to = to.unwrap_or_else(|| state.now());
    let from = from.unwrap_or_else(|| default_from(interval, to, 90));
    if from >= to {
        p.fail("from", "must be before `to`");
    } else if bucket_count(interval, from, to, state.config().max_buckets)
        > state.config().max_buckets
    {
        p.fail(
            "from",
            format!(
                "the range holds more than {} buckets of {interval_text}; narrow it or use a wider interval",
                state.config().max_buckets
            ),
        );
    }
    p.finish()?;
    product_or_404(&state, id).await?;
    let target = match series {
        Some(s) => SeriesTarget::Series(s),
        None => SeriesTarget::Product {
            product_id: id,
            selection: SeriesSelection {
                printing: q.printing.as_deref().map(Printing::parse),
                condition: q.condition.as_deref().map(Condition::parse),
                language: q.language.as_deref().map(Language::parse),
                graded,
                grader: q.grader.as_deref().map(Grader::parse),
                grade,
            },
        },
    };
    let prices = PriceFilter {
        sources: source.into_iter().collect(),
        kinds: kind.into_iter().collect(),
    };
    let candles = state
        .store()
        .candles(&CandleQuery {
            target,
            prices,
            interval,
            from,
            to,
            fill,
        })
        .await?;
    Ok(Json(History {
        product_id: id,
        interval: interval_text,
        from,
        to,
        series: candles
            .into_iter()
            .map(|s| CandleSeries {
                series_id: s.series_id,
                source: s.source,
                kind: s.kind,
                candles: s
                    .candles
                    .into_iter()
                    .map(|c| CandleView {
                        start: c.start,
                        open: c.open,
                        high: c.high,
                        low: c.low,
                        close: c.close,
                        count: c.count,
                        filled: c.filled,
                    })
                    .collect(),
            })
            .collect(),
    }))
}

/// Latest-price parameters.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct LatestParams {
    /// Comma-separated series ids (`451784/holofoil/nm/en,451784/psa/10`), at most 200.
    series: Option<String>,
    /// Only this source.
    source: Option<String>,
    /// Only this price kind.
    kind: Option<String>,
}

/// The latest price of each (series, source, kind) of a batch of series.
#[utoipa::path(get, path = "/v1/prices/latest", tag = "cards", params(LatestParams),
    responses((status = 200, description = "Latest prices", body = LatestList),
              (status = 400, description = "Bad parameters", body = crate::problem::Problem)))]
pub async fn latest(
    State(state): State<AppState>,
    _caller: Caller,
    ApiQuery(q): ApiQuery<LatestParams>,
) -> ApiResult<Json<LatestList>> {
    let mut p = Params::default();
    let source = p.opt("source", &q.source, "a source", Source::parse);
    let kind = p.opt("kind", &q.kind, "a price kind", PriceKind::parse);
    let ids: Vec<String> = q
        .series
        .as_deref()
        .unwrap_or("")
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect();
    let max = state.config().max_latest_series;
    if ids.is_empty() {
        p.fail("series", "give 1 or more comma-separated series ids");
    } else if ids.len() > max {
        p.fail("series", format!("at most {max} series ids"));
    } else if let Some(bad) = ids.iter().find(|s| s.parse::<SeriesKey>().is_err()) {
        p.fail("series", format!("{bad:?} is not a series id"));
    }
    p.finish()?;
    let mut unique = Vec::with_capacity(ids.len());
    let mut seen = HashSet::new();
    for id in ids {
        if seen.insert(id.clone()) {
            unique.push(id);
        }
    }
    let prices = PriceFilter {
        sources: source.into_iter().collect(),
        kinds: kind.into_iter().collect(),
    };
    let items = state.store().latest_prices(&unique, &prices).await?;
    let priced: HashSet<&str> = items.iter().map(|l| l.series_id.as_str()).collect();
    let missing = unique
        .iter()
        .filter(|s| !priced.contains(s.as_str()))
        .cloned()
        .collect();
    Ok(Json(LatestList {
        items: items
            .into_iter()
            .map(|l| LatestView {
                series_id: l.series_id,
                source: l.source,
                kind: l.kind,
                observed_at: l.observed_at,
                price_usd: l.price_usd,
                original: l.original,
                listing_id: Some(l.listing_id).filter(|s| !s.is_empty()),
            })
            .collect(),
        missing,
    }))
}

/// Mover parameters.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct MoversParams {
    /// Game slug or category id.
    game: Option<String>,
    /// Set (group) id.
    set: Option<String>,
    /// `24h`, `7d` (default) or `30d`.
    window: Option<String>,
    /// `up`, `down` or `both` (default).
    direction: Option<String>,
    /// Movers per direction, 1–100 (default 20).
    limit: Option<String>,
    /// Source (default any).
    source: Option<String>,
    /// Price kind (default `market`).
    kind: Option<String>,
    /// Ignore series whose start price is below this many USD cents (default 100).
    min_price_cents: Option<String>,
}

/// Top gainers and losers over a window.
#[utoipa::path(get, path = "/v1/movers", tag = "cards", params(MoversParams),
    responses((status = 200, description = "Movers", body = MoversView),
              (status = 400, description = "Bad parameters", body = crate::problem::Problem)))]
pub async fn movers(
    State(state): State<AppState>,
    _caller: Caller,
    ApiQuery(q): ApiQuery<MoversParams>,
) -> ApiResult<Json<MoversView>> {
    let mut p = Params::default();
    let game = p.opt("game", &q.game, "a game slug or category id", parse_game);
    let set = p.opt("set", &q.set, "a set (group) id", parse_u32);
    let window_text = q.window.clone().unwrap_or_else(|| "7d".into());
    let (window, lookback) = p
        .opt(
            "window",
            &Some(window_text.clone()),
            "24h, 7d or 30d",
            |s| match s {
                "24h" => Some((86_400, 2 * 86_400)),
                "7d" => Some((7 * 86_400, 7 * 86_400)),
                "30d" => Some((30 * 86_400, 14 * 86_400)),
                _ => None,
            },
        )
        .unwrap_or((7 * 86_400, 7 * 86_400));
    let direction = p
        .opt("direction", &q.direction, "up, down or both", |s| match s {
            "up" | "down" | "both" => Some(s.to_owned()),
            _ => None,
        })
        .unwrap_or_else(|| "both".into());
    let limit = limit_param(&mut p, &q.limit, 20, 100);
    let source = p.opt("source", &q.source, "a source", Source::parse);
    let kind = p
        .opt("kind", &q.kind, "a price kind", PriceKind::parse)
        .unwrap_or(PriceKind::Market);
    let min = p
        .opt(
            "min_price_cents",
            &q.min_price_cents,
            "a non-negative integer",
            |s| s.parse::<i64>().ok().filter(|n| *n >= 0),
        )
        .unwrap_or(100);
    p.finish()?;
    let as_of = state.now();
    let since = as_of.minus_secs(window);
    let m = state
        .store()
        .movers(&MoversQuery {
            since,
            as_of,
            game,
            group_id: set.map(GroupId),
            prices: PriceFilter {
                sources: source.into_iter().collect(),
                kinds: vec![kind],
            },
            limit,
            min_start_cents: min,
            start_lookback_secs: lookback,
        })
        .await?;
    let (gainers, losers) = match direction.as_str() {
        "up" => (m.gainers, Vec::new()),
        "down" => (Vec::new(), m.losers),
        _ => (m.gainers, m.losers),
    };
    Ok(Json(MoversView {
        window: window_text,
        since,
        as_of,
        gainers: named(&state, gainers).await?,
        losers: named(&state, losers).await?,
    }))
}

async fn named(state: &AppState, movers: Vec<Mover>) -> ApiResult<Vec<MoverView>> {
    let mut out = Vec::with_capacity(movers.len());
    for m in movers {
        let name = state.store().product(m.product_id).await?.map(|p| p.name);
        out.push(MoverView {
            series_id: m.series_id,
            product_id: m.product_id,
            name,
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
