//! The store contract: the same checks against every backend. SQLite always; QuestDB always too:
//! the server `QUESTDB_HTTP` and `QUESTDB_PG` name, or else a real QuestDB the harness starts.

#![allow(clippy::unwrap_used)] // tests may unwrap

mod support;

use tcg_schemas::{
    AlertEvent, AlertId, AlertRule, CardSet, CategoryId, Condition, Currency, Game, Grade, Grader,
    GroupId, Holding, HoldingChange, HoldingId, Language, Money, Portfolio, PortfolioEvent,
    PortfolioEventId, PortfolioId, PriceKind, Printing, Product, ProductId, RuleChange,
    RuleCondition, RuleId, SeriesKey, Sku, SkuId, Source, Tick, Timestamp, Trigger, UserId,
};
use tcg_store::*;

const DAY: i64 = 86_400;
/// 2024-03-01T00:00:00Z
const T0: i64 = 1_709_251_200;

fn at(secs: i64) -> Timestamp {
    Timestamp::from_secs(T0 + secs)
}

/// Ids unique to one run, so a shared QuestDB can run the suite again.
#[derive(Debug, Clone, Copy)]
struct Ids {
    base: u64,
}

impl Ids {
    fn new() -> Self {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0);
        Self {
            base: 1_000_000 + (nanos % 1_000_000_000) as u64 * 100,
        }
    }
    fn product(&self, n: u64) -> ProductId {
        ProductId(self.base + n)
    }
    fn group(&self, n: u32) -> GroupId {
        GroupId((self.base % 1_000_000_000) as u32 + n)
    }
    fn uuid(&self, n: u128) -> uuid::Uuid {
        uuid::Uuid::from_u128((u128::from(self.base) << 32) + n)
    }
    fn user(&self, name: &str) -> UserId {
        UserId(format!("{name}-{}", self.base))
    }
}

fn sku(product: ProductId, condition: Condition) -> SeriesKey {
    SeriesKey::Sku {
        product_id: product,
        printing: Printing::Holofoil,
        condition,
        language: Language::English,
    }
}

fn tick(
    series: &SeriesKey,
    source: Source,
    kind: PriceKind,
    secs: i64,
    cents: i64,
    listing: Option<&str>,
) -> Tick {
    Tick {
        series_id: series.id(),
        series: series.clone(),
        game: Game::Pokemon,
        source,
        kind,
        observed_at: at(secs),
        price_usd: Money::usd_cents(cents),
        original: Money::usd_cents(cents),
        shipping: None,
        listing_id: listing.map(str::to_owned),
        confidence: None,
        heartbeat: false,
    }
}

fn market(series: &SeriesKey, secs: i64, cents: i64) -> Tick {
    tick(
        series,
        Source::Tcgplayer,
        PriceKind::Market,
        secs,
        cents,
        None,
    )
}

