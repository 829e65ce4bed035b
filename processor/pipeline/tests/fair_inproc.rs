//! The fair value end to end on the embedded bus, as `up` runs it: quotes from every source
//! through the in-process runtime into the SQLite store. A $999 parked TCGplayer `high`, a
//! broken TCGCSV market price and a single wild eBay listing move neither the stored fair value
//! nor a `percent_change` rule that requires two confirming sources; a move that eBay sales
//! confirm fires it and moves the fair value.

#![allow(clippy::unwrap_used, clippy::expect_used)]
#![allow(clippy::too_many_lines)] // a test reads best as one scenario, top to bottom

use std::{sync::Arc, time::Duration};

use tcg_pipeline::inproc::{Batching, Inputs, run};
use tcg_processor_core::{CoreConfig, Processor};
use tcg_schemas::*;
use tcg_store::{AlertStore, PriceFilter, SqliteStore, StoreSink, TickStore};
use tokio::sync::mpsc;

const DAY: i64 = 86_400;
const TITLE: &str = "Charizard ex 199/165 Holo NM Pokemon 151";

fn product_price(
    source: Source,
    kind: PriceKind,
    product: u64,
    cents: i64,
    at: Timestamp,
) -> RawQuote {
    RawQuote {
        source,
        observed_at: at,
        kind,
        price: Money::usd_cents(cents),
        shipping: None,
        subject: Subject::TcgProduct {
            category_id: CategoryId(3),
            group_id: None,
            product_id: ProductId(product),
            sub_type_name: "Holofoil".into(),
        },
    }
}

fn ebay(source: Source, item: &str, product: u64, cents: i64, at: Timestamp) -> RawQuote {
    RawQuote {
        source,
        observed_at: at,
        kind: if source == Source::EbaySold {
            PriceKind::Sold
        } else {
            PriceKind::Listing
        },
        price: Money::usd_cents(cents),
        shipping: Some(Money::usd_cents(0)),
        subject: Subject::EbayItem(Box::new(EbayItem {
            item_id: format!("v1|{item}|0"),
            title: TITLE.into(),
            condition_id: Some("4000".into()),
            condition: Some("Ungraded".into()),
            buying_options: vec!["FIXED_PRICE".into()],
            seller: None,
            url: None,
            item_country: Some("US".into()),
            quantity_sold: None,
            target: TrackedCard {
                product_id: ProductId(product),
                category_id: CategoryId(3),
                name: "Charizard ex".into(),
                number: Some("199/165".into()),
                set_name: Some("Scarlet & Violet 151".into()),
                set_code: Some("MEW".into()),
                printing: Some("Holofoil".into()),
                language: None,
                want: Wanted::Any,
            },
        })),
    }
}

fn percent_rule(n: u128, product: u64, min: Option<u8>, kind: Option<PriceKind>) -> AlertRule {
    let at = Timestamp::from_secs(0);
    AlertRule {
        id: RuleId(uuid::Uuid::from_u128(n)),
        owner: UserId("ash".into()),
        name: format!("moves {n}"),
        product_id: ProductId(product),
        filter: SeriesFilter {
            kind,
            ..SeriesFilter::default()
        },
        condition: RuleCondition::PercentChange {
            percent: "20".parse().unwrap(),
            window_secs: 3 * DAY as u64,
            direction: Direction::Either,
            min_confirming_sources: min,
        },
        cooldown_secs: 60,
        paused: false,
        created_at: at,
        updated_at: at,
    }
}

/// Every source at $10 for product `p`, from `t0` on.
fn calm(p: u64, t0: Timestamp) -> Vec<RawQuote> {
    let at = |s: i64| t0.plus_secs(s);
    vec![
        ebay(Source::EbaySold, &format!("{p}s1"), p, 1_000, at(0)),
        ebay(Source::EbaySold, &format!("{p}s2"), p, 1_010, at(60)),
        ebay(Source::EbaySold, &format!("{p}s3"), p, 990, at(120)),
        ebay(Source::EbayBrowse, &format!("{p}l1"), p, 1_050, at(180)),
        product_price(Source::Tcgplayer, PriceKind::Market, p, 1_000, at(240)),
        product_price(Source::Tcgcsv, PriceKind::Market, p, 1_000, at(300)),
        product_price(Source::Tcgplayer, PriceKind::High, p, 2_500, at(300)),
    ]
}

