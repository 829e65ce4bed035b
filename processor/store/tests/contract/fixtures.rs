//! Fixtures shared by the contract's modules: run-unique ids, series, ticks.

use tcg_schemas::{
    CategoryId, Condition, Game, GroupId, Language, Money, PriceKind, Printing, Product, ProductId,
    SeriesKey, Source, Tick, Timestamp, UserId,
};

pub const DAY: i64 = 86_400;
/// 2024-03-01T00:00:00Z
pub const T0: i64 = 1_709_251_200;

pub fn at(secs: i64) -> Timestamp {
    Timestamp::from_secs(T0 + secs)
}

/// Ids unique to one run, so a shared QuestDB can run the suite again.
#[derive(Debug, Clone, Copy)]
pub struct Ids {
    pub base: u64,
}

impl Ids {
    pub fn new() -> Self {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0);
        Self {
            base: 1_000_000 + (nanos % 1_000_000_000) as u64 * 100,
        }
    }
    pub fn product(&self, n: u64) -> ProductId {
        ProductId(self.base + n)
    }
    pub fn group(&self, n: u32) -> GroupId {
        GroupId((self.base % 1_000_000_000) as u32 + n)
    }
    pub fn uuid(&self, n: u128) -> uuid::Uuid {
        uuid::Uuid::from_u128((u128::from(self.base) << 32) + n)
    }
    pub fn user(&self, name: &str) -> UserId {
        UserId(format!("{name}-{}", self.base))
    }
}

pub fn sku(product: ProductId, condition: Condition) -> SeriesKey {
    SeriesKey::Sku {
        product_id: product,
        printing: Printing::Holofoil,
        condition,
        language: Language::English,
    }
}

pub fn tick(
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
        agreeing: Vec::new(),
        heartbeat: false,
    }
}

pub fn market(series: &SeriesKey, secs: i64, cents: i64) -> Tick {
    tick(
        series,
        Source::Tcgplayer,
        PriceKind::Market,
        secs,
        cents,
        None,
    )
}

pub fn product(ids: Ids, n: u64, group: u32, name: &str) -> Product {
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
