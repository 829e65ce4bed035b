//! Holdings of a portfolio, sales, and the events they record.
//!
//! Quantities and costs are kept as events (`Acquired`, `Sold`, `Removed`): creating a holding
//! records `Acquired` on its `acquired_on` date; changing its quantity records `Acquired` or
//! `Removed` now; a sale records `Sold`. The holding's `quantity` is kept equal to what the
//! events leave.

use axum::{
    Json,
    extract::{Path, State},
    http::StatusCode,
    response::Response,
};
use schemars::{JsonSchema, SchemaGenerator};
use serde::{Deserialize, Serialize};
use tcg_schemas::{
    Condition, Grading, Holding, HoldingChange, HoldingId, Language, Money, Portfolio,
    PortfolioEvent, PortfolioEventId, Printing, ProductId, Timestamp,
};

use crate::{
    auth::Caller,
    error::{ApiError, ApiResult},
    limits,
    openapi::{api_schema, doc},
    problem::{ApiJson, FieldError, Problem},
    routes::{
        created,
        portfolios::{holding_of, owned},
    },
    state::AppState,
};

/// Namespace of the deterministic ids of events the API records.
const EVENT_NS: uuid::Uuid = uuid::Uuid::from_u128(0x7a1d_2b0c_93e4_4f6a_8c2d_5e1f_0b3a_9c47);

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
    #[schemars(range(min = 1, max = 1_000_000))]
    pub quantity: u32,
    /// Cost of one copy (not negative).
    #[schemars(with = "crate::wire::Cost")]
    pub cost_per_unit: Money,
    /// `YYYY-MM-DD`, not in the future; default today (UTC).
    #[serde(default)]
    #[schemars(pattern(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"), extend("format" = "date"))]
    pub acquired_on: Option<String>,
    /// At most 500 characters.
    #[serde(default)]
    #[schemars(length(max = 500))]
    pub note: Option<String>,
}

/// Changes to a holding. A new `quantity` is recorded as copies acquired (at `cost_per_unit`,
/// default the holding's) or removed, now; past costs are events and do not change.
#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct HoldingPatch {
    /// 0 to 1000000.
    #[serde(default)]
    #[schemars(range(max = 1_000_000))]
    pub quantity: Option<u32>,
    #[serde(default)]
    #[schemars(with = "Option<crate::wire::Cost>")]
    pub cost_per_unit: Option<Money>,
    /// At most 500 characters; `null` clears it.
    #[serde(default, with = "crate::routes::double_option")]
    #[schemars(with = "Option<String>", length(max = 500))]
    pub note: Option<Option<String>>,
}

/// A sale of copies of a holding.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SaleInput {
    /// 1 to the quantity held.
    #[schemars(range(min = 1))]
    pub quantity: u32,
    /// Proceeds per copy.
    #[schemars(with = "crate::wire::Cost")]
    pub price_per_unit: Money,
    /// Fees of the whole sale.
    #[serde(default)]
    #[schemars(with = "Option<crate::wire::Cost>")]
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

api_schema!(
    HoldingList,
    HoldingInput,
    HoldingPatch,
    SaleInput,
    EventList
);

pub(crate) fn schemas(g: &mut SchemaGenerator) {
    g.subschema_for::<HoldingList>();
    g.subschema_for::<HoldingInput>();
    g.subschema_for::<HoldingPatch>();
    g.subschema_for::<SaleInput>();
    g.subschema_for::<EventList>();
}

/// Holdings of a portfolio.
#[utoipa::path(get, path = "/v1/portfolios/{id}/holdings", tag = "portfolios",
    params(("id" = String, Path, format = "uuid", description = "Portfolio id (UUID)")),
    responses((status = 200, description = "Holdings", body = HoldingList),
              (status = 404, description = "No such portfolio of the caller", body = Problem)))]
