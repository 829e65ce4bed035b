//! Portfolios, holdings, sales (as events), valuation, history, CSV import and export.
//!
//! Quantities and costs are kept as events (`Acquired`, `Sold`, `Removed`): creating a holding
//! records `Acquired` on its `acquired_on` date; changing its quantity records `Acquired` or
//! `Removed` now; a sale records `Sold`. The holding's `quantity` is kept equal to what the
//! events leave. Valuation (average cost, realized and unrealized P&L) is the store's.

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
    Condition, Grading, Holding, HoldingChange, HoldingId, Language, Money, Portfolio,
    PortfolioEvent, PortfolioEventId, PortfolioId, PriceKind, Printing, ProductId, Source,
    Timestamp,
};
use tcg_store::{Interval, PortfolioValuation, PriceFilter, ValuationPoint, ValuationPrice};
use utoipa::IntoParams;

use crate::{
    auth::Caller,
    csv_import::{self, CsvFormat, RowProblem},
    error::{ApiError, ApiResult},
    openapi::api_schema,
    problem::{ApiJson, ApiQuery, FieldError, Problem, body_bytes},
    routes::{Params, cards, created, path_id},
    state::AppState,
};

/// Namespace of the deterministic ids of events the API records.
const EVENT_NS: uuid::Uuid = uuid::Uuid::from_u128(0x7a1d_2b0c_93e4_4f6a_8c2d_5e1f_0b3a_9c47);

/// A portfolio (schema: `Portfolio`).
#[derive(Debug)]
pub struct PortfolioDoc;
/// A holding (schema: `Holding`).
#[derive(Debug)]
pub struct HoldingDoc;
/// A portfolio event (schema: `PortfolioEvent`).
#[derive(Debug)]
pub struct EventDoc;

macro_rules! doc_ref {
    ($($doc:ty => $real:ty),* $(,)?) => {$(
        impl utoipa::PartialSchema for $doc {
            fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
                utoipa::openapi::schema::Ref::from_schema_name(<$real as JsonSchema>::schema_name()).into()
            }
        }
        impl utoipa::ToSchema for $doc {
            fn name() -> std::borrow::Cow<'static, str> {
                <$real as JsonSchema>::schema_name()
            }
        }
    )*};
}
pub(crate) use doc_ref;
doc_ref!(PortfolioDoc => Portfolio, HoldingDoc => Holding, EventDoc => PortfolioEvent);

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
    pub name: String,
}

/// Holdings of a portfolio.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct HoldingList {
    pub items: Vec<Holding>,
}

/// A new holding.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct HoldingInput {
    pub product_id: ProductId,
    /// Default `Normal`.
    #[serde(default)]
    pub printing: Option<Printing>,
    /// Default `Near Mint`.
    #[serde(default)]
    pub condition: Option<Condition>,
    /// Default `English`.
    #[serde(default)]
    pub language: Option<Language>,
    /// For slabs: valued by the graded series.
    #[serde(default)]
    pub grading: Option<Grading>,
    /// 1 to 1000000.
    pub quantity: u32,
    /// Cost of one copy (not negative).
    pub cost_per_unit: Money,
    /// `YYYY-MM-DD`, not in the future; default today (UTC).
    #[serde(default)]
    pub acquired_on: Option<String>,
    /// At most 500 characters.
    #[serde(default)]
    pub note: Option<String>,
}

/// Changes to a holding. A new `quantity` is recorded as copies acquired (at `cost_per_unit`,
/// default the holding's) or removed, now; past costs are events and do not change.
#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct HoldingPatch {
    #[serde(default)]
    pub quantity: Option<u32>,
    #[serde(default)]
    pub cost_per_unit: Option<Money>,
    /// `null` clears it.
    #[serde(default, with = "double_option")]
    #[schemars(with = "Option<String>")]
    pub note: Option<Option<String>>,
}

