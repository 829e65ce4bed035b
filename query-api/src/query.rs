//! Query strings, typed once: a handler takes [`ApiQuery<T>`] where `T` is a struct of typed,
//! optional parameters (`#[derive(Deserialize, IntoParams)]`); the same struct documents the
//! parameters in the OpenAPI document. A bad value, an unknown or a repeated parameter answers
//! 400 `invalid-parameters`, and one answer names every bad parameter.
//!
//! An optional parameter sent with an empty value (`?game=`) is the same as one left out: every
//! optional field reads through [`opt`], [`opt_text`] or [`opt_serde`], and the document says so
//! with `allowEmptyValue` (`crate::openapi`). A required parameter must have a value.

use std::borrow::Cow;

use axum::{extract::FromRequestParts, http::request::Parts};
use serde::{
    Deserialize, Deserializer,
    de::{DeserializeOwned, Error as _},
};

use crate::{error::ApiError, problem::FieldError, state::AppState};

/// Query parameters, deserialized into `T` and checked by [`QueryParams::check`].
#[derive(Debug, Clone, Copy, Default)]
pub struct ApiQuery<T>(pub T);

/// A struct of query parameters.
pub trait QueryParams: DeserializeOwned {
    /// Checks that need more than one parameter, or the configuration; each bad parameter is
    /// pushed to `errors`. Parameters whose values did not parse are `None` here.
    fn check(&mut self, _state: &AppState, _errors: &mut Vec<FieldError>) {}
}

impl<T: QueryParams + Send> FromRequestParts<AppState> for ApiQuery<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let (mut value, mut errors) = parse::<T>(parts.uri.query().unwrap_or(""))?;
        value.check(state, &mut errors);
        if errors.is_empty() {
            Ok(Self(value))
        } else {
            Err(ApiError::InvalidParams(errors))
        }
    }
}

/// Deserializes `T` from a query string. A parameter that does not fit is recorded and left out,
/// and the rest is deserialized again, so that every bad parameter is named; the value returned
/// has the bad parameters absent.
pub(crate) fn parse<T: DeserializeOwned>(query: &str) -> Result<(T, Vec<FieldError>), ApiError> {
    // The common case: every parameter fits, read once from the request's own text.
    let first = serde_path_to_error::deserialize::<_, T>(serde_urlencoded::Deserializer::new(
        form_urlencoded::parse(query.as_bytes()),
    ));
    let mut error = match first {
        Ok(value) => return Ok((value, Vec::new())),
        Err(e) => field_error(&e),
    };
    let mut pairs: Vec<(String, String)> = form_urlencoded::parse(query.as_bytes())
        .into_owned()
        .collect();
    let mut errors = Vec::new();
    loop {
        let before = pairs.len();
        pairs.retain(|(name, _)| *name != error.field);
        errors.push(error);
        if pairs.len() == before {
            return Err(ApiError::InvalidParams(errors));
        }
        let encoded = form_urlencoded::Serializer::new(String::new())
            .extend_pairs(&pairs)
            .finish();
        let de = serde_urlencoded::Deserializer::new(form_urlencoded::parse(encoded.as_bytes()));
        match serde_path_to_error::deserialize::<_, T>(de) {
            Ok(value) => return Ok((value, errors)),
            Err(e) => {
                error = field_error(&e);
            }
        }
    }
}

/// The parameter a deserialization error is about, and what is wrong with it.
fn field_error(e: &serde_path_to_error::Error<serde::de::value::Error>) -> FieldError {
    let path = e.path().to_string();
    let inner = e.inner().to_string();
    if !path.is_empty() && path != "." {
        // serde's own words about an unknown parameter are prefixed with its name.
        let message = if inner.starts_with("unknown field") {
            e.to_string()
        } else {
            inner
        };
        return FieldError::new(path, message);
    }
    // A repeated parameter is refused before its value is read: serde names it in backticks.
    let field = inner
        .split('`')
        .nth(1)
        .filter(|_| inner.contains("field"))
        .unwrap_or("query")
        .to_owned();
    FieldError::new(field, inner)
}

/// A parameter's value, parsed from its text.
pub(crate) trait QueryValue: Sized {
    /// What a valid value is, for the message `"text" is not <EXPECTED>`.
    const EXPECTED: &'static str;
    fn parse(text: &str) -> Option<Self>;
    /// The message for text that does not parse.
    fn invalid(text: &str) -> String {
        format!("{text:?} is not {}", Self::EXPECTED)
    }
}

/// For `#[serde(default, deserialize_with = "crate::query::opt")]` on an `Option<T>` field: an
/// empty value is the same as an absent one; any other text is read as sent (` 7` is not a
/// number, as the document's pattern or type says).
pub(crate) fn opt<'de, D, T>(d: D) -> Result<Option<T>, D::Error>
where
    D: Deserializer<'de>,
    T: QueryValue,
{
    let raw = Cow::<'de, str>::deserialize(d)?;
    let text: &str = &raw;
    if text.is_empty() {
        return Ok(None);
    }
    T::parse(text)
        .map(Some)
        .ok_or_else(|| D::Error::custom(T::invalid(text)))
}

/// For `#[serde(default, deserialize_with = "crate::query::opt_text")]` on an `Option<String>`
/// field: an empty value is the same as an absent one; any other text is kept as sent.
pub(crate) fn opt_text<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    let text = String::deserialize(d)?;
    Ok(Some(text).filter(|t| !t.is_empty()))
}

