//! Portfolios ([`holdings`]: holdings, sales and events; [`valuation`]: value now and over time;
//! [`csv`]: import and export).
//!
//! Quantities and costs are kept as events (`Acquired`, `Sold`, `Removed`): creating a holding
//! records `Acquired` on its `acquired_on` date; changing its quantity records `Acquired` or
//! `Removed` now; a sale records `Sold`. The holding's `quantity` is kept equal to what the
//! events leave. Valuation (average cost, realized and unrealized P&L) is the store's.

pub mod csv;
mod history_cache;
pub mod holdings;
pub mod valuation;
pub mod valuing;

use axum::{
    Json,
    extract::{Path, State},
    http::StatusCode,
    response::Response,
};
use schemars::{JsonSchema, SchemaGenerator};
use serde::{Deserialize, Serialize};
use tcg_schemas::{Holding, HoldingId, Portfolio, PortfolioEvent, PortfolioId};

use crate::{
    auth::Caller,
    error::{ApiError, ApiResult},
    limits,
    openapi::{api_schema, doc},
    problem::{ApiJson, Problem},
    routes::{created, path_id},
    state::AppState,
};

/// Portfolios of the caller.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct PortfolioList {
    pub items: Vec<Portfolio>,
}

/// Create or rename a portfolio.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PortfolioInput {
    /// 1–100 characters.
    #[schemars(length(min = 1, max = 100))]
    pub name: String,
}

api_schema!(PortfolioList, PortfolioInput);

pub(crate) fn schemas(g: &mut SchemaGenerator) {
    g.subschema_for::<Portfolio>();
    g.subschema_for::<Holding>();
    g.subschema_for::<PortfolioEvent>();
    g.subschema_for::<PortfolioList>();
    g.subschema_for::<PortfolioInput>();
    holdings::schemas(g);
    valuation::schemas(g);
    csv::schemas(g);
}

/// The caller's portfolio, or 404 (also for another user's).
pub(crate) async fn owned(state: &AppState, caller: &Caller, raw: &str) -> ApiResult<Portfolio> {
    let id: PortfolioId = path_id(raw, "portfolio")?;
    limits::read(state, state.portfolios().portfolios(&caller.user))
        .await?
        .into_iter()
        .find(|p| p.id == id)
        .ok_or_else(|| ApiError::NotFound(format!("no portfolio {id}")))
}

/// The portfolio's holdings and events, read at once (on two reader connections).
pub(crate) async fn holdings_and_events(
    state: &AppState,
    p: &Portfolio,
) -> ApiResult<(Vec<Holding>, Vec<PortfolioEvent>)> {
    let store = state.portfolios();
    tokio::try_join!(
        limits::read(state, store.holdings(p.id)),
        limits::read(state, store.portfolio_events(p.id)),
    )
}

pub(crate) async fn holding_of(state: &AppState, p: &Portfolio, raw: &str) -> ApiResult<Holding> {
    let id: HoldingId = path_id(raw, "holding")?;
    limits::read(state, state.portfolios().holdings(p.id))
        .await?
        .into_iter()
        .find(|h| h.id == id)
        .ok_or_else(|| ApiError::NotFound(format!("no holding {id} in portfolio {}", p.id)))
}

fn check_name(name: &str) -> ApiResult<String> {
    let n = name.trim();
    if n.is_empty() || n.chars().count() > 100 {
        return Err(ApiError::field("name", "must be 1 to 100 characters"));
    }
    Ok(n.to_owned())
}

/// The caller's portfolios.
#[utoipa::path(get, path = "/v1/portfolios", tag = "portfolios",
    responses((status = 200, description = "Portfolios", body = PortfolioList)))]
pub async fn list(State(state): State<AppState>, caller: Caller) -> ApiResult<Json<PortfolioList>> {
    Ok(Json(PortfolioList {
        items: state.portfolios().portfolios(&caller.user).await?,
    }))
}

/// Create a portfolio.
#[utoipa::path(post, path = "/v1/portfolios", tag = "portfolios", request_body = PortfolioInput,
    responses((status = 201, description = "Created", body = doc::Portfolio),
              (status = 422, description = "Invalid fields", body = Problem)))]
pub async fn create(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(input): ApiJson<PortfolioInput>,
) -> ApiResult<Response> {
    let name = check_name(&input.name)?;
    let existing = limits::read(&state, state.portfolios().portfolios(&caller.user)).await?;
    if existing.len() >= state.config().max_portfolios {
        return Err(ApiError::Conflict(format!(
            "at most {} portfolios per user",
            state.config().max_portfolios
        )));
    }
    let p = Portfolio {
        id: PortfolioId(uuid::Uuid::new_v4()),
        owner: caller.user,
        name,
        created_at: state.now(),
    };
    state.portfolios().upsert_portfolio(&p).await?;
    Ok(created(p))
}

/// One portfolio.
#[utoipa::path(get, path = "/v1/portfolios/{id}", tag = "portfolios",
    params(("id" = String, Path, format = "uuid", description = "Portfolio id (UUID)")),
    responses((status = 200, description = "The portfolio", body = doc::Portfolio),
              (status = 404, description = "No such portfolio of the caller", body = Problem)))]
pub async fn get_one(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<Portfolio>> {
    Ok(Json(owned(&state, &caller, &id).await?))
}

/// Rename a portfolio.
#[utoipa::path(patch, path = "/v1/portfolios/{id}", tag = "portfolios",
    params(("id" = String, Path, format = "uuid", description = "Portfolio id (UUID)")), request_body = PortfolioInput,
    responses((status = 200, description = "Renamed", body = doc::Portfolio),
              (status = 404, description = "No such portfolio of the caller", body = Problem),
              (status = 422, description = "Invalid fields", body = Problem)))]
pub async fn rename(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    ApiJson(input): ApiJson<PortfolioInput>,
) -> ApiResult<Json<Portfolio>> {
    let mut p = owned(&state, &caller, &id).await?;
    p.name = check_name(&input.name)?;
    state.portfolios().upsert_portfolio(&p).await?;
    Ok(Json(p))
}

/// Delete a portfolio with its holdings and events.
#[utoipa::path(delete, path = "/v1/portfolios/{id}", tag = "portfolios",
    params(("id" = String, Path, format = "uuid", description = "Portfolio id (UUID)")),
    responses((status = 204, description = "Deleted"),
              (status = 404, description = "No such portfolio of the caller", body = Problem)))]
pub async fn delete(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    let p = owned(&state, &caller, &id).await?;
    state.portfolios().delete_portfolio(&p).await?;
    Ok(StatusCode::NO_CONTENT)
}
