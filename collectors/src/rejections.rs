//! Rows a collector could not turn into quotes, named: the product (and its group, SKU or
//! printing) and why. Each is counted in `tcg_quotes_rejected_total{source,reason}` when it
//! happens, and the recent ones are kept in a bounded [`RejectionLog`] the API can serve.
//!
//! Reasons: `no_prices` (a TCGplayer/TCGCSV price row whose prices are all null) and
//! `upstream_failure` (a `success:false` or 404 answer for the product's price request).

use std::{
    collections::{HashMap, VecDeque},
    sync::{Mutex, MutexGuard},
};

use serde::{Deserialize, Serialize};
use tcg_schemas::{CardRejection, GroupId, ProductId, RejectionStage, Timestamp};

use crate::internal_events;

/// Why a collector rejected a row.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CollectorRejectReason {
    /// Every price of the row is null: nothing to store for this product and printing.
    NoPrices,
    /// The upstream answered the product's price request with `success:false` or 404.
    UpstreamFailure,
}

impl CollectorRejectReason {
    /// The metrics label.
    pub fn as_str(self) -> &'static str {
        match self {
            CollectorRejectReason::NoPrices => "no_prices",
            CollectorRejectReason::UpstreamFailure => "upstream_failure",
        }
    }
}

/// One rejected row, naming what it was about.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CollectorRejection {
    pub source: String,
    pub at: Timestamp,
    pub reason: CollectorRejectReason,
    pub category_id: Option<u32>,
    pub group_id: Option<u32>,
    /// `None` only when the upstream failed for a whole group whose products are not known
    /// (TCGCSV's per-group price file).
    pub product_id: Option<u64>,
    /// The printing (`subTypeName`) of a price row.
    pub sub_type_name: Option<String>,
    /// What the upstream said, or which prices were missing.
    pub detail: String,
}

impl From<CollectorRejection> for CardRejection {
    fn from(r: CollectorRejection) -> Self {
        CardRejection {
            at: r.at,
            source: r.source,
            stage: RejectionStage::Collector,
            product_id: r.product_id.map(ProductId),
            group_id: r.group_id.map(GroupId),
            reason: r.reason.as_str().to_owned(),
            detail: r.detail,
            confidence: None,
            title: None,
            item_id: None,
            printing: r.sub_type_name,
            price: None,
        }
    }
}

/// Counts one rejection in `tcg_quotes_rejected_total{source,reason}`.
pub(crate) fn count(source: &str, reason: CollectorRejectReason) {
    metrics::counter!(
        internal_events::QUOTES_REJECTED,
        "source" => source.to_owned(),
        "reason" => reason.as_str()
    )
    .increment(1);
}

/// The recent rejections (the collectors' and, in `up`, the processor's), bounded twice: at most `per_product` kept for any one product (the
/// oldest of that product go first) and at most `capacity` in all (the oldest go first).
#[derive(Debug)]
pub struct RejectionLog {
    capacity: usize,
    per_product: usize,
    inner: Mutex<Entries>,
}

#[derive(Debug, Default)]
struct Entries {
    /// Oldest first: (sequence number, product).
    order: VecDeque<(u64, Option<ProductId>)>,
    by_product: HashMap<Option<ProductId>, VecDeque<(u64, CardRejection)>>,
    next: u64,
    /// Rejections recorded since start (kept or not).
    total: u64,
}

impl Default for RejectionLog {
    fn default() -> Self {
        RejectionLog::new(2_000, 20)
    }
}

impl RejectionLog {
    /// A log keeping at most `capacity` rejections, `per_product` of any one product.
    pub fn new(capacity: usize, per_product: usize) -> Self {
        RejectionLog {
            capacity: capacity.max(1),
            per_product: per_product.max(1),
            inner: Mutex::new(Entries::default()),
        }
    }

