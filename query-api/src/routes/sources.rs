//! The price sources as a user sees them: each source's health (`GET /v1/sources`) and the
//! recent quotes of a card that were not turned into prices, with the reason
//! (`GET /v1/cards/{product_id}/rejections`), and the products of other markets no card of ours
//! fits (`GET /v1/sources/unmapped`). All are read from the [`SourceReports`] the process was
//! given (`up`: its collectors and processor); without one, the lists are empty and `monitored`
//! says so.
//!
//! [`SourceReports`]: tcg_ports::SourceReports

use axum::{
    Json,
    extract::{Path, State},
};
use schemars::{JsonSchema, SchemaGenerator};
use serde::{Deserialize, Serialize};
use tcg_schemas::{CardRejection, ProductId, Source, SourceHealth, UnmappedProduct};
use utoipa::IntoParams;

use crate::{
    auth::Caller,
    error::ApiResult,
    openapi::api_schema,
    problem::FieldError,
    query::{ApiQuery, QueryParams, check_limit, limit_or, opt},
    routes::{cards::product_or_404, path_id},
    state::AppState,
};

/// Every price source this process runs, with its health after its last pass.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct SourceList {
    /// Whether this process runs the collectors (in the distributed mode, `serve` does not:
    /// read `tcg_source_up` in the collectors' `/metrics`).
    pub monitored: bool,
    pub items: Vec<SourceHealth>,
}

/// A card's recent rejected quotes, newest first.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct RejectionList {
    /// Whether this process sees the collectors' and the processor's rejections.
    pub monitored: bool,
    pub items: Vec<CardRejection>,
}
/// Products of other markets that no card of ours fits, or several do.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct UnmappedList {
    /// Whether this process sees the collectors' lists.
    pub monitored: bool,
    pub items: Vec<UnmappedProduct>,
}
api_schema!(SourceList, RejectionList, UnmappedList);

pub(crate) fn schemas(g: &mut SchemaGenerator) {
    g.subschema_for::<SourceList>();
    g.subschema_for::<RejectionList>();
    g.subschema_for::<UnmappedList>();
}

/// Every price source and its health: `starting` (no pass yet), `ok`, `degraded` (the last
/// pass delivered, but a lookup it reads failed: see `degraded`) or `down`.
#[utoipa::path(get, path = "/v1/sources", tag = "cards",
    responses((status = 200, description = "The sources, by name", body = SourceList)))]
pub async fn list(State(state): State<AppState>, _caller: Caller) -> Json<SourceList> {
    let reports = state.source_reports();
    Json(SourceList {
        monitored: reports.is_some(),
        items: reports.map(|r| r.sources()).unwrap_or_default(),
    })
}

/// Rejection list parameters.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct RejectionParams {
    /// Most rejections to return, 1–200 (default 50).
    #[serde(default, deserialize_with = "opt")]
    #[param(minimum = 1, maximum = 200)]
    limit: Option<u32>,
}

impl QueryParams for RejectionParams {
    fn check(&mut self, state: &AppState, errors: &mut Vec<FieldError>) {
        check_limit(errors, "limit", self.limit, state.config().max_page);
    }
}

/// The card's recent quotes that were not turned into prices: eBay listings the title
/// classifier refused (with the words that decided and its confidence), implausible prices,
/// price rows whose prices were all null, products the upstream refused. Kept in memory, a
/// bounded number per card.
#[utoipa::path(get, path = "/v1/cards/{product_id}/rejections", tag = "cards",
    params(("product_id" = u64, Path, description = "TCGplayer product id"), RejectionParams),
    responses((status = 200, description = "Newest first", body = RejectionList),
              (status = 400, description = "Bad parameters", body = crate::problem::Problem),
              (status = 404, description = "No such card", body = crate::problem::Problem)))]
pub async fn rejections(
    State(state): State<AppState>,
    _caller: Caller,
    Path(raw): Path<String>,
    ApiQuery(q): ApiQuery<RejectionParams>,
) -> ApiResult<Json<RejectionList>> {
    let id = ProductId(path_id(&raw, "card")?);
    product_or_404(&state, id).await?;
    let reports = state.source_reports();
    let limit = limit_or(q.limit, 50);
    Ok(Json(RejectionList {
        monitored: reports.is_some(),
        items: reports.map(|r| r.rejections(id, limit)).unwrap_or_default(),
    }))
}

/// Unmapped product list parameters.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct UnmappedParams {
    /// Only this market's products (`cardmarket`, `cardkingdom`, `scryfall`, `pricecharting`,
    /// `justtcg`).
    #[serde(default, deserialize_with = "opt")]
    #[param(value_type = Option<crate::openapi::doc::Source>)]
    source: Option<Source>,
    /// Most products to return, 1–200 (default 50).
    #[serde(default, deserialize_with = "opt")]
    #[param(minimum = 1, maximum = 200)]
    limit: Option<u32>,
}

impl QueryParams for UnmappedParams {
    fn check(&mut self, state: &AppState, errors: &mut Vec<FieldError>) {
        check_limit(errors, "limit", self.limit, state.config().max_page);
    }
}

/// Products of other markets (Cardmarket, Card Kingdom, Scryfall, PriceCharting, JustTCG) that
/// no card of ours fits (`unmapped`) or that several fit equally well (`ambiguous`, with the
/// candidates): never guessed into a card's prices. Most recently met first.
#[utoipa::path(get, path = "/v1/sources/unmapped", tag = "cards",
    params(UnmappedParams),
    responses((status = 200, description = "Most recently met first", body = UnmappedList),
              (status = 400, description = "Bad parameters", body = crate::problem::Problem)))]
pub async fn unmapped(
    State(state): State<AppState>,
    _caller: Caller,
    ApiQuery(q): ApiQuery<UnmappedParams>,
) -> Json<UnmappedList> {
    let reports = state.source_reports();
    let limit = limit_or(q.limit, 50);
    let source = q.source.map(|s| s.as_str());
    Json(UnmappedList {
        monitored: reports.is_some(),
        items: reports
            .map(|r| r.unmapped(source, limit))
            .unwrap_or_default(),
    })
}
