//! Movers say when a move was sudden: a card that jumped in a day is flagged with its jump; a
//! card that drifted the same way is not.

#![allow(clippy::unwrap_used)]

mod common;

use axum::http::{Method, StatusCode};
use common::*;
use serde_json::Value;
use tcg_schemas::{Condition, PriceKind, Printing, Source};
use tcg_store::prelude::*;

#[tokio::test]
async fn a_jump_is_sudden_a_drift_is_not() {
    let c = Ctx::new().await;
    // Venusaur: flat at $10.00, then $16.00 from day 27 on (+60 % in one day).
    let venusaur = sku_series(1003, Printing::Holofoil, Condition::NearMint);
    let ticks: Vec<_> = (20..=30)
        .map(|d| {
            let cents = if d < 27 { 1_000 } else { 1_600 };
            tick(
                &venusaur,
                Source::Tcgplayer,
                PriceKind::Market,
                T0 + d * DAY + 3600,
                cents,
            )
        })
        .collect();
    c.store.write_ticks(&ticks).await.unwrap();
    let r = c
        .call(Method::GET, "/v1/movers?window=7d", Some(&c.alice), None)
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let m = r.json();
    let find = |pid: u64| -> Value {
        ["gainers", "losers"]
            .iter()
            .flat_map(|s| m[s].as_array().unwrap().clone())
            .find(|x| x["product_id"] == pid)
            .unwrap_or_else(|| panic!("{pid} among the movers: {m}"))
    };
    let jumped = find(1003);
    assert_eq!(jumped["change_bps"], 6_000, "{jumped}");
    assert_eq!(jumped["sudden"], true, "{jumped}");
    assert_eq!(jumped["jump"]["change_bps"], 6_000, "{jumped}");
    assert_eq!(
        jumped["jump"]["to"].as_str().unwrap(),
        "2024-03-28T00:00:00Z",
        "{jumped}"
    );
    // Charizard rose $1.00 a day for the whole month: a drift, never sudden.
    let drifted = find(1001);
    assert!(drifted["change_bps"].as_i64().unwrap() > 0, "{drifted}");
    assert_eq!(drifted["sudden"], false, "{drifted}");
}
