//! eBay sources: Browse (active listings, `Source::EbayBrowse`) and, when configured, Marketplace
//! Insights (sold items, `Source::EbaySold`). Both search for what users track, one tracked card
//! per pass, paced to spend a daily budget evenly and fairly.

pub mod client;
pub mod model;
pub mod query;
pub mod scheduler;

use std::time::Duration;

use serde::Deserialize;
use tcg_schemas::{RawQuote, TrackedCard};
use tokio::{sync::watch, time::Instant};

pub use client::EbayClient;
use model::{
    FilterSpec, listing_quotes, parse_sales, parse_search, search_filter, search_query, sold_quotes,
};
pub use scheduler::TrackScheduler;

use crate::{
    CollectorError, PassReport, Source,
    http::{DailyBudget, HttpConfig},
    sink::{BoxFuture, QuoteSink},
    source::now,
    telemetry,
};

/// Marketplace Insights settings (restricted API: off unless enabled).
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct InsightsConfig {
    pub enabled: bool,
    pub daily_budget: u32,
    /// Sold items of the last `days` days (eBay keeps 90).
    pub days: u32,
}

impl Default for InsightsConfig {
    fn default() -> Self {
        InsightsConfig {
            enabled: false,
            daily_budget: 5_000,
            days: 90,
        }
    }
}

/// eBay settings.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct EbayConfig {
    pub base_url: String,
    pub client_id: String,
    pub client_secret: String,
    pub marketplace_id: String,
    /// `category_ids` (183454: CCG individual cards).
    pub category_ids: String,
    /// FIXED_PRICE only unless asked.
    pub buying_options: Vec<String>,
    pub min_price: Option<String>,
    pub max_price: Option<String>,
    pub price_currency: String,
    pub item_location_country: Option<String>,
    /// Items per page (≤ 200).
    pub page_size: u32,
    /// Pages per visit of a card (extra pages only when the budget allows).
    pub max_pages: u32,
    /// Browse calls a day.
    pub daily_budget: u32,
    /// Length of the budget window (a day; shorter in tests and demos).
    pub budget_window_secs: u64,
    /// Token mints a day (eBay allows 1,000).
    pub token_daily_limit: u32,
    pub insights: InsightsConfig,
    pub http: HttpConfig,
}

