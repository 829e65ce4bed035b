//! The store: ILP/HTTP writes through the [`IlpWriter`], PGWire reads.

use std::{
    sync::Mutex,
    time::{Duration, Instant},
};

use async_trait::async_trait;
use chrono::NaiveDateTime;
use tcg_schemas::{
    AlertEvent, AlertRule, CardSet, CategoryId, Currency, Game, GroupId, Holding, HoldingId, Money,
    Portfolio, PortfolioEvent, PortfolioId, PriceKind, Product, ProductId, RuleId, SeriesKey, Sku,
    SkuId, Source, Tick, Timestamp, UserId,
};
use tokio_postgres::{Row, types::ToSql};

use super::{
    config::QuestDbConfig,
    ddl::ddl_statements,
    ilp::*,
    pg::PgConn,
    sql::*,
    writer::{IlpWriter, lock},
};
use crate::{
    Interval, Result, Store, StoreError, bucket_pairs,
    interval::{RawBucket, fill_candles},
    model::*,
    movers,
    valuation::{self, PriceBook},
};

/// The QuestDB store: ILP/HTTP writes, PGWire reads.
pub struct QuestDbStore {
    writer: IlpWriter,
    pg: PgConn,
    config: QuestDbConfig,
    clock: Mutex<i64>,
    _flusher: tokio::task::JoinHandle<()>,
}

impl std::fmt::Debug for QuestDbStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("QuestDbStore")
            .field("http_addr", &self.config.http_addr)
            .finish()
    }
}

impl Drop for QuestDbStore {
    fn drop(&mut self) {
        self._flusher.abort();
    }
}

fn naive(t: Timestamp) -> NaiveDateTime {
    t.to_datetime().naive_utc()
}

fn from_naive(t: NaiveDateTime) -> Timestamp {
    Timestamp::from_micros(t.and_utc().timestamp_micros())
}

fn corrupt<E: std::fmt::Display>(e: E) -> StoreError {
    StoreError::Corrupt(e.to_string())
}

fn source_of(s: &str) -> Result<Source> {
    Source::parse(s).ok_or_else(|| corrupt(format!("unknown source {s:?}")))
}

fn kind_of(s: &str) -> Result<PriceKind> {
    PriceKind::parse(s).ok_or_else(|| corrupt(format!("unknown kind {s:?}")))
}

/// One row of `wal_tables()`.
struct WalState {
    name: String,
    suspended: bool,
    writer_txn: i64,
    sequencer_txn: i64,
    error: String,
}

fn wal_states(rows: &[Row]) -> Result<Vec<WalState>> {
    rows.iter()
        .map(|r| {
            Ok(WalState {
                name: r.try_get(0)?,
                suspended: r.try_get(1)?,
                writer_txn: r.try_get(2)?,
                sequencer_txn: r.try_get(3)?,
                error: r.try_get::<_, Option<String>>(4)?.unwrap_or_default(),
            })
        })
        .collect()
}

fn bodies<T: serde::de::DeserializeOwned>(rows: &[Row]) -> Result<Vec<T>> {
    rows.iter()
        .map(|r| {
            let b: String = r.try_get(0)?;
            Ok(serde_json::from_str(&b)?)
        })
        .collect()
}

impl QuestDbStore {
    /// Read-your-writes for the app's own data (portfolios, holdings, their events, rules):
    /// QuestDB applies WAL writes asynchronously, so a portfolio created by one request would
    /// answer 404 to the next (seen against QuestDB 9.3: `POST /v1/portfolios` then
    /// `POST …/holdings`). Such a write returns only once it is visible to reads.
    async fn visible(&self) -> Result<()> {
        Store::sync(self).await
    }

    /// Connects PGWire, creates the tables (`CREATE TABLE IF NOT EXISTS`) and starts the age flusher.
    /// Call inside a tokio runtime.
    pub async fn connect(config: QuestDbConfig) -> Result<Self> {
        let pg = PgConn::connect(&config.pg_url).await?;
        pg.batch(&ddl_statements()).await?;
        let writer = IlpWriter::new(&config)?;
        let flusher = writer.spawn_age_flusher();
        Ok(Self {
            writer,
            pg,
            config,
            clock: Mutex::new(0),
            _flusher: flusher,
        })
    }

