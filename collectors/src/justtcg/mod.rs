//! The JustTCG source (`Source::Justtcg`): JustTCG's market prices per TCGplayer SKU (condition ×
//! printing × language), looked up in batches by the TCGplayer product ids of our catalog, and
//! its price history for back-fill ([`history`]).
//!
//! A pass prices the next `requests_per_pass` batches of our catalog's products of the
//! configured categories (round-robin from where the last pass stopped), then reads
//! `discover_requests_per_pass` pages of JustTCG's own set listings, which price more of ours and
//! name the cards our catalog does not have (listed unmapped). A card maps by the TCGplayer id it
//! states (`tcgplayerId`, confidence 100) when our catalog has that product, and is listed
//! unmapped otherwise; two JustTCG cards of one answer claiming the same product are listed
//! ambiguous, never quoted. A variant whose `lastUpdated` has not changed since it was last
//! published is skipped. Requests are counted against a daily budget and the plan's allowance
//! as each answer's `_metadata` states it.

pub mod backfill;
pub mod client;
mod discover;
pub mod history;
pub mod model;

use std::{
    collections::{HashMap, HashSet},
    time::Duration,
};

use chrono::{DateTime, Utc};
use serde::Deserialize;
use tcg_schemas::{CategoryId, Timestamp};
use tokio::time::Instant;

pub use client::JusttcgClient;
use discover::Discovery;
pub use history::{HistoryDuration, HistoryRead, history_quotes, read_history};
use model::{Card, Claim, Skip, claims, variant_quote};

use crate::{
    CollectorError, MarketContext, PassReport, Source,
    http::{BreakerConfig, DailyBudget, HttpConfig, RetryConfig},
    identity::{Lookup, Match, ProductIndex, UnmappedReason},
    rejections::{CollectorRejectReason, CollectorRejection},
    sink::{BoxFuture, QuoteSink},
    source::now,
    telemetry,
};

use client::SOURCE;

/// JustTCG settings.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct JusttcgConfig {
    /// `https://api.justtcg.com/v1` (the version is part of the base).
    pub base_url: String,
    /// Sent as `x-api-key`; the binary fills it from the environment.
    pub api_key: String,
    /// TCGplayer categories to price (each needs a JustTCG game: 1, 2, 3, 68, 71, 85).
    pub categories: Vec<u32>,
    /// Cards a request (≤ the plan's limit: Free 20, Starter/Professional 100, Enterprise 200).
    pub batch_size: u32,
    /// Batch lookups a pass (0: the whole catalog, as far as the budgets allow).
    pub requests_per_pass: u32,
    /// Pages of JustTCG's set listings a pass (finding cards our catalog does not have).
    pub discover_requests_per_pass: u32,
    /// Requests a budget window (the Free plan allows 100 a day).
    pub daily_budget: u32,
    /// Length of the budget window (a day; shorter in tests).
    pub budget_window_secs: u64,
    /// How long a game's list of sets is reused.
    pub sets_ttl_secs: u64,
    /// JustTCG reprices a game every ~6 hours.
    pub poll_interval_secs: u64,
    pub http: HttpConfig,
}

impl Default for JusttcgConfig {
    fn default() -> Self {
        JusttcgConfig {
            base_url: "https://api.justtcg.com/v1".into(),
            api_key: String::new(),
            categories: vec![3],
            batch_size: 20,
            // 4 passes a day × (24 + 1) requests: the Free plan's 100.
            requests_per_pass: 24,
            discover_requests_per_pass: 1,
            daily_budget: 100,
            budget_window_secs: 86_400,
            sets_ttl_secs: 86_400,
            poll_interval_secs: 21_600,
            http: HttpConfig {
                // The Free plan's 10 requests a minute.
                min_interval_ms: 6_000,
                retry: RetryConfig {
                    max_retries: 3,
                    base_delay_ms: 5_000,
                    max_delay_ms: 60_000,
                    ..RetryConfig::default()
                },
                breaker: BreakerConfig::default(),
                ..HttpConfig::default()
            },
        }
    }
}

