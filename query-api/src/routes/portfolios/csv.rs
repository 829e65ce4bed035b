//! CSV import (Collectr, TCGplayer, generic) and export (generic) of a portfolio's holdings.

use std::collections::HashMap;

use axum::{
    Json,
    extract::{Path, Request, State},
    http::{HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
};
use schemars::{JsonSchema, SchemaGenerator};
use serde::{Deserialize, Serialize};
use tcg_schemas::{Holding, HoldingId, Portfolio, PortfolioEvent};
use utoipa::IntoParams;

use crate::{
    auth::Caller,
    csv_import::{self, CsvFormat, ImportRow, RowProblem},
    error::{ApiError, ApiResult},
    limits,
    openapi::{api_schema, doc},
    problem::{FieldError, Problem, body_bytes},
    query::{ApiQuery, QueryParams, opt},
    routes::portfolios::{
        holdings::{HoldingInput, build_holding},
        owned,
    },
    state::AppState,
};

/// What an import did.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct ImportReport {
    pub format: CsvFormat,
    /// Data rows read (blank rows are skipped).
    pub rows: usize,
    /// Holdings created (none on a dry run).
    pub imported: usize,
    pub dry_run: bool,
    pub holdings: Vec<HoldingId>,
    /// Rows that did not become holdings, with the reason.
    pub unmatched: Vec<RowProblem>,
}

api_schema!(ImportReport);

pub(crate) fn schemas(g: &mut SchemaGenerator) {
    g.subschema_for::<ImportReport>();
}

/// Import parameters.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ImportParams {
    /// `collectr`, `tcgplayer` or `generic` (see the README for the columns); required.
    #[serde(default, deserialize_with = "opt")]
    #[param(value_type = doc::CsvFormat, required = true)]
    format: Option<CsvFormat>,
    /// `true`: match and report, create nothing.
    #[serde(default, deserialize_with = "opt")]
    dry_run: Option<bool>,
}

impl QueryParams for ImportParams {
    fn check(&mut self, _state: &AppState, errors: &mut Vec<FieldError>) {
        if self.format.is_none() && !errors.iter().any(|e| e.field == "format") {
            errors.push(FieldError::new(
                "format",
                "required: collectr, tcgplayer or generic",
            ));
        }
    }
}

/// Import holdings from CSV (body `text/csv`). Rows that cannot be matched to a card are listed
/// in `unmatched` with their row number and reason; the others become holdings.
#[utoipa::path(post, path = "/v1/portfolios/{id}/import", tag = "portfolios",
    params(("id" = String, Path, format = "uuid", description = "Portfolio id (UUID)"), ImportParams),
    request_body(content = String, content_type = "text/csv", description = "The CSV file"),
    responses((status = 200, description = "What was imported", body = ImportReport),
              (status = 400, description = "Bad parameters or unreadable CSV", body = Problem),
              (status = 404, description = "No such portfolio of the caller", body = Problem),
              (status = 413, description = "File too large", body = Problem),
              (status = 422, description = "Missing columns or too many rows", body = Problem)))]
pub async fn import(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    query: Result<ApiQuery<ImportParams>, ApiError>,
    req: Request,
) -> ApiResult<Json<ImportReport>> {
    let portfolio = owned(&state, &caller, &id).await?;
    let ApiQuery(q) = query?;
    let format = q
        .format
        .ok_or_else(|| ApiError::param("format", "required"))?;
    let dry_run = q.dry_run.unwrap_or(false);
    let body = body_bytes(req, &state).await?;
    let (rows, mut unmatched) = csv_import::read(format, &body, state.config().import_max_rows)?;
    let total = rows.len() + unmatched.len();
    let existing = limits::read(&state, state.portfolios().holdings(portfolio.id))
        .await?
        .len();
    if existing + rows.len() > state.config().max_holdings {
        return Err(ApiError::Conflict(format!(
            "the import would exceed {} holdings per portfolio",
            state.config().max_holdings
        )));
    }
    let (holdings, events) = build_rows(&state, &portfolio, rows, &mut unmatched).await?;
    unmatched.sort_by_key(|u| u.row);
    if !dry_run {
        state.portfolios().append_portfolio_events(&events).await?;
        for h in &holdings {
            state.portfolios().upsert_holding(h).await?;
        }
    }
    Ok(Json(ImportReport {
        format,
        rows: total,
        imported: if dry_run { 0 } else { holdings.len() },
        dry_run,
        holdings: if dry_run {
            Vec::new()
        } else {
            holdings.iter().map(|h| h.id).collect()
        },
        unmatched,
    }))
}