#[tokio::test]
async fn parked_and_wild_prices_move_neither_the_stored_fair_value_nor_a_confirmed_alert() {
    let dir = std::env::temp_dir().join(format!("tcg-fair-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).unwrap();
    let store = SqliteStore::open(dir.join("t.db")).unwrap();
    let mut core = Processor::new(CoreConfig::default());
    core.upsert_rule(percent_rule(1, 7, Some(2), None)).unwrap();
    core.upsert_rule(percent_rule(2, 7, None, Some(PriceKind::Fair)))
        .unwrap();
    core.upsert_rule(percent_rule(3, 8, Some(2), None)).unwrap();

    let t0 = tcg_pipeline::kafka::producer::now().minus_secs(3 * DAY);
    let at = |s: i64| t0.plus_secs(s);
    let mut quotes = calm(7, t0);
    quotes.extend([
        product_price(Source::Tcgplayer, PriceKind::High, 7, 99_900, at(DAY)),
        product_price(Source::Tcgcsv, PriceKind::Market, 7, 99_900, at(DAY + 60)),
        ebay(Source::EbayBrowse, "7wild", 7, 99_900, at(DAY + 120)),
    ]);
    // Product 8: eBay sales move to $15 over a day, then TCGplayer's market follows.
    quotes.extend(calm(8, t0));
    for i in 0..4 {
        quotes.push(ebay(
            Source::EbaySold,
            &format!("8n{i}"),
            8,
            1_500,
            at(DAY + i * 3_600),
        ));
    }
    quotes.push(product_price(
        Source::Tcgplayer,
        PriceKind::Market,
        8,
        1_500,
        at(DAY + 5 * 3_600),
    ));

    let (tx, rx) = mpsc::channel(quotes.len());
    for q in quotes {
        tx.send(q).await.unwrap();
    }
    drop(tx);
    let sink = Arc::new(StoreSink(Arc::new(store.clone())));
    let batching = Batching {
        max: 3,
        linger: Duration::from_millis(1),
    };
    let totals = run(
        Inputs::quotes(rx),
        &mut core,
        sink,
        batching,
        |_| {},
        std::future::pending(),
    )
    .await
    .unwrap();
    assert_eq!(totals.rejected, 0, "{totals:?}");
    assert!(totals.fair > 0, "{totals:?}");

    let fair = PriceFilter::only(Source::Tcgtracker, PriceKind::Fair);
    let ids = ["7/holofoil/nm/en".to_owned(), "8/holofoil/nm/en".to_owned()];
    let latest = store.latest_prices(&ids, &fair).await.unwrap();
    let price = |sid: &str| {
        latest
            .iter()
            .find(|l| l.series_id == sid)
            .map(|l| l.price_usd.minor)
    };
    assert_eq!(price("7/holofoil/nm/en"), Some(1_000), "{latest:?}");
    assert_eq!(price("8/holofoil/nm/en"), Some(1_500), "{latest:?}");

    let alerts = store.alerts(&UserId("ash".into()), 100).await.unwrap();
    let by_rule = |n: u128| {
        alerts
            .iter()
            .filter(|a| a.rule_id == RuleId(uuid::Uuid::from_u128(n)))
            .collect::<Vec<_>>()
    };
    assert!(
        by_rule(1).is_empty(),
        "unconfirmed moves fired: {:#?}",
        by_rule(1)
    );
    assert!(
        by_rule(2).is_empty(),
        "the fair value moved: {:#?}",
        by_rule(2)
    );
    let confirmed = by_rule(3);
    assert!(
        confirmed
            .iter()
            .any(|a| a.source == Source::Tcgplayer
                && a.message.contains("confirmed by 2 of 2 sources")),
        "{confirmed:#?}"
    );
    drop(store);
    let _ = std::fs::remove_dir_all(&dir);
}