    /// The ILP writer (pending rows, diagnostics).
    pub fn writer(&self) -> &IlpWriter {
        &self.writer
    }

    /// A strictly increasing wall-clock instant for newest-state rows.
    fn now(&self) -> Timestamp {
        let wall = chrono::Utc::now().timestamp_micros();
        let mut last = lock(&self.clock);
        *last = wall.max(*last + 1);
        Timestamp::from_micros(*last)
    }

    async fn query(&self, sql: &str, params: &[Param]) -> Result<Vec<Row>> {
        let p: Vec<&(dyn ToSql + Sync)> = params.iter().map(Param::as_sql).collect();
        self.pg.query(sql, &p).await
    }

    async fn combos_of(
        &self,
        target: &SeriesTarget,
        prices: &PriceFilter,
        to: Timestamp,
    ) -> Result<Vec<(String, Source, PriceKind)>> {
        let rows = match target {
            SeriesTarget::Series(id) => {
                self.query(&sql_series_combos(prices, to), &[Param::Text(id.clone())])
                    .await?
            }
            SeriesTarget::Product { product_id, .. } => {
                self.query(
                    &sql_product_series(prices, to),
                    &[Param::Long(product_id.0 as i64)],
                )
                .await?
            }
        };
        let mut out = Vec::new();
        for r in rows {
            let series: String = r.try_get(0)?;
            if let SeriesTarget::Product { selection, .. } = target
                && !series
                    .parse::<SeriesKey>()
                    .is_ok_and(|k| selection.matches(&k))
            {
                continue;
            }
            out.push((
                series,
                source_of(&r.try_get::<_, String>(1)?)?,
                kind_of(&r.try_get::<_, String>(2)?)?,
            ));
        }
        out.sort();
        Ok(out)
    }

    async fn newest_bodies<T: serde::de::DeserializeOwned>(
        &self,
        table: &str,
        id: &str,
        filter: &str,
        params: &[Param],
    ) -> Result<Vec<T>> {
        let rows = self
            .query(&sql_newest(table, id, "body", filter), params)
            .await?;
        bodies(&rows)
    }

    async fn price_book(
        &self,
        holdings: &[Holding],
        instants: &[Timestamp],
        price: &ValuationPrice,
    ) -> Result<PriceBook> {
        let mut book = PriceBook::default();
        let mut seen = std::collections::HashSet::new();
        let sql = sql_valuation_asof(instants, &price.prices);
        for h in holdings {
            let id = h.series().id();
            if !seen.insert(id.clone()) {
                continue;
            }
            for r in self.query(&sql, &[Param::Text(id.clone())]).await? {
                let (Some(at), Some(c)) = (
                    r.try_get::<_, Option<NaiveDateTime>>(1)?,
                    r.try_get::<_, Option<i64>>(2)?,
                ) else {
                    continue;
                };
                book.insert(&id, from_naive(at).as_micros(), c);
            }
        }
        book.seal();
        Ok(book)
    }
}

fn product_of(r: &Row) -> Result<Product> {
    let category = CategoryId(u32::try_from(r.try_get::<_, i64>(1)?).map_err(corrupt)?);
    let game: Option<String> = r.try_get(3)?;
    Ok(Product {
        product_id: ProductId(r.try_get::<_, i64>(0)? as u64),
        category_id: category,
        group_id: GroupId(u32::try_from(r.try_get::<_, i64>(2)?).map_err(corrupt)?),
        game: game
            .as_deref()
            .and_then(Game::parse)
            .unwrap_or(Game::from_category(category)),
        name: r.try_get(4)?,
        clean_name: r.try_get(5)?,
        number: r.try_get(6)?,
        rarity: r.try_get(7)?,
        image_url: r.try_get(8)?,
        url: r.try_get(9)?,
    })
}