/// Distinguishes a missing field (`None`) from `null` (`Some(None)`).
pub(crate) mod double_option {
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    pub fn serialize<S: Serializer, T: Serialize>(
        v: &Option<Option<T>>,
        s: S,
    ) -> Result<S::Ok, S::Error> {
        match v {
            Some(inner) => inner.serialize(s),
            None => s.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>, T: Deserialize<'de>>(
        d: D,
    ) -> Result<Option<Option<T>>, D::Error> {
        Option::<T>::deserialize(d).map(Some)
    }
}

/// A sale of copies of a holding.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SaleInput {
    /// 1 to the quantity held.
    pub quantity: u32,
    /// Proceeds per copy.
    pub price_per_unit: Money,
    /// Fees of the whole sale.
    #[serde(default)]
    pub fees: Option<Money>,
    /// When it was sold; default now; not in the future.
    #[serde(default)]
    pub at: Option<Timestamp>,
}

/// Events of a portfolio, oldest first.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct EventList {
    pub items: Vec<PortfolioEvent>,
}

/// Valuation of a portfolio now (USD; holdings with non-USD costs are listed, not totalled).
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct Valuation {
    pub portfolio_id: PortfolioId,
    pub at: Timestamp,
    pub market_value_usd: Money,
    pub cost_basis_usd: Money,
    pub realized_pnl_usd: Money,
    pub unrealized_pnl_usd: Money,
    pub holdings: Vec<HoldingValuation>,
    pub non_usd_holdings: Vec<HoldingId>,
}

/// One holding's figures.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct HoldingValuation {
    pub holding_id: HoldingId,
    pub series_id: String,
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
    pub interval: String,
    pub from: Timestamp,
    pub to: Timestamp,
    pub points: Vec<ValuationPointView>,
}

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

api_schema!(
    PortfolioList,
    PortfolioInput,
    HoldingList,
    HoldingInput,
    HoldingPatch,
    SaleInput,
    EventList,
    Valuation,
    ValuationHistory,
    ImportReport
);

pub(crate) fn schemas(g: &mut SchemaGenerator) {
    g.subschema_for::<Portfolio>();
    g.subschema_for::<Holding>();
    g.subschema_for::<PortfolioEvent>();
    g.subschema_for::<PortfolioList>();
    g.subschema_for::<PortfolioInput>();
    g.subschema_for::<HoldingList>();
    g.subschema_for::<HoldingInput>();
    g.subschema_for::<HoldingPatch>();
    g.subschema_for::<SaleInput>();
    g.subschema_for::<EventList>();
    g.subschema_for::<Valuation>();
    g.subschema_for::<ValuationHistory>();
    g.subschema_for::<ImportReport>();
}

/// The caller's portfolio, or 404 (also for another user's).
async fn owned(state: &AppState, caller: &Caller, raw: &str) -> ApiResult<Portfolio> {
    let id: PortfolioId = path_id(raw, "portfolio")?;
    state
        .store()
        .portfolios(&caller.user)
        .await?
        .into_iter()
        .find(|p| p.id == id)
        .ok_or_else(|| ApiError::NotFound(format!("no portfolio {id}")))
}

async fn holding_of(state: &AppState, p: &Portfolio, raw: &str) -> ApiResult<Holding> {
    let id: HoldingId = path_id(raw, "holding")?;
    state
        .store()
        .holdings(p.id)
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
        items: state.store().portfolios(&caller.user).await?,
    }))
}

/// Create a portfolio.
#[utoipa::path(post, path = "/v1/portfolios", tag = "portfolios", request_body = PortfolioInput,
    responses((status = 201, description = "Created", body = PortfolioDoc),
              (status = 422, description = "Invalid fields", body = Problem)))]
pub async fn create(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(input): ApiJson<PortfolioInput>,
) -> ApiResult<Response> {
    let name = check_name(&input.name)?;
    let existing = state.store().portfolios(&caller.user).await?;
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
    state.store().upsert_portfolio(&p).await?;
    Ok(created(p))
}

