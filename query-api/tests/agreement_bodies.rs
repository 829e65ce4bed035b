//! The OpenAPI document and the server agree on JSON bodies (issue 22, what to build 5; what
//! schemathesis's positive and negative data checks probe): values the document admits are
//! accepted and values it refuses are refused (costs, rule conditions, names, webhook URLs),
//! whole numbers with a fraction are integers, arrays are not read as objects, and the largest
//! costs value without overflow. Query parameters: `agreement.rs`.

#![allow(clippy::unwrap_used)]
#![allow(clippy::too_many_lines)] // a test reads best as one scenario, top to bottom

mod common;

use axum::http::{Method, StatusCode};
use common::*;
use serde_json::{Value, json};

#[tokio::test]
async fn a_whole_number_written_with_a_fraction_is_an_integer() {
    let c = Ctx::new().await;
    let (pid, hid) = portfolio_with_holding(&c).await;
    let r = c
        .call(
            Method::PATCH,
            &format!("/v1/portfolios/{pid}/holdings/{hid}"),
            Some(&c.alice),
            Some(json!({"quantity": 5.0})),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(r.json()["quantity"], 5);
    for (body, field) in [
        (json!({"quantity": 5.5}), "quantity"),
        (json!({"quantity": -1.0}), "quantity"),
        (json!({"quantity": 2.0, "note": 3}), "note"),
    ] {
        let r = c
            .call(
                Method::PATCH,
                &format!("/v1/portfolios/{pid}/holdings/{hid}"),
                Some(&c.alice),
                Some(body.clone()),
            )
            .await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
        assert_eq!(r.problem_field(), field, "{body}: {}", r.text());
    }
}

#[tokio::test]
async fn costs_the_document_admits_are_accepted_and_others_refused() {
    let c = Ctx::new().await;
    let (pid, hid) = portfolio_with_holding(&c).await;
    let uri = format!("/v1/portfolios/{pid}/holdings/{hid}");
    let cases = [
        ("1.50", "USD", true),
        ("1.500", "USD", true),
        ("0", "USD", true),
        ("9999999999.99", "USD", true),
        ("0000000000000000000001", "USD", true),
        ("999999999999", "JPY", true),
        ("1200", "JPY", true),
        ("1200.0", "JPY", true),
        ("1.234", "KWD", true),
        ("1.5", "WTA", true),
        ("-1", "USD", false),
        ("1.005", "USD", false),
        ("12.5", "JPY", false),
        ("1.2345", "KWD", false),
        ("10000000000", "USD", false),
        ("1000000000000", "JPY", false),
        ("9885748794033502.99", "BJJ", false),
        ("1e3", "USD", false),
        ("", "USD", false),
    ];
    for (amount, currency, ok) in cases {
        let cost = json!({"amount": amount, "currency": currency});
        assert_eq!(admits("Cost", &cost), ok, "the document on {cost}");
        let r = c
            .call(
                Method::PATCH,
                &uri,
                Some(&c.alice),
                Some(json!({"cost_per_unit": cost})),
            )
            .await;
        let want = if ok {
            StatusCode::OK
        } else {
            StatusCode::UNPROCESSABLE_ENTITY
        };
        assert_eq!(r.status, want, "the server on {cost}: {}", r.text());
    }
}

#[tokio::test]
async fn webhook_urls_the_document_admits_are_accepted_and_others_refused() {
    let c = Ctx::new().await;
    let cases = [
        ("https://hooks.example.test/tcg", true),
        ("HTTP://a.b-c.example.test:8080/x/y?z=1&w=%20", true),
        ("https://x.test:65535", true),
        ("https://x.test?q", true),
        ("   HTTPS://", false),
        ("https://", false),
        ("ftp://x.test/", false),
        ("https://user:pw@x.test/", false),
        ("https:// x.test/", false),
        ("", false),
    ];
    for (url, ok) in cases {
        let body = json!({"url": url});
        assert_eq!(admits("WebhookInput", &body), ok, "the document on {url:?}");
        let r = c
            .call(Method::POST, "/v1/webhooks", Some(&c.alice), Some(body))
            .await;
        let want = if ok {
            StatusCode::CREATED
        } else {
            StatusCode::UNPROCESSABLE_ENTITY
        };
        assert_eq!(r.status, want, "the server on {url:?}: {}", r.text());
        if ok {
            let id = r.json()["webhook"]["id"].as_str().unwrap().to_owned();
            c.call(
                Method::DELETE,
                &format!("/v1/webhooks/{id}"),
                Some(&c.alice),
                None,
            )
            .await;
        }
    }
}

#[tokio::test]
async fn rules_the_document_admits_are_accepted_and_others_refused() {
    let c = Ctx::new().await;
    let rule = |condition: Value| json!({"name": "r", "product_id": 1001, "condition": condition});
    let deal = |percent: &str| json!({"type": "deal", "percent": percent});
    let change = |percent: &str, window: u64| json!({"type": "percent_change", "percent": percent, "window_secs": window, "direction": "up"});
    let above = |amount: &str| json!({"type": "price_above", "threshold_usd": {"amount": amount, "currency": "USD"}});
    let cases = [
        (rule(deal("20")), true),
        (rule(deal("0.0001")), true),
        (rule(deal("99.99")), true),
        (rule(deal("")), false),
        (rule(deal("0")), false),
        (rule(deal("100")), false),
        (rule(deal("__main__")), false),
        (rule(change("100000", 60)), true),
        (rule(change("12.5", 2_678_400)), true),
        (rule(change("12.5", 59)), false),
        (rule(change("12.5", 2_678_401)), false),
        (rule(change("100000.0001", 3600)), false),
        (rule(json!({"type": "new_low", "days": 400})), true),
        (rule(json!({"type": "new_low", "days": 0})), false),
        (rule(json!({"type": "new_high", "days": 401})), false),
        (rule(above("0.01")), true),
        (rule(above("10000000")), true),
        (rule(above("10000000.01")), false),
        (rule(above("0")), false),
        (
            rule(
                json!({"type": "price_above", "threshold_usd": {"amount": "5", "currency": "EUR"}}),
            ),
            false,
        ),
        (
            json!({"name": "   ", "product_id": 1001, "condition": deal("20")}),
            false,
        ),
        (
            json!({"name": "d", "product_id": 1001, "condition": deal("20"), "filter": {"kind": "market"}}),
            false,
        ),
        (
            json!({"name": "d", "product_id": 1001, "condition": deal("20"), "filter": {"kind": "sold"}}),
            true,
        ),
    ];
    for (body, ok) in cases {
        assert_eq!(admits("RuleInput", &body), ok, "the document on {body}");
        let r = c
            .call(
                Method::POST,
                "/v1/alert-rules",
                Some(&c.alice),
                Some(body.clone()),
            )
            .await;
        let want = if ok {
            StatusCode::CREATED
        } else {
            StatusCode::UNPROCESSABLE_ENTITY
        };
        assert_eq!(r.status, want, "the server on {body}: {}", r.text());
        if ok {
            let id = r.json()["id"].as_str().unwrap().to_owned();
            c.call(
                Method::DELETE,
                &format!("/v1/alert-rules/{id}"),
                Some(&c.alice),
                None,
            )
            .await;
        }
    }
    // Portfolio names: not only blanks.
    for (name, ok) in [
        ("a", true),
        (" a ", true),
        ("   ", false),
        ("\u{3000}", false),
        ("", false),
    ] {
        let body = json!({"name": name});
        assert_eq!(
            admits("PortfolioInput", &body),
            ok,
            "the document on {name:?}"
        );
        let r = c
            .call(Method::POST, "/v1/portfolios", Some(&c.alice), Some(body))
            .await;
        let want = if ok {
            StatusCode::CREATED
        } else {
            StatusCode::UNPROCESSABLE_ENTITY
        };
        assert_eq!(r.status, want, "the server on {name:?}");
    }
}

#[tokio::test]
async fn an_array_is_not_read_as_a_nested_object() {
    let c = Ctx::new().await;
    for (body, field) in [
        (
            json!({"name": "r", "product_id": 1001, "condition": {"type": "new_high", "days": 1},
                   "filter": [null, null]}),
            "filter",
        ),
        (
            json!({"name": "r", "product_id": 1001, "condition": ["deal", "20"]}),
            "condition",
        ),
        (
            json!({"name": "r", "product_id": 1001,
                   "condition": {"type": "price_above", "threshold_usd": ["5", "USD"]}}),
            "condition.threshold_usd",
        ),
    ] {
        let r = c
            .call(
                Method::POST,
                "/v1/alert-rules",
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
        assert_eq!(r.problem_field(), field, "{body}");
    }
    let rules = c
        .call(Method::GET, "/v1/alert-rules", Some(&c.alice), None)
        .await;
    assert_eq!(rules.json()["items"], json!([]), "nothing was created");
    // Arrays where the document has arrays stay arrays.
    let r = c
        .call(
            Method::POST,
            "/v1/alert-rules",
            Some(&c.alice),
            Some(json!({"name": "[x]", "product_id": 1001,
                        "condition": {"type": "new_high", "days": 1}})),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
}

#[tokio::test]
async fn the_largest_costs_and_fees_value_without_overflow() {
    // Found by schemathesis: a holding of 632 copies at 9885748794033502.99 and a sale with
    // fees of 67089378215678.86 made the valuation overflow (500). Costs and prices are now
    // below 10^12 minor units, and the largest of them value.
    let c = Ctx::new().await;
    let p = c
        .call(
            Method::POST,
            "/v1/portfolios",
            Some(&c.alice),
            Some(json!({"name": "big"})),
        )
        .await;
    let pid = p.json()["id"].as_str().unwrap().to_owned();
    let max = json!({"amount": "9999999999.99", "currency": "USD"});
    let h = c
        .call(
            Method::POST,
            &format!("/v1/portfolios/{pid}/holdings"),
            Some(&c.alice),
            Some(json!({"product_id": 1001, "quantity": 1_000_000, "cost_per_unit": max})),
        )
        .await;
    assert_eq!(h.status, StatusCode::CREATED, "{}", h.text());
    let hid = h.json()["id"].as_str().unwrap().to_owned();
    let sale = c
        .call(
            Method::POST,
            &format!("/v1/portfolios/{pid}/holdings/{hid}/sales"),
            Some(&c.alice),
            Some(json!({"quantity": 999_999, "fees": max,
                        "price_per_unit": {"amount": "0", "currency": "USD"}})),
        )
        .await;
    assert_eq!(sale.status, StatusCode::CREATED, "{}", sale.text());
    for what in ["valuation", "history"] {
        let r = c
            .call(
                Method::GET,
                &format!("/v1/portfolios/{pid}/{what}"),
                Some(&c.alice),
                None,
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{what}: {}", r.text());
    }
    let r = c
        .call(
            Method::POST,
            &format!("/v1/portfolios/{pid}/holdings"),
            Some(&c.alice),
            Some(json!({"product_id": 1001, "quantity": 632,
                        "cost_per_unit": {"amount": "9885748794033502.99", "currency": "BJJ"}})),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(r.problem_field(), "cost_per_unit.amount");
}

#[tokio::test]
async fn what_the_shared_parsers_read_but_the_document_refuses_is_refused() {
    // Money, currencies and grades parse more spellings than the document states (for data
    // from upstream); a client's body is held to the document.
    let c = Ctx::new().await;
    let (pid, hid) = portfolio_with_holding(&c).await;
    let uri = format!("/v1/portfolios/{pid}/holdings/{hid}");
    for cost in [
        json!({"amount": "+5", "currency": "USD"}),
        json!({"amount": " 5", "currency": "USD"}),
        json!({"amount": "5.", "currency": "USD"}),
        json!({"amount": ".5", "currency": "USD"}),
        json!({"amount": "5", "currency": "usd"}),
        json!({"amount": "5", "currency": "USD "}),
    ] {
        assert!(!admits("Cost", &cost), "{cost}");
        let r = c
            .call(
                Method::PATCH,
                &uri,
                Some(&c.alice),
                Some(json!({"cost_per_unit": cost})),
            )
            .await;
        assert_eq!(
            r.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{cost}: {}",
            r.text()
        );
        assert!(
            r.problem_field().starts_with("cost_per_unit"),
            "{}",
            r.text()
        );
    }
    let r = c
        .call(
            Method::PATCH,
            &uri,
            Some(&c.alice),
            Some(json!({"cost_per_unit": {"amount": "-1", "currency": "USD"}})),
        )
        .await;
    assert_eq!(
        r.problem_field(),
        "cost_per_unit.amount",
        "the branch of USD names the amount"
    );
    let holding = |grade: &str| {
        json!({"product_id": 1001, "quantity": 1, "grading": {"grader": "PSA", "grade": grade},
               "cost_per_unit": {"amount": "1", "currency": "USD"}})
    };
    for (grade, status) in [
        ("10", StatusCode::CREATED),
        ("10x", StatusCode::UNPROCESSABLE_ENTITY),
        ("Pristine 10", StatusCode::UNPROCESSABLE_ENTITY),
    ] {
        let r = c
            .call(
                Method::POST,
                &format!("/v1/portfolios/{pid}/holdings"),
                Some(&c.alice),
                Some(holding(grade)),
            )
            .await;
        assert_eq!(r.status, status, "{grade}: {}", r.text());
    }
    let r = c
        .call(
            Method::POST,
            "/v1/alert-rules",
            Some(&c.alice),
            Some(
                json!({"name": "r", "product_id": 1001, "condition": {"type": "price_above",
                        "threshold_usd": {"amount": "5", "currency": "usd"}}}),
            ),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text());
    assert_eq!(r.problem_field(), "condition.threshold_usd.currency");
}