async fn ticks_are_idempotent(store: &dyn Store, ids: Ids) {
    let s = sku(ids.product(1), Condition::NearMint);
    let mut batch: Vec<Tick> = (0..10).map(|i| market(&s, i * 3600, 1000 + i)).collect();
    let mut listing = tick(
        &s,
        Source::EbayBrowse,
        PriceKind::Listing,
        100,
        900,
        Some("v1|1|0"),
    );
    listing.original = Money::new(800, Currency::EUR);
    listing.shipping = Some(Money::new(150, Currency::EUR));
    listing.confidence = Some(90);
    batch.push(listing);
    let first = store.write_ticks(&batch).await.unwrap();
    assert_eq!(first.rows, 11);
    store.sync().await.unwrap();
    let before = store
        .latest_prices(&[s.id()], &PriceFilter::any())
        .await
        .unwrap();
    let candles_before = store
        .candles(&CandleQuery {
            target: SeriesTarget::Series(s.id()),
            prices: PriceFilter::any(),
            interval: Interval::DAY,
            from: at(0),
            to: at(DAY),
            fill: FillMode::Empty,
        })
        .await
        .unwrap();
    // Replay, in another order and split differently: nothing changes.
    batch.reverse();
    for chunk in batch.chunks(4) {
        let r = store.write_ticks(chunk).await.unwrap();
        if let Some(n) = r.new_rows {
            assert_eq!(n, 0, "a replay inserted rows");
        }
    }
    store.sync().await.unwrap();
    let after = store
        .latest_prices(&[s.id()], &PriceFilter::any())
        .await
        .unwrap();
    assert_eq!(before, after);
    assert_eq!(after.len(), 2);
    let m = after.iter().find(|l| l.kind == PriceKind::Market).unwrap();
    assert_eq!(
        (m.price_usd, m.observed_at),
        (Money::usd_cents(1009), at(9 * 3600))
    );
    let l = after.iter().find(|l| l.kind == PriceKind::Listing).unwrap();
    assert_eq!(
        (l.price_usd, l.original, l.listing_id.as_str()),
        (
            Money::usd_cents(900),
            Money::new(800, Currency::EUR),
            "v1|1|0"
        )
    );
    let candles_after = store
        .candles(&CandleQuery {
            target: SeriesTarget::Series(s.id()),
            prices: PriceFilter::any(),
            interval: Interval::DAY,
            from: at(0),
            to: at(DAY),
            fill: FillMode::Empty,
        })
        .await
        .unwrap();
    assert_eq!(candles_before, candles_after);
    let market_day = candles_after
        .iter()
        .find(|c| c.kind == PriceKind::Market)
        .unwrap();
    assert_eq!(market_day.candles[0].count, 10);
}

async fn latest_prices_per_source_and_kind(store: &dyn Store, ids: Ids) {
    let a = sku(ids.product(2), Condition::NearMint);
    let b = sku(ids.product(2), Condition::LightlyPlayed);
    store
        .write_ticks(&[
            market(&a, 0, 100),
            market(&a, 60, 110),
            tick(&a, Source::Tcgcsv, PriceKind::Market, 30, 105, None),
            tick(&a, Source::Tcgplayer, PriceKind::Low, 30, 90, None),
            market(&b, 10, 50),
        ])
        .await
        .unwrap();
    // An older tick arriving late does not replace the newest.
    store.write_ticks(&[market(&a, 20, 999)]).await.unwrap();
    store.sync().await.unwrap();
    let all = store
        .latest_prices(
            &[a.id(), b.id(), "nope/normal/nm/en".into()],
            &PriceFilter::any(),
        )
        .await
        .unwrap();
    let got: Vec<(String, Source, PriceKind, i64)> = all
        .iter()
        .map(|l| (l.series_id.clone(), l.source, l.kind, l.price_usd.minor))
        .collect();
    assert_eq!(
        got,
        vec![
            (a.id(), Source::Tcgplayer, PriceKind::Market, 110),
            (a.id(), Source::Tcgplayer, PriceKind::Low, 90),
            (a.id(), Source::Tcgcsv, PriceKind::Market, 105),
            (b.id(), Source::Tcgplayer, PriceKind::Market, 50),
        ]
    );
    let only = store
        .latest_prices(
            &[a.id(), b.id()],
            &PriceFilter::only(Source::Tcgplayer, PriceKind::Market),
        )
        .await
        .unwrap();
    assert_eq!(only.len(), 2);
    assert!(
        store
            .latest_prices(&[], &PriceFilter::any())
            .await
            .unwrap()
            .is_empty()
    );
}

