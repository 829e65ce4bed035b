//! The spec and the server agree, and answers are safe to keep and open: JSON bodies are
//! objects, authenticated answers are not stored, `/docs` has a Content-Security-Policy,
//! metrics label unknown methods `other`, the OpenAPI document states the constraints the
//! server enforces, rules have a minimum cooldown, and CSV exports do not carry formulas.

#![allow(clippy::unwrap_used)]
#![allow(clippy::too_many_lines)] // a test reads best as one scenario, top to bottom

mod common;

use axum::{
    body::Body,
    http::{Method, Request, StatusCode, header},
};
use common::*;
use serde_json::{Value, json};

#[tokio::test]
async fn a_json_body_must_be_an_object() {
    let c = Ctx::new().await;
    for body in [json!(["x"]), json!("x"), json!(3), json!(null)] {
        let r = c
            .call(
                Method::POST,
                "/v1/portfolios",
                Some(&c.alice),
                Some(body.clone()),
            )
            .await;
        assert_eq!(
            r.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{body}: {}",
            r.text()
        );
        assert_eq!(r.problem_field(), "body");
    }
    // Not JSON at all stays 400.
    let r = c
        .send(
            Request::post("/v1/portfolios")
                .header(header::AUTHORIZATION, format!("Bearer {}", c.alice))
                .header(header::CONTENT_TYPE, "application/json")
                .body(Body::from("[\"x\""))
                .unwrap(),
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    let list = c
        .call(Method::GET, "/v1/portfolios", Some(&c.alice), None)
        .await;
    assert_eq!(list.json()["items"], json!([]), "nothing was created");
}

#[tokio::test]
async fn authenticated_answers_carry_no_store() {
    let c = Ctx::new().await;
    let created = c
        .call(
            Method::POST,
            "/v1/portfolios",
            Some(&c.alice),
            Some(json!({"name": "p"})),
        )
        .await;
    let id = created.json()["id"].as_str().unwrap().to_owned();
    let export = format!("/v1/portfolios/{id}/export");
    for (uri, key) in [
        ("/v1/cards", Some(c.alice.as_str())),
        ("/v1/portfolios", Some(&c.alice)),
        (export.as_str(), Some(&c.alice)),
        (
            "/v1/portfolios/00000000-0000-0000-0000-000000000000",
            Some(&c.alice),
        ),
        ("/v1/cards", None),
    ] {
        let r = c.call(Method::GET, uri, key, None).await;
        assert_eq!(
            r.headers
                .get(header::CACHE_CONTROL)
                .map(|v| v.to_str().unwrap()),
            Some("no-store"),
            "{uri} ({})",
            r.status
        );
    }
    assert_eq!(created.headers[header::CACHE_CONTROL], "no-store");
}

#[tokio::test]
async fn docs_have_a_content_security_policy_with_the_hashes_of_their_inline_code() {
    use base64::Engine as _;
    use sha2::{Digest, Sha256};
    let c = Ctx::new().await;
    let r = c.call(Method::GET, "/docs", None, None).await;
    assert_eq!(r.status, 200);
    let csp = r.headers[header::CONTENT_SECURITY_POLICY]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(!csp.contains("unsafe-inline"), "{csp}");
    assert!(csp.contains("default-src 'none'") && csp.contains("connect-src 'self'"));
    let html = r.text();
    for tag in ["script", "style"] {
        let open = format!("<{tag}>");
        let close = format!("</{tag}>");
        let inline = html
            .split(&open)
            .nth(1)
            .unwrap()
            .split(&close)
            .next()
            .unwrap();
        let hash = base64::engine::general_purpose::STANDARD.encode(Sha256::digest(inline));
        let directive = csp
            .split(';')
            .find(|d| d.trim().starts_with(&format!("{tag}-src")))
            .unwrap();
        assert!(
            directive.contains(&format!("'sha256-{hash}'")),
            "{tag}: {csp}"
        );
    }
    // Nothing inline that a hash does not cover.
    assert!(
        !html.contains(" style=") && !html.contains(" onclick="),
        "inline attributes"
    );
}

#[tokio::test]
async fn metrics_label_unknown_methods_as_other() {
    let c = Ctx::new().await;
    let req = Request::builder()
        .method(Method::from_bytes(b"BREW").unwrap())
        .uri("/healthz")
        .body(Body::empty())
        .unwrap();
    let r = c.send(req).await;
    assert_eq!(r.status, StatusCode::METHOD_NOT_ALLOWED);
    let metrics = c.call(Method::GET, "/metrics", None, None).await.text();
    assert!(!metrics.contains("BREW"), "{metrics}");
    assert!(
        metrics.contains(
            "tcg_api_requests_total{method=\"other\",route=\"/healthz\",status=\"405\"} 1"
        ),
        "{metrics}"
    );
}

/// The parameter `name` of `method path`, its schema resolved.
fn param(method: &str, path: &str, name: &str) -> Value {
    let spec = tcg_query_api::openapi::spec();
    let op = &spec["paths"][path][method];
    let p = op["parameters"]
        .as_array()
        .unwrap_or_else(|| panic!("{method} {path} has no parameters"))
        .iter()
        .find(|p| p["name"] == name)
        .unwrap_or_else(|| panic!("{method} {path} has no parameter {name}"));
    resolve(&p["schema"])
}

fn resolve(schema: &Value) -> Value {
    match schema["$ref"].as_str() {
        Some(r) => {
            let name = r.rsplit('/').next().unwrap();
            tcg_query_api::openapi::spec()["components"]["schemas"][name].clone()
        }
        None => schema.clone(),
    }
}

fn field(schema: &str, name: &str) -> Value {
    tcg_query_api::openapi::spec()["components"]["schemas"][schema]["properties"][name].clone()
}

#[test]
fn the_openapi_document_states_the_constraints_the_server_enforces() {
    let params: &[(&str, &str, &str, &[&str])] = &[
        (
            "get",
            "/v1/cards",
            "limit",
            &["minimum", "maximum", "format"],
        ),
        ("get", "/v1/cards", "q", &["maxLength"]),
        ("get", "/v1/cards", "cursor", &["maxLength", "pattern"]),
        ("get", "/v1/cards", "game", &["pattern"]),
        ("get", "/v1/sets", "game", &["pattern"]),
        (
            "get",
            "/v1/cards/{product_id}",
            "product_id",
            &["minimum", "format"],
        ),
        (
            "get",
            "/v1/cards/{product_id}/history",
            "interval",
            &["enum"],
        ),
        ("get", "/v1/cards/{product_id}/history", "fill", &["enum"]),
        (
            "get",
            "/v1/cards/{product_id}/history",
            "series",
            &["pattern"],
        ),
        (
            "get",
            "/v1/cards/{product_id}/history",
            "grade",
            &["pattern"],
        ),
        ("get", "/v1/cards/{product_id}/history", "from", &["format"]),
        ("get", "/v1/prices/latest", "series", &["pattern"]),
        ("get", "/v1/movers", "window", &["enum"]),
        ("get", "/v1/movers", "direction", &["enum"]),
        ("get", "/v1/movers", "limit", &["minimum", "maximum"]),
        (
            "get",
            "/v1/movers",
            "min_price_cents",
            &["minimum", "format"],
        ),
        ("get", "/v1/movers", "game", &["pattern"]),
        ("post", "/v1/portfolios/{id}/import", "format", &["enum"]),
        ("get", "/v1/portfolios/{id}", "id", &["format"]),
        ("get", "/v1/portfolios/{id}/history", "interval", &["enum"]),
        (
            "get",
            "/v1/portfolios/{id}/valuation",
            "limit",
            &["minimum", "maximum"],
        ),
        (
            "get",
            "/v1/portfolios/{id}/valuation",
            "cursor",
            &["format"],
        ),
        ("get", "/v1/alerts", "limit", &["minimum", "maximum"]),
        ("get", "/v1/alerts", "rule_id", &["format"]),
        (
            "get",
            "/v1/webhooks/{id}/deliveries",
            "before",
            &["minimum"],
        ),
        (
            "post",
            "/v1/webhooks/{id}/rotate-secret",
            "grace_secs",
            &["minimum", "maximum"],
        ),
        ("get", "/v1/stream/ticks", "series", &["pattern"]),
        ("get", "/v1/stream/ticks", "access_token", &["pattern"]),
    ];
    for (method, path, name, keys) in params {
        let schema = param(method, path, name);
        for key in *keys {
            assert!(
                !schema[key].is_null() || !schema["oneOf"].is_null() && *key == "enum",
                "{method} {path} ?{name}: no `{key}` in {schema}"
            );
        }
    }
    assert_eq!(
        param("get", "/v1/portfolios/{id}/valuation", "limit")["maximum"],
        1000
    );
    let fields: &[(&str, &str, &[&str])] = &[
        ("PortfolioInput", "name", &["minLength", "maxLength"]),
        ("HoldingInput", "quantity", &["minimum", "maximum"]),
        ("HoldingInput", "acquired_on", &["pattern"]),
        ("HoldingInput", "note", &["maxLength"]),
        ("HoldingPatch", "quantity", &["maximum"]),
        ("HoldingPatch", "note", &["maxLength"]),
        ("SaleInput", "quantity", &["minimum"]),
        ("RuleInput", "name", &["minLength", "maxLength"]),
        ("RuleInput", "cooldown_secs", &["minimum", "maximum"]),
        ("RulePatch", "cooldown_secs", &["minimum", "maximum"]),
        ("WebhookInput", "url", &["maxLength", "pattern"]),
        ("WebhookInput", "description", &["maxLength"]),
        ("WebhookUpdate", "url", &["maxLength", "pattern"]),
        ("WebhookUpdate", "description", &["maxLength"]),
    ];
    for (schema, name, keys) in fields {
        let f = field(schema, name);
        for key in *keys {
            assert!(!f[key].is_null(), "{schema}.{name}: no `{key}` in {f}");
        }
    }
    assert_eq!(field("RuleInput", "cooldown_secs")["minimum"], 60);
    assert_eq!(field("PortfolioInput", "name")["maxLength"], 100);
}

#[tokio::test]
async fn a_rule_cooldown_under_a_minute_is_refused() {
    let c = Ctx::new().await;
    let rule = |cooldown: u64| {
        json!({"name": "r", "product_id": 1001, "cooldown_secs": cooldown,
               "condition": {"type": "price_below", "threshold_usd": {"amount": "1.00", "currency": "USD"}}})
    };
    for cooldown in [0, 59] {
        let r = c
            .call(
                Method::POST,
                "/v1/alert-rules",
                Some(&c.alice),
                Some(rule(cooldown)),
            )
            .await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text());
        assert_eq!(r.problem_field(), "cooldown_secs");
    }
    let r = c
        .call(
            Method::POST,
            "/v1/alert-rules",
            Some(&c.alice),
            Some(rule(60)),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    let id = r.json()["id"].as_str().unwrap().to_owned();
    let r = c
        .call(
            Method::PATCH,
            &format!("/v1/alert-rules/{id}"),
            Some(&c.alice),
            Some(json!({"cooldown_secs": 1})),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
}

async fn import_generic(c: &Ctx, pid: &str, csv: &str) -> Value {
    let r = c
        .send(
            Request::post(format!("/v1/portfolios/{pid}/import?format=generic"))
                .header(header::AUTHORIZATION, format!("Bearer {}", c.alice))
                .header(header::CONTENT_TYPE, "text/csv")
                .body(Body::from(csv.to_owned()))
                .unwrap(),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text());
    r.json()
}

async fn new_portfolio(c: &Ctx, name: &str) -> String {
    c.call(
        Method::POST,
        "/v1/portfolios",
        Some(&c.alice),
        Some(json!({"name": name})),
    )
    .await
    .json()["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

async fn notes(c: &Ctx, pid: &str) -> Vec<String> {
    let r = c
        .call(
            Method::GET,
            &format!("/v1/portfolios/{pid}/holdings"),
            Some(&c.alice),
            None,
        )
        .await;
    let mut notes: Vec<String> = r.json()["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["note"].as_str().unwrap_or_default().to_owned())
        .collect();
    notes.sort();
    notes
}

#[tokio::test]
async fn csv_exports_neutralise_formulas_and_imports_stay_literal() {
    let c = Ctx::new().await;
    let pid = new_portfolio(&c, "formulas").await;
    let csv = "product_id,quantity,cost_per_unit,note\n\
1001,1,2.50,\"=HYPERLINK(\"\"x\"\")\"\n\
1001,2,0,+1\n\
1002,1,1,-5\n\
1002,1,1,@SUM(A1)\n\
1001,1,1,plain\n";
    let report = import_generic(&c, &pid, csv).await;
    assert_eq!(report["imported"], 5, "{report}");
    // Imported as written: the JSON API gives the text back unchanged.
    let imported = notes(&c, &pid).await;
    assert_eq!(
        imported,
        ["+1", "-5", "=HYPERLINK(\"x\")", "@SUM(A1)", "plain"]
    );
    let r = c
        .call(
            Method::GET,
            &format!("/v1/portfolios/{pid}/export"),
            Some(&c.alice),
            None,
        )
        .await;
    let out = r.text();
    assert!(out.contains("\"'=HYPERLINK(\"\"x\"\")\""), "{out}");
    assert!(out.contains(",\"'+1\"") && out.contains(",\"'-5\"") && out.contains(",\"'@SUM(A1)\""));
    assert!(out.contains(",plain"));
    // Our own numbers stay numbers.
    assert!(
        out.contains(",2,0.00,USD,") && out.contains(",1,2.50,USD,"),
        "{out}"
    );
    for line in out.lines().skip(1) {
        for cell in line.split(',') {
            assert!(
                !cell.starts_with(['=', '+', '-', '@', '\t', '\r']),
                "a formula cell: {cell} in {line}"
            );
        }
    }
    // What the export wrote imports back as it was.
    let again = new_portfolio(&c, "again").await;
    import_generic(&c, &again, &out).await;
    assert_eq!(notes(&c, &again).await, imported);
}

#[tokio::test]
async fn a_key_revoked_through_this_instance_stops_working_at_once_despite_the_cache() {
    let c = Ctx::with(
        tcg_query_api::ApiConfig {
            auth_cache_ttl: std::time::Duration::from_secs(3600),
            ..test_config()
        },
        |s| s,
    )
    .await;
    assert_eq!(
        c.call(Method::GET, "/v1/sets", Some(&c.bob), None)
            .await
            .status,
        200
    );
    let prefix = c.bob.split('_').nth(1).unwrap().to_owned();
    let r = c
        .call(
            Method::DELETE,
            &format!("/v1/admin/keys/{prefix}"),
            Some(&c.admin),
            None,
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(
        c.call(Method::GET, "/v1/sets", Some(&c.bob), None)
            .await
            .status,
        401
    );
}
