//! RFC 9457 problem details, and extractors whose rejections are problems too.

use axum::{
    body::Bytes,
    extract::{FromRequest, Request},
    http::{HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize, de::DeserializeOwned};

use crate::{error::ApiError, state::AppState};

/// The media type of every error body.
pub const PROBLEM_JSON: &str = "application/problem+json";

/// One invalid field of a request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct FieldError {
    /// The field: a JSON path into the body (`condition.percent`), a query parameter name, or a
    /// CSV column.
    pub field: String,
    pub message: String,
}

impl FieldError {
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            message: message.into(),
        }
    }
}

/// An error, as RFC 9457 problem details (`application/problem+json`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Problem {
    /// A URI naming the kind of problem (`urn:tcgtracker:problem:<kind>`, or `about:blank`).
    #[serde(rename = "type")]
    pub kind: String,
    /// A short summary of the kind of problem.
    pub title: String,
    /// The HTTP status code.
    pub status: u16,
    /// What went wrong with this request.
    pub detail: String,
    /// The fields that are invalid (validation problems).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldError>,
    /// Seconds to wait before retrying (rate limits; also in `Retry-After`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry_after: Option<u64>,
}

impl Problem {
    pub fn new(status: StatusCode, kind: &str, detail: impl Into<String>) -> Self {
        Self {
            kind: if kind == "about:blank" {
                kind.to_owned()
            } else {
                format!("urn:tcgtracker:problem:{kind}")
            },
            title: status.canonical_reason().unwrap_or("Error").to_owned(),
            status: status.as_u16(),
            detail: detail.into(),
            errors: Vec::new(),
            retry_after: None,
        }
    }
}

impl IntoResponse for Problem {
    fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let retry = self.retry_after;
        let body = serde_json::to_vec(&self).unwrap_or_default();
        let mut resp = (status, body).into_response();
        resp.headers_mut()
            .insert(header::CONTENT_TYPE, HeaderValue::from_static(PROBLEM_JSON));
        if let Some(secs) = retry {
            resp.headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(secs));
        }
        if status == StatusCode::UNAUTHORIZED {
            resp.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer realm=\"tcgtracker\""),
            );
        }
        resp
    }
}

/// A JSON object body; a body that is not JSON answers 400 (or 415 for another media type, 413
/// when too large, 408 when it does not arrive within `body_read_timeout`), one that is not an
/// object or does not fit the type 422 naming the field.
#[derive(Debug, Clone, Copy, Default)]
pub struct ApiJson<T>(pub T);

impl<T> FromRequest<AppState> for ApiJson<T>
where
    T: DeserializeOwned + JsonSchema,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, Self::Rejection> {
        let json_type = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|ct| {
                let mime = ct
                    .split(';')
                    .next()
                    .unwrap_or("")
                    .trim()
                    .to_ascii_lowercase();
                mime == "application/json" || mime.ends_with("+json")
            });
        if !json_type {
            return Err(ApiError::UnsupportedMediaType(
                "send the body as application/json".into(),
            ));
        }
        let bytes = body_bytes(req, state).await?;
        parse_json(&bytes).map(ApiJson)
    }
}

/// The body as bytes; 413 when it is over the route's limit, 408 when the whole of it has not
/// arrived within `body_read_timeout`.
pub(crate) async fn body_bytes(req: Request, state: &AppState) -> Result<Bytes, ApiError> {
    let limit = state.config().body_read_timeout;
    let read = tokio::time::timeout(limit, Bytes::from_request(req, state))
        .await
        .map_err(|_| ApiError::BodyTimeout(limit))?;
    read.map_err(|rej| {
        if rej.status() == StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::PayloadTooLarge
        } else {
            ApiError::BadRequest(format!("cannot read the body: {rej}"))
        }
    })
}