impl Default for EbayConfig {
    fn default() -> Self {
        EbayConfig {
            base_url: "https://api.ebay.com".into(),
            client_id: String::new(),
            client_secret: String::new(),
            marketplace_id: "EBAY_US".into(),
            category_ids: "183454".into(),
            buying_options: vec!["FIXED_PRICE".into()],
            min_price: None,
            max_price: None,
            price_currency: "USD".into(),
            item_location_country: None,
            page_size: 50,
            max_pages: 2,
            daily_budget: 5_000,
            budget_window_secs: 86_400,
            token_daily_limit: 1_000,
            insights: InsightsConfig::default(),
            http: HttpConfig::default().with_rate(5),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    Browse,
    Sold,
}

/// Searches eBay for tracked cards: Browse (listings) or Marketplace Insights (sales).
#[derive(Debug)]
pub struct EbaySource {
    mode: Mode,
    config: EbayConfig,
    client: EbayClient,
    scheduler: TrackScheduler,
    updates: Option<watch::Receiver<Vec<TrackedCard>>>,
    filter: FilterSpec,
}

impl EbaySource {
    /// The Browse source over `tracked` (portfolio holdings, alert rules, watch list).
    pub fn browse(config: EbayConfig, tracked: Vec<TrackedCard>) -> Result<Self, CollectorError> {
        Self::new(Mode::Browse, config, tracked)
    }

    /// The Marketplace Insights source; an error unless `insights.enabled`.
    pub fn insights(config: EbayConfig, tracked: Vec<TrackedCard>) -> Result<Self, CollectorError> {
        if !config.insights.enabled {
            return Err(CollectorError::Config(
                "eBay Marketplace Insights is off (insights.enabled = false)".into(),
            ));
        }
        Self::new(Mode::Sold, config, tracked)
    }

    fn new(
        mode: Mode,
        config: EbayConfig,
        tracked: Vec<TrackedCard>,
    ) -> Result<Self, CollectorError> {
        let (source, scope, budget) = match mode {
            Mode::Browse => ("ebay_browse", client::BROWSE_SCOPE, config.daily_budget),
            Mode::Sold => (
                "ebay_sold",
                client::INSIGHTS_SCOPE,
                config.insights.daily_budget,
            ),
        };
        let client = EbayClient::new(source, &config, scope)?;
        let window = Duration::from_secs(config.budget_window_secs.max(1));
        telemetry::budget_remaining(source, budget);
        let filter = FilterSpec {
            buying_options: config.buying_options.clone(),
            min_price: config.min_price.clone(),
            max_price: config.max_price.clone(),
            currency: config.price_currency.clone(),
            item_location_country: config.item_location_country.clone(),
        };
        Ok(EbaySource {
            mode,
            scheduler: TrackScheduler::new(DailyBudget::new(budget, window), tracked),
            config,
            client,
            updates: None,
            filter,
        })
    }

    /// Follows a live list of tracked cards (the latest value is used before each pass).
    pub fn follow(&mut self, updates: watch::Receiver<Vec<TrackedCard>>) {
        self.scheduler.set_tracked(updates.borrow().clone());
        self.updates = Some(updates);
    }

    pub fn set_tracked(&mut self, tracked: Vec<TrackedCard>) {
        self.scheduler.set_tracked(tracked);
    }

    pub fn client(&self) -> &EbayClient {
        &self.client
    }

    pub fn budget_remaining(&mut self) -> u32 {
        self.scheduler.remaining(Instant::now())
    }

    fn source_name(&self) -> &'static str {
        match self.mode {
            Mode::Browse => "ebay_browse",
            Mode::Sold => "ebay_sold",
        }
    }

    /// One pass: the next tracked card the budget allows, up to `max_pages` pages of it.
    async fn pass(
        &mut self,
        sink: &dyn QuoteSink,
        report: &mut PassReport,
    ) -> Result<(), CollectorError> {
        let name = self.source_name();
        if let Some(rx) = self.updates.as_mut()
            && rx.has_changed().unwrap_or(false)
        {
            let tracked = rx.borrow_and_update().clone();
            self.scheduler.set_tracked(tracked);
        }
        let card = match self.scheduler.next(Instant::now()) {
            Ok(Some(card)) => card,
            Ok(None) => {
                report.skipped = true;
                return Ok(());
            }
            Err(wait) => {
                telemetry::budget_remaining(name, 0);
                return Err(CollectorError::BudgetExhausted {
                    source_name: name,
                    limit: self.scheduler.limit(),
                    retry_in_secs: wait.as_secs().max(1),
                });
            }
        };
        let q = search_query(&card);
        let mut offset: u64 = 0;
        let mut page_no = 0;
        loop {
            telemetry::budget_remaining(name, self.scheduler.remaining(Instant::now()));
            report.requests += 1;
            let page = match self.mode {
                Mode::Browse => self.browse_page(&card, &q, offset).await?,
                Mode::Sold => self.sold_page(&card, &q, offset).await?,
            };
            telemetry::dropped(name, page.dropped);
            report.errors += page.dropped as u64;
            if !page.quotes.is_empty() {
                let n = page.quotes.len();
                sink.publish(page.quotes).await?;
                telemetry::quotes(name, n);
                report.quotes += n as u64;
            }
            offset += page.items;
            page_no += 1;
            let more = page.items > 0 && offset < page.total && offset < 10_000;
            if !more
                || page_no >= self.config.max_pages
                || !self.scheduler.extra_page(Instant::now())
            {
                break;
            }
        }
        telemetry::budget_remaining(name, self.scheduler.remaining(Instant::now()));
        Ok(())
    }

    fn page_limit(&self) -> u32 {
        self.config.page_size.clamp(1, 200)
    }

    /// A Browse search page of active listings of `card`.
    async fn browse_page(
        &self,
        card: &TrackedCard,
        q: &str,
        offset: u64,
    ) -> Result<PageQuotes, CollectorError> {
        let name = self.source_name();
        let query = [
            ("q", q.to_owned()),
            ("category_ids", self.config.category_ids.clone()),
            ("filter", search_filter(&self.filter, &card.want)),
            ("limit", self.page_limit().to_string()),
            ("offset", offset.to_string()),
        ];
        let fetched = self
            .client
            .get("search", "buy/browse/v1/item_summary/search", &query)
            .await?;
        let page = parse_search(name, &fetched.body).inspect_err(|e| telemetry::error(name, e))?;
        let (quotes, dropped) = listing_quotes(&page.item_summaries, card, now());
        Ok(PageQuotes {
            quotes,
            dropped,
            total: page.total,
            items: page.item_summaries.len() as u64,
        })
    }

    /// A Marketplace Insights page of sales of `card` in the last `insights.days` days.
    async fn sold_page(
        &self,
        card: &TrackedCard,
        q: &str,
        offset: u64,
    ) -> Result<PageQuotes, CollectorError> {
        let name = self.source_name();
        let to = chrono::Utc::now();
        let from = to - chrono::Duration::days(i64::from(self.config.insights.days));
        let fmt = "%Y-%m-%dT%H:%M:%S%.3fZ";
        let filter = format!("lastSoldDate:[{}..{}]", from.format(fmt), to.format(fmt));
        let query = [
            ("q", q.to_owned()),
            ("category_ids", self.config.category_ids.clone()),
            ("filter", filter),
            ("limit", self.page_limit().to_string()),
            ("offset", offset.to_string()),
        ];
        let fetched = self
            .client
            .get(
                "search",
                "buy/marketplace_insights/v1_beta/item_sales/search",
                &query,
            )
            .await?;
        let page = parse_sales(name, &fetched.body).inspect_err(|e| telemetry::error(name, e))?;
        let (quotes, dropped) = sold_quotes(&page.item_sales, card, now());
        Ok(PageQuotes {
            quotes,
            dropped,
            total: page.total,
            items: page.item_sales.len() as u64,
        })
    }
}

/// The quotes of one search page, and where the paging stands.
#[derive(Debug)]
struct PageQuotes {
    quotes: Vec<RawQuote>,
    /// Items that could not be turned into a quote.
    dropped: usize,
    /// Items the upstream says match.
    total: u64,
    /// Items on this page.
    items: u64,
}

impl Source for EbaySource {
    fn name(&self) -> &'static str {
        self.source_name()
    }

    fn collect_into<'a>(
        &'a mut self,
        sink: &'a dyn QuoteSink,
        report: &'a mut PassReport,
    ) -> BoxFuture<'a, Result<(), CollectorError>> {
        Box::pin(self.pass(sink, report))
    }

    /// Spreads the budget evenly over the window.
    fn next_delay(&self) -> Duration {
        self.scheduler.pacing()
    }
}
