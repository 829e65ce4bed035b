//! OHLC history of a card's series.

use axum::{
    extract::{Path, State},
    response::Response,
};
use schemars::{JsonSchema, SchemaGenerator};
use serde::{Deserialize, Serialize};
use tcg_schemas::{
    Condition, Currency, Grade, Grader, Language, PriceKind, Printing, ProductId, SeriesKey,
    Source, Timestamp,
};
use tcg_store::{CandleQuery, PriceFilter, SeriesCandles, SeriesSelection, SeriesTarget};
use utoipa::IntoParams;

use crate::{
    auth::Caller,
    card_names::CardRef,
    error::{ApiError, ApiResult},
    openapi::{api_schema, doc},
    problem::FieldError,
    query::{ApiQuery, QueryParams, opt, opt_serde},
    response_cache::Cover,
    routes::{
        cards::{
            cached::{Cacheable, cached},
            columns::CandleColumns,
            product_or_404,
        },
        params::{Fill, Interval},
        path_id,
    },
    state::AppState,
};

/// Candles of one (series, source, kind).
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct CandleSeries {
    pub series_id: String,
    pub source: Source,
    pub kind: PriceKind,
    /// The currency of every price in `candles` (USD: ticks are converted when stored).
    pub currency: Currency,
    pub candles: CandleColumns,
}

/// OHLC history of a card.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct History {
    pub product_id: ProductId,
    /// The card in words (absent when the catalog does not know it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub card: Option<CardRef>,
    pub interval: Interval,
    pub from: Timestamp,
    pub to: Timestamp,
    pub series: Vec<CandleSeries>,
}

api_schema!(History);

pub(crate) fn schemas(g: &mut SchemaGenerator) {
    g.subschema_for::<History>();
}

/// History parameters.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct HistoryParams {
    /// Bucket width: `1h`, `1d` (default), `1w` (Monday-aligned) or `1M`.
    #[serde(default, deserialize_with = "opt")]
    interval: Option<Interval>,
    /// Start (RFC 3339); default: 90 buckets before `to`.
    #[serde(default, deserialize_with = "opt")]
    #[param(value_type = Option<doc::Timestamp>)]
    from: Option<Timestamp>,
    /// End, exclusive (RFC 3339); default: now.
    #[serde(default, deserialize_with = "opt")]
    #[param(value_type = Option<doc::Timestamp>)]
    to: Option<Timestamp>,
    /// One series id of this card (otherwise every series passing the filters below).
    #[serde(default, deserialize_with = "opt")]
    #[param(value_type = Option<String>)]
    series: Option<SeriesKey>,
    /// The source (`tcgplayer`, `tcgcsv`, `ebay_browse`, `ebay_sold`, `cardmarket`, …).
    #[serde(default, deserialize_with = "opt")]
    #[param(value_type = Option<doc::Source>)]
    source: Option<Source>,
    /// Price kind (`market`, `low`, `mid`, `high`, `direct_low`, `lowest_listing`, `listing`, `sold`,
    /// `fair`, `trend`, `avg7`, `sales`, `retail`, `buylist` …).
    #[serde(default, deserialize_with = "opt")]
    #[param(value_type = Option<doc::PriceKind>)]
    kind: Option<PriceKind>,
    /// Printing, e.g. `Holofoil`, `Reverse Holofoil`, `Normal`.
    #[serde(default, deserialize_with = "opt_serde")]
    #[param(value_type = Option<doc::Printing>)]
    printing: Option<Printing>,
    /// Condition, e.g. `Near Mint`, `NM`, `LP`.
    #[serde(default, deserialize_with = "opt_serde")]
    #[param(value_type = Option<doc::Condition>)]
    condition: Option<Condition>,
    /// Language, e.g. `English`, `Japanese`.
    #[serde(default, deserialize_with = "opt_serde")]
    #[param(value_type = Option<doc::Language>)]
    language: Option<Language>,
    /// `true`: graded series only; `false`: raw only.
    #[serde(default, deserialize_with = "opt")]
    graded: Option<bool>,
    /// Grader: `PSA`, `BGS`, `CGC`, `SGC`, `TAG`, `ACE`.
    #[serde(default, deserialize_with = "opt_serde")]
    #[param(value_type = Option<doc::Grader>)]
    grader: Option<Grader>,
    /// Grade: `10`, `9.5`, `10 Pristine`, …
    #[serde(default, deserialize_with = "opt")]
    #[param(value_type = Option<doc::Grade>)]
    grade: Option<Grade>,
    /// Empty buckets: `previous` (carry the previous close, default) or `empty`.
    #[serde(default, deserialize_with = "opt")]
    fill: Option<Fill>,
}

impl QueryParams for HistoryParams {}

/// `from` and `to`, or their defaults (`to`: now; `from`: 90 buckets before `to`). A range the
/// server does not compute answers 422 naming `from`: `validation` when `from` is not before
/// `to`, `too-large` when it holds more than `max_buckets` buckets of `interval`. (Each
/// parameter is valid on its own, so these are not 400: the document cannot state how the
/// parameters relate, and says so in the operation's 422.)
pub(crate) fn range(
    interval: Interval,
    from: Option<Timestamp>,
    to: Option<Timestamp>,
    state: &AppState,
) -> ApiResult<(Timestamp, Timestamp)> {
    let buckets = interval.buckets();
    let to = to.unwrap_or_else(|| state.now());
    let from = from.unwrap_or_else(|| default_from(buckets, to, 90));
    let max = state.config().max_buckets;
    if from >= to {
        return Err(ApiError::field("from", "must be before `to`"));
    }
    if bucket_count(buckets, from, to, max) > max {
        return Err(ApiError::TooLarge {
            detail: format!(
                "the range holds more than {max} buckets of {} (max_buckets); narrow it or use a \
                 wider interval",
                interval.as_str()
            ),
            errors: vec![FieldError::new(
                "from",
                format!("at most {max} buckets of {}", interval.as_str()),
            )],
        });
    }
    Ok((from, to))
}

