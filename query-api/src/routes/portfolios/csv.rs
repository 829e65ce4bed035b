//! CSV import of a portfolio's holdings (every format of [`crate::csv_import`], by name or by
//! header; dry run; undo of a whole import) and export (generic).

use std::collections::HashMap;

use axum::{
    Json,
    extract::{Path, Request, State},
    http::{HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
};
use schemars::{JsonSchema, SchemaGenerator};
use serde::{Deserialize, Serialize};
use tcg_schemas::{
    Condition, Grading, Holding, HoldingId, ImportId, Language, Money, Portfolio, PortfolioEvent,
    Printing, ProductId,
};
use utoipa::IntoParams;

use crate::{
    auth::Caller,
    card_names::CardRef,
    csv_import::{self, Catalog, CsvFormat, ImportRow, RowProblem},
    error::{ApiError, ApiResult},
    limits,
    openapi::{api_schema, doc},
    problem::{Problem, body_bytes},
    query::{ApiQuery, QueryParams, opt},
    routes::{
        path_id,
        portfolios::{
            holdings::{HoldingInput, build_holding},
            owned,
        },
    },
    state::AppState,
};

/// What an import did.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct ImportReport {
    /// The format the file was read as.
    pub format: CsvFormat,
    /// `true`: no `format` was given and the file's header decided it.
    pub detected: bool,
    /// Data rows read (blank rows are skipped).
    pub rows: usize,
    /// Holdings created (none on a dry run).
    pub imported: usize,
    pub dry_run: bool,
    /// Undoes the whole import: `DELETE /v1/portfolios/{id}/imports/{import_id}`. Absent on a
    /// dry run and when the import created nothing.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub import_id: Option<ImportId>,
    pub holdings: Vec<HoldingId>,
    /// Rows that did not become holdings, with the reason.
    pub unmatched: Vec<RowProblem>,
    /// Rows that became (or, on a dry run, would become) holdings with something to check: no
    /// cost in the file (recorded as 0), a SKU the catalog does not list for the card.
    pub warnings: Vec<RowProblem>,
    /// The rows (of those that became holdings) whose file gives no cost: recorded at cost 0,
    /// to be set by hand.
    pub missing_cost: Vec<usize>,
    /// Every row that became (or, on a dry run, would become) a holding, as it was read and
    /// matched, in row order: what a client shows before the user confirms.
    pub preview: Vec<PreviewRow>,
}

/// One row as it will be held: the card it matched and the holding's fields.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct PreviewRow {
    /// 1 = the first row after the header.
    pub row: usize,
    pub product_id: ProductId,
    /// The card in words (absent when the catalog has no name for it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub card: Option<CardRef>,
    pub printing: Printing,
    pub condition: Condition,
    pub language: Language,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub grading: Option<Grading>,
    pub quantity: u32,
    /// Absent when the file gives no cost (the holding records 0).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cost_per_unit: Option<Money>,
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
    /// The file's format (see the README for the columns of each); absent: the header decides,
    /// and a header no format recognises answers 422 listing them.
    #[serde(default, deserialize_with = "opt")]
    #[param(value_type = Option<doc::CsvFormat>)]
    format: Option<CsvFormat>,
    /// `true`: match and report, create nothing.
    #[serde(default, deserialize_with = "opt")]
    dry_run: Option<bool>,
}

impl QueryParams for ImportParams {}

/// Holdings built from the rows, with their events and what to report.
#[derive(Debug, Default)]
struct Built {
    holdings: Vec<Holding>,
    events: Vec<PortfolioEvent>,
    unmatched: Vec<RowProblem>,
    warnings: Vec<RowProblem>,
    missing_cost: Vec<usize>,
    /// The row number of each holding, in the same order.
    rows: Vec<usize>,
}

