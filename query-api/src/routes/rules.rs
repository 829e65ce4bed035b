//! Alert rules (validated by the processor core's own `rules::validate`) and fired alerts.

use axum::{
    Json,
    extract::{Path, State},
    http::StatusCode,
    response::Response,
};
use schemars::{JsonSchema, SchemaGenerator};
use serde::{Deserialize, Serialize};
use tcg_schemas::{
    AlertEvent, AlertRule, ProductId, RuleChange, RuleCondition, RuleId, SeriesFilter,
};
use utoipa::IntoParams;

use crate::{
    auth::Caller,
    card_names::CardRef,
    error::{ApiError, ApiResult},
    limits,
    openapi::api_schema,
    openapi::doc,
    problem::{ApiJson, FieldError, Problem},
    query::{ApiQuery, QueryParams, check_limit, limit_or, opt},
    routes::{created, path_id},
    state::AppState,
};

/// The shortest cooldown a rule may have, seconds (the processor core's, which reads a stored
/// value below it as this minimum): a rule fires at most once a minute per series, and its
/// webhook endpoint gets at most that.
pub use tcg_processor_core::rules::MIN_COOLDOWN_SECS;

/// A rule as the client writes it (`id`, `owner` and times are the server's).
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RuleInput {
    /// 1–200 characters.
    #[schemars(length(min = 1, max = 200))]
    pub name: String,
    pub product_id: ProductId,
    #[serde(default)]
    pub filter: SeriesFilter,
    pub condition: RuleCondition,
    /// Minimum seconds between two alerts of this rule for one series: 60 to 7776000 (90 days),
    /// default 3600.
    #[serde(default)]
    #[schemars(range(min = MIN_COOLDOWN_SECS, max = 7_776_000))]
    pub cooldown_secs: Option<u64>,
    #[serde(default)]
    pub paused: bool,
}

/// A partial update: only the fields given change.
#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RulePatch {
    /// 1–200 characters.
    #[serde(default)]
    #[schemars(length(min = 1, max = 200))]
    pub name: Option<String>,
    #[serde(default)]
    pub filter: Option<SeriesFilter>,
    #[serde(default)]
    pub condition: Option<RuleCondition>,
    /// 60 to 7776000 (90 days).
    #[serde(default)]
    #[schemars(range(min = MIN_COOLDOWN_SECS, max = 7_776_000))]
    pub cooldown_secs: Option<u64>,
    #[serde(default)]
    pub paused: Option<bool>,
}

/// The caller's rules.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct RuleList {
    pub items: Vec<RuleView>,
}

/// A rule with its card in words.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct RuleView {
    #[serde(flatten)]
    pub rule: AlertRule,
    /// Absent when the catalog does not know the card.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub card: Option<CardRef>,
}

/// The caller's fired alerts, newest first.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct AlertList {
    pub items: Vec<AlertView>,
}

/// A fired alert with its card in words.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct AlertView {
    #[serde(flatten)]
    pub alert: AlertEvent,
    /// Absent when the catalog does not know the card.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub card: Option<CardRef>,
}

api_schema!(RuleInput, RulePatch, RuleList, AlertList);

pub(crate) fn schemas(g: &mut SchemaGenerator) {
    g.subschema_for::<AlertRule>();
    g.subschema_for::<RuleInput>();
    g.subschema_for::<RulePatch>();
    g.subschema_for::<RuleList>();
    g.subschema_for::<AlertList>();
}

async fn owned(state: &AppState, caller: &Caller, raw: &str) -> ApiResult<AlertRule> {
    let id: RuleId = path_id(raw, "alert rule")?;
    limits::read(state, state.app().rules(Some(&caller.user)))
        .await?
        .into_iter()
        .find(|r| r.id == id)
        .ok_or_else(|| ApiError::NotFound(format!("no alert rule {id}")))
}

/// The core's checks, plus the ones only the API makes (the shortest cooldown, the card exists).
async fn validate(state: &AppState, rule: &AlertRule) -> ApiResult<()> {
    if rule.cooldown_secs < MIN_COOLDOWN_SECS {
        return Err(ApiError::field(
            "cooldown_secs",
            format!("must be at least {MIN_COOLDOWN_SECS} seconds"),
        ));
    }
    if let Err(e) = tcg_processor_core::rules::validate(rule, &state.config().core) {
        return Err(ApiError::Validation(vec![FieldError::new(
            e.field, e.message,
        )]));
    }
    if limits::read(state, state.prices().product(rule.product_id))
        .await?
        .is_none()
    {
        return Err(ApiError::field(
            "product_id",
            format!("no card {} in the catalog", rule.product_id),
        ));
    }
    Ok(())
}