/// What an answer is: a lookup by our product ids, or a page of a set's listing (of a category).
#[derive(Debug, Clone, Copy)]
enum Read {
    Lookup,
    Listing(CategoryId),
}

/// What a failed request means for the pass.
enum Failure {
    /// The key was refused, the breaker is open or the sink failed: the pass fails.
    Fatal(CollectorError),
    /// The plan's allowance (429): the pass stops, the next one continues where it stopped.
    Stop(CollectorError),
    /// Anything else: the pass goes on without it.
    Skip(CollectorError),
}

fn failure(e: CollectorError) -> Failure {
    let code = |errors: &[String]| {
        let first = errors
            .first()
            .map_or("", |t| t.split(':').next().unwrap_or(""));
        model::ErrorCode::parse(first)
    };
    match e {
        CollectorError::Auth { .. }
        | CollectorError::BreakerOpen { .. }
        | CollectorError::Sink(_) => Failure::Fatal(e),
        CollectorError::Upstream { ref errors, .. } if code(errors).is_auth() => Failure::Fatal(e),
        CollectorError::Status { status: 429, .. } => Failure::Stop(e),
        CollectorError::Upstream { ref errors, .. } if code(errors).is_quota() => Failure::Stop(e),
        e => Failure::Skip(e),
    }
}

/// Prices our catalog's products at JustTCG.
#[derive(Debug)]
pub struct JusttcgSource {
    config: JusttcgConfig,
    client: JusttcgClient,
    market: MarketContext,
    budget: DailyBudget,
    /// The last product id priced: the next pass starts after it.
    cursor: u64,
    /// Variant id → the `lastUpdated` last published (or rejected).
    last_seen: HashMap<String, i64>,
    discovery: Discovery,
    /// The plan's allowance is spent until then (per the last answer's `_metadata`).
    blocked_until: Option<DateTime<Utc>>,
    /// The last pass found no catalog yet: the next one comes soon, not a poll interval later.
    waiting_for_catalog: bool,
}

/// How soon a pass is tried again while our catalog is still empty.
const CATALOG_RETRY: Duration = Duration::from_secs(30);

/// Our catalog's product ids of `categories`, ascending.
fn catalog_ids(index: &ProductIndex, categories: &[u32]) -> Vec<u64> {
    let mut ids: Vec<u64> = index
        .entries()
        .filter(|e| categories.contains(&e.category_id.0))
        .map(|e| e.product_id.0)
        .collect();
    ids.sort_unstable();
    ids
}

/// The next 00:00 UTC after `t`, when JustTCG's daily allowance resets.
fn next_midnight(t: DateTime<Utc>) -> DateTime<Utc> {
    let day = t.date_naive().succ_opt().unwrap_or(t.date_naive());
    day.and_hms_opt(0, 0, 0).map_or(t, |d| d.and_utc())
}

impl JusttcgSource {
    pub fn new(config: JusttcgConfig, market: MarketContext) -> Result<Self, CollectorError> {
        if config.api_key.trim().is_empty() {
            return Err(CollectorError::Config(
                "justtcg: no API key (api_key; TCG_JUSTTCG_API_KEY)".into(),
            ));
        }
        let client = JusttcgClient::new(&config)?;
        let window = Duration::from_secs(config.budget_window_secs.max(1));
        telemetry::budget_remaining(SOURCE, config.daily_budget);
        Ok(JusttcgSource {
            budget: DailyBudget::new(config.daily_budget, window),
            config,
            client,
            market,
            cursor: 0,
            last_seen: HashMap::new(),
            discovery: Discovery::default(),
            blocked_until: None,
            waiting_for_catalog: false,
        })
    }

    pub fn client(&self) -> &JusttcgClient {
        &self.client
    }

    /// The last product id priced (the next pass starts after it).
    pub fn cursor(&self) -> u64 {
        self.cursor
    }