/// Import holdings from CSV (body `text/csv`). The format is `format`'s, or else the one the
/// header names. Rows that cannot be matched to a card are listed in `unmatched` with their row
/// number and reason; the others become holdings, one import that `import_id` undoes.
#[utoipa::path(post, path = "/v1/portfolios/{id}/import", tag = "portfolios",
    params(("id" = String, Path, format = "uuid", description = "Portfolio id (UUID)"), ImportParams),
    request_body(content = String, content_type = "text/csv", description = "The CSV file"),
    responses((status = 200, description = "What was imported", body = ImportReport),
              (status = 400, description = "Bad parameters or unreadable CSV", body = Problem),
              (status = 404, description = "No such portfolio of the caller", body = Problem),
              (status = 409, description = "The import would exceed the holdings per portfolio", body = Problem),
              (status = 413, description = "File too large", body = Problem),
              (status = 422, description = "A header of no known format, missing columns or too many rows", body = Problem)))]
pub async fn import(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    query: Result<ApiQuery<ImportParams>, ApiError>,
    req: Request,
) -> ApiResult<Json<ImportReport>> {
    let portfolio = owned(&state, &caller, &id).await?;
    let ApiQuery(q) = query?;
    let dry_run = q.dry_run.unwrap_or(false);
    let body = body_bytes(req, &state).await?;
    let parsed = csv_import::read(q.format, &body, state.config().import_max_rows)?;
    let total = parsed.rows.len() + parsed.problems.len();
    let existing = limits::read(&state, state.portfolios().holdings(portfolio.id))
        .await?
        .len();
    if existing + parsed.rows.len() > state.config().max_holdings {
        return Err(ApiError::Conflict(format!(
            "the import would exceed {} holdings per portfolio",
            state.config().max_holdings
        )));
    }
    let mut built = Built {
        unmatched: parsed.problems,
        ..Built::default()
    };
    build_rows(&state, &portfolio, parsed.rows, &mut built).await?;
    built.unmatched.sort_by_key(|u| u.row);
    let holdings: Vec<HoldingId> = built.holdings.iter().map(|h| h.id).collect();
    let preview = preview(&state, &built).await?;
    let import_id = if dry_run || holdings.is_empty() {
        None
    } else {
        Some(save(&state, &portfolio, &built).await?)
    };
    Ok(Json(ImportReport {
        format: parsed.format,
        detected: parsed.detected,
        rows: total,
        imported: if dry_run { 0 } else { holdings.len() },
        dry_run,
        import_id,
        holdings: if dry_run { Vec::new() } else { holdings },
        unmatched: built.unmatched,
        warnings: built.warnings,
        missing_cost: built.missing_cost,
        preview,
    }))
}

/// The preview of the rows that make holdings, with their cards' names.
async fn preview(state: &AppState, built: &Built) -> ApiResult<Vec<PreviewRow>> {
    let products: Vec<ProductId> = built.holdings.iter().map(|h| h.product_id).collect();
    let cards = state
        .card_names()
        .many(state.prices().as_ref(), products)
        .await?;
    let mut out: Vec<PreviewRow> = built
        .holdings
        .iter()
        .zip(&built.rows)
        .map(|(h, &row)| PreviewRow {
            row,
            product_id: h.product_id,
            card: cards.get(&h.product_id).map(|c| (**c).clone()),
            printing: h.printing.clone(),
            condition: h.condition.clone(),
            language: h.language.clone(),
            grading: h.grading.clone(),
            quantity: h.quantity,
            cost_per_unit: (!built.missing_cost.contains(&row)).then_some(h.cost_per_unit),
        })
        .collect();
    out.sort_by_key(|p| p.row);
    Ok(out)
}