/// Publishes within the store deadline (a publisher that does not take the change in time has
/// failed: the change is undone and the client gets 503).
async fn publish(
    state: &AppState,
    publisher: &dyn crate::state::RulePublisher,
    change: RuleChange,
) -> Result<(), crate::state::PublishError> {
    let deadline = state.config().store_deadline;
    tokio::time::timeout(deadline, publisher.publish(change))
        .await
        .unwrap_or_else(|_| {
            Err(crate::state::PublishError(format!(
                "the rule change was not taken within {} ms",
                deadline.as_millis()
            )))
        })
}

/// Stores a change, then publishes it; a failed publish undoes the store write (503).
async fn apply(state: &AppState, change: RuleChange, previous: Option<AlertRule>) -> ApiResult<()> {
    let store = state.app();
    store.apply_rule_change(&change).await?;
    if let Some(publisher) = &state.inner.rules
        && let Err(e) = publish(state, publisher.as_ref(), change.clone()).await
    {
        let undo = match previous {
            Some(rule) => store.upsert_rule(&rule).await,
            None => match &change {
                RuleChange::Upsert { rule } => store.delete_rule(rule.id, &rule.owner).await,
                RuleChange::Delete { .. } => Ok(()),
            },
        };
        if let Err(u) = undo {
            tracing::error!(error = %u, "cannot undo a rule change that was not published");
        }
        return Err(ApiError::Unavailable(format!(
            "{e}; nothing was changed, retry later"
        )));
    }
    Ok(())
}

/// The caller's alert rules.
#[utoipa::path(get, path = "/v1/alert-rules", tag = "alerts",
    responses((status = 200, description = "Rules", body = RuleList)))]
pub async fn list(State(state): State<AppState>, caller: Caller) -> ApiResult<Json<RuleList>> {
    let rules = state.app().rules(Some(&caller.user)).await?;
    let cards = state
        .card_names()
        .many(
            state.prices().as_ref(),
            rules.iter().map(|r| r.product_id).collect::<Vec<_>>(),
        )
        .await?;
    let items = rules
        .into_iter()
        .map(|rule| RuleView {
            card: cards.get(&rule.product_id).map(|c| (**c).clone()),
            rule,
        })
        .collect();
    Ok(Json(RuleList { items }))
}

/// Create a rule. Every field is validated; problems name the field (`condition.percent`, …).
#[utoipa::path(post, path = "/v1/alert-rules", tag = "alerts", request_body = RuleInput,
    responses((status = 201, description = "Created", body = doc::AlertRule),
              (status = 422, description = "Invalid fields", body = Problem),
              (status = 503, description = "The rule could not be handed to the processor", body = Problem)))]
pub async fn create(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(input): ApiJson<RuleInput>,
) -> ApiResult<Response> {
    let count = limits::read(&state, state.app().rules(Some(&caller.user)))
        .await?
        .len();
    if count >= state.config().max_rules {
        return Err(ApiError::Conflict(format!(
            "at most {} rules per user",
            state.config().max_rules
        )));
    }
    let now = state.now();
    let rule = AlertRule {
        id: RuleId(uuid::Uuid::new_v4()),
        owner: caller.user,
        name: input.name.trim().to_owned(),
        product_id: input.product_id,
        filter: input.filter,
        condition: input.condition,
        cooldown_secs: input.cooldown_secs.unwrap_or(3600),
        paused: input.paused,
        created_at: now,
        updated_at: now,
    };
    validate(&state, &rule).await?;
    apply(&state, RuleChange::Upsert { rule: rule.clone() }, None).await?;
    Ok(created(rule))
}

/// One rule.
#[utoipa::path(get, path = "/v1/alert-rules/{id}", tag = "alerts",
    params(("id" = String, Path, format = "uuid", description = "Rule id (UUID)")),
    responses((status = 200, description = "The rule", body = doc::AlertRule),
              (status = 404, description = "No such rule of the caller", body = Problem)))]