/// One portfolio.
#[utoipa::path(get, path = "/v1/portfolios/{id}", tag = "portfolios",
    params(("id" = String, Path, description = "Portfolio id (UUID)")),
    responses((status = 200, description = "The portfolio", body = PortfolioDoc),
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
    params(("id" = String, Path, description = "Portfolio id (UUID)")), request_body = PortfolioInput,
    responses((status = 200, description = "Renamed", body = PortfolioDoc),
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
    state.store().upsert_portfolio(&p).await?;
    Ok(Json(p))
}

/// Delete a portfolio with its holdings and events.
#[utoipa::path(delete, path = "/v1/portfolios/{id}", tag = "portfolios",
    params(("id" = String, Path, description = "Portfolio id (UUID)")),
    responses((status = 204, description = "Deleted"),
              (status = 404, description = "No such portfolio of the caller", body = Problem)))]
pub async fn delete(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    let p = owned(&state, &caller, &id).await?;
    state.store().delete_portfolio(&p).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Holdings of a portfolio.
#[utoipa::path(get, path = "/v1/portfolios/{id}/holdings", tag = "portfolios",
    params(("id" = String, Path, description = "Portfolio id (UUID)")),
    responses((status = 200, description = "Holdings", body = HoldingList),
              (status = 404, description = "No such portfolio of the caller", body = Problem)))]
pub async fn holdings(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<HoldingList>> {
    let p = owned(&state, &caller, &id).await?;
    Ok(Json(HoldingList {
        items: state.store().holdings(p.id).await?,
    }))
}

fn today(now: Timestamp) -> String {
    now.to_datetime()
        .date_naive()
        .format("%Y-%m-%d")
        .to_string()
}

fn check_money(errors: &mut Vec<FieldError>, field: &str, m: &Money) {
    if m.minor < 0 {
        errors.push(FieldError::new(field, "must not be negative"));
    }
}

/// Validates a holding and builds it (with the event of its acquisition).
async fn build_holding(
    state: &AppState,
    portfolio: &Portfolio,
    input: HoldingInput,
) -> ApiResult<(Holding, PortfolioEvent)> {
    let mut errors = Vec::new();
    if input.quantity == 0 || input.quantity > 1_000_000 {
        errors.push(FieldError::new("quantity", "must be 1 to 1000000"));
    }
    check_money(&mut errors, "cost_per_unit.amount", &input.cost_per_unit);
    let now = state.now();
    let acquired_on = match input.acquired_on {
        Some(d) => match chrono::NaiveDate::parse_from_str(&d, "%Y-%m-%d") {
            Ok(date) if date.format("%Y-%m-%d").to_string() <= today(now) => d,
            Ok(_) => {
                errors.push(FieldError::new("acquired_on", "must not be in the future"));
                d
            }
            Err(_) => {
                errors.push(FieldError::new("acquired_on", "must be a YYYY-MM-DD date"));
                d
            }
        },
        None => today(now),
    };
    if input
        .note
        .as_deref()
        .is_some_and(|n| n.chars().count() > 500)
    {
        errors.push(FieldError::new("note", "at most 500 characters"));
    }
    if errors.is_empty() && state.store().product(input.product_id).await?.is_none() {
        errors.push(FieldError::new(
            "product_id",
            format!("no card {} in the catalog", input.product_id),
        ));
    }
    if !errors.is_empty() {
        return Err(ApiError::Validation(errors));
    }
    let holding = Holding {
        id: HoldingId(uuid::Uuid::new_v4()),
        portfolio_id: portfolio.id,
        product_id: input.product_id,
        printing: input.printing.unwrap_or(Printing::Normal),
        condition: input.condition.unwrap_or(Condition::NearMint),
        language: input.language.unwrap_or(Language::English),
        grading: input.grading,
        quantity: input.quantity,
        cost_per_unit: input.cost_per_unit,
        acquired_on,
        note: input.note.filter(|n| !n.trim().is_empty()),
    };
    let at = chrono::NaiveDate::parse_from_str(&holding.acquired_on, "%Y-%m-%d")
        .ok()
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .map_or(now, |dt| Timestamp::from(dt.and_utc()));
    let event = PortfolioEvent {
        id: PortfolioEventId(uuid::Uuid::new_v5(&EVENT_NS, holding.id.0.as_bytes())),
        portfolio_id: portfolio.id,
        holding_id: holding.id,
        at,
        change: HoldingChange::Acquired {
            quantity: holding.quantity,
            cost_per_unit: holding.cost_per_unit,
        },
    };
    Ok((holding, event))
}

async fn save_holding(state: &AppState, h: &Holding, events: &[PortfolioEvent]) -> ApiResult<()> {
    // Events first: a holding without events would be valued from its own fields.
    state.store().append_portfolio_events(events).await?;
    state.store().upsert_holding(h).await?;
    Ok(())
}

/// Add a holding (recorded as acquired on `acquired_on`).
#[utoipa::path(post, path = "/v1/portfolios/{id}/holdings", tag = "portfolios",
    params(("id" = String, Path, description = "Portfolio id (UUID)")), request_body = HoldingInput,
    responses((status = 201, description = "Created", body = HoldingDoc),
              (status = 404, description = "No such portfolio of the caller", body = Problem),
              (status = 422, description = "Invalid fields", body = Problem)))]