/// Records the import first (so that every holding written can be undone with it), then the
/// events, then the holdings.
async fn save(state: &AppState, portfolio: &Portfolio, built: &Built) -> ApiResult<ImportId> {
    let import_id = ImportId(uuid::Uuid::new_v4());
    let ids: Vec<HoldingId> = built.holdings.iter().map(|h| h.id).collect();
    state
        .portfolios()
        .record_import(portfolio.id, import_id, &ids)
        .await?;
    state
        .portfolios()
        .append_portfolio_events(&built.events)
        .await?;
    for h in &built.holdings {
        state.portfolios().upsert_holding(h).await?;
    }
    Ok(import_id)
}

/// Undo an import: delete every holding it created, with all their events (changes and sales
/// recorded since included). Holdings added otherwise stay.
#[utoipa::path(delete, path = "/v1/portfolios/{id}/imports/{import_id}", tag = "portfolios",
    params(("id" = String, Path, format = "uuid", description = "Portfolio id (UUID)"),
           ("import_id" = String, Path, format = "uuid", description = "The `import_id` of the import's report")),
    responses((status = 204, description = "Undone: the import's holdings are deleted"),
              (status = 404, description = "No such import in a portfolio of the caller (or already undone)", body = Problem)))]
pub async fn undo_import(
    State(state): State<AppState>,
    caller: Caller,
    Path((id, import_id)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    let p = owned(&state, &caller, &id).await?;
    let import: ImportId = path_id(&import_id, "import")?;
    match state.portfolios().undo_import(p.id, import).await? {
        Some(_) => Ok(StatusCode::NO_CONTENT),
        None => Err(ApiError::NotFound(format!(
            "no import {import} in portfolio {}",
            p.id
        ))),
    }
}

/// The catalog's sets.
async fn catalog(state: &AppState) -> ApiResult<Catalog> {
    Ok(Catalog::new(
        limits::read(state, state.prices().sets(None)).await?,
    ))
}

/// Matches each row to a card and builds its holding; rows that do not make one go to
/// `unmatched` with the reason.
async fn build_rows(
    state: &AppState,
    portfolio: &Portfolio,
    rows: Vec<ImportRow>,
    built: &mut Built,
) -> ApiResult<()> {
    let catalog = catalog(state).await?;
    for row in rows {
        let matched = csv_import::match_row(state.prices().as_ref(), &catalog, &row);
        let deadline = state.config().store_deadline;
        let matched = tokio::time::timeout(deadline, matched)
            .await
            .map_err(|_| ApiError::StoreDeadline(deadline))?;
        let m = match matched {
            Ok(m) => m,
            Err(reason) => {
                built.unmatched.push(RowProblem {
                    row: row.row,
                    reason,
                    card: row.card(),
                });
                continue;
            }
        };
        let input = HoldingInput {
            product_id: m.product.product_id,
            printing: Some(m.printing),
            condition: Some(m.condition),
            language: Some(m.language),
            grading: row.grading,
            quantity: row.quantity,
            cost_per_unit: row.cost_per_unit.unwrap_or(Money::usd_cents(0)),
            acquired_on: row.acquired_on,
            note: row.note,
        };
        match build_holding(state, portfolio, input).await {
            Ok((h, e)) => {
                built.holdings.push(h);
                built.events.push(e);
                built.rows.push(row.row);
                let warn = |reason| RowProblem {
                    row: row.row,
                    reason,
                    card: Some(m.product.name.clone()),
                };
                if row.cost_per_unit.is_none() {
                    built.missing_cost.push(row.row);
                    built
                        .warnings
                        .push(warn("no cost in the file: recorded as 0 USD".into()));
                }
                built.warnings.extend(m.warnings.into_iter().map(warn));
            }
            Err(ApiError::Validation(errs)) => built.unmatched.push(RowProblem {
                row: row.row,
                reason: errs
                    .iter()
                    .map(|e| format!("{}: {}", e.field, e.message))
                    .collect::<Vec<_>>()
                    .join("; "),
                card: Some(m.product.name),
            }),
            Err(e) => return Err(e),
        }
    }
    Ok(())
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
    let set_names = self::catalog(&state).await?.names();
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
