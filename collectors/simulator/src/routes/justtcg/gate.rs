//! JustTCG's pre-flight: the request counter, the fault drawn for the request, the key and the
//! plan's allowance.

use std::{
    sync::Arc,
    time::{Duration, Instant},
};

use axum::{
    Json,
    body::Body,
    extract::{Request, State},
    http::{HeaderValue, StatusCode, header},
    middleware::Next,
    response::{IntoResponse, Response},
};
use serde::Serialize;
use serde_json::json;

use super::{Jt, error};
use crate::{
    routes::status,
    state::{Fault, SimState},
    stats::Endpoint,
};

/// A plan's allowance.
#[derive(Debug, Clone, Copy)]
pub(super) struct Plan {
    pub(super) name: &'static str,
    pub(super) per_request: usize,
    per_minute: u64,
    per_day: u64,
    per_month: u64,
}

const FREE: Plan = Plan {
    name: "Free Tier",
    per_request: 20,
    per_minute: 10,
    per_day: 100,
    per_month: 1_000,
};

const ENTERPRISE: Plan = Plan {
    name: "Enterprise",
    per_request: 200,
    per_minute: 500,
    per_day: 50_000,
    per_month: 500_000,
};

/// A key's requests: this (real-time) minute's, this (simulated) day's and month's.
#[derive(Debug)]
pub(super) struct Counter {
    minute_start: Instant,
    minute: u64,
    day: i64,
    today: u64,
    month: u64,
}

/// `_metadata`: the plan's allowance after this request.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct Metadata {
    api_request_limit: u64,
    api_daily_limit: u64,
    api_rate_limit: u64,
    api_requests_used: u64,
    api_daily_requests_used: u64,
    api_requests_remaining: u64,
    api_daily_requests_remaining: u64,
    api_plan: &'static str,
}

/// What the pre-flight granted a request.
#[derive(Debug, Clone)]
pub(super) struct Granted {
    pub(super) plan: Plan,
    pub(super) metadata: Metadata,
}

pub(super) async fn preflight(
    State((s, jt)): State<(Arc<SimState>, Arc<Jt>)>,
    mut request: Request,
    next: Next,
) -> Response {
    s.stats.hit(Endpoint::Justtcg);
    let fault = s.next_fault(false);
    if let Some(refused) = apply_fault(&s, fault).await {
        return refused;
    }
    let key = request
        .headers()
        .get("x-api-key")
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .unwrap_or("");
    if key.is_empty() {
        let msg = "API key is missing. Include it in the x-api-key header.";
        return error(StatusCode::UNAUTHORIZED, "MISSING_API_KEY", msg);
    }
    if !key.starts_with("tcg_") {
        let msg = "The API key provided is invalid or has been revoked.";
        return error(StatusCode::UNAUTHORIZED, "INVALID_API_KEY", msg);
    }
    let plan = if key.starts_with("tcg_free") {
        FREE
    } else {
        ENTERPRISE
    };
    let day = s.now_secs().div_euclid(86_400);
    let metadata = match jt.count(key, plan, day) {
        Ok(m) => m,
        Err(refused) => return refused,
    };
    request.extensions_mut().insert(Granted { plan, metadata });
    let response = next.run(request).await;
    if fault == Fault::Malformed && response.status().is_success() {
        truncate(response).await
    } else {
        response
    }
}

/// The answer a fault forces, if any (a hang waits, then lets the request go on).
async fn apply_fault(s: &SimState, fault: Fault) -> Option<Response> {
    let retry_after = |mut r: Response| {
        if let Ok(v) = HeaderValue::from_str(&s.config.faults.retry_after_secs.to_string()) {
            r.headers_mut().insert(header::RETRY_AFTER, v);
        }
        r
    };
    match fault {
        Fault::TooMany => Some(retry_after(error(
            StatusCode::TOO_MANY_REQUESTS,
            "RATE_LIMIT_EXCEEDED",
            "You have exceeded your per-minute rate limit. Slow down or upgrade your plan.",
        ))),
        Fault::Unavailable => Some(retry_after(status(
            StatusCode::SERVICE_UNAVAILABLE,
            "Service Unavailable",
        ))),
        Fault::ServerError => Some(
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                Json(json!({"error": "An unexpected error occurred on the server."})),
            )
                .into_response(),
        ),
        Fault::Hang => {
            tokio::time::sleep(Duration::from_millis(s.config.faults.hang_ms)).await;
            None
        }
        Fault::None | Fault::Malformed | Fault::ExpiredToken => None,
    }
}

/// The first half of the body (truncated JSON, status 200).
async fn truncate(response: Response) -> Response {
    let (mut parts, body) = response.into_parts();
    match axum::body::to_bytes(body, usize::MAX).await {
        Ok(bytes) => {
            parts.headers.remove(header::CONTENT_LENGTH);
            Response::from_parts(parts, Body::from(bytes.slice(..bytes.len() / 2)))
        }
        Err(_) => status(StatusCode::INTERNAL_SERVER_ERROR, "encode"),
    }
}

impl Jt {
    /// Counts a request of `key` (on `plan`, on simulated day `day`), or refuses it.
    fn count(&self, key: &str, plan: Plan, day: i64) -> Result<Metadata, Response> {
        let mut keys = self
            .keys
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let c = keys.entry(key.to_owned()).or_insert_with(|| Counter {
            minute_start: Instant::now(),
            minute: 0,
            day,
            today: 0,
            month: 0,
        });
        if c.minute_start.elapsed() >= Duration::from_secs(60) {
            c.minute_start = Instant::now();
            c.minute = 0;
        }
        if c.day != day {
            if c.day.div_euclid(30) != day.div_euclid(30) {
                c.month = 0;
            }
            c.day = day;
            c.today = 0;
        }
        let too_many = StatusCode::TOO_MANY_REQUESTS;
        if c.month >= plan.per_month {
            let msg = "You have exceeded your monthly usage limit. Wait for the next billing cycle \
                       or upgrade.";
            return Err(error(too_many, "REQUEST_LIMIT_EXCEEDED", msg));
        }
        if c.today >= plan.per_day {
            let msg = "You have exceeded your daily usage limit. Wait until reset (00:00 UTC) \
                       or upgrade.";
            return Err(error(too_many, "DAILY_LIMIT_EXCEEDED", msg));
        }
        if c.minute >= plan.per_minute {
            let msg =
                "You have exceeded your per-minute rate limit. Slow down or upgrade your plan.";
            return Err(error(too_many, "RATE_LIMIT_EXCEEDED", msg));
        }
        c.minute += 1;
        c.today += 1;
        c.month += 1;
        Ok(Metadata {
            api_request_limit: plan.per_month,
            api_daily_limit: plan.per_day,
            api_rate_limit: plan.per_minute,
            api_requests_used: c.month,
            api_daily_requests_used: c.today,
            api_requests_remaining: plan.per_month - c.month,
            api_daily_requests_remaining: plan.per_day - c.today,
            api_plan: plan.name,
        })
    }
}