pub async fn add_holding(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    ApiJson(input): ApiJson<HoldingInput>,
) -> ApiResult<Response> {
    let p = owned(&state, &caller, &id).await?;
    if state.store().holdings(p.id).await?.len() >= state.config().max_holdings {
        return Err(ApiError::Conflict(format!(
            "at most {} holdings per portfolio",
            state.config().max_holdings
        )));
    }
    let (h, e) = build_holding(&state, &p, input).await?;
    save_holding(&state, &h, &[e]).await?;
    Ok(created(h))
}

/// One holding.
#[utoipa::path(get, path = "/v1/portfolios/{id}/holdings/{holding_id}", tag = "portfolios",
    params(("id" = String, Path, description = "Portfolio id (UUID)"),
           ("holding_id" = String, Path, description = "Holding id (UUID)")),
    responses((status = 200, description = "The holding", body = HoldingDoc),
              (status = 404, description = "No such holding", body = Problem)))]
pub async fn get_holding(
    State(state): State<AppState>,
    caller: Caller,
    Path((id, hid)): Path<(String, String)>,
) -> ApiResult<Json<Holding>> {
    let p = owned(&state, &caller, &id).await?;
    Ok(Json(holding_of(&state, &p, &hid).await?))
}

/// Change a holding's quantity (recorded as acquired or removed copies) or note.
#[utoipa::path(patch, path = "/v1/portfolios/{id}/holdings/{holding_id}", tag = "portfolios",
    params(("id" = String, Path, description = "Portfolio id (UUID)"),
           ("holding_id" = String, Path, description = "Holding id (UUID)")),
    request_body = HoldingPatch,
    responses((status = 200, description = "Updated", body = HoldingDoc),
              (status = 404, description = "No such holding", body = Problem),
              (status = 422, description = "Invalid fields", body = Problem)))]
pub async fn update_holding(
    State(state): State<AppState>,
    caller: Caller,
    Path((id, hid)): Path<(String, String)>,
    ApiJson(patch): ApiJson<HoldingPatch>,
) -> ApiResult<Json<Holding>> {
    let p = owned(&state, &caller, &id).await?;
    let mut h = holding_of(&state, &p, &hid).await?;
    let mut errors = Vec::new();
    if let Some(c) = &patch.cost_per_unit {
        check_money(&mut errors, "cost_per_unit.amount", c);
    }
    if patch.quantity.is_some_and(|q| q > 1_000_000) {
        errors.push(FieldError::new("quantity", "must be 0 to 1000000"));
    }
    if let Some(Some(n)) = &patch.note
        && n.chars().count() > 500
    {
        errors.push(FieldError::new("note", "at most 500 characters"));
    }
    if !errors.is_empty() {
        return Err(ApiError::Validation(errors));
    }
    let now = state.now();
    let mut events = Vec::new();
    if let Some(q) = patch.quantity
        && q != h.quantity
    {
        let change = if q > h.quantity {
            HoldingChange::Acquired {
                quantity: q - h.quantity,
                cost_per_unit: patch.cost_per_unit.unwrap_or(h.cost_per_unit),
            }
        } else {
            HoldingChange::Removed {
                quantity: h.quantity - q,
            }
        };
        events.push(PortfolioEvent {
            id: PortfolioEventId(uuid::Uuid::new_v4()),
            portfolio_id: p.id,
            holding_id: h.id,
            at: now,
            change,
        });
        h.quantity = q;
    }
    if let Some(note) = patch.note {
        h.note = note.filter(|n| !n.trim().is_empty());
    }
    save_holding(&state, &h, &events).await?;
    Ok(Json(h))
}

