//! The crate's error type; every variant answers as problem+json.

use axum::{
    http::StatusCode,
    response::{IntoResponse, Response},
};
use tcg_store::StoreError;

use crate::problem::{FieldError, Problem};

/// Everything a request can fail with.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// The request cannot be read (bad JSON, bad query string).
    #[error("bad request: {0}")]
    BadRequest(String),
    /// Query parameters with bad values.
    #[error("invalid parameters")]
    InvalidParams(Vec<FieldError>),
    /// A well-formed body with invalid fields, or query parameters valid one by one that do
    /// not fit together (422).
    #[error("invalid fields")]
    Validation(Vec<FieldError>),
    #[error("unauthorized: {0}")]
    Unauthorized(String),
    #[error("forbidden: {0}")]
    Forbidden(String),
    #[error("not found: {0}")]
    NotFound(String),
    #[error("conflict: {0}")]
    Conflict(String),
    #[error("body too large")]
    PayloadTooLarge,
    #[error("unsupported media type: {0}")]
    UnsupportedMediaType(String),
    #[error("rate limited, retry after {retry_after_secs}s")]
    RateLimited { retry_after_secs: u64 },
    #[error("method not allowed")]
    MethodNotAllowed,
    #[error("unavailable: {0}")]
    Unavailable(String),
    /// The request would take more work than allowed (`errors` names what to narrow).
    #[error("too large: {detail}")]
    TooLarge {
        detail: String,
        errors: Vec<FieldError>,
    },
    /// Every slot for store reads stayed taken until the deadline.
    #[error("saturated: no slot for a store read within the deadline")]
    Saturated,
    /// The request's reads did not finish within the deadline.
    #[error("the store did not answer within {0:?}")]
    StoreDeadline(std::time::Duration),
    /// Too many open streams (of this key, or in all).
    #[error("too many streams: {0}")]
    TooManyStreams(String),
    #[error("request target over {max} bytes")]
    UriTooLong { max: usize },
    #[error("request head over {max_bytes} bytes or {max_fields} fields")]
    HeadersTooLarge { max_bytes: usize, max_fields: usize },
    #[error("the body did not arrive within {0:?}")]
    BodyTimeout(std::time::Duration),
    #[error("store: {0}")]
    Store(#[from] StoreError),
    #[error("internal: {0}")]
    Internal(String),
    #[error("csv: {0}")]
    Csv(#[from] csv::Error),
}

impl ApiError {
    pub fn field(field: impl Into<String>, message: impl Into<String>) -> Self {
        ApiError::Validation(vec![FieldError::new(field, message)])
    }

    pub fn param(field: impl Into<String>, message: impl Into<String>) -> Self {
        ApiError::InvalidParams(vec![FieldError::new(field, message)])
    }

    /// The problem details of this error.
    pub fn problem(&self) -> Problem {
        use StatusCode as S;
        match self {
            ApiError::BadRequest(d) => Problem::new(S::BAD_REQUEST, "bad-request", d.clone()),
            ApiError::InvalidParams(errors) => Problem {
                errors: errors.clone(),
                ..Problem::new(
                    S::BAD_REQUEST,
                    "invalid-parameters",
                    summary("query or path parameters are invalid", errors),
                )
            },
            ApiError::Validation(errors) => Problem {
                errors: errors.clone(),
                ..Problem::new(
                    S::UNPROCESSABLE_ENTITY,
                    "validation",
                    summary("the request has invalid fields", errors),
                )
            },
            ApiError::Unauthorized(d) => Problem::new(S::UNAUTHORIZED, "unauthorized", d.clone()),
            ApiError::Forbidden(d) => Problem::new(S::FORBIDDEN, "forbidden", d.clone()),
            ApiError::NotFound(d) => Problem::new(S::NOT_FOUND, "not-found", d.clone()),
            ApiError::Conflict(d) => Problem::new(S::CONFLICT, "conflict", d.clone()),
            ApiError::UnsupportedMediaType(d) => Problem::new(
                S::UNSUPPORTED_MEDIA_TYPE,
                "unsupported-media-type",
                d.clone(),
            ),
            ApiError::MethodNotAllowed => Problem::new(
                S::METHOD_NOT_ALLOWED,
                "method-not-allowed",
                "this path does not accept this method",
            ),
            ApiError::Unavailable(d) => {
                Problem::new(S::SERVICE_UNAVAILABLE, "unavailable", d.clone())
            }
            ApiError::PayloadTooLarge
            | ApiError::RateLimited { .. }
            | ApiError::TooLarge { .. }
            | ApiError::Saturated
            | ApiError::StoreDeadline(_)
            | ApiError::TooManyStreams(_)
            | ApiError::UriTooLong { .. }
            | ApiError::HeadersTooLarge { .. }
            | ApiError::BodyTimeout(_) => self.limit_problem(),
            ApiError::Store(StoreError::InvalidQuery(d)) => {
                Problem::new(S::BAD_REQUEST, "invalid-parameters", d.clone())
            }
            ApiError::Store(StoreError::NotFound(d)) => {
                Problem::new(S::NOT_FOUND, "not-found", d.clone())
            }
            ApiError::Store(e) if e.is_unavailable() => Problem {
                retry_after: Some(2),
                ..Problem::new(
                    S::SERVICE_UNAVAILABLE,
                    "unavailable",
                    "the database is not reachable; retry shortly",
                )
            },
            ApiError::Store(StoreError::Timeout(d)) => {
                Problem::new(S::SERVICE_UNAVAILABLE, "unavailable", d.clone())
            }
            ApiError::Store(_) | ApiError::Internal(_) => Problem::new(
                S::INTERNAL_SERVER_ERROR,
                "internal",
                "an internal error occurred; it has been logged",
            ),
            ApiError::Csv(e) => Problem::new(
                S::BAD_REQUEST,
                "bad-csv",
                format!("the CSV cannot be read: {e}"),
            ),
        }
    }
}

impl ApiError {
    /// The problem details of the errors of the request limits (work, streams, sizes, time).
    fn limit_problem(&self) -> Problem {
        use StatusCode as S;
        match self {
            ApiError::PayloadTooLarge => Problem::new(
                S::PAYLOAD_TOO_LARGE,
                "payload-too-large",
                "the body is larger than this endpoint accepts",
            ),
            ApiError::RateLimited { retry_after_secs } => Problem {
                retry_after: Some(*retry_after_secs),
                ..Problem::new(
                    S::TOO_MANY_REQUESTS,
                    "rate-limited",
                    format!("too many requests for this key; retry in {retry_after_secs} s"),
                )
            },
            ApiError::TooLarge { detail, errors } => Problem {
                errors: errors.clone(),
                ..Problem::new(S::UNPROCESSABLE_ENTITY, "too-large", detail.clone())
            },
            ApiError::Saturated => Problem {
                retry_after: Some(1),
                ..Problem::new(
                    S::SERVICE_UNAVAILABLE,
                    "saturated",
                    "saturated: every slot for store reads stayed taken; retry shortly",
                )
            },
            ApiError::StoreDeadline(d) => Problem {
                retry_after: Some(1),
                ..Problem::new(
                    S::SERVICE_UNAVAILABLE,
                    "unavailable",
                    format!(
                        "the store did not answer within {} ms; retry later, or ask for less",
                        d.as_millis()
                    ),
                )
            },
            ApiError::TooManyStreams(d) => Problem {
                retry_after: Some(5),
                ..Problem::new(S::TOO_MANY_REQUESTS, "too-many-streams", d.clone())
            },
            ApiError::UriTooLong { max } => Problem::new(
                S::URI_TOO_LONG,
                "uri-too-long",
                format!("the request target (path and query) is over {max} bytes"),
            ),
            ApiError::HeadersTooLarge {
                max_bytes,
                max_fields,
            } => Problem::new(
                S::REQUEST_HEADER_FIELDS_TOO_LARGE,
                "headers-too-large",
                format!("the request headers are over {max_bytes} bytes or {max_fields} fields"),
            ),
            ApiError::BodyTimeout(d) => Problem::new(
                S::REQUEST_TIMEOUT,
                "request-timeout",
                format!("the body did not arrive within {} s", d.as_secs()),
            ),
            other => Problem::new(
                S::INTERNAL_SERVER_ERROR,
                "internal",
                format!("not a limit: {other}"),
            ),
        }
    }
}

fn summary(what: &str, errors: &[FieldError]) -> String {
    let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
    format!("{what}: {}", fields.join(", "))
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let problem = self.problem();
        if problem.status >= 500 {
            tracing::error!(error = %self, "request failed");
        }
        problem.into_response()
    }
}

pub type ApiResult<T> = Result<T, ApiError>;