/// Parses a JSON object, naming the failing field. Anything else than an object (`["x"]`, a
/// string, a number) is refused with 422 on `body`, although serde would read a struct from an
/// array of its fields' values; then the body must be valid against `T`'s schema in the document
/// (`crate::conform`: an array where a nested object is expected, `"filter": [null, null]`, is
/// refused there). A number written with a zero fraction (`949.0`) is read as that
/// integer where an integer is expected: JSON does not tell them apart, and neither does the
/// document's `integer` (JSON Schema counts `949.0` as one).
pub(crate) fn parse_json<T: DeserializeOwned + JsonSchema>(bytes: &[u8]) -> Result<T, ApiError> {
    let value: T = parse_json_loose(bytes)?;
    // What the shared types' parsers read more leniently than the document says (and an array
    // where an object is expected) is refused by the document's own schema.
    let sent: serde_json::Value = serde_json::from_slice(bytes)
        .map_err(|e| ApiError::BadRequest(format!("the body is not valid JSON: {e}")))?;
    crate::conform::check(&T::schema_name(), &sent)?;
    Ok(value)
}

/// [`parse_json`] without the document's schema.
fn parse_json_loose<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    let first = bytes.iter().find(|b| !b.is_ascii_whitespace());
    if first != Some(&b'{') {
        if let Err(e) = serde_json::from_slice::<serde::de::IgnoredAny>(bytes) {
            return Err(ApiError::BadRequest(format!(
                "the body is not valid JSON: {e}"
            )));
        }
        return Err(ApiError::field("body", "must be a JSON object"));
    }
    let de = &mut serde_json::Deserializer::from_slice(bytes);
    match serde_path_to_error::deserialize::<_, T>(de) {
        Ok(v) => Ok(v),
        Err(e) => {
            let path = e.path().to_string();
            let inner = e.into_inner();
            if inner.is_syntax() || inner.is_eof() || inner.is_io() {
                return Err(ApiError::BadRequest(format!(
                    "the body is not valid JSON: {inner}"
                )));
            }
            if let Some(read) = whole_numbers_read_as_integers(bytes) {
                return read;
            }
            Err(invalid_field(&path, &inner))
        }
    }
}

/// 422 naming the field at `path` (`.`: the body).
fn invalid_field(path: &str, error: &serde_json::Error) -> ApiError {
    let field = if path == "." { "body" } else { path };
    ApiError::Validation(vec![FieldError::new(field, error.to_string())])
}

/// `T` read from a body whose numbers with a zero fraction are rewritten as integers, when it
/// has any (`None` when it has none: the first reading's error stands).
fn whole_numbers_read_as_integers<T: DeserializeOwned>(
    bytes: &[u8],
) -> Option<Result<T, ApiError>> {
    let mut value: serde_json::Value = serde_json::from_slice(bytes).ok()?;
    if !integral_floats_to_integers(&mut value) {
        return None;
    }
    Some(
        serde_path_to_error::deserialize::<_, T>(value)
            .map_err(|e| invalid_field(&e.path().to_string(), e.inner())),
    )
}

/// Rewrites every float with a zero fraction in the `i64` or `u64` range as an integer; whether
/// it rewrote any.
fn integral_floats_to_integers(v: &mut serde_json::Value) -> bool {
    use serde_json::Value;
    match v {
        Value::Number(n) if n.is_f64() => {
            let Some(f) = n.as_f64().filter(|f| f.fract() == 0.0) else {
                return false;
            };
            // 2^64 and -2^63 are exact as f64; the casts below are exact inside this range.
            let whole = if (0.0..18_446_744_073_709_551_616.0).contains(&f) {
                Value::from(f as u64)
            } else if (-9_223_372_036_854_775_808.0..0.0).contains(&f) {
                Value::from(f as i64)
            } else {
                return false;
            };
            *v = whole;
            true
        }
        // Every element is rewritten (no short cut).
        Value::Array(a) => {
            a.iter_mut()
                .map(integral_floats_to_integers)
                .filter(|rewrote| *rewrote)
                .count()
                > 0
        }
        Value::Object(o) => {
            o.values_mut()
                .map(integral_floats_to_integers)
                .filter(|rewrote| *rewrote)
                .count()
                > 0
        }
        _ => false,
    }
}