#[async_trait]
impl Store for QuestDbStore {
    fn backend(&self) -> &'static str {
        "questdb"
    }

    async fn write_ticks(&self, ticks: &[Tick]) -> Result<WriteReport> {
        let ticks = ticks.to_vec();
        let n = ticks.len();
        self.writer
            .append(n, false, move |buf| {
                ticks.iter().try_for_each(|t| encode_tick(buf, t))
            })
            .await?;
        Ok(WriteReport {
            rows: n,
            new_rows: None,
        })
    }

    async fn flush(&self) -> Result<()> {
        self.writer.flush().await
    }

    async fn sync(&self) -> Result<()> {
        self.writer.flush().await?;
        // What the sequencer has accepted by now (our flush included) must be applied: waiting
        // for that, not for writerTxn = sequencerTxn, also ends while other writers go on.
        let sql = sql_wal_state();
        let target: std::collections::HashMap<String, i64> =
            wal_states(&self.pg.query(&sql, &[]).await?)?
                .into_iter()
                .map(|w| (w.name, w.sequencer_txn))
                .collect();
        let deadline = Instant::now() + self.config.visibility_timeout;
        loop {
            let mut behind = Vec::new();
            for w in wal_states(&self.pg.query(&sql, &[]).await?)? {
                if w.suspended {
                    return Err(StoreError::Ilp(format!(
                        "WAL table {} is suspended, its writes are not applied: {}",
                        w.name, w.error
                    )));
                }
                if target.get(&w.name).is_some_and(|t| w.writer_txn < *t) {
                    behind.push(w.name);
                }
            }
            if behind.is_empty() {
                return Ok(());
            }
            if Instant::now() >= deadline {
                return Err(StoreError::Timeout(format!(
                    "WAL of {} not applied within {:?}",
                    behind.join(", "),
                    self.config.visibility_timeout
                )));
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    async fn write_alerts(&self, alerts: &[AlertEvent]) -> Result<WriteReport> {
        let alerts = alerts.to_vec();
        let n = alerts.len();
        self.writer
            .append(n, true, move |buf| {
                alerts.iter().try_for_each(|a| encode_alert(buf, a))
            })
            .await?;
        Ok(WriteReport {
            rows: n,
            new_rows: None,
        })
    }

    async fn upsert_sets(&self, sets: &[CardSet]) -> Result<()> {
        let (sets, at) = (sets.to_vec(), self.now());
        self.writer
            .append(sets.len(), true, move |buf| {
                sets.iter().try_for_each(|s| encode_set(buf, s, at))
            })
            .await
    }

    async fn upsert_products(&self, products: &[Product]) -> Result<()> {
        let (products, at) = (products.to_vec(), self.now());
        self.writer
            .append(products.len(), true, move |buf| {
                products.iter().try_for_each(|p| encode_product(buf, p, at))
            })
            .await
    }

    async fn upsert_skus(&self, skus: &[Sku]) -> Result<()> {
        let (skus, at) = (skus.to_vec(), self.now());
        self.writer
            .append(skus.len(), true, move |buf| {
                skus.iter().try_for_each(|s| encode_sku(buf, s, at))
            })
            .await
    }

    async fn upsert_portfolio(&self, p: &Portfolio) -> Result<()> {
        let (p, at) = (p.clone(), self.now());
        self.writer
            .append(1, true, move |buf| encode_portfolio(buf, &p, false, at))
            .await?;
        self.visible().await
    }

    async fn delete_portfolio(&self, p: &Portfolio) -> Result<()> {
        let (p, at) = (p.clone(), self.now());
        self.writer
            .append(1, true, move |buf| encode_portfolio(buf, &p, true, at))
            .await?;
        self.visible().await
    }

    async fn upsert_holding(&self, h: &Holding) -> Result<()> {
        let (h, at) = (h.clone(), self.now());
        self.writer
            .append(1, true, move |buf| {
                encode_holding(buf, h.portfolio_id, h.id, Some(&h), at)
            })
            .await?;
        self.visible().await
    }

    async fn delete_holding(&self, portfolio_id: PortfolioId, holding_id: HoldingId) -> Result<()> {
        let at = self.now();
        self.writer
            .append(1, true, move |buf| {
                encode_holding(buf, portfolio_id, holding_id, None, at)
            })
            .await?;
        self.visible().await
    }

    async fn append_portfolio_events(&self, events: &[PortfolioEvent]) -> Result<WriteReport> {
        let events = events.to_vec();
        let n = events.len();
        self.writer
            .append(n, true, move |buf| {
                events.iter().try_for_each(|e| encode_event(buf, e))
            })
            .await?;
        self.visible().await?;
        Ok(WriteReport {
            rows: n,
            new_rows: None,
        })
    }

    async fn upsert_rule(&self, rule: &AlertRule) -> Result<()> {
        let (rule, at) = (rule.clone(), self.now());
        self.writer
            .append(1, true, move |buf| {
                encode_rule(buf, rule.id, &rule.owner, Some(&rule), at)
            })
            .await?;
        self.visible().await
    }

    async fn delete_rule(&self, rule_id: RuleId, owner: &UserId) -> Result<()> {
        let (owner, at) = (owner.clone(), self.now());
        self.writer
            .append(1, true, move |buf| {
                encode_rule(buf, rule_id, &owner, None, at)
            })
            .await?;
        self.visible().await
    }

    async fn latest_prices(
        &self,
        series_ids: &[String],
        prices: &PriceFilter,
    ) -> Result<Vec<LatestPrice>> {
        if series_ids.is_empty() {
            return Ok(Vec::new());
        }
        let params: Vec<Param> = series_ids.iter().map(|s| Param::Text(s.clone())).collect();
        let rows = self
            .query(&sql_latest(series_ids.len(), prices), &params)
            .await?;
        let mut out = rows
            .iter()
            .map(|r| {
                Ok(LatestPrice {
                    series_id: r.try_get(0)?,
                    source: source_of(&r.try_get::<_, String>(1)?)?,
                    kind: kind_of(&r.try_get::<_, String>(2)?)?,
                    observed_at: from_naive(r.try_get(3)?),
                    listing_id: r.try_get::<_, Option<String>>(4)?.unwrap_or_default(),
                    price_usd: Money::usd_cents(r.try_get(5)?),
                    original: Money::new(
                        r.try_get(6)?,
                        Currency::parse(&r.try_get::<_, String>(7)?).map_err(corrupt)?,
                    ),
                })
            })
            .collect::<Result<Vec<_>>>()?;
        // Same order as the SQLite store: request order, then source and kind.
        out.sort_by_key(|l| {
            (
                series_ids.iter().position(|s| *s == l.series_id),
                l.source,
                l.kind,
            )
        });
        Ok(out)
    }

    async fn candles(&self, q: &CandleQuery) -> Result<Vec<SeriesCandles>> {
        if q.to <= q.from {
            return Err(StoreError::InvalidQuery("candles need from < to".into()));
        }
        let start = q.interval.floor(q.from);
        let mut out = Vec::new();
        for (series, s, k) in self.combos_of(&q.target, &q.prices, q.to).await? {
            let p = [
                Param::Text(series.clone()),
                Param::Text(s.as_str().into()),
                Param::Text(k.as_str().into()),
            ];
            let prev = self
                .query(&sql_prev_close(start), &p)
                .await?
                .first()
                .map(|r| r.try_get::<_, i64>(1))
                .transpose()?;
            let mut buckets = Vec::new();
            for r in self
                .query(&sql_candles(q.interval, start, q.to), &p)
                .await?
            {
                let Some(open) = r.try_get::<_, Option<i64>>(1)? else {
                    continue;
                };
                let at = from_naive(r.try_get(0)?);
                buckets.push(RawBucket {
                    start: q.interval.floor(at),
                    open,
                    high: r.try_get::<_, Option<i64>>(2)?.unwrap_or(open),
                    low: r.try_get::<_, Option<i64>>(3)?.unwrap_or(open),
                    close: r.try_get::<_, Option<i64>>(4)?.unwrap_or(open),
                    count: u64::try_from(r.try_get::<_, Option<i64>>(5)?.unwrap_or(0)).unwrap_or(0),
                });
            }
            out.push(SeriesCandles {
                series_id: series,
                source: s,
                kind: k,
                candles: fill_candles(q.interval, q.from, q.to, &buckets, prev, q.fill),
            });
        }
        Ok(out)
    }

    async fn movers(&self, q: &MoversQuery) -> Result<Movers> {
        let in_set: Option<std::collections::HashSet<i64>> = match q.group_id {
            Some(g) => Some(
                self.query(&sql_set_products(), &[Param::Long(i64::from(g.0))])
                    .await?
                    .iter()
                    .map(|r| r.try_get::<_, i64>(0))
                    .collect::<std::result::Result<_, _>>()?,
            ),
            None => None,
        };
        let mut rows = Vec::new();
        for r in self.query(&sql_movers(q), &[]).await? {
            let pid: i64 = r.try_get(1)?;
            if in_set.as_ref().is_some_and(|s| !s.contains(&pid)) {
                continue;
            }
            let (start, end): (i64, i64) = (r.try_get(5)?, r.try_get(7)?);
            rows.push(Mover {
                series_id: r.try_get(0)?,
                product_id: ProductId(pid as u64),
                source: source_of(&r.try_get::<_, String>(2)?)?,
                kind: kind_of(&r.try_get::<_, String>(3)?)?,
                start_usd: Money::usd_cents(start),
                start_at: from_naive(r.try_get(4)?),
                end_usd: Money::usd_cents(end),
                end_at: from_naive(r.try_get(6)?),
                change_bps: movers::change_bps(start, end),
            });
        }
        Ok(movers::rank(rows, q.limit, q.min_start_cents))
    }

    async fn portfolio_value(
        &self,
        portfolio_id: PortfolioId,
        at: Timestamp,
        price: &ValuationPrice,
    ) -> Result<PortfolioValuation> {
        let holdings = self.holdings(portfolio_id).await?;
        let events = self.portfolio_events(portfolio_id).await?;
        let book = self.price_book(&holdings, &[at], price).await?;
        Ok(valuation::value_at(&holdings, &events, &book, at))
    }

    async fn portfolio_history(
        &self,
        portfolio_id: PortfolioId,
        from: Timestamp,
        to: Timestamp,
        interval: Interval,
        price: &ValuationPrice,
    ) -> Result<Vec<ValuationPoint>> {
        if to <= from {
            return Err(StoreError::InvalidQuery("history needs from < to".into()));
        }
        let holdings = self.holdings(portfolio_id).await?;
        let events = self.portfolio_events(portfolio_id).await?;
        let buckets = bucket_pairs(interval, from, to);
        let instants: Vec<Timestamp> = buckets
            .iter()
            .map(|b| Timestamp::from_micros(b.1.as_micros() - 1))
            .collect();
        let book = self.price_book(&holdings, &instants, price).await?;
        Ok(valuation::history(&holdings, &events, &book, &buckets))
    }

    async fn search_catalog(&self, q: &CatalogQuery) -> Result<CatalogPage> {
        let (sql, params) = sql_search(q)?;
        let limit = q.limit.clamp(1, 500);
        let mut items = self
            .query(&sql, &params)
            .await?
            .iter()
            .map(product_of)
            .collect::<Result<Vec<_>>>()?;
        let next_cursor = if items.len() > limit {
            items.truncate(limit);
            items.last().map(|p| encode_cursor(&p.name, p.product_id))
        } else {
            None
        };
        Ok(CatalogPage { items, next_cursor })
    }

    async fn product_series(&self, product_id: ProductId) -> Result<Vec<String>> {
        let target = SeriesTarget::Product {
            product_id,
            selection: SeriesSelection::default(),
        };
        let mut ids: Vec<String> = self
            .combos_of(
                &target,
                &PriceFilter::any(),
                Timestamp::from_secs(253_402_300_799),
            )
            .await?
            .into_iter()
            .map(|c| c.0)
            .collect();
        ids.dedup();
        Ok(ids)
    }

    async fn product(&self, product_id: ProductId) -> Result<Option<Product>> {
        let sql = "SELECT product_id, category_id, group_id, game, name, clean_name, number, rarity, image_url, url FROM products WHERE product_id = $1 LIMIT -1";
        self.query(sql, &[Param::Long(product_id.0 as i64)])
            .await?
            .first()
            .map(product_of)
            .transpose()
    }

    async fn sets(&self, game: Option<Game>) -> Result<Vec<CardSet>> {
        let filter = game
            .map(|g| format!(" WHERE game = {}", lit(&g.slug())))
            .unwrap_or_default();
        let sql = format!(
            "SELECT group_id, category_id, game, name, abbreviation, published_on FROM (SELECT * FROM card_sets LATEST ON updated_at PARTITION BY group_id){filter} ORDER BY lower(name), group_id"
        );
        self.query(&sql, &[])
            .await?
            .iter()
            .map(|r| {
                let cat = CategoryId(u32::try_from(r.try_get::<_, i64>(1)?).map_err(corrupt)?);
                Ok(CardSet {
                    group_id: GroupId(u32::try_from(r.try_get::<_, i64>(0)?).map_err(corrupt)?),
                    category_id: cat,
                    game: r
                        .try_get::<_, Option<String>>(2)?
                        .as_deref()
                        .and_then(Game::parse)
                        .unwrap_or(Game::from_category(cat)),
                    name: r.try_get(3)?,
                    abbreviation: r.try_get(4)?,
                    published_on: r.try_get(5)?,
                })
            })
            .collect()
    }

    async fn skus(&self, product_id: ProductId) -> Result<Vec<Sku>> {
        let sql = "SELECT sku_id, product_id, printing, condition, language FROM (SELECT * FROM skus LATEST ON updated_at PARTITION BY sku_id) WHERE product_id = $1 ORDER BY sku_id";
        self.query(sql, &[Param::Long(product_id.0 as i64)])
            .await?
            .iter()
            .map(|r| {
                Ok(Sku {
                    sku_id: SkuId(r.try_get::<_, i64>(0)? as u64),
                    product_id: ProductId(r.try_get::<_, i64>(1)? as u64),
                    printing: tcg_schemas::Printing::parse(&r.try_get::<_, String>(2)?),
                    condition: tcg_schemas::Condition::parse(&r.try_get::<_, String>(3)?),
                    language: tcg_schemas::Language::parse(&r.try_get::<_, String>(4)?),
                })
            })
            .collect()
    }

    async fn portfolios(&self, owner: &UserId) -> Result<Vec<Portfolio>> {
        let sql = sql_newest(
            "portfolios",
            "portfolio_id",
            "portfolio_id, owner, name, created_at",
            " AND owner = $1 ORDER BY created_at, portfolio_id",
        );
        self.query(&sql, &[Param::Text(owner.0.clone())])
            .await?
            .iter()
            .map(|r| {
                Ok(Portfolio {
                    id: r.try_get::<_, String>(0)?.parse().map_err(corrupt)?,
                    owner: UserId(r.try_get(1)?),
                    name: r.try_get(2)?,
                    created_at: from_naive(r.try_get(3)?),
                })
            })
            .collect()
    }

    async fn holdings(&self, portfolio_id: PortfolioId) -> Result<Vec<Holding>> {
        self.newest_bodies(
            "holdings",
            "holding_id",
            " AND portfolio_id = $1 ORDER BY holding_id",
            &[Param::Text(portfolio_id.to_string())],
        )
        .await
    }

    async fn portfolio_events(&self, portfolio_id: PortfolioId) -> Result<Vec<PortfolioEvent>> {
        let rows = self
            .query(
                "SELECT body FROM portfolio_events WHERE portfolio_id = $1 ORDER BY at, event_id",
                &[Param::Text(portfolio_id.to_string())],
            )
            .await?;
        bodies(&rows)
    }

    async fn rules(&self, owner: Option<&UserId>) -> Result<Vec<AlertRule>> {
        match owner {
            Some(o) => {
                self.newest_bodies(
                    "alert_rules",
                    "rule_id",
                    " AND owner = $1 ORDER BY rule_id",
                    &[Param::Text(o.0.clone())],
                )
                .await
            }
            None => {
                self.newest_bodies("alert_rules", "rule_id", " ORDER BY rule_id", &[])
                    .await
            }
        }
    }

    async fn alerts(&self, owner: &UserId, limit: usize) -> Result<Vec<AlertEvent>> {
        let sql = format!(
            "SELECT body FROM alerts WHERE owner = $1 ORDER BY observed_at DESC, alert_id LIMIT {}",
            limit.max(1)
        );
        let rows = self.query(&sql, &[Param::Text(owner.0.clone())]).await?;
        bodies(&rows)
    }
}

#[allow(dead_code)]
fn _assert_send_sync() {
    fn f<T: Send + Sync>() {}
    f::<QuestDbStore>();
    f::<IlpWriter>();
    let _ = naive;
}