    pub fn budget_remaining(&mut self) -> u32 {
        self.budget.remaining(Instant::now())
    }

    fn batch_size(&self) -> u32 {
        self.config
            .batch_size
            .clamp(1, client::MAX_CARDS_PER_REQUEST)
    }

    /// Takes a request from the budget: `Ok(false)` when it is spent (the pass stops), an error
    /// when it is spent before the pass's first request.
    fn spend(&mut self, spent: &mut u32) -> Result<bool, CollectorError> {
        let at = Instant::now();
        match self.budget.try_take(at) {
            Ok(()) => {
                *spent += 1;
                telemetry::budget_remaining(SOURCE, self.budget.remaining(at));
                Ok(true)
            }
            Err(wait) if *spent == 0 => {
                telemetry::budget_remaining(SOURCE, 0);
                Err(CollectorError::BudgetExhausted {
                    source_name: SOURCE,
                    limit: self.budget.limit(),
                    retry_in_secs: wait.as_secs().max(1),
                })
            }
            Err(_) => Ok(false),
        }
    }

    /// Whether the last answer says the plan's allowance is spent (then blocked until 00:00
    /// UTC, when the daily allowance resets and the monthly one is looked at again).
    fn allowance_spent(&mut self) -> bool {
        if self.client.usage().is_some_and(|u| u.spent()) {
            self.blocked_until = Some(next_midnight(Utc::now()));
            tracing::warn!(source = SOURCE, usage = ?self.client.usage(), "plan allowance spent");
            return true;
        }
        false
    }

    /// Refuses the pass while the plan's allowance is spent.
    fn check_allowance(&mut self) -> Result<(), CollectorError> {
        let Some(until) = self.blocked_until else {
            return Ok(());
        };
        let now = Utc::now();
        if now >= until {
            self.blocked_until = None;
            return Ok(());
        }
        let limit = self
            .client
            .usage()
            .and_then(|u| u.api_daily_limit)
            .map_or(self.budget.limit(), |l| {
                u32::try_from(l).unwrap_or(u32::MAX)
            });
        Err(CollectorError::BudgetExhausted {
            source_name: SOURCE,
            limit,
            retry_in_secs: (until - now).num_seconds().max(1).unsigned_abs(),
        })
    }

    async fn pass(
        &mut self,
        sink: &dyn QuoteSink,
        report: &mut PassReport,
    ) -> Result<(), CollectorError> {
        self.check_allowance()?;
        let index = self.market.identity.catalog.borrow().clone();
        let ids = catalog_ids(&index, &self.config.categories);
        // Nothing to look up yet (the TCGplayer collectors have not filled the catalog): a
        // skipped pass, tried again soon.
        self.waiting_for_catalog = ids.is_empty();
        if ids.is_empty() {
            tracing::info!(
                source = SOURCE,
                categories = ?self.config.categories,
                "our catalog has no product of these categories yet; pass skipped"
            );
            report.skipped = true;
            return Ok(());
        }
        let mut spent = 0;
        if !self
            .price_batches(&ids, &index, sink, report, &mut spent)
            .await?
        {
            return Ok(());
        }
        for _ in 0..self.config.discover_requests_per_pass {
            if !self.discover(&index, sink, report, &mut spent).await? {
                break;
            }
        }
        Ok(())
    }

