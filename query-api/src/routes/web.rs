//! The built-in web page: `/` and its assets under `/assets/{file}`, embedded in the binary
//! (committed under `query-api/web/`, no build step). The page holds no data; it asks for an API
//! key and calls `/v1` like any other client, so these routes need no key.

use axum::{
    extract::Path,
    http::{HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
};

use crate::error::ApiError;

/// Scripts, styles and connections only from this origin; card images from the catalog's own
/// addresses (HTTPS) are the one thing loaded from elsewhere.
const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data: https:; \
connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

/// (file name, media type, content) of every asset.
const ASSETS: &[(&str, &str, &str)] = &[
    (
        "app.js",
        "text/javascript; charset=utf-8",
        include_str!("../../web/app.js"),
    ),
    (
        "api.js",
        "text/javascript; charset=utf-8",
        include_str!("../../web/api.js"),
    ),
    (
        "ui.js",
        "text/javascript; charset=utf-8",
        include_str!("../../web/ui.js"),
    ),
    (
        "alerts.js",
        "text/javascript; charset=utf-8",
        include_str!("../../web/alerts.js"),
    ),
    (
        "card.js",
        "text/javascript; charset=utf-8",
        include_str!("../../web/card.js"),
    ),
    (
        "live.js",
        "text/javascript; charset=utf-8",
        include_str!("../../web/live.js"),
    ),
    (
        "portfolio.js",
        "text/javascript; charset=utf-8",
        include_str!("../../web/portfolio.js"),
    ),
    (
        "chart.js",
        "text/javascript; charset=utf-8",
        include_str!("../../web/chart.js"),
    ),
    (
        "app.css",
        "text/css; charset=utf-8",
        include_str!("../../web/app.css"),
    ),
    (
        "favicon.svg",
        "image/svg+xml",
        include_str!("../../web/favicon.svg"),
    ),
];

const INDEX_HTML: &str = include_str!("../../web/index.html");

fn page(media_type: &'static str, body: &'static str) -> Response {
    let mut resp = (StatusCode::OK, body).into_response();
    let h = resp.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(media_type));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CSP),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    resp
}

/// The web page: card search, price charts, portfolio, alert rules and a live feed. It asks for
/// an API key once (kept in the browser's localStorage; `/#key=…` presets it).
#[utoipa::path(get, path = "/", tag = "ops",
    responses((status = 200, description = "The web page", content_type = "text/html", body = String)))]
pub async fn index() -> Response {
    page("text/html; charset=utf-8", INDEX_HTML)
}

/// A static file of the web page (scripts, styles, icon), embedded in the binary.
#[utoipa::path(get, path = "/assets/{file}", tag = "ops",
    params(("file" = String, Path, description = "File name, e.g. `app.js`")),
    responses((status = 200, description = "The file", content(
                  (String = "text/javascript"), (String = "text/css"), (String = "image/svg+xml"))),
              (status = 404, description = "No such file", body = crate::problem::Problem)))]
pub async fn asset(Path(file): Path<String>) -> Response {
    match ASSETS.iter().find(|(name, _, _)| *name == file) {
        Some((_, media_type, body)) => page(media_type, body),
        None => ApiError::NotFound(format!("no asset {file:?}")).into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_module_the_page_imports_is_served() {
        let names: Vec<&str> = ASSETS.iter().map(|(n, _, _)| *n).collect();
        for (_, _, body) in ASSETS.iter().chain([("index.html", "", INDEX_HTML)].iter()) {
            for part in body.split("/assets/").skip(1) {
                let name: String = part
                    .chars()
                    .take_while(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_'))
                    .collect();
                assert!(names.contains(&name.as_str()), "{name} is not served");
            }
            for part in body.split("from \"./").skip(1) {
                let name = part.split('"').next().unwrap_or_default();
                assert!(names.contains(&name), "{name} is not served");
            }
        }
    }
}