/// Set names by group id.
async fn set_names(state: &AppState) -> ApiResult<HashMap<u32, String>> {
    Ok(limits::read(state, state.prices().sets(None))
        .await?
        .into_iter()
        .map(|s| (s.group_id.0, s.name))
        .collect())
}

/// Matches each row to a card and builds its holding; rows that do not make one go to
/// `unmatched` with the reason.
async fn build_rows(
    state: &AppState,
    portfolio: &Portfolio,
    rows: Vec<ImportRow>,
    unmatched: &mut Vec<RowProblem>,
) -> ApiResult<(Vec<Holding>, Vec<PortfolioEvent>)> {
    let set_names = set_names(state).await?;
    let mut holdings = Vec::new();
    let mut events = Vec::new();
    for row in rows {
        let matched = csv_import::match_row(state.prices().as_ref(), &set_names, &row);
        let deadline = state.config().store_deadline;
        let matched = tokio::time::timeout(deadline, matched)
            .await
            .map_err(|_| ApiError::StoreDeadline(deadline))?;
        let product = match matched {
            Ok(p) => p,
            Err(reason) => {
                unmatched.push(RowProblem {
                    row: row.row,
                    reason,
                    card: row.name.clone().or(row.product_id.map(|p| p.to_string())),
                });
                continue;
            }
        };
        let input = HoldingInput {
            product_id: product.product_id,
            printing: Some(row.printing),
            condition: Some(row.condition),
            language: Some(row.language),
            grading: row.grading,
            quantity: row.quantity,
            cost_per_unit: row.cost_per_unit,
            acquired_on: row.acquired_on,
            note: row.note,
        };
        match build_holding(state, portfolio, input).await {
            Ok((h, e)) => {
                holdings.push(h);
                events.push(e);
            }
            Err(ApiError::Validation(errs)) => unmatched.push(RowProblem {
                row: row.row,
                reason: errs
                    .iter()
                    .map(|e| format!("{}: {}", e.field, e.message))
                    .collect::<Vec<_>>()
                    .join("; "),
                card: Some(product.name),
            }),
            Err(e) => return Err(e),
        }
    }
    Ok((holdings, events))
}

/// Export the holdings as generic CSV (importable with `format=generic`).
#[utoipa::path(get, path = "/v1/portfolios/{id}/export", tag = "portfolios",
    params(("id" = String, Path, format = "uuid", description = "Portfolio id (UUID)")),
    responses((status = 200, description = "CSV", content_type = "text/csv", body = String),
              (status = 404, description = "No such portfolio of the caller", body = Problem)))]
pub async fn export(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    let p = owned(&state, &caller, &id).await?;
    let holdings = state.portfolios().holdings(p.id).await?;
    let mut catalog = HashMap::new();
    for h in &holdings {
        if let std::collections::hash_map::Entry::Vacant(e) = catalog.entry(h.product_id.0)
            && let Some(prod) = state.prices().product(h.product_id).await?
        {
            e.insert(prod);
        }
    }
    let set_names = set_names(&state).await?;
    let body = crate::csv_export::export(&holdings, &catalog, &set_names);
    let mut resp = (StatusCode::OK, body).into_response();
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/csv; charset=utf-8"),
    );
    let disposition = format!("attachment; filename=\"portfolio-{}.csv\"", p.id);
    if let Ok(v) = HeaderValue::from_str(&disposition) {
        resp.headers_mut().insert(header::CONTENT_DISPOSITION, v);
    }
    Ok(resp)
}