pub async fn get_one(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<AlertRule>> {
    Ok(Json(owned(&state, &caller, &id).await?))
}

async fn update(state: &AppState, old: AlertRule, new: AlertRule) -> ApiResult<Json<AlertRule>> {
    validate(state, &new).await?;
    apply(state, RuleChange::Upsert { rule: new.clone() }, Some(old)).await?;
    Ok(Json(new))
}

fn bump(state: &AppState, old: &AlertRule) -> tcg_schemas::Timestamp {
    // `updated_at` versions the rule in the processor: it must move forward.
    let now = state.now();
    if now > old.updated_at {
        now
    } else {
        tcg_schemas::Timestamp::from_micros(old.updated_at.as_micros() + 1)
    }
}

/// Replace a rule.
#[utoipa::path(put, path = "/v1/alert-rules/{id}", tag = "alerts",
    params(("id" = String, Path, format = "uuid", description = "Rule id (UUID)")), request_body = RuleInput,
    responses((status = 200, description = "Replaced", body = doc::AlertRule),
              (status = 404, description = "No such rule of the caller", body = Problem),
              (status = 422, description = "Invalid fields", body = Problem),
              (status = 503, description = "The rule could not be handed to the processor", body = Problem)))]
pub async fn replace(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    ApiJson(input): ApiJson<RuleInput>,
) -> ApiResult<Json<AlertRule>> {
    let old = owned(&state, &caller, &id).await?;
    let new = AlertRule {
        name: input.name.trim().to_owned(),
        product_id: input.product_id,
        filter: input.filter,
        condition: input.condition,
        cooldown_secs: input.cooldown_secs.unwrap_or(3600),
        paused: input.paused,
        updated_at: bump(&state, &old),
        ..old.clone()
    };
    update(&state, old, new).await
}

/// Change some fields of a rule (e.g. `{"paused": true}`).
#[utoipa::path(patch, path = "/v1/alert-rules/{id}", tag = "alerts",
    params(("id" = String, Path, format = "uuid", description = "Rule id (UUID)")), request_body = RulePatch,
    responses((status = 200, description = "Updated", body = doc::AlertRule),
              (status = 404, description = "No such rule of the caller", body = Problem),
              (status = 409, description = "The change does not fit the rule as stored: a `deal` condition on a rule whose filter watches a kind other than listings or sales, or a `buylist_above` one on a rule whose filter watches another kind than buylist prices, when the `filter` and the `condition` are not sent together", body = Problem),
              (status = 422, description = "Invalid fields", body = Problem),
              (status = 503, description = "The rule could not be handed to the processor", body = Problem)))]
pub async fn patch(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    ApiJson(p): ApiJson<RulePatch>,
) -> ApiResult<Json<AlertRule>> {
    let old = owned(&state, &caller, &id).await?;
    let mut new = old.clone();
    if let Some(n) = p.name {
        new.name = n.trim().to_owned();
    }
    let both_sent = p.filter.is_some() && p.condition.is_some();
    if let Some(f) = p.filter {
        new.filter = f;
    }
    if let Some(c) = p.condition {
        new.condition = c;
    }
    // A body valid on its own that does not fit what is stored is a conflict, not bad input.
    if !both_sent && let Some(why) = kind_misfit(&new) {
        return Err(ApiError::Conflict(format!(
            "{why}: send the `filter` and the `condition` together"
        )));
    }
    match p.cooldown_secs {
        Some(c) => new.cooldown_secs = c,
        // A rule stored before the minimum existed takes it on its next change.
        None => new.cooldown_secs = new.cooldown_secs.max(MIN_COOLDOWN_SECS),
    }
    if let Some(paused) = p.paused {
        new.paused = paused;
    }
    new.updated_at = bump(&state, &old);
    update(&state, old, new).await
}

/// Why a rule's filter does not watch the kind its condition needs: a `deal` rule watches
/// listings or sales, a `buylist_above` rule buylist prices (any other rule: none).
fn kind_misfit(rule: &AlertRule) -> Option<&'static str> {
    use tcg_schemas::PriceKind as K;
    match (&rule.condition, rule.filter.kind) {
        (RuleCondition::Deal { .. }, Some(k)) if !matches!(k, K::Listing | K::Sold) => Some(
            "a deal rule watches listings or sales, and this rule's filter watches another kind",
        ),
        (RuleCondition::BuylistAbove { .. }, Some(k)) if k != K::Buylist => Some(
            "a buylist rule watches buylist prices, and this rule's filter watches another kind",
        ),
        _ => None,
    }
}