/// Delete a holding (its events stay out of the valuation with it).
#[utoipa::path(delete, path = "/v1/portfolios/{id}/holdings/{holding_id}", tag = "portfolios",
    params(("id" = String, Path, description = "Portfolio id (UUID)"),
           ("holding_id" = String, Path, description = "Holding id (UUID)")),
    responses((status = 204, description = "Deleted"),
              (status = 404, description = "No such holding", body = Problem)))]
pub async fn delete_holding(
    State(state): State<AppState>,
    caller: Caller,
    Path((id, hid)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    let p = owned(&state, &caller, &id).await?;
    let h = holding_of(&state, &p, &hid).await?;
    state.store().delete_holding(p.id, h.id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Record a sale of copies of a holding (realized P&L = proceeds − fees − their average cost).
#[utoipa::path(post, path = "/v1/portfolios/{id}/holdings/{holding_id}/sales", tag = "portfolios",
    params(("id" = String, Path, description = "Portfolio id (UUID)"),
           ("holding_id" = String, Path, description = "Holding id (UUID)")),
    request_body = SaleInput,
    responses((status = 201, description = "The sale event", body = EventDoc),
              (status = 404, description = "No such holding", body = Problem),
              (status = 422, description = "Invalid fields", body = Problem)))]
pub async fn record_sale(
    State(state): State<AppState>,
    caller: Caller,
    Path((id, hid)): Path<(String, String)>,
    ApiJson(sale): ApiJson<SaleInput>,
) -> ApiResult<Response> {
    let p = owned(&state, &caller, &id).await?;
    let mut h = holding_of(&state, &p, &hid).await?;
    let now = state.now();
    let mut errors = Vec::new();
    if sale.quantity == 0 || sale.quantity > h.quantity {
        errors.push(FieldError::new(
            "quantity",
            format!("must be 1 to the {} copies held", h.quantity),
        ));
    }
    check_money(&mut errors, "price_per_unit.amount", &sale.price_per_unit);
    if let Some(f) = &sale.fees {
        check_money(&mut errors, "fees.amount", f);
    }
    if sale.at.is_some_and(|t| t > now) {
        errors.push(FieldError::new("at", "must not be in the future"));
    }
    if !errors.is_empty() {
        return Err(ApiError::Validation(errors));
    }
    let event = PortfolioEvent {
        id: PortfolioEventId(uuid::Uuid::new_v4()),
        portfolio_id: p.id,
        holding_id: h.id,
        at: sale.at.unwrap_or(now),
        change: HoldingChange::Sold {
            quantity: sale.quantity,
            price_per_unit: sale.price_per_unit,
            fees: sale.fees,
        },
    };
    h.quantity -= sale.quantity;
    save_holding(&state, &h, std::slice::from_ref(&event)).await?;
    Ok(created(event))
}

/// Events of a portfolio (acquisitions, sales, removals), oldest first.
#[utoipa::path(get, path = "/v1/portfolios/{id}/events", tag = "portfolios",
    params(("id" = String, Path, description = "Portfolio id (UUID)")),
    responses((status = 200, description = "Events", body = EventList),
              (status = 404, description = "No such portfolio of the caller", body = Problem)))]
pub async fn events(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<EventList>> {
    let p = owned(&state, &caller, &id).await?;
    Ok(Json(EventList {
        items: state.store().portfolio_events(p.id).await?,
    }))
}

/// Which prices value the holdings.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ValuationParams {
    /// Source of prices (default any).
    source: Option<String>,
    /// Price kind (default `market`).
    kind: Option<String>,
}

fn valuation_price(
    p: &mut Params,
    source: &Option<String>,
    kind: &Option<String>,
) -> ValuationPrice {
    let source = p.opt("source", source, "a source", Source::parse);
    let kind = p
        .opt("kind", kind, "a price kind", PriceKind::parse)
        .unwrap_or(PriceKind::Market);
    ValuationPrice {
        prices: PriceFilter {
            sources: source.into_iter().collect(),
            kinds: vec![kind],
        },
    }
}