    /// The next batches of `ids` after the cursor; `Ok(false)` when the pass must stop.
    async fn price_batches(
        &mut self,
        ids: &[u64],
        index: &ProductIndex,
        sink: &dyn QuoteSink,
        report: &mut PassReport,
        spent: &mut u32,
    ) -> Result<bool, CollectorError> {
        let batch = self.batch_size() as usize;
        let most = match self.config.requests_per_pass {
            0 => ids.len(),
            n => (n as usize).saturating_mul(batch),
        };
        let start = ids.partition_point(|&id| id <= self.cursor);
        let order: Vec<u64> = ids[start..]
            .iter()
            .chain(&ids[..start])
            .copied()
            .take(most)
            .collect();
        for chunk in order.chunks(batch) {
            if !self.spend(spent)? {
                return Ok(false);
            }
            report.requests += 1;
            let answer = self.client.batch(chunk).await;
            let last = chunk.last().copied().unwrap_or(self.cursor);
            match answer {
                Ok(env) => {
                    self.cursor = last;
                    self.take_cards(&env.data, index, Read::Lookup, sink, report)
                        .await?;
                }
                Err(e) => {
                    let what = format!("{} products from {}", chunk.len(), chunk[0]);
                    if !self.failed(what, e, report)? {
                        return Ok(false);
                    }
                    self.cursor = last;
                }
            }
            if self.allowance_spent() {
                return Ok(false);
            }
        }
        Ok(true)
    }

    /// Records a failed request: `Ok(true)` to go on, `Ok(false)` to stop the pass.
    fn failed(
        &self,
        what: String,
        e: CollectorError,
        report: &mut PassReport,
    ) -> Result<bool, CollectorError> {
        match failure(e) {
            Failure::Fatal(e) => Err(e),
            Failure::Stop(e) => {
                report.degrade(
                    SOURCE,
                    what,
                    "rate limited: the pass stops; the next one goes on from here",
                    &e,
                );
                Ok(false)
            }
            Failure::Skip(e) => {
                report.degrade(SOURCE, what, "not priced this round", &e);
                Ok(true)
            }
        }
    }

    /// Reads an answer: a lookup's mapped cards are quoted (the variants changed since last
    /// published), its other cards listed; a listing (`Read::Listing`) only lists the cards our
    /// catalog does not have, as its cards claiming ours are priced by the lookups, which see
    /// every card claiming a product at once.
    async fn take_cards(
        &mut self,
        cards: &[Card],
        index: &ProductIndex,
        read: Read,
        sink: &dyn QuoteSink,
        report: &mut PassReport,
    ) -> Result<(), CollectorError> {
        let at = now();
        let mut quotes = Vec::new();
        let mut seen = Vec::new();
        let (mut unchanged, mut dropped) = (0usize, 0usize);
        let mut done: HashSet<&str> = HashSet::new();
        for (card, claim) in cards.iter().zip(claims(cards, index)) {
            if !done.insert(&card.id) {
                continue;
            }
            let (product_id, category_id) = match (claim, read) {
                (Claim::Unmapped, Read::Listing(category)) => {
                    let hint = candidates(index, card, category);
                    self.list(card, UnmappedReason::Unmapped, hint, at);
                    continue;
                }
                (_, Read::Listing(_)) => continue,
                (Claim::Unmapped, Read::Lookup) => {
                    self.list(card, UnmappedReason::Unmapped, Vec::new(), at);
                    continue;
                }
                (Claim::Ambiguous(p), Read::Lookup) => {
                    self.list(card, UnmappedReason::Ambiguous, vec![p], at);
                    continue;
                }
                (
                    Claim::Mapped {
                        product_id,
                        category_id,
                    },
                    Read::Lookup,
                ) => (product_id, category_id),
            };
            self.market.unmapped.mapped(SOURCE, &card.id);
            for v in &card.variants {
                if v.last_updated.is_some() && self.last_seen.get(&v.id) == v.last_updated.as_ref()
                {
                    unchanged += 1;
                    continue;
                }
                match variant_quote(v, product_id, category_id, v.price, at) {
                    Ok(q) => quotes.push(q),
                    Err(Skip::NoPrice(detail)) => report.reject(CollectorRejection {
                        source: SOURCE.to_owned(),
                        at,
                        reason: CollectorRejectReason::NoPrices,
                        category_id: Some(category_id.0),
                        group_id: None,
                        product_id: Some(product_id.0),
                        sub_type_name: v.printing.clone(),
                        detail,
                    }),
                    Err(Skip::Unreadable(detail)) => {
                        tracing::debug!(source = SOURCE, %detail, "variant dropped");
                        dropped += 1;
                        continue;
                    }
                }
                if let Some(t) = v.last_updated {
                    seen.push((v.id.clone(), t));
                }
            }
        }
        tracing::debug!(
            source = SOURCE,
            cards = cards.len(),
            unchanged,
            "answer read"
        );
        telemetry::dropped(SOURCE, dropped);
        report.errors += dropped as u64;
        let n = quotes.len();
        if n > 0 {
            sink.publish(quotes).await?;
            telemetry::quotes(SOURCE, n);
            report.quotes += n as u64;
        }
        self.last_seen.extend(seen);
        Ok(())
    }