async fn candles_fill_and_filter(store: &dyn Store, ids: Ids) {
    let p = ids.product(3);
    let nm = sku(p, Condition::NearMint);
    let graded = SeriesKey::Graded {
        product_id: p,
        grader: Grader::Psa,
        grade: Grade::whole(10).unwrap(),
    };
    store
        .write_ticks(&[
            market(&nm, -DAY, 500),  // before the range: the previous close
            market(&nm, 3600, 1000), // day 0
            market(&nm, 7200, 1200),
            market(&nm, 10_800, 900),
            market(&nm, 2 * DAY + 60, 1500), // day 2 (day 1 empty)
            tick(
                &graded,
                Source::EbaySold,
                PriceKind::Sold,
                3600,
                50_000,
                Some("s1"),
            ),
        ])
        .await
        .unwrap();
    store.sync().await.unwrap();
    let q = CandleQuery {
        target: SeriesTarget::Series(nm.id()),
        prices: PriceFilter::only(Source::Tcgplayer, PriceKind::Market),
        interval: Interval::DAY,
        from: at(0),
        to: at(4 * DAY),
        fill: FillMode::PreviousClose,
    };
    let got = store.candles(&q).await.unwrap();
    assert_eq!(got.len(), 1);
    let c = &got[0].candles;
    assert_eq!(c.len(), 4);
    let usd = |v| Some(Money::usd_cents(v));
    assert_eq!(
        (
            c[0].open,
            c[0].high,
            c[0].low,
            c[0].close,
            c[0].count,
            c[0].filled
        ),
        (usd(1000), usd(1200), usd(900), usd(900), 3, false)
    );
    assert_eq!(
        (c[1].open, c[1].close, c[1].count, c[1].filled),
        (usd(900), usd(900), 0, true)
    );
    assert_eq!(
        (c[2].open, c[2].close, c[2].count),
        (usd(1500), usd(1500), 1)
    );
    assert_eq!((c[3].close, c[3].filled), (usd(1500), true));
    assert_eq!(c[0].start, at(0));
    // Marked empty instead.
    let empty = store
        .candles(&CandleQuery {
            fill: FillMode::Empty,
            ..q.clone()
        })
        .await
        .unwrap();
    assert_eq!(
        (empty[0].candles[1].close, empty[0].candles[1].filled),
        (None, false)
    );
    // The first bucket before any in-range tick is filled from the close before the range.
    let earlier = store
        .candles(&CandleQuery {
            from: at(-DAY / 2),
            to: at(DAY),
            interval: Interval::HOUR,
            ..q.clone()
        })
        .await
        .unwrap();
    assert_eq!(earlier[0].candles[0].close, usd(500));
    assert_eq!(earlier[0].candles.len(), 36);
    // By product and selection.
    let by_product = |selection: SeriesSelection| CandleQuery {
        target: SeriesTarget::Product {
            product_id: p,
            selection,
        },
        prices: PriceFilter::any(),
        ..q.clone()
    };
    let graded_only = store
        .candles(&by_product(SeriesSelection {
            graded: Some(true),
            ..Default::default()
        }))
        .await
        .unwrap();
    assert_eq!(graded_only.len(), 1);
    assert_eq!(
        (graded_only[0].series_id.clone(), graded_only[0].kind),
        (graded.id(), PriceKind::Sold)
    );
    assert_eq!(graded_only[0].candles[0].close, usd(50_000));
    let nm_only = store
        .candles(&by_product(SeriesSelection {
            condition: Some(Condition::NearMint),
            ..Default::default()
        }))
        .await
        .unwrap();
    assert_eq!(
        nm_only
            .iter()
            .map(|s| s.series_id.clone())
            .collect::<Vec<_>>(),
        vec![nm.id()]
    );
    let both = store
        .candles(&by_product(SeriesSelection::default()))
        .await
        .unwrap();
    assert_eq!(both.len(), 2);
    // Weekly and monthly buckets.
    let weekly = store
        .candles(&CandleQuery {
            interval: Interval::Week,
            ..q.clone()
        })
        .await
        .unwrap();
    // Buckets cover [floor(from), to): the first week starts on Monday 2024-02-26 and holds the tick of 02-29.
    assert_eq!(weekly[0].candles.iter().map(|c| c.count).sum::<u64>(), 5);
    let monthly = store
        .candles(&CandleQuery {
            interval: Interval::Month,
            ..q.clone()
        })
        .await
        .unwrap();
    assert_eq!(monthly[0].candles.len(), 1);
    assert_eq!(
        (
            monthly[0].candles[0].open,
            monthly[0].candles[0].close,
            monthly[0].candles[0].count
        ),
        (usd(1000), usd(1500), 4)
    );
    assert!(
        store
            .candles(&CandleQuery { to: at(0), ..q })
            .await
            .is_err()
    );
}

