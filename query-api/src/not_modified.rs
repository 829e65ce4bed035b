//! Conditional GET: a `200` carrying an `ETag` the request's `If-None-Match` names becomes a
//! `304 Not Modified` without a body (RFC 9110 §13.1.2: weak comparison, `*` matches any).

use axum::{
    extract::Request,
    http::{HeaderMap, Method, StatusCode, header},
    middleware::Next,
    response::{IntoResponse, Response},
};

/// Middleware: answers `304` when the client already holds the answer's entity.
pub(crate) async fn not_modified(req: Request, next: Next) -> Response {
    let conditional = matches!(*req.method(), Method::GET | Method::HEAD)
        .then(|| req.headers().get(header::IF_NONE_MATCH).cloned())
        .flatten();
    let resp = next.run(req).await;
    let Some(if_none_match) = conditional else {
        return resp;
    };
    let etag = resp.headers().get(header::ETAG);
    let unchanged = resp.status() == StatusCode::OK
        && etag.is_some_and(|tag| {
            matches(
                if_none_match.to_str().unwrap_or_default(),
                tag.to_str().unwrap_or_default(),
            )
        });
    if !unchanged {
        return resp;
    }
    let mut headers = HeaderMap::new();
    for name in [header::ETAG, header::CACHE_CONTROL, header::VARY] {
        if let Some(v) = resp.headers().get(&name) {
            headers.insert(name, v.clone());
        }
    }
    (StatusCode::NOT_MODIFIED, headers).into_response()
}

/// Whether `If-None-Match: list` names `etag` (weak comparison).
fn matches(list: &str, etag: &str) -> bool {
    let opaque = |tag: &str| tag.trim().trim_start_matches("W/").to_owned();
    let wanted = opaque(etag);
    list.trim() == "*" || list.split(',').any(|t| opaque(t) == wanted)
}

#[cfg(test)]
mod tests {
    use super::matches;

    #[test]
    fn weak_comparison_star_and_lists() {
        assert!(matches("W/\"abc\"", "W/\"abc\""));
        assert!(matches("\"abc\"", "W/\"abc\""));
        assert!(matches("\"x\", W/\"abc\"", "W/\"abc\""));
        assert!(matches("*", "W/\"abc\""));
        assert!(!matches("\"abd\"", "W/\"abc\""));
        assert!(!matches("", "W/\"abc\""));
    }
}