/// For `#[serde(default, deserialize_with = "crate::query::opt_serde")]` on an `Option<T>` field
/// of a type that reads itself from a string (`Printing`, `UserId`, …): an empty value is the
/// same as an absent one; any other text is read as sent.
pub(crate) fn opt_serde<'de, D, T>(d: D) -> Result<Option<T>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    let text = String::deserialize(d)?;
    if text.is_empty() {
        return Ok(None);
    }
    T::deserialize(serde::de::value::StringDeserializer::<D::Error>::new(text)).map(Some)
}

/// `impl QueryValue` for each `type => "expected", parse;`.
macro_rules! query_value {
    ($($t:ty => $expected:literal, $parse:expr;)*) => {$(
        impl $crate::query::QueryValue for $t {
            const EXPECTED: &'static str = $expected;
            fn parse(text: &str) -> Option<Self> {
                ($parse)(text)
            }
        }
    )*};
}
pub(crate) use query_value;

/// Decimal digits only (Rust's `parse` also takes a leading `+`).
fn digits(s: &str) -> Option<&str> {
    (!s.is_empty() && s.bytes().all(|b| b.is_ascii_digit())).then_some(s)
}

query_value! {
    u32 => "a non-negative integer", |s: &str| digits(s)?.parse().ok();
    u64 => "a non-negative integer", |s: &str| digits(s)?.parse().ok();
    i64 => "an integer", |s: &str| {
        let magnitude = s.strip_prefix('-').unwrap_or(s);
        digits(magnitude)?;
        s.parse().ok()
    };
    bool => "true or false", |s: &str| match s {
        "true" | "1" => Some(true),
        "false" | "0" => Some(false),
        _ => None,
    };
}

/// A page size: `n`, or `default` when absent.
pub(crate) fn limit_or(n: Option<u32>, default: usize) -> usize {
    n.and_then(|n| usize::try_from(n).ok()).unwrap_or(default)
}

/// `"text" is not an integer from 1 to max` unless `n` is in `1..=max`.
pub(crate) fn check_limit(errors: &mut Vec<FieldError>, name: &str, n: Option<u32>, max: usize) {
    check_range(errors, name, n, 1, max);
}

/// `"text" is not an integer from min to max` unless `n` is in `min..=max`.
pub(crate) fn check_range(
    errors: &mut Vec<FieldError>,
    name: &str,
    n: Option<u32>,
    min: usize,
    max: usize,
) {
    if let Some(n) = n
        && !usize::try_from(n).is_ok_and(|n| (min..=max).contains(&n))
    {
        errors.push(FieldError::new(
            name,
            format!("\"{n}\" is not an integer from {min} to {max}"),
        ));
    }
}

#[cfg(test)]
mod tests {
    use serde::Deserialize;

    use super::*;

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Params {
        #[serde(default, deserialize_with = "opt")]
        limit: Option<u32>,
        #[serde(default, deserialize_with = "opt")]
        dry_run: Option<bool>,
        name: Option<String>,
    }

    fn fields(query: &str) -> Vec<(String, String)> {
        match parse::<Params>(query) {
            Ok((_, errors)) | Err(ApiError::InvalidParams(errors)) => {
                errors.into_iter().map(|e| (e.field, e.message)).collect()
            }
            Err(e) => panic!("{e}"),
        }
    }

    #[test]
    fn values_are_typed_as_sent_and_empty_is_absent() {
        let (p, errors) = parse::<Params>("limit=7&dry_run=1&name=%20x").unwrap();
        assert!(errors.is_empty());
        assert_eq!(p.limit, Some(7));
        assert_eq!(p.dry_run, Some(true));
        assert_eq!(
            p.name.as_deref(),
            Some(" x"),
            "plain strings are kept as sent"
        );
        let (p, _) = parse::<Params>("limit=&dry_run&name=").unwrap();
        assert_eq!((p.limit, p.dry_run), (None, None));
        assert_eq!(p.name.as_deref(), Some(""));
        // Not trimmed: a blank is not empty, and a padded or signed number is not a number.
        for bad in ["limit=%207%20", "limit=%09", "limit=%2B7", "dry_run=%20"] {
            assert!(!fields(bad).is_empty(), "{bad}");
        }
    }

    #[test]
    fn every_bad_parameter_is_named() {
        assert_eq!(
            fields("limit=x&dry_run=maybe&name=ok"),
            vec![
                (
                    "limit".to_owned(),
                    "\"x\" is not a non-negative integer".to_owned()
                ),
                (
                    "dry_run".to_owned(),
                    "\"maybe\" is not true or false".to_owned()
                ),
            ]
        );
        let unknown = fields("colour=red");
        assert_eq!(unknown[0].0, "colour");
        assert!(
            unknown[0].1.starts_with("colour: unknown field `colour`"),
            "{unknown:?}"
        );
        assert_eq!(
            fields("limit=1&limit=2"),
            vec![("limit".to_owned(), "duplicate field `limit`".to_owned())]
        );
    }

    #[test]
    fn ranges_name_the_value() {
        let mut errors = Vec::new();
        check_limit(&mut errors, "limit", Some(0), 200);
        check_limit(&mut errors, "limit", Some(200), 200);
        check_range(&mut errors, "grace", Some(9), 0, 8);
        assert_eq!(
            errors,
            vec![
                FieldError::new("limit", "\"0\" is not an integer from 1 to 200"),
                FieldError::new("grace", "\"9\" is not an integer from 0 to 8"),
            ]
        );
    }
}