async fn movers_rank_by_window(store: &dyn Store, ids: Ids) {
    let (p_up, p_down, p_flat, p_other) = (
        ids.product(10),
        ids.product(11),
        ids.product(12),
        ids.product(13),
    );
    store
        .upsert_products(&[
            product(ids, 10, 1, "Up"),
            product(ids, 11, 1, "Down"),
            product(ids, 12, 1, "Flat"),
            product(ids, 13, 2, "Other"),
        ])
        .await
        .unwrap();
    let up = sku(p_up, Condition::NearMint);
    let down = sku(p_down, Condition::NearMint);
    let flat = sku(p_flat, Condition::NearMint);
    let other = sku(p_other, Condition::NearMint);
    let mut magic = market(&other, 0, 100);
    magic.game = Game::Magic;
    let mut magic2 = market(&other, 5 * DAY, 400);
    magic2.game = Game::Magic;
    store
        .write_ticks(&[
            market(&up, 0, 1000),
            market(&up, 5 * DAY, 1500),
            market(&down, 0, 1000),
            market(&down, 5 * DAY, 800),
            market(&flat, 0, 1000),
            market(&flat, 5 * DAY, 1000),
            magic,
            magic2,
            market(&up, 20 * DAY, 99_999), // after as_of: ignored
        ])
        .await
        .unwrap();
    store.sync().await.unwrap();
    let q = MoversQuery {
        since: at(DAY),
        as_of: at(6 * DAY),
        game: Some(Game::Pokemon),
        group_id: Some(ids.group(1)),
        prices: PriceFilter::any(),
        limit: 10,
        min_start_cents: 0,
        start_lookback_secs: 7 * DAY,
    };
    let m = store.movers(&q).await.unwrap();
    assert_eq!(
        m.gainers
            .iter()
            .map(|g| (g.series_id.clone(), g.change_bps))
            .collect::<Vec<_>>(),
        vec![(up.id(), 5000)]
    );
    assert_eq!(
        m.losers
            .iter()
            .map(|g| (g.series_id.clone(), g.change_bps))
            .collect::<Vec<_>>(),
        vec![(down.id(), -2000)]
    );
    assert_eq!(
        (
            m.gainers[0].start_usd,
            m.gainers[0].end_usd,
            m.gainers[0].end_at
        ),
        (Money::usd_cents(1000), Money::usd_cents(1500), at(5 * DAY))
    );
    let magic_only = store
        .movers(&MoversQuery {
            game: Some(Game::Magic),
            group_id: None,
            ..q.clone()
        })
        .await
        .unwrap();
    // Across all sets: a shared QuestDB may hold earlier runs' series too, so look at ours.
    let ours = |list: &[Mover]| -> Vec<(String, i64)> {
        let mine = [up.id(), down.id(), flat.id(), other.id()];
        list.iter()
            .filter(|g| mine.contains(&g.series_id))
            .map(|g| (g.series_id.clone(), g.change_bps))
            .collect()
    };
    assert_eq!(ours(&magic_only.gainers), vec![(other.id(), 30_000)]);
    assert!(ours(&magic_only.losers).is_empty());
    let any_game = store
        .movers(&MoversQuery {
            game: None,
            group_id: None,
            limit: 1,
            ..q.clone()
        })
        .await
        .unwrap();
    // The biggest gain of all is +300 % (this run's Magic series, or an earlier run's twin).
    assert_eq!(any_game.gainers.len(), 1);
    assert_eq!(any_game.gainers[0].change_bps, 30_000);
    // A window starting before any tick has no start price: nothing moves.
    let none = store
        .movers(&MoversQuery {
            since: at(-DAY),
            ..q.clone()
        })
        .await
        .unwrap();
    // A start price older than the lookback does not count.
    let stale = store
        .movers(&MoversQuery {
            since: at(2 * DAY),
            start_lookback_secs: DAY,
            ..q
        })
        .await
        .unwrap();
    assert!(stale.gainers.is_empty() && stale.losers.is_empty());
    assert!(none.gainers.is_empty() && none.losers.is_empty());
}

fn product(ids: Ids, n: u64, group: u32, name: &str) -> Product {
    Product {
        product_id: ids.product(n),
        category_id: CategoryId(3),
        group_id: ids.group(group),
        game: Game::Pokemon,
        name: name.to_owned(),
        clean_name: None,
        number: Some(format!("{n:03}/195")),
        rarity: Some("Rare".into()),
        image_url: None,
        url: None,
    }
}

