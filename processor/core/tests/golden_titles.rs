//! Golden eBay listing titles: every case in `golden_titles.json` is classified against its
//! target and must give the expected series id (`SeriesKey::id()`) or rejection reason. All
//! failures are printed at once; `GOLDEN_VERBOSE=1 cargo test --test golden_titles -- --nocapture`
//! prints every outcome.
//!
//! Case fields: `category` (for the summary), `target` (a key of `targets`), optional `want`
//! (a `Wanted`, default any), `title`, `condition_id` (eBay "2750"/"4000" or null), optional
//! `condition` (eBay condition text), `expect` (a series id — it contains '/' — or a
//! `RejectReason` code), optional `min_confidence` (default 60), optional `max_confidence` (the
//! accepted confidence must not exceed it: typos and gaps must cost), optional `note`.

use std::collections::BTreeMap;

use serde::Deserialize;
use tcg_processor_core::title::classify;
use tcg_schemas::{EbayItem, TrackedCard};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Golden {
    targets: BTreeMap<String, serde_json::Value>,
    cases: Vec<Case>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Case {
    category: String,
    target: String,
    #[serde(default)]
    want: Option<serde_json::Value>,
    title: String,
    condition_id: Option<String>,
    #[serde(default)]
    condition: Option<String>,
    expect: String,
    #[serde(default)]
    min_confidence: Option<u8>,
    #[serde(default)]
    max_confidence: Option<u8>,
    #[serde(default)]
    #[allow(dead_code)]
    note: Option<String>,
}

fn load() -> Golden {
    serde_json::from_str(include_str!("golden_titles.json")).expect("golden_titles.json parses")
}

fn item(golden: &Golden, case: &Case) -> EbayItem {
    let mut target = golden
        .targets
        .get(&case.target)
        .unwrap_or_else(|| panic!("unknown target {}", case.target))
        .clone();
    if let Some(want) = &case.want {
        target["want"] = want.clone();
    }
    let target: TrackedCard = serde_json::from_value(target).expect("target is a TrackedCard");
    EbayItem {
        item_id: "v1|100000000000|0".to_owned(),
        title: case.title.clone(),
        condition_id: case.condition_id.clone(),
        condition: case.condition.clone(),
        buying_options: vec!["FIXED_PRICE".to_owned()],
        seller: None,
        url: None,
        item_country: Some("US".to_owned()),
        quantity_sold: None,
        target,
    }
}

#[test]
fn golden_titles() {
    let golden = load();
    let mut failures = Vec::new();
    let mut by_category: BTreeMap<&str, usize> = BTreeMap::new();
    // GOLDEN_VERBOSE=1 prints every outcome with its detail and confidence.
    let verbose = std::env::var_os("GOLDEN_VERBOSE").is_some();
    for (n, case) in golden.cases.iter().enumerate() {
        *by_category.entry(case.category.as_str()).or_default() += 1;
        let item = item(&golden, case);
        let got = classify(&item, case.min_confidence.unwrap_or(60));
        let outcome = match &got {
            Ok(m) => format!("{} (confidence {})", m.series.id(), m.confidence),
            Err(r) => format!("{} ({}; confidence {:?})", r.reason, r.detail, r.confidence),
        };
        let ok = match &got {
            Ok(m) => {
                m.series.id() == case.expect
                    && case.max_confidence.is_none_or(|max| m.confidence <= max)
            }
            Err(r) => r.reason.as_str() == case.expect,
        };
        if verbose {
            println!("#{n} [{}] {:?}\n    {outcome}", case.category, case.title);
        }
        if !ok {
            failures.push(format!(
                "#{n} [{}] {:?}\n    expected {}{}\n    got      {outcome}",
                case.category,
                case.title,
                case.expect,
                case.max_confidence
                    .map_or(String::new(), |m| format!(" (confidence ≤ {m})")),
            ));
        }
    }
    println!("{} golden titles:", golden.cases.len());
    for (category, count) in &by_category {
        println!("  {category:<18} {count}");
    }
    assert!(golden.cases.len() >= 60, "too few golden cases");
    assert!(
        failures.is_empty(),
        "{} of {} golden titles failed:\n{}",
        failures.len(),
        golden.cases.len(),
        failures.join("\n")
    );
}

#[test]
fn every_target_is_used_and_valid() {
    let golden = load();
    for (key, value) in &golden.targets {
        let _: TrackedCard = serde_json::from_value(value.clone())
            .unwrap_or_else(|e| panic!("target {key} is not a TrackedCard: {e}"));
        assert!(
            golden.cases.iter().any(|c| &c.target == key),
            "target {key} is not used"
        );
    }
}