/// Start of a default range: `n` buckets before `to`.
pub(crate) fn default_from(interval: tcg_store::Interval, to: Timestamp, n: usize) -> Timestamp {
    let mut t = interval.floor(to);
    for _ in 0..n {
        t = interval.floor(Timestamp::from_micros(t.as_micros() - 1));
    }
    t
}

/// Buckets in `[from, to)`, stopping early past `max`.
pub(crate) fn bucket_count(
    interval: tcg_store::Interval,
    from: Timestamp,
    to: Timestamp,
    max: usize,
) -> usize {
    if let tcg_store::Interval::Seconds(s) = interval {
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
    responses((status = 200, description = "Candles (served from the response cache until a tick of a covered series is written)", body = History, headers(("ETag" = String, description = "Weak entity tag of the answer; send it back in `If-None-Match` to get 304 while it is unchanged"), ("Cache-Control" = String, description = "`private, max-age=N`: N seconds at most (15 by default), never longer than the answer stays valid"))),
              (status = 304, description = "Not modified: `If-None-Match` names the current answer's ETag (no body)"),
              (status = 400, description = "Bad parameters", body = crate::problem::Problem),
              (status = 404, description = "No such card", body = crate::problem::Problem),
              (status = 422, description = "Parameters that do not fit together: `series` of another card or `from` not before `to` (`validation`), more than 5000 buckets of `interval` between `from` and `to` (`too-large`)", body = crate::problem::Problem)))]
pub async fn history(
    State(state): State<AppState>,
    _caller: Caller,
    Path(raw): Path<String>,
    query: Result<ApiQuery<HistoryParams>, ApiError>,
) -> ApiResult<Response> {
    let id = ProductId(path_id(&raw, "card")?);
    let ApiQuery(q) = query?;
    // Each parameter is valid on its own; how they fit together the document cannot state, so
    // a mismatch is 422 (documented), not 400.
    if let Some(s) = q.series.as_ref().filter(|s| s.product_id() != id) {
        return Err(ApiError::field(
            "series",
            format!("{:?} is not a series id of this card", s.id()),
        ));
    }
    let interval = q.interval.unwrap_or_default();
    let (from, to) = range(interval, q.from, q.to, &state)?;
    let read = CandleQuery {
        target: match &q.series {
            Some(s) => SeriesTarget::Series(s.id()),
            None => SeriesTarget::Product {
                product_id: id,
                selection: SeriesSelection {
                    printing: q.printing.clone(),
                    condition: q.condition.clone(),
                    language: q.language.clone(),
                    graded: q.graded,
                    grader: q.grader.clone(),
                    grade: q.grade,
                },
            },
        },
        prices: PriceFilter {
            sources: q.source.into_iter().collect(),
            kinds: q.kind.into_iter().collect(),
        },
        interval: interval.buckets(),
        from,
        to,
        fill: q.fill.unwrap_or_default().into(),
    };
    let request = cacheable(id, interval, &q, &read, &state);
    cached(&state, request, async {
        // A card the names cache holds is known: one query less per answer. Otherwise the
        // catalog says (a card added since the cache kept it as unknown is found, nameless).
        let card = state.card_names().get(state.prices().as_ref(), id).await?;
        if card.is_none() {
            product_or_404(&state, id).await?;
        }
        let candles = state.prices().candles(&read).await?;
        Ok(History {
            product_id: id,
            card: card.map(|c| (*c).clone()),
            interval,
            from,
            to,
            series: candles.into_iter().map(candle_series).collect(),
        })
    })
    .await
}

/// The history request as the response cache keys it. A range up to now (no `to`) is keyed by
/// its bucket and stays true until the next bucket starts (then `from` and the last bucket move).
fn cacheable(
    id: ProductId,
    interval: Interval,
    q: &HistoryParams,
    read: &CandleQuery,
    state: &AppState,
) -> Cacheable {
    let buckets = interval.buckets();
    let (end, fresh_for) = match q.to {
        Some(to) => (to.to_string(), state.config().cache_ttl),
        None => {
            let now = state.now();
            let next = buckets.next(buckets.floor(now));
            let left = next.as_micros().saturating_sub(now.as_micros()).max(0);
            (
                format!("now@{}", buckets.floor(now)),
                std::time::Duration::from_micros(left.unsigned_abs()),
            )
        }
    };
    let start = q
        .from
        .map_or_else(|| "default".to_owned(), |f| f.to_string());
    Cacheable {
        route: "/v1/cards/{product_id}/history",
        key: format!(
            "history|{id}|{}|{start}|{end}|{:?}|{:?}|{:?}",
            interval.as_str(),
            read.target,
            read.prices,
            read.fill
        ),
        cover: Cover::Card {
            product: id,
            target: read.target.clone(),
            prices: read.prices.clone(),
        },
        fresh_for,
    }
}

fn candle_series(s: SeriesCandles) -> CandleSeries {
    let (currency, candles) = CandleColumns::of(s.candles);
    CandleSeries {
        series_id: s.series_id,
        source: s.source,
        kind: s.kind,
        currency,
        candles,
    }
}