    fn lock(&self) -> MutexGuard<'_, Entries> {
        self.inner
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Keeps `rejection`, dropping the oldest of its product or of all when over a bound.
    pub fn record(&self, rejection: CardRejection) {
        let mut e = self.lock();
        let key = rejection.product_id;
        let seq = e.next;
        e.next += 1;
        e.total += 1;
        let mine = e.by_product.entry(key).or_default();
        mine.push_back((seq, rejection));
        let dropped = (mine.len() > self.per_product)
            .then(|| mine.pop_front().map(|(s, _)| s))
            .flatten();
        e.order.push_back((seq, key));
        if let Some(old) = dropped {
            e.order.retain(|(s, _)| *s != old);
        }
        while e.order.len() > self.capacity {
            let Some((old, product)) = e.order.pop_front() else {
                break;
            };
            if let Some(list) = e.by_product.get_mut(&product) {
                list.retain(|(s, _)| *s != old);
                if list.is_empty() {
                    e.by_product.remove(&product);
                }
            }
        }
    }

    /// The kept rejections of `product_id`, newest first.
    pub fn for_product(&self, product_id: ProductId) -> Vec<CardRejection> {
        self.lock()
            .by_product
            .get(&Some(product_id))
            .map(|l| l.iter().rev().map(|(_, r)| r.clone()).collect())
            .unwrap_or_default()
    }

    /// Up to `limit` kept rejections of every product, newest first.
    pub fn recent(&self, limit: usize) -> Vec<CardRejection> {
        let e = self.lock();
        e.order
            .iter()
            .rev()
            .take(limit)
            .filter_map(|(seq, product)| {
                e.by_product
                    .get(product)?
                    .iter()
                    .find(|(s, _)| s == seq)
                    .map(|(_, r)| r.clone())
            })
            .collect()
    }

    /// Rejections kept now.
    pub fn len(&self) -> usize {
        self.lock().order.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Rejections recorded since start, kept or not.
    pub fn total(&self) -> u64 {
        self.lock().total
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn collector_rejection(product: u64, n: i64) -> CollectorRejection {
        CollectorRejection {
            source: "tcgcsv".into(),
            at: Timestamp::from_secs(n),
            reason: CollectorRejectReason::NoPrices,
            category_id: Some(3),
            group_id: Some(604),
            product_id: Some(product),
            sub_type_name: Some("Normal".into()),
            detail: "every price is null".into(),
        }
    }

    fn rejection(product: u64, n: i64) -> CardRejection {
        collector_rejection(product, n).into()
    }

    #[test]
    fn bounded_per_product_and_in_all() {
        let log = RejectionLog::new(5, 2);
        for n in 0..3 {
            log.record(rejection(1, n));
        }
        // Product 1 keeps its newest two.
        let mine: Vec<i64> = log
            .for_product(ProductId(1))
            .iter()
            .map(|r| r.at.as_secs())
            .collect();
        assert_eq!(mine, [2, 1]);
        assert_eq!(log.len(), 2);
        for n in 10..14 {
            log.record(rejection(n as u64, n));
        }
        // Five in all: the oldest of product 1 went first.
        assert_eq!(log.len(), 5);
        let all: Vec<i64> = log.recent(10).iter().map(|r| r.at.as_secs()).collect();
        assert_eq!(all, [13, 12, 11, 10, 2]);
        assert_eq!(log.for_product(ProductId(1)).len(), 1);
        assert_eq!(log.total(), 7);
        assert!(log.for_product(ProductId(99)).is_empty());
    }

    #[test]
    fn serializes_with_snake_case_reasons() {
        let json = serde_json::to_value(collector_rejection(7, 0)).unwrap();
        assert_eq!(json["reason"], "no_prices");
        assert_eq!(json["product_id"], 7);
        let card = serde_json::to_value(rejection(7, 0)).unwrap();
        assert_eq!(card["reason"], "no_prices");
        assert_eq!(card["stage"], "collector");
        assert_eq!(card["group_id"], 604);
        assert_eq!(card["printing"], "Normal");
        assert_eq!(json["product_id"], 7);
        assert_eq!(json["at"], "1970-01-01T00:00:00Z");
    }
}