async fn catalog_search_and_pages(store: &dyn Store, ids: Ids) {
    let set = CardSet {
        group_id: ids.group(50),
        category_id: CategoryId(3),
        game: Game::Pokemon,
        name: "Silver Tempest".into(),
        abbreviation: Some("SIT".into()),
        published_on: Some("2022-11-11".into()),
    };
    store.upsert_sets(std::slice::from_ref(&set)).await.unwrap();
    let names = [
        "Lugia V",
        "Lugia VSTAR",
        "Alolan Vulpix",
        "lugia (Alt Art)",
        "Pikachu",
    ];
    let products: Vec<Product> = names
        .iter()
        .enumerate()
        .map(|(i, n)| product(ids, 100 + i as u64, 50, n))
        .collect();
    store.upsert_products(&products).await.unwrap();
    let sk = Sku {
        sku_id: SkuId(ids.base + 7),
        product_id: ids.product(100),
        printing: Printing::Holofoil,
        condition: Condition::NearMint,
        language: Language::English,
    };
    store.upsert_skus(std::slice::from_ref(&sk)).await.unwrap();
    // Upsert replaces.
    let mut renamed = products[4].clone();
    renamed.name = "Pikachu VMAX".into();
    store.upsert_products(&[renamed.clone()]).await.unwrap();
    store.sync().await.unwrap();

    let q = CatalogQuery {
        name: Some("LUGIA".into()),
        group_id: Some(ids.group(50)),
        limit: 2,
        ..Default::default()
    };
    let p1 = store.search_catalog(&q).await.unwrap();
    assert_eq!(
        p1.items.iter().map(|p| p.name.as_str()).collect::<Vec<_>>(),
        vec!["lugia (Alt Art)", "Lugia V"]
    );
    let p2 = store
        .search_catalog(&CatalogQuery {
            cursor: p1.next_cursor.clone(),
            ..q.clone()
        })
        .await
        .unwrap();
    assert_eq!(
        p2.items.iter().map(|p| p.name.as_str()).collect::<Vec<_>>(),
        vec!["Lugia VSTAR"]
    );
    assert_eq!(p2.next_cursor, None);
    let by_number = store
        .search_catalog(&CatalogQuery {
            number: Some("102".into()),
            group_id: Some(ids.group(50)),
            limit: 10,
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(
        by_number
            .items
            .iter()
            .map(|p| p.name.as_str())
            .collect::<Vec<_>>(),
        vec!["Alolan Vulpix"]
    );
    let exact = store
        .search_catalog(&CatalogQuery {
            number: Some("102/195".into()),
            group_id: Some(ids.group(50)),
            limit: 10,
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(exact.items.len(), 1);
    let pika = store
        .search_catalog(&CatalogQuery {
            name: Some("pika".into()),
            group_id: Some(ids.group(50)),
            limit: 10,
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(pika.items, vec![renamed]);
    assert_eq!(
        store.product(ids.product(100)).await.unwrap(),
        Some(products[0].clone())
    );
    assert_eq!(store.product(ids.product(99)).await.unwrap(), None);
    assert!(
        store
            .sets(Some(Game::Pokemon))
            .await
            .unwrap()
            .contains(&set)
    );
    assert_eq!(store.skus(ids.product(100)).await.unwrap(), vec![sk]);
    assert!(
        store
            .search_catalog(&CatalogQuery {
                cursor: Some("garbage".into()),
                limit: 1,
                ..Default::default()
            })
            .await
            .is_err()
    );
}

fn rule(ids: Ids, n: u128, owner: &UserId, name: &str) -> AlertRule {
    AlertRule {
        id: RuleId(ids.uuid(n)),
        owner: owner.clone(),
        name: name.into(),
        product_id: ids.product(1),
        filter: Default::default(),
        condition: RuleCondition::PriceBelow {
            threshold_usd: Money::usd_cents(500),
        },
        cooldown_secs: 3600,
        paused: false,
        created_at: at(0),
        updated_at: at(0),
    }
}

async fn rules_and_alerts(store: &dyn Store, ids: Ids) {
    let alice = ids.user("alice");
    let bob = ids.user("bob");
    let r1 = rule(ids, 1, &alice, "cheap");
    let r2 = rule(ids, 2, &bob, "bob's");
    store.upsert_rule(&r1).await.unwrap();
    store
        .apply_rule_change(&RuleChange::Upsert { rule: r2.clone() })
        .await
        .unwrap();
    let mut r1b = r1.clone();
    r1b.name = "cheaper".into();
    r1b.updated_at = at(10);
    store.upsert_rule(&r1b).await.unwrap();
    store.sync().await.unwrap();
    assert_eq!(store.rules(Some(&alice)).await.unwrap(), vec![r1b.clone()]);
    let all = store.rules(None).await.unwrap();
    assert!(all.contains(&r1b) && all.contains(&r2));
    store
        .apply_rule_change(&RuleChange::Delete {
            rule_id: r1.id,
            owner: alice.clone(),
        })
        .await
        .unwrap();
    store.sync().await.unwrap();
    assert!(store.rules(Some(&alice)).await.unwrap().is_empty());
    assert_eq!(store.rules(Some(&bob)).await.unwrap(), vec![r2.clone()]);

    let s = sku(ids.product(1), Condition::NearMint);
    let alert = |secs: i64| AlertEvent {
        id: AlertId::derive(
            r2.id,
            &s.id(),
            at(secs),
            Source::Tcgplayer,
            PriceKind::Market,
            None,
        ),
        rule_id: r2.id,
        owner: bob.clone(),
        rule_name: r2.name.clone(),
        product_id: ids.product(1),
        series_id: s.id(),
        series: s.clone(),
        source: Source::Tcgplayer,
        kind: PriceKind::Market,
        observed_at: at(secs),
        price_usd: Money::usd_cents(400),
        listing_id: None,
        trigger: Trigger::PriceBelow {
            threshold_usd: Money::usd_cents(500),
        },
        message: "below $5".into(),
    };
    let batch = vec![alert(0), alert(60)];
    store.write_alerts(&batch).await.unwrap();
    let again = store.write_alerts(&batch).await.unwrap();
    if let Some(n) = again.new_rows {
        assert_eq!(n, 0);
    }
    store.sync().await.unwrap();
    let got = store.alerts(&bob, 10).await.unwrap();
    assert_eq!(got, vec![alert(60), alert(0)]);
    assert_eq!(store.alerts(&bob, 1).await.unwrap().len(), 1);
    assert!(store.alerts(&alice, 10).await.unwrap().is_empty());
}

async fn portfolio_valuation(store: &dyn Store, ids: Ids) {
    let owner = ids.user("carol");
    let pf = Portfolio {
        id: PortfolioId(ids.uuid(100)),
        owner: owner.clone(),
        name: "binder".into(),
        created_at: at(0),
    };
    store.upsert_portfolio(&pf).await.unwrap();
    let p = ids.product(200);
    let s = sku(p, Condition::NearMint);
    let h = Holding {
        id: HoldingId(ids.uuid(101)),
        portfolio_id: pf.id,
        product_id: p,
        printing: Printing::Holofoil,
        condition: Condition::NearMint,
        language: Language::English,
        grading: None,
        quantity: 2,
        cost_per_unit: Money::usd_cents(1000),
        acquired_on: "2024-03-01".into(),
        note: None,
    };
    // A second holding without events: acquired on its date at its cost.
    let h2 = Holding {
        id: HoldingId(ids.uuid(102)),
        quantity: 1,
        cost_per_unit: Money::usd_cents(300),
        acquired_on: "2024-03-02".into(),
        ..h.clone()
    };
    store.upsert_holding(&h).await.unwrap();
    store.upsert_holding(&h2).await.unwrap();
    let ev = |n: u128, secs: i64, change: HoldingChange| PortfolioEvent {
        id: PortfolioEventId(ids.uuid(n)),
        portfolio_id: pf.id,
        holding_id: h.id,
        at: at(secs),
        change,
    };
    let events = vec![
        ev(
            110,
            0,
            HoldingChange::Acquired {
                quantity: 3,
                cost_per_unit: Money::usd_cents(1000),
            },
        ),
        ev(
            111,
            2 * DAY,
            HoldingChange::Sold {
                quantity: 1,
                price_per_unit: Money::usd_cents(1500),
                fees: Some(Money::usd_cents(100)),
            },
        ),
    ];
    store.append_portfolio_events(&events).await.unwrap();
    let replay = store.append_portfolio_events(&events).await.unwrap();
    if let Some(n) = replay.new_rows {
        assert_eq!(n, 0);
    }
    store
        .write_ticks(&[
            market(&s, 3600, 1100),
            market(&s, DAY + 3600, 1200),
            market(&s, 3 * DAY, 1300),
        ])
        .await
        .unwrap();
    store.sync().await.unwrap();
    assert_eq!(store.portfolios(&owner).await.unwrap(), vec![pf.clone()]);
    assert_eq!(store.holdings(pf.id).await.unwrap().len(), 2);
    assert_eq!(store.portfolio_events(pf.id).await.unwrap(), events);

    let valuer = Valuer::new(store, store);
    let v = valuer
        .value(pf.id, at(4 * DAY), &ValuationPrice::default())
        .await
        .unwrap();
    // h: 3 bought at $10, 1 sold at $15 − $1 fee: realized $4; 2 left valued at $13.
    // h2: 1 at $3, valued at $13.
    assert_eq!(v.market_value_usd, Money::usd_cents(2 * 1300 + 1300));
    assert_eq!(v.cost_basis_usd, Money::usd_cents(2000 + 300));
    assert_eq!(v.realized_pnl_usd, Money::usd_cents(400));
    assert_eq!(v.unrealized_pnl_usd, Money::usd_cents(3900 - 2300));
    let hv = v.holdings.iter().find(|x| x.holding_id == h.id).unwrap();
    assert_eq!(
        (hv.quantity, hv.unit_price_usd, hv.priced_at),
        (2, Some(Money::usd_cents(1300)), Some(at(3 * DAY)))
    );

    let hist = valuer
        .history(
            pf.id,
            at(0),
            at(4 * DAY),
            Interval::DAY,
            &ValuationPrice::default(),
        )
        .await
        .unwrap();
    assert_eq!(hist.len(), 4);
    // End of day 0: 3 × $11 (h2 not yet acquired).
    assert_eq!(
        (hist[0].market_value_usd, hist[0].cost_basis_usd),
        (Money::usd_cents(3300), Money::usd_cents(3000))
    );
    // End of day 1: 3 × $12 + 1 × $12.
    assert_eq!(hist[1].market_value_usd, Money::usd_cents(4800));
    // End of day 2: the sale happened; 2 × $12 + $12.
    assert_eq!(
        (hist[2].market_value_usd, hist[2].realized_pnl_usd),
        (Money::usd_cents(3600), Money::usd_cents(400))
    );
    assert_eq!(hist[3].market_value_usd, Money::usd_cents(3900));

    store.delete_holding(pf.id, h2.id).await.unwrap();
    store.sync().await.unwrap();
    assert_eq!(store.holdings(pf.id).await.unwrap(), vec![h.clone()]);
    store.delete_portfolio(&pf).await.unwrap();
    store.sync().await.unwrap();
    assert!(store.portfolios(&owner).await.unwrap().is_empty());
}

/// Every contract check, in order.
/// The app's own data is read back by the very next request, without `sync()`: the API creates
/// a portfolio and adds a holding to it in two requests.
async fn app_data_reads_its_own_writes(store: &dyn Store, ids: Ids) {
    let owner = ids.user("dave");
    let pf = Portfolio {
        id: PortfolioId(ids.uuid(300)),
        owner: owner.clone(),
        name: "fresh".into(),
        created_at: at(0),
    };
    store.upsert_portfolio(&pf).await.unwrap();
    let listed = store.portfolios(&owner).await.unwrap();
    assert_eq!(
        listed,
        vec![pf.clone()],
        "a new portfolio is listed at once"
    );
    let h = Holding {
        id: HoldingId(ids.uuid(301)),
        portfolio_id: pf.id,
        product_id: ids.product(300),
        printing: Printing::Holofoil,
        condition: Condition::NearMint,
        language: Language::English,
        grading: None,
        quantity: 1,
        cost_per_unit: Money::usd_cents(500),
        acquired_on: "2024-03-01".into(),
        note: None,
    };
    store.upsert_holding(&h).await.unwrap();
    assert_eq!(store.holdings(pf.id).await.unwrap(), vec![h.clone()]);
    store.delete_holding(pf.id, h.id).await.unwrap();
    assert!(
        store.holdings(pf.id).await.unwrap().is_empty(),
        "a deleted holding is gone at once"
    );
    store.delete_portfolio(&pf).await.unwrap();
    assert!(store.portfolios(&owner).await.unwrap().is_empty());
}

async fn run_contract(store: &dyn Store) {
    let ids = Ids::new();
    ticks_are_idempotent(store, ids).await;
    latest_prices_per_source_and_kind(store, ids).await;
    candles_fill_and_filter(store, ids).await;
    movers_rank_by_window(store, ids).await;
    catalog_search_and_pages(store, ids).await;
    rules_and_alerts(store, ids).await;
    portfolio_valuation(store, ids).await;
    app_data_reads_its_own_writes(store, ids).await;
}

fn sqlite() -> (SqliteStore, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    (
        SqliteStore::open(dir.path().join("store.sqlite")).unwrap(),
        dir,
    )
}

macro_rules! sqlite_contract {
    ($($name:ident),* $(,)?) => {$(
        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn $name() {
            let (store, _dir) = sqlite();
            super::$name(&store, Ids::new()).await;
        }
    )*};
}

mod sqlite_backend {
    use super::*;
    sqlite_contract!(
        ticks_are_idempotent,
        latest_prices_per_source_and_kind,
        candles_fill_and_filter,
        movers_rank_by_window,
        catalog_search_and_pages,
        rules_and_alerts,
        portfolio_valuation,
        app_data_reads_its_own_writes
    );

    #[tokio::test]
    async fn whole_suite_through_dyn_store() {
        let (store, _dir) = sqlite();
        let store: std::sync::Arc<dyn Store> = std::sync::Arc::new(store);
        run_contract(store.as_ref()).await;
        assert_eq!(store.backend(), "sqlite");
    }

    #[tokio::test]
    async fn reopening_keeps_data_and_schema_version() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.sqlite");
        let s = sku(ProductId(1), Condition::NearMint);
        {
            let store = SqliteStore::open(&path).unwrap();
            store.write_ticks(&[market(&s, 0, 100)]).await.unwrap();
        }
        let store = SqliteStore::open(&path).unwrap();
        assert_eq!(
            store.schema_version().unwrap(),
            tcg_store::sqlite::MIGRATIONS.len() as i64
        );
        assert_eq!(
            store
                .latest_prices(&[s.id()], &PriceFilter::any())
                .await
                .unwrap()
                .len(),
            1
        );
        let r = store.write_ticks(&[market(&s, 0, 100)]).await.unwrap();
        assert_eq!(r.new_rows, Some(0));
    }

    #[tokio::test]
    async fn non_usd_price_is_refused() {
        let (store, _dir) = sqlite();
        let mut t = market(&sku(ProductId(1), Condition::NearMint), 0, 100);
        t.price_usd = Money::new(100, Currency::EUR);
        assert!(matches!(
            store.write_ticks(&[t]).await,
            Err(StoreError::InvalidTick(_))
        ));
    }
}

/// Runs the whole contract against a real QuestDB: the one of `QUESTDB_HTTP` / `QUESTDB_PG`, or
/// one the harness starts (a failure to start it fails the test).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn questdb_contract_suite() {
    let db = support::TestQuestDb::from_env_or_start().await;
    let mut config = db.config();
    config.max_age = std::time::Duration::from_millis(200);
    let store = QuestDbStore::connect(config).await.unwrap();
    run_contract(&store).await;
    assert_eq!(store.backend(), "questdb");
    assert_eq!(store.writer().pending_rows(), 0);
    drop(store);
    db.shut_down().await;
}
