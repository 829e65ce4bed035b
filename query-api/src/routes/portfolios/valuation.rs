//! A portfolio's value now and over time (the store's average-cost arithmetic, in USD; holdings
//! with non-USD costs are listed apart).

use axum::{
    Json,
    extract::{Path, State},
};
use schemars::{JsonSchema, SchemaGenerator};
use serde::{Deserialize, Serialize};
use tcg_schemas::{HoldingId, Money, PortfolioId, PriceKind, Source, Timestamp};
use tcg_store::{PortfolioValuation, PriceFilter, ValuationPoint, ValuationPrice};
use utoipa::IntoParams;

use crate::{
    auth::Caller,
    error::{ApiError, ApiResult},
    openapi::{api_schema, doc},
    problem::{FieldError, Problem},
    query::{ApiQuery, QueryParams, opt},
    routes::{
        cards::candles::{check_range, default_from},
        params::Interval,
        portfolios::owned,
    },
    state::AppState,
};

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
    pub interval: Interval,
    pub from: Timestamp,
    pub to: Timestamp,
    pub points: Vec<ValuationPointView>,
}

api_schema!(Valuation, ValuationHistory);

pub(crate) fn schemas(g: &mut SchemaGenerator) {
    g.subschema_for::<Valuation>();
    g.subschema_for::<ValuationHistory>();
}

/// Which prices value the holdings.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ValuationParams {
    /// Source of prices (default any).
    #[serde(default, deserialize_with = "opt")]
    #[param(value_type = Option<doc::Source>)]
    source: Option<Source>,
    /// Price kind (default `market`).
    #[serde(default, deserialize_with = "opt")]
    #[param(value_type = Option<doc::PriceKind>)]
    kind: Option<PriceKind>,
}

impl QueryParams for ValuationParams {}

fn valuation_price(source: Option<Source>, kind: Option<PriceKind>) -> ValuationPrice {
    ValuationPrice {
        prices: PriceFilter {
            sources: source.into_iter().collect(),
            kinds: vec![kind.unwrap_or(PriceKind::Market)],
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
    query: Result<ApiQuery<ValuationParams>, ApiError>,
) -> ApiResult<Json<Valuation>> {
    let p = owned(&state, &caller, &id).await?;
    let ApiQuery(q) = query?;
    let price = valuation_price(q.source, q.kind);
    let v = state.valuer().value(p.id, state.now(), &price).await?;
    Ok(Json(valuation_view(p.id, v)))
}

/// History parameters.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct HistoryParams {
    /// `1h`, `1d` (default), `1w` or `1M`.
    #[serde(default, deserialize_with = "opt")]
    interval: Option<Interval>,
    /// RFC 3339; default 90 buckets before `to`.
    #[serde(default, deserialize_with = "opt")]
    #[param(value_type = Option<doc::Timestamp>)]
    from: Option<Timestamp>,
    /// RFC 3339, exclusive; default now.
    #[serde(default, deserialize_with = "opt")]
    #[param(value_type = Option<doc::Timestamp>)]
    to: Option<Timestamp>,
    #[serde(default, deserialize_with = "opt")]
    #[param(value_type = Option<doc::Source>)]
    source: Option<Source>,
    #[serde(default, deserialize_with = "opt")]
    #[param(value_type = Option<doc::PriceKind>)]
    kind: Option<PriceKind>,
}

impl QueryParams for HistoryParams {
    fn check(&mut self, state: &AppState, errors: &mut Vec<FieldError>) {
        let interval = self.interval.unwrap_or_default();
        let (from, to) = check_range(interval, self.from, self.to, state, errors, |max| {
            format!("the range holds more than {max} buckets")
        });
        self.from = Some(from);
        self.to = Some(to);
    }
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
    query: Result<ApiQuery<HistoryParams>, ApiError>,
) -> ApiResult<Json<ValuationHistory>> {
    let portfolio = owned(&state, &caller, &id).await?;
    let ApiQuery(q) = query?;
    let interval = q.interval.unwrap_or_default();
    // `check` has filled in the defaults.
    let to = q.to.unwrap_or_else(|| state.now());
    let from = q
        .from
        .unwrap_or_else(|| default_from(interval.buckets(), to, 90));
    let price = valuation_price(q.source, q.kind);
    let points: Vec<ValuationPoint> = state
        .valuer()
        .history(portfolio.id, from, to, interval.buckets(), &price)
        .await?;
    Ok(Json(ValuationHistory {
        portfolio_id: portfolio.id,
        interval,
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