pub async fn holdings(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<HoldingList>> {
    let p = owned(&state, &caller, &id).await?;
    Ok(Json(HoldingList {
        items: state.portfolios().holdings(p.id).await?,
    }))
}

fn today(now: Timestamp) -> String {
    now.to_datetime()
        .date_naive()
        .format("%Y-%m-%d")
        .to_string()
}

/// A cost or price: not negative, below 10^12 minor units (`crate::wire::Cost`).
fn check_money(errors: &mut Vec<FieldError>, field: &str, m: &Money) {
    if m.minor < 0 {
        errors.push(FieldError::new(field, "must not be negative"));
    } else if m.minor >= 10_i64.pow(crate::wire::MAX_MINOR_DIGITS) {
        errors.push(FieldError::new(
            field,
            format!(
                "must be below 10^{} minor units (ten billion dollars)",
                crate::wire::MAX_MINOR_DIGITS
            ),
        ));
    }
}

/// Validates a holding and builds it (with the event of its acquisition).
pub(crate) async fn build_holding(
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
    if errors.is_empty()
        && limits::read(state, state.prices().product(input.product_id))
            .await?
            .is_none()
    {
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
    state.portfolios().append_portfolio_events(events).await?;
    state.portfolios().upsert_holding(h).await?;
    Ok(())
}

/// Add a holding (recorded as acquired on `acquired_on`).
#[utoipa::path(post, path = "/v1/portfolios/{id}/holdings", tag = "portfolios",
    params(("id" = String, Path, format = "uuid", description = "Portfolio id (UUID)")), request_body = HoldingInput,
    responses((status = 201, description = "Created", body = doc::Holding),
              (status = 404, description = "No such portfolio of the caller", body = Problem),
              (status = 422, description = "Invalid fields", body = Problem)))]
pub async fn add_holding(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    ApiJson(input): ApiJson<HoldingInput>,
) -> ApiResult<Response> {
    let p = owned(&state, &caller, &id).await?;
    if limits::read(&state, state.portfolios().holdings(p.id))
        .await?
        .len()
        >= state.config().max_holdings
    {
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
    params(("id" = String, Path, format = "uuid", description = "Portfolio id (UUID)"),
           ("holding_id" = String, Path, format = "uuid", description = "Holding id (UUID)")),
    responses((status = 200, description = "The holding", body = doc::Holding),
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
    params(("id" = String, Path, format = "uuid", description = "Portfolio id (UUID)"),
           ("holding_id" = String, Path, format = "uuid", description = "Holding id (UUID)")),
    request_body = HoldingPatch,
    responses((status = 200, description = "Updated", body = doc::Holding),
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
    params(("id" = String, Path, format = "uuid", description = "Portfolio id (UUID)"),
           ("holding_id" = String, Path, format = "uuid", description = "Holding id (UUID)")),
    responses((status = 204, description = "Deleted"),
              (status = 404, description = "No such holding", body = Problem)))]
pub async fn delete_holding(
    State(state): State<AppState>,
    caller: Caller,
    Path((id, hid)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    let p = owned(&state, &caller, &id).await?;
    let h = holding_of(&state, &p, &hid).await?;
    state.portfolios().delete_holding(p.id, h.id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Record a sale of copies of a holding (realized P&L = proceeds − fees − their average cost).
#[utoipa::path(post, path = "/v1/portfolios/{id}/holdings/{holding_id}/sales", tag = "portfolios",
    params(("id" = String, Path, format = "uuid", description = "Portfolio id (UUID)"),
           ("holding_id" = String, Path, format = "uuid", description = "Holding id (UUID)")),
    request_body = SaleInput,
    responses((status = 201, description = "The sale event", body = doc::PortfolioEvent),
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
    params(("id" = String, Path, format = "uuid", description = "Portfolio id (UUID)")),
    responses((status = 200, description = "Events", body = EventList),
              (status = 404, description = "No such portfolio of the caller", body = Problem)))]
pub async fn events(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<EventList>> {
    let p = owned(&state, &caller, &id).await?;
    Ok(Json(EventList {
        items: state.portfolios().portfolio_events(p.id).await?,
    }))
}