    /// Lists a card our catalog cannot take (unmapped, or ambiguous between `candidates`).
    fn list(
        &self,
        card: &Card,
        why: UnmappedReason,
        candidates: Vec<tcg_schemas::ProductId>,
        at: Timestamp,
    ) {
        let set = card.set_name.as_deref().or(card.set.as_deref());
        self.market.unmapped.met(
            SOURCE,
            &card.id,
            why,
            &card.name,
            card.number(),
            set,
            candidates,
            at,
        );
    }
}

/// Our products an unmapped card may be (same name, number and set in `category_id`), as a
/// hint for whoever reads the list; never quoted.
fn candidates(
    index: &ProductIndex,
    card: &Card,
    category_id: CategoryId,
) -> Vec<tcg_schemas::ProductId> {
    let lookup = Lookup {
        category_id,
        name: &card.name,
        number: card.number(),
        set: card.set_name.as_deref(),
        sealed: card.number().is_none(),
    };
    match index.find(&lookup) {
        Match::Mapped { product_id, .. } => vec![product_id],
        Match::Ambiguous(ids) => ids,
        Match::Unmapped => Vec::new(),
    }
}

impl Source for JusttcgSource {
    fn name(&self) -> &'static str {
        SOURCE
    }

    fn collect_into<'a>(
        &'a mut self,
        sink: &'a dyn QuoteSink,
        report: &'a mut PassReport,
    ) -> BoxFuture<'a, Result<(), CollectorError>> {
        Box::pin(self.pass(sink, report))
    }

    fn next_delay(&self) -> Duration {
        let every = Duration::from_secs(self.config.poll_interval_secs);
        if self.waiting_for_catalog {
            every.min(CATALOG_RETRY)
        } else {
            every
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_daily_allowance_resets_at_midnight_utc() {
        let t = DateTime::parse_from_rfc3339("2024-03-01T21:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        assert_eq!(next_midnight(t).to_rfc3339(), "2024-03-02T00:00:00+00:00");
    }

    #[test]
    fn refusals_fail_quota_stops_the_rest_is_skipped() {
        let status = |status| CollectorError::Status {
            source_name: SOURCE,
            status,
            url: "u".into(),
        };
        assert!(matches!(failure(status(429)), Failure::Stop(_)));
        assert!(matches!(failure(status(500)), Failure::Skip(_)));
        let upstream = |t: &str| CollectorError::Upstream {
            source_name: SOURCE,
            errors: vec![t.into()],
        };
        assert!(matches!(
            failure(upstream("DAILY_LIMIT_EXCEEDED: wait")),
            Failure::Stop(_)
        ));
        assert!(matches!(
            failure(upstream("INVALID_REQUEST: bad")),
            Failure::Skip(_)
        ));
        assert!(matches!(
            failure(upstream("INVALID_API_KEY: no")),
            Failure::Fatal(_)
        ));
        let auth = CollectorError::Auth {
            source_name: SOURCE,
            reason: "r",
            source: Box::new(status(401)),
        };
        assert!(matches!(failure(auth), Failure::Fatal(_)));
        assert!(JusttcgSource::new(JusttcgConfig::default(), test_market()).is_err());
    }

    fn test_market() -> MarketContext {
        MarketContext {
            identity: crate::identity::Identity::default(),
            unmapped: std::sync::Arc::default(),
        }
    }
}