fn valuation_view(id: PortfolioId, v: PortfolioValuation) -> Valuation {
    Valuation {
        portfolio_id: id,
        at: v.at,
        market_value_usd: v.market_value_usd,
        cost_basis_usd: v.cost_basis_usd,
        realized_pnl_usd: v.realized_pnl_usd,
        unrealized_pnl_usd: v.unrealized_pnl_usd,
        holdings: v
            .holdings
            .into_iter()
            .map(|h| HoldingValuation {
                holding_id: h.holding_id,
                series_id: h.series_id,
                quantity: h.quantity,
                unit_price_usd: h.unit_price_usd,
                priced_at: h.priced_at,
                market_value_usd: h.market_value_usd,
                cost_basis_usd: h.cost_basis_usd,
                realized_pnl_usd: h.realized_pnl_usd,
                unrealized_pnl_usd: h.unrealized_pnl_usd,
            })
            .collect(),
        non_usd_holdings: v.non_usd_holdings,
    }
}

/// Value now: market value, cost basis, unrealized and realized P&L, per holding and in total.
#[utoipa::path(get, path = "/v1/portfolios/{id}/valuation", tag = "portfolios",
    params(("id" = String, Path, description = "Portfolio id (UUID)"), ValuationParams),
    responses((status = 200, description = "Valuation", body = Valuation),
              (status = 400, description = "Bad parameters", body = Problem),
              (status = 404, description = "No such portfolio of the caller", body = Problem)))]
pub async fn valuation(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    ApiQuery(q): ApiQuery<ValuationParams>,
) -> ApiResult<Json<Valuation>> {
    let p = owned(&state, &caller, &id).await?;
    let mut params = Params::default();
    let price = valuation_price(&mut params, &q.source, &q.kind);
    params.finish()?;
    let v = state.valuer().value(p.id, state.now(), &price).await?;
    Ok(Json(valuation_view(p.id, v)))
}

/// History parameters.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct HistoryParams {
    /// `1h`, `1d` (default), `1w` or `1M`.
    interval: Option<String>,
    /// RFC 3339; default 90 buckets before `to`.
    from: Option<String>,
    /// RFC 3339, exclusive; default now.
    to: Option<String>,
    source: Option<String>,
    kind: Option<String>,
}

/// Value over time, one point per bucket.
#[utoipa::path(get, path = "/v1/portfolios/{id}/history", tag = "portfolios",
    params(("id" = String, Path, description = "Portfolio id (UUID)"), HistoryParams),
    responses((status = 200, description = "Points", body = ValuationHistory),
              (status = 400, description = "Bad parameters", body = Problem),
              (status = 404, description = "No such portfolio of the caller", body = Problem)))]
pub async fn history(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    ApiQuery(q): ApiQuery<HistoryParams>,
) -> ApiResult<Json<ValuationHistory>> {
    let portfolio = owned(&state, &caller, &id).await?;
    let mut p = Params::default();
    let interval_text = q.interval.clone().unwrap_or_else(|| "1d".into());
    let interval = p
        .opt(
            "interval",
            &Some(interval_text.clone()),
            "1h, 1d, 1w or 1M",
            cards::parse_interval,
        )
        .unwrap_or(Interval::DAY);
    let to = p.opt("to", &q.to, "an RFC 3339 instant", cards::parse_time);
    let from = p.opt("from", &q.from, "an RFC 3339 instant", cards::parse_time);
    let price = valuation_price(&mut p, &q.source, &q.kind);
    let to = to.unwrap_or_else(|| state.now());
    let from = from.unwrap_or_else(|| cards::default_from(interval, to, 90));
    let max = state.config().max_buckets;
    if from >= to {
        p.fail("from", "must be before `to`");
    } else if cards::bucket_count(interval, from, to, max) > max {
        p.fail("from", format!("the range holds more than {max} buckets"));
    }
    p.finish()?;
    let points: Vec<ValuationPoint> = state
        .valuer()
        .history(portfolio.id, from, to, interval, &price)
        .await?;
    Ok(Json(ValuationHistory {
        portfolio_id: portfolio.id,
        interval: interval_text,
        from,
        to,
        points: points
            .into_iter()
            .map(|v| ValuationPointView {
                start: v.start,
                market_value_usd: v.market_value_usd,
                cost_basis_usd: v.cost_basis_usd,
                realized_pnl_usd: v.realized_pnl_usd,
                unrealized_pnl_usd: v.unrealized_pnl_usd,
            })
            .collect(),
    }))
}

