//! The products a source could not map to ours, kept (bounded) for the API.

use std::{
    collections::HashMap,
    sync::{Mutex, MutexGuard},
};

use tcg_schemas::{ProductId, Timestamp, UnmappedProduct};

use crate::internal_events;

/// Products kept per source; the least recently seen go first beyond it.
pub const MAX_UNMAPPED_PER_SOURCE: usize = 5_000;

/// Why a product was not mapped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum UnmappedReason {
    /// None of our products fits.
    Unmapped,
    /// Several of ours fit equally well.
    Ambiguous,
}

impl UnmappedReason {
    pub fn as_str(self) -> &'static str {
        match self {
            UnmappedReason::Unmapped => "unmapped",
            UnmappedReason::Ambiguous => "ambiguous",
        }
    }
}

/// The unmapped and ambiguous products of every source, one entry per (source, external id),
/// updated each time a pass meets it again; counted in `tcg_products_unmapped_total{source,why}`
/// when first met.
#[derive(Debug, Default)]
pub struct UnmappedLog {
    inner: Mutex<Inner>,
}

/// The products, and how many each source has (kept, so a record costs no scan).
#[derive(Debug, Default)]
struct Inner {
    products: HashMap<(String, String), UnmappedProduct>,
    per_source: HashMap<String, usize>,
}

impl Inner {
    fn remove(&mut self, key: &(String, String)) {
        if self.products.remove(key).is_some()
            && let Some(n) = self.per_source.get_mut(&key.0)
        {
            *n = n.saturating_sub(1);
        }
    }
}

impl UnmappedLog {
    fn inner(&self) -> MutexGuard<'_, Inner> {
        // A panic while holding the lock leaves maps that are still whole.
        self.inner
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Records `product` as met now (replacing what was known of it).
    pub fn record(&self, product: UnmappedProduct) {
        let key = (product.source.clone(), product.external_id.clone());
        let mut inner = self.inner();
        let source = product.source.clone();
        if !inner.products.contains_key(&key) {
            metrics::counter!(
                internal_events::PRODUCTS_UNMAPPED,
                "source" => product.source.clone(),
                "why" => product.why.clone()
            )
            .increment(1);
            *inner.per_source.entry(source.clone()).or_default() += 1;
        }
        inner.products.insert(key, product);
        if inner.per_source.get(&source).copied().unwrap_or(0) > MAX_UNMAPPED_PER_SOURCE
            && let Some(oldest) = inner
                .products
                .iter()
                .filter(|(_, p)| p.source == source)
                .min_by_key(|(_, p)| p.last_seen)
                .map(|(k, _)| k.clone())
        {
            inner.remove(&oldest);
        }
    }

    /// A convenience for collectors: records a product of `source` met `at`.
    #[allow(clippy::too_many_arguments)]
    pub fn met(
        &self,
        source: &str,
        external_id: &str,
        why: UnmappedReason,
        name: &str,
        number: Option<&str>,
        set: Option<&str>,
        candidates: Vec<ProductId>,
        at: Timestamp,
    ) {
        self.record(UnmappedProduct {
            source: source.to_owned(),
            external_id: external_id.to_owned(),
            why: why.as_str().to_owned(),
            name: name.to_owned(),
            number: number.map(str::to_owned),
            set: set.map(str::to_owned),
            candidates,
            last_seen: at,
        });
    }

    /// Forgets a product that now maps.
    pub fn mapped(&self, source: &str, external_id: &str) {
        self.inner()
            .remove(&(source.to_owned(), external_id.to_owned()));
    }

    /// Up to `limit` products, of `source` when given, most recently seen first (then by
    /// source and id).
    pub fn list(&self, source: Option<&str>, limit: usize) -> Vec<UnmappedProduct> {
        let mut found: Vec<UnmappedProduct> = self
            .inner()
            .products
            .values()
            .filter(|p| source.is_none_or(|s| p.source == s))
            .cloned()
            .collect();
        found.sort_by(|a, b| {
            b.last_seen
                .cmp(&a.last_seen)
                .then_with(|| a.source.cmp(&b.source))
                .then_with(|| a.external_id.cmp(&b.external_id))
        });
        found.truncate(limit);
        found
    }

    /// How many products of `source` are listed.
    pub fn count(&self, source: &str) -> usize {
        self.inner().per_source.get(source).copied().unwrap_or(0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn products_are_kept_once_per_source_and_id_newest_first() {
        let log = UnmappedLog::default();
        let at = |s: i64| Timestamp::from_secs(1_700_000_000 + s);
        log.met(
            "cardmarket",
            "1",
            UnmappedReason::Unmapped,
            "A",
            None,
            Some("S"),
            vec![],
            at(1),
        );
        log.met(
            "cardmarket",
            "2",
            UnmappedReason::Ambiguous,
            "B",
            Some("4"),
            None,
            vec![ProductId(7), ProductId(8)],
            at(2),
        );
        log.met(
            "cardkingdom",
            "1",
            UnmappedReason::Unmapped,
            "A",
            None,
            None,
            vec![],
            at(3),
        );
        log.met(
            "cardmarket",
            "1",
            UnmappedReason::Unmapped,
            "A",
            None,
            Some("S"),
            vec![],
            at(4),
        );
        let all = log.list(None, 10);
        assert_eq!(all.len(), 3);
        assert_eq!(
            (all[0].source.as_str(), all[0].external_id.as_str()),
            ("cardmarket", "1")
        );
        assert_eq!(log.list(Some("cardmarket"), 10).len(), 2);
        assert_eq!(log.list(Some("cardmarket"), 1).len(), 1);
        assert_eq!(log.count("cardmarket"), 2);
        log.mapped("cardmarket", "2");
        assert_eq!(log.count("cardmarket"), 1);
    }

    #[test]
    fn a_source_keeps_its_most_recently_seen_products_up_to_the_cap() {
        let log = UnmappedLog::default();
        for i in 0..=MAX_UNMAPPED_PER_SOURCE {
            let at = Timestamp::from_secs(1_700_000_000 + i as i64);
            let id = i.to_string();
            log.met(
                "cardmarket",
                &id,
                UnmappedReason::Unmapped,
                "A",
                None,
                None,
                vec![],
                at,
            );
        }
        log.met(
            "cardkingdom",
            "0",
            UnmappedReason::Unmapped,
            "A",
            None,
            None,
            vec![],
            Timestamp::from_secs(1),
        );
        assert_eq!(log.count("cardmarket"), MAX_UNMAPPED_PER_SOURCE);
        assert_eq!(
            log.count("cardkingdom"),
            1,
            "another source's products stay"
        );
        let kept = log.list(Some("cardmarket"), MAX_UNMAPPED_PER_SOURCE + 1);
        assert!(kept.iter().all(|p| p.external_id != "0"), "the oldest went");
    }
}