async fn set_paused(
    state: &AppState,
    caller: &Caller,
    id: &str,
    paused: bool,
) -> ApiResult<Json<AlertRule>> {
    let old = owned(state, caller, id).await?;
    let new = AlertRule {
        paused,
        cooldown_secs: old.cooldown_secs.max(MIN_COOLDOWN_SECS),
        updated_at: bump(state, &old),
        ..old.clone()
    };
    update(state, old, new).await
}

/// Pause a rule (it stops firing; nothing else changes).
#[utoipa::path(post, path = "/v1/alert-rules/{id}/pause", tag = "alerts",
    params(("id" = String, Path, format = "uuid", description = "Rule id (UUID)")),
    responses((status = 200, description = "Paused", body = doc::AlertRule),
              (status = 404, description = "No such rule of the caller", body = Problem)))]
pub async fn pause(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<AlertRule>> {
    set_paused(&state, &caller, &id, true).await
}

/// Resume a paused rule.
#[utoipa::path(post, path = "/v1/alert-rules/{id}/resume", tag = "alerts",
    params(("id" = String, Path, format = "uuid", description = "Rule id (UUID)")),
    responses((status = 200, description = "Resumed", body = doc::AlertRule),
              (status = 404, description = "No such rule of the caller", body = Problem)))]
pub async fn resume(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<AlertRule>> {
    set_paused(&state, &caller, &id, false).await
}

/// Delete a rule.
#[utoipa::path(delete, path = "/v1/alert-rules/{id}", tag = "alerts",
    params(("id" = String, Path, format = "uuid", description = "Rule id (UUID)")),
    responses((status = 204, description = "Deleted"),
              (status = 404, description = "No such rule of the caller", body = Problem),
              (status = 503, description = "The deletion could not be handed to the processor", body = Problem)))]
pub async fn delete(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    let old = owned(&state, &caller, &id).await?;
    apply(
        &state,
        RuleChange::Delete {
            rule_id: old.id,
            owner: old.owner.clone(),
        },
        Some(old),
    )
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Fired-alert parameters.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct AlertParams {
    /// 1–200 (default 50).
    #[serde(default, deserialize_with = "opt")]
    #[param(minimum = 1, maximum = 200)]
    limit: Option<u32>,
    /// Only alerts of this rule.
    #[serde(default, deserialize_with = "opt")]
    #[param(value_type = Option<doc::RuleId>)]
    rule_id: Option<RuleId>,
}

impl QueryParams for AlertParams {
    fn check(&mut self, state: &AppState, errors: &mut Vec<FieldError>) {
        check_limit(errors, "limit", self.limit, state.config().max_page);
    }
}

/// The caller's fired alerts, newest first.
#[utoipa::path(get, path = "/v1/alerts", tag = "alerts", params(AlertParams),
    responses((status = 200, description = "Alerts", body = AlertList),
              (status = 400, description = "Bad parameters", body = Problem)))]
pub async fn alerts(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(q): ApiQuery<AlertParams>,
) -> ApiResult<Json<AlertList>> {
    let limit = limit_or(q.limit, 50);
    let rule = q.rule_id;
    // Filtering by rule reads more, then keeps that rule's.
    let fetch = if rule.is_some() {
        limit.saturating_mul(20).min(5000)
    } else {
        limit
    };
    let mut items = state.app().alerts(&caller.user, fetch).await?;
    if let Some(r) = rule {
        items.retain(|a| a.rule_id == r);
    }
    items.truncate(limit);
    let cards = state
        .card_names()
        .many(
            state.prices().as_ref(),
            items.iter().map(|a| a.product_id).collect::<Vec<_>>(),
        )
        .await?;
    let items = items
        .into_iter()
        .map(|alert| AlertView {
            card: cards.get(&alert.product_id).map(|c| (**c).clone()),
            alert,
        })
        .collect();
    Ok(Json(AlertList { items }))
}
