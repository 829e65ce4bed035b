//! The store `bench api` serves: a catalog of cards and a year of TCGplayer market prices for
//! `series` series (5 conditions of `series / 5` cards), `ticks` ticks in all, ending today: the
//! synthetic market of `bench store` (`tcg_store::bench::synthetic_ticks`).
//! Built once per size in the bench's folder and reused for a day (a `.complete` file marks a
//! finished build and holds the day its year ends). On QuestDB the same data goes into the
//! server's tables (`super::questdb`), and the SQLite file keeps only the app's own data.

use std::{
    path::{Path, PathBuf},
    time::Instant,
};

use anyhow::{Context, Result};
use tcg_schemas::{
    CardSet, Condition, GroupId, Language, Printing, Product, ProductId, SeriesKey, Timestamp,
};
use tcg_store::{
    SqliteStore,
    bench::{synthetic_game, synthetic_ticks},
    prelude::*,
};

const CONDITIONS: [Condition; 5] = [
    Condition::NearMint,
    Condition::LightlyPlayed,
    Condition::ModeratelyPlayed,
    Condition::HeavilyPlayed,
    Condition::Damaged,
];
pub(super) const FIRST_PRODUCT: u64 = 100_000;
pub(super) const BATCH: usize = 50_000;

/// The QuestDB a store lives in: its HTTP (ILP) and PGWire URLs.
#[derive(Debug, Clone)]
pub struct QuestDbUrls {
    pub http: String,
    pub pg: String,
}

/// A built store: where it is, its "now" (the last tick's day end) and its size.
#[derive(Debug, Clone)]
pub struct Dataset {
    /// The SQLite file: the whole store, or the app's own data when the prices are in QuestDB.
    pub db: PathBuf,
    /// Where the prices are when not in `db`.
    pub questdb: Option<QuestDbUrls>,
    pub now: Timestamp,
    pub series: u64,
    pub ticks: u64,
    /// Seconds the build took (0 when reused).
    pub build_secs: f64,
}

impl Dataset {
    /// Cards in the catalog.
    pub fn products(&self) -> u64 {
        self.series.div_ceil(5)
    }

    pub fn product(&self, i: u64) -> ProductId {
        ProductId(FIRST_PRODUCT + i % self.products())
    }

    pub fn series_id(&self, i: u64) -> String {
        series_key(i % self.series).id()
    }
}

fn series_key(i: u64) -> SeriesKey {
    SeriesKey::Sku {
        product_id: ProductId(FIRST_PRODUCT + i / 5),
        printing: Printing::Normal,
        condition: CONDITIONS[(i % 5) as usize].clone(),
        language: Language::English,
    }
}

/// The store of this size in `dir`, built if it is not there yet.
pub fn prepare(dir: &Path, ticks: u64, series: u64) -> Result<Dataset> {
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let db = dir.join(format!("api-{ticks}-{series}.db"));
    let done = dir.join(format!("api-{ticks}-{series}.complete"));
    // The store's year ends at the start of today (UTC), so "up to now" reads (movers, a
    // history without `to`) find data; the marker keeps that end, and a store more than a day
    // old is built again.
    let today = chrono::Utc::now().timestamp().div_euclid(86_400) * 86_400;
    let mut out = Dataset {
        db: db.clone(),
        questdb: None,
        now: Timestamp::from_secs(today),
        series: series.max(5),
        ticks,
        build_secs: 0.0,
    };
    let built_at = std::fs::read_to_string(&done)
        .ok()
        .and_then(|t| t.trim().parse::<i64>().ok());
    if let Some(end) = built_at.filter(|end| today - end <= 86_400 && db.exists()) {
        eprintln!("bench api: reusing {}", db.display());
        out.now = Timestamp::from_secs(end);
        return Ok(out);
    }
    for stale in [&db, &done] {
        let _ = std::fs::remove_file(stale);
    }
    for wal in ["-wal", "-shm"] {
        let mut name = db.clone().into_os_string();
        name.push(wal);
        let _ = std::fs::remove_file(name);
    }
    let started = Instant::now();
    let store = SqliteStore::open(&db).with_context(|| format!("opening {}", db.display()))?;
    tokio::runtime::Builder::new_current_thread()
        .build()?
        .block_on(write_catalog(&store, out.products()))?;
    write_ticks(&store, &out)?;
    drop(store);
    std::fs::write(&done, today.to_string())
        .with_context(|| format!("writing {}", done.display()))?;
    out.build_secs = started.elapsed().as_secs_f64();
    eprintln!(
        "bench api: built {} ({ticks} ticks) in {:.0} s",
        db.display(),
        out.build_secs
    );
    Ok(out)
}

/// The set of synthetic card `card`: one per game.
fn set_of(card: u64) -> GroupId {
    GroupId(u32::try_from(card % 5).unwrap_or(0) + 1)
}

/// The catalog: one set per game, `products` cards.
pub(super) async fn write_catalog(store: &dyn CatalogStore, products: u64) -> Result<()> {
    // one set per game of the synthetic cards (group id = the card's index mod 5, plus 1)
    let sets: Vec<CardSet> = (0..5u64)
        .map(|g| CardSet {
            group_id: set_of(g),
            category_id: synthetic_game(g).category_id(),
            game: synthetic_game(g),
            name: format!("Bench Set {}", g + 1),
            abbreviation: Some(format!("BEN{}", g + 1)),
            published_on: Some("2025-01-01".into()),
        })
        .collect();
    store.upsert_sets(&sets).await?;
    let all: Vec<Product> = (0..products)
        .map(|i| Product {
            product_id: ProductId(FIRST_PRODUCT + i),
            category_id: synthetic_game(i).category_id(),
            group_id: set_of(i),
            game: synthetic_game(i),
            name: format!("Bench Card {i}"),
            clean_name: Some(format!("Bench Card {i}")),
            number: Some(format!("{}/{products}", i + 1)),
            rarity: Some("Rare".into()),
            image_url: None,
            url: None,
        })
        .collect();
    for chunk in all.chunks(5_000) {
        store.upsert_products(chunk).await?;
    }
    Ok(())
}

/// The synthetic market's ticks over the year before `now`, written in batches.
fn write_ticks(store: &SqliteStore, d: &Dataset) -> Result<()> {
    let mut written = 0u64;
    let mut last_report = Instant::now();
    for batch in synthetic_ticks(d.ticks, d.series, 365, BATCH, d.now) {
        store.write_ticks_blocking(&batch)?;
        written += batch.len() as u64;
        if last_report.elapsed().as_secs() >= 5 {
            eprintln!(
                "bench api: {:.1} M of {:.1} M ticks written",
                written as f64 / 1e6,
                d.ticks as f64 / 1e6
            );
            last_report = Instant::now();
        }
    }
    Ok(())
}