/// Import parameters.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ImportParams {
    /// `collectr`, `tcgplayer` or `generic` (see the README for the columns).
    format: Option<String>,
    /// `true`: match and report, create nothing.
    dry_run: Option<String>,
}

/// Import holdings from CSV (body `text/csv`). Rows that cannot be matched to a card are listed
/// in `unmatched` with their row number and reason; the others become holdings.
#[utoipa::path(post, path = "/v1/portfolios/{id}/import", tag = "portfolios",
    params(("id" = String, Path, description = "Portfolio id (UUID)"), ImportParams),
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
    ApiQuery(q): ApiQuery<ImportParams>,
    req: Request,
) -> ApiResult<Json<ImportReport>> {
    let portfolio = owned(&state, &caller, &id).await?;
    let mut p = Params::default();
    let format = p.opt(
        "format",
        &q.format,
        "collectr, tcgplayer or generic",
        CsvFormat::parse,
    );
    let dry_run = p
        .opt("dry_run", &q.dry_run, "true or false", |s| match s {
            "true" | "1" => Some(true),
            "false" | "0" => Some(false),
            _ => None,
        })
        .unwrap_or(false);
    if format.is_none() && q.format.is_none() {
        p.fail("format", "required: collectr, tcgplayer or generic");
    }
    p.finish()?;
    let format = format.ok_or_else(|| ApiError::param("format", "required"))?;
    let body = body_bytes(req, &state).await?;
    let (rows, mut unmatched) = csv_import::read(format, &body, state.config().import_max_rows)?;
    let total = rows.len() + unmatched.len();
    let existing = state.store().holdings(portfolio.id).await?.len();
    if existing + rows.len() > state.config().max_holdings {
        return Err(ApiError::Conflict(format!(
            "the import would exceed {} holdings per portfolio",
            state.config().max_holdings
        )));
    }
    let set_names: HashMap<u32, String> = state
        .store()
        .sets(None)
        .await?
        .into_iter()
        .map(|s| (s.group_id.0, s.name))
        .collect();
    let mut holdings = Vec::new();
    let mut events = Vec::new();
    for row in rows {
        let product = match csv_import::match_row(state.store().as_ref(), &set_names, &row).await {
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
        match build_holding(&state, &portfolio, input).await {
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
    unmatched.sort_by_key(|u| u.row);
    if !dry_run {
        state.store().append_portfolio_events(&events).await?;
        for h in &holdings {
            state.store().upsert_holding(h).await?;
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

/// Export the holdings as generic CSV (importable with `format=generic`).
#[utoipa::path(get, path = "/v1/portfolios/{id}/export", tag = "portfolios",
    params(("id" = String, Path, description = "Portfolio id (UUID)")),
    responses((status = 200, description = "CSV", content_type = "text/csv", body = String),
              (status = 404, description = "No such portfolio of the caller", body = Problem)))]
pub async fn export(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    let p = owned(&state, &caller, &id).await?;
    let holdings = state.store().holdings(p.id).await?;
    let mut catalog = HashMap::new();
    for h in &holdings {
        if let std::collections::hash_map::Entry::Vacant(e) = catalog.entry(h.product_id.0)
            && let Some(prod) = state.store().product(h.product_id).await?
        {
            e.insert(prod);
        }
    }
    let set_names: HashMap<u32, String> = state
        .store()
        .sets(None)
        .await?
        .into_iter()
        .map(|s| (s.group_id.0, s.name))
        .collect();
    let body = csv_import::export(&holdings, &catalog, &set_names)?;
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
