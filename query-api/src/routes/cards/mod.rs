//! Cards and prices: search, one card ([`candles`]: OHLC history; [`prices`]: latest prices and
//! movers).

pub(crate) mod cached;
pub mod candles;
pub mod columns;
pub mod confirm;
pub mod prices;
pub mod spread;
pub mod sudden;

use std::collections::{BTreeMap, HashSet};

use axum::{
    Json,
    extract::{Path, State},
};
use schemars::{JsonSchema, SchemaGenerator};
use serde::{Deserialize, Serialize};
use tcg_schemas::{
    CardSet, Game, GroupId, Money, PriceKind, Product, ProductId, SeriesKey, Sku, Source, Timestamp,
};
use tcg_store::{CatalogQuery, LatestPrice, PriceFilter};
use utoipa::IntoParams;

use crate::{
    auth::Caller,
    error::{ApiError, ApiResult},
    openapi::{api_schema, doc},
    problem::FieldError,
    query::{ApiQuery, QueryParams, check_limit, limit_or, opt, opt_text},
    routes::path_id,
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
    /// The match confidence of an eBay item; the confidence of a fair value (0–100: how many
    /// independent sources agree with it, how fresh and how strong they are).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub confidence: Option<u8>,
    /// The sources whose prices agree with a fair value (within ±15 %).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub agreeing: Vec<Source>,
    /// A buylist price against the TCGplayer market price of the same series (buylist prices
    /// only, when that market price exists).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub spread: Option<spread::Spread>,
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

api_schema!(CardPage, SetList, CardDetail);

pub(crate) fn schemas(g: &mut SchemaGenerator) {
    g.subschema_for::<CardPage>();
    g.subschema_for::<SetList>();
    g.subschema_for::<CardDetail>();
    candles::schemas(g);
    prices::schemas(g);
}

pub(crate) fn price_view(l: LatestPrice) -> PriceView {
    PriceView {
        source: l.source,
        kind: l.kind,
        observed_at: l.observed_at,
        price_usd: l.price_usd,
        original: l.original,
        listing_id: Some(l.listing_id).filter(|s| !s.is_empty()),
        confidence: l.confidence,
        agreeing: l.agreeing,
        spread: None,
    }
}

/// Search parameters.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct SearchParams {
    /// Case-insensitive substring of the card name, at most 200 bytes.
    #[serde(default, deserialize_with = "opt_text")]
    #[param(max_length = 200)]
    q: Option<String>,
    /// Game slug (`pokemon`, `magic`, …) or TCGplayer category id.
    #[serde(default, deserialize_with = "opt")]
    #[param(value_type = Option<String>)]
    game: Option<Game>,
    /// Set: TCGplayer group id.
    #[serde(default, deserialize_with = "opt")]
    #[param(value_type = Option<doc::GroupId>)]
    set: Option<GroupId>,
    /// Card number: exact (`139/195`) or the part before the slash (`139`).
    #[serde(default, deserialize_with = "opt_text")]
    number: Option<String>,
    /// Page size, 1–200 (default 50).
    #[serde(default, deserialize_with = "opt")]
    #[param(minimum = 1, maximum = 200)]
    limit: Option<u32>,
    /// `next_cursor` of the previous page.
    #[serde(default, deserialize_with = "opt_text")]
    #[param(max_length = 1024, pattern = "^[0-9]+:")]
    cursor: Option<String>,
}

impl QueryParams for SearchParams {
    fn check(&mut self, state: &AppState, errors: &mut Vec<FieldError>) {
        check_limit(errors, "limit", self.limit, state.config().max_page);
        if let Some(c) = self.cursor.as_deref()
            && (c.len() > 1024
                || c.split_once(':')
                    .is_none_or(|(id, _)| id.parse::<u64>().is_err()))
        {
            errors.push(FieldError::new(
                "cursor",
                "not a cursor returned by this endpoint",
            ));
        }
        if self.q.as_deref().is_some_and(|s| s.len() > 200) {
            errors.push(FieldError::new("q", "at most 200 characters"));
        }
    }
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
    let page = state
        .prices()
        .search_catalog(&CatalogQuery {
            name: q.q,
            number: q.number,
            group_id: q.set,
            game: q.game,
            limit: limit_or(q.limit, 50),
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
    #[serde(default, deserialize_with = "opt")]
    #[param(value_type = Option<String>)]
    game: Option<Game>,
}

impl QueryParams for SetParams {}

/// List sets, optionally of one game.
#[utoipa::path(get, path = "/v1/sets", tag = "cards", params(SetParams),
    responses((status = 200, description = "Sets by name", body = SetList)))]
pub async fn sets(
    State(state): State<AppState>,
    _caller: Caller,
    ApiQuery(q): ApiQuery<SetParams>,
) -> ApiResult<Json<SetList>> {
    Ok(Json(SetList {
        items: state.prices().sets(q.game).await?,
    }))
}

pub(crate) async fn product_or_404(state: &AppState, id: ProductId) -> ApiResult<Product> {
    state
        .prices()
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
    let store = state.prices();
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
    for prices in by_series.values_mut() {
        spread::annotate(prices, None);
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
