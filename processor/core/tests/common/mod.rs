//! Builders shared by the core's integration tests.
#![allow(dead_code)]

use tcg_schemas::{
    AlertRule, CategoryId, EbayItem, Money, PriceKind, ProductId, RawQuote, RuleCondition, RuleId,
    SeriesFilter, Source, Subject, Timestamp, TrackedCard, UserId, Wanted,
};

pub const T0: i64 = 1_714_521_600; // 2024-05-01T00:00:00Z

pub fn at(secs_after_t0: i64) -> Timestamp {
    Timestamp::from_secs(T0 + secs_after_t0)
}

/// A TCGCSV market price of product `product` (Pokémon, Holofoil) at `t` seconds after T0.
pub fn market(product: u64, cents: i64, t: i64) -> RawQuote {
    RawQuote {
        source: Source::Tcgcsv,
        observed_at: at(t),
        kind: PriceKind::Market,
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

pub fn tracked(product: u64) -> TrackedCard {
    TrackedCard {
        product_id: ProductId(product),
        category_id: CategoryId(3),
        name: "Charizard ex".into(),
        number: Some("199/165".into()),
        set_name: Some("Scarlet & Violet 151".into()),
        set_code: Some("MEW".into()),
        printing: Some("Holofoil".into()),
        language: None,
        want: Wanted::Any,
    }
}

/// An eBay Browse listing of `product`.
pub fn listing(
    item: &str,
    product: u64,
    title: &str,
    cents: i64,
    shipping: i64,
    t: i64,
) -> RawQuote {
    RawQuote {
        source: Source::EbayBrowse,
        observed_at: at(t),
        kind: PriceKind::Listing,
        price: Money::usd_cents(cents),
        shipping: Some(Money::usd_cents(shipping)),
        subject: Subject::EbayItem(Box::new(EbayItem {
            item_id: item.into(),
            title: title.into(),
            condition_id: Some("4000".into()),
            condition: Some("Ungraded".into()),
            buying_options: vec!["FIXED_PRICE".into()],
            seller: None,
            url: None,
            item_country: Some("US".into()),
            quantity_sold: None,
            target: tracked(product),
        })),
    }
}

pub fn rule(n: u128, product: u64, condition: RuleCondition, cooldown_secs: u64) -> AlertRule {
    AlertRule {
        id: RuleId(uuid::Uuid::from_u128(n)),
        owner: UserId("ash".into()),
        name: format!("rule {n}"),
        product_id: ProductId(product),
        filter: SeriesFilter::default(),
        condition,
        cooldown_secs,
        paused: false,
        created_at: at(0),
        updated_at: at(0),
    }
}

pub fn usd(cents: i64) -> Money {
    Money::usd_cents(cents)
}

pub fn now() -> Timestamp {
    at(400 * 86_400)
}

/// The ticks of quoted prices (not tcgtracker's own fair values).
pub fn quoted(out: &tcg_processor_core::Output) -> Vec<&tcg_schemas::Tick> {
    out.ticks
        .iter()
        .filter(|t| t.source != Source::Tcgtracker)
        .collect()
}

/// tcgtracker's own fair-value ticks.
pub fn fair_ticks(out: &tcg_processor_core::Output) -> Vec<&tcg_schemas::Tick> {
    out.ticks
        .iter()
        .filter(|t| t.kind == PriceKind::Fair)
        .collect()
}

/// A TCGplayer product price of `product` (Pokémon, Holofoil) from `source` in `kind`.
pub fn priced(source: Source, kind: PriceKind, product: u64, cents: i64, t: i64) -> RawQuote {
    RawQuote {
        source,
        kind,
        ..market(product, cents, t)
    }
}

/// An eBay sold item of `product` (Marketplace Insights), titled like [`listing`]'s.
pub fn sold(item: &str, product: u64, cents: i64, t: i64) -> RawQuote {
    RawQuote {
        source: Source::EbaySold,
        kind: PriceKind::Sold,
        ..listing(item, product, NM_TITLE, cents, 0, t)
    }
}

/// A title the classifier prices in `{product}/holofoil/nm/en`.
pub const NM_TITLE: &str = "Charizard ex 199/165 Holo NM Pokemon 151";
