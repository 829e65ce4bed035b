//! The OpenAPI document and the server agree on query parameters (issue 22, what to build 5;
//! what schemathesis's positive and negative data checks probe): an empty optional parameter is
//! one left out and says so, required parameters are marked required, ranges the server
//! enforces are the document's, and a refusal that depends on how parameters relate is a
//! documented 422. Bodies: `agreement_bodies.rs`.

#![allow(clippy::unwrap_used)]
#![allow(clippy::too_many_lines)] // a test reads best as one scenario, top to bottom

mod common;

use axum::{
    body::Body,
    http::{Method, Request, StatusCode, header},
};
use common::*;
use serde_json::{Value, json};
use tcg_query_api::openapi;

/// `template` with its path parameters filled with ids of alice's.
fn fill(template: &str, ids: &[(&str, &str)]) -> String {
    let mut path = template.to_owned();
    for (name, value) in ids {
        path = path.replace(&format!("{{{name}}}"), value);
    }
    path
}

/// A request of `method` to `uri` (a CSV body for the import).
async fn request(c: &Ctx, method: &Method, uri: &str, key: &str) -> Resp {
    if uri.contains("/import") {
        return c
            .send(
                Request::builder()
                    .method(method)
                    .uri(uri)
                    .header(header::AUTHORIZATION, format!("Bearer {key}"))
                    .header(header::CONTENT_TYPE, "text/csv")
                    .body(Body::from("product_id,quantity\n1001,1\n"))
                    .unwrap(),
            )
            .await;
    }
    c.call(method.clone(), uri, Some(key), None).await
}

#[tokio::test]
async fn an_empty_optional_query_parameter_is_the_same_as_leaving_it_out() {
    let c = Ctx::new().await;
    let (pid, hid) = portfolio_with_holding(&c).await;
    let hook = c
        .call(
            Method::POST,
            "/v1/webhooks",
            Some(&c.alice),
            Some(json!({"url": "https://hooks.example.test/tcg"})),
        )
        .await;
    assert_eq!(hook.status, StatusCode::CREATED, "{}", hook.text());
    let wid = hook.json()["webhook"]["id"].as_str().unwrap().to_owned();
    let required_values = [("series", "1001/holofoil/nm/en"), ("format", "generic")];
    let spec = openapi::spec();
    let mut probed = 0;
    for (template, item) in spec["paths"].as_object().unwrap() {
        if template.starts_with("/v1/stream/") {
            continue; // their answers never end; the same `ApiQuery` reads them
        }
        for (method, op) in item.as_object().unwrap() {
            let Some(params) = op["parameters"].as_array() else {
                continue;
            };
            let query: Vec<&Value> = params.iter().filter(|p| p["in"] == "query").collect();
            let required: Vec<String> = query
                .iter()
                .filter(|p| p["required"] == true)
                .map(|p| {
                    let name = p["name"].as_str().unwrap();
                    assert_ne!(
                        p["allowEmptyValue"], true,
                        "{method} {template}: required {name} allows an empty value"
                    );
                    let value = required_values
                        .iter()
                        .find(|(n, _)| *n == name)
                        .map(|(_, v)| *v)
                        .unwrap_or_else(|| panic!("no value for required {name}"));
                    format!("{name}={}", value.replace('/', "%2F"))
                })
                .collect();
            let path = fill(
                template,
                &[
                    ("product_id", "1001"),
                    ("holding_id", &hid),
                    (
                        "id",
                        if template.contains("webhooks") {
                            &wid
                        } else {
                            &pid
                        },
                    ),
                ],
            );
            let key = if template.starts_with("/v1/admin/") {
                &c.admin
            } else {
                &c.alice
            };
            let method = Method::from_bytes(method.to_ascii_uppercase().as_bytes()).unwrap();
            for p in query.iter().filter(|p| p["required"] != true) {
                let name = p["name"].as_str().unwrap();
                assert_eq!(
                    p["allowEmptyValue"], true,
                    "{method} {template}: optional {name} does not say an empty value is allowed"
                );
                let without = format!("{path}?{}", required.join("&"));
                let mut with = required.clone();
                with.push(format!("{name}="));
                let with = format!("{path}?{}", with.join("&"));
                let a = request(&c, &method, &without, key).await;
                let b = request(&c, &method, &with, key).await;
                assert!(a.status.is_success(), "{method} {without}: {}", a.text());
                assert_eq!(b.status, a.status, "{method} {with}: {}", b.text());
                probed += 1;
            }
        }
    }
    assert!(probed >= 40, "only {probed} parameters probed");
}

#[test]
fn required_parameters_are_marked_required() {
    let spec = openapi::spec();
    // The import's `format` is optional: without it the file's header decides.
    for (path, method, name, required) in [
        ("/v1/prices/latest", "get", "series", true),
        ("/v1/portfolios/{id}/import", "post", "format", false),
    ] {
        let p = spec["paths"][path][method]["parameters"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["name"] == name)
            .unwrap();
        assert_eq!(
            p["required"].as_bool().unwrap_or(false),
            required,
            "{method} {path} {name}"
        );
    }
}

#[tokio::test]
async fn numbers_beyond_their_documented_range_are_refused() {
    let c = Ctx::new().await;
    let spec = openapi::spec();
    // A group id is a u32: the document says so, and more is refused.
    let group = &spec["components"]["schemas"]["GroupId"];
    assert_eq!(group["maximum"], json!(u32::MAX), "{group}");
    let r = c
        .call(
            Method::GET,
            "/v1/cards?set=4294967296",
            Some(&c.alice),
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    // min_price_cents is a signed 64-bit integer (format int64): 2^63 is refused, not read
    // as the largest price.
    let p = spec["paths"]["/v1/movers"]["get"]["parameters"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "min_price_cents")
        .unwrap();
    assert_eq!(p["schema"]["format"], "int64");
    for (value, status) in [
        ("9223372036854775807", StatusCode::OK),
        ("9223372036854775808", StatusCode::BAD_REQUEST),
        ("-1", StatusCode::BAD_REQUEST),
    ] {
        let r = c
            .call(
                Method::GET,
                &format!("/v1/movers?min_price_cents={value}"),
                Some(&c.alice),
                None,
            )
            .await;
        assert_eq!(r.status, status, "{value}: {}", r.text());
        if status != StatusCode::OK {
            assert_eq!(r.problem_field(), "min_price_cents");
        }
    }
}

#[tokio::test]
async fn history_parameters_that_do_not_fit_together_answer_422() {
    let c = Ctx::new().await;
    let (pid, _) = portfolio_with_holding(&c).await;
    for base in [
        "/v1/cards/1001/history",
        &format!("/v1/portfolios/{pid}/history"),
    ] {
        for (query, kind) in [
            ("interval=1h&from=2000-01-01T00:00:00Z", "too-large"),
            (
                "from=2024-03-10T00:00:00Z&to=2024-03-01T00:00:00Z",
                "validation",
            ),
            ("from=2099-01-01T00:00:00Z", "validation"),
        ] {
            let r = c
                .call(
                    Method::GET,
                    &format!("{base}?{query}"),
                    Some(&c.alice),
                    None,
                )
                .await;
            assert_eq!(
                r.status,
                StatusCode::UNPROCESSABLE_ENTITY,
                "{base}?{query}: {}",
                r.text()
            );
            assert_eq!(r.json()["type"], format!("urn:tcgtracker:problem:{kind}"));
            assert_eq!(r.problem_field(), "from");
        }
        // A bad value of one parameter stays 400.
        let r = c
            .call(
                Method::GET,
                &format!("{base}?interval=2h"),
                Some(&c.alice),
                None,
            )
            .await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST);
    }
    let r = c
        .call(
            Method::GET,
            "/v1/cards/1001/history?series=1002%2Fholofoil%2Fnm%2Fen",
            Some(&c.alice),
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text());
    assert_eq!(r.problem_field(), "series");
}

#[tokio::test]
async fn grades_the_document_admits_are_read() {
    let c = Ctx::new().await;
    for (grade, ok) in [
        ("10", true),
        ("9.5", true),
        ("1", true),
        ("10 Pristine", true),
        ("10 Black Label", true),
        ("2 Black Label", false),
        ("8.5 Pristine", false),
        ("11", false),
        ("0", false),
    ] {
        assert_eq!(
            admits("Grade", &json!(grade)),
            ok,
            "the document on {grade:?}"
        );
        let r = c
            .call(
                Method::GET,
                &format!("/v1/cards/1001/history?grade={}", grade.replace(' ', "+")),
                Some(&c.alice),
                None,
            )
            .await;
        let want = if ok {
            StatusCode::OK
        } else {
            StatusCode::BAD_REQUEST
        };
        assert_eq!(r.status, want, "the server on {grade:?}: {}", r.text());
    }
}

#[tokio::test]
async fn a_valuation_cursor_is_any_holding_id() {
    let c = Ctx::new().await;
    let (pid, first) = portfolio_with_holding(&c).await;
    for _ in 0..3 {
        let h = c
            .call(
                Method::POST,
                &format!("/v1/portfolios/{pid}/holdings"),
                Some(&c.alice),
                Some(json!({"product_id": 1002, "quantity": 1,
                            "cost_per_unit": {"amount": "1", "currency": "USD"}})),
            )
            .await;
        assert_eq!(h.status, StatusCode::CREATED);
    }
    let base = format!("/v1/portfolios/{pid}/valuation");
    let all = c.call(Method::GET, &base, Some(&c.alice), None).await;
    let ids: Vec<String> = all.json()["holdings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["holding_id"].as_str().unwrap().to_owned())
        .collect();
    let mut sorted = ids.clone();
    sorted.sort();
    assert_eq!(ids, sorted, "listed by id");
    assert!(ids.contains(&first));
    // A UUID of no holding: the holdings after it, by id.
    for (cursor, expect) in [
        ("00000000-0000-0000-0000-000000000000", &ids[..]),
        ("ffffffff-ffff-ffff-ffff-ffffffffffff", &[][..]),
        (ids[1].as_str(), &ids[2..]),
    ] {
        let r = c
            .call(
                Method::GET,
                &format!("{base}?cursor={cursor}"),
                Some(&c.alice),
                None,
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{cursor}: {}", r.text());
        let got: Vec<String> = r.json()["holdings"]
            .as_array()
            .unwrap()
            .iter()
            .map(|h| h["holding_id"].as_str().unwrap().to_owned())
            .collect();
        assert_eq!(got, expect.to_vec(), "{cursor}");
    }
    let r = c
        .call(
            Method::GET,
            &format!("{base}?cursor=zzz"),
            Some(&c.alice),
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
}
