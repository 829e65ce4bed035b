//! The crawl of JustTCG's own set listings (`GET /sets?game=`, then each set's cards a page a
//! request), which finds the cards our catalog does not have.

use std::{collections::HashMap, time::Duration};

use tcg_schemas::CategoryId;
use tokio::time::Instant;

use super::{JusttcgSource, Read, model::game_of};
use crate::{CollectorError, PassReport, identity::ProductIndex, sink::QuoteSink};

/// Where the crawl of JustTCG's set listings is.
#[derive(Debug, Default)]
pub(super) struct Discovery {
    /// Each category's JustTCG set ids, and when they were read.
    sets: HashMap<u32, (Vec<String>, Instant)>,
    category: usize,
    set: usize,
    offset: u64,
}

impl JusttcgSource {
    /// One request of the crawl of JustTCG's set listings; `Ok(false)` when the pass must stop
    /// (or there is nothing to crawl).
    pub(super) async fn discover(
        &mut self,
        index: &ProductIndex,
        sink: &dyn QuoteSink,
        report: &mut PassReport,
        spent: &mut u32,
    ) -> Result<bool, CollectorError> {
        let categories = self.discovered_categories();
        let Some(&category) = categories.get(self.discovery.category % categories.len().max(1))
        else {
            return Ok(false);
        };
        let game = game_of(category).unwrap_or_default();
        let ttl = Duration::from_secs(self.config.sets_ttl_secs);
        let fresh = (self.discovery.sets.get(&category)).is_some_and(|(_, at)| at.elapsed() < ttl);
        if !self.spend(spent)? {
            return Ok(false);
        }
        report.requests += 1;
        if !fresh {
            return match self.client.sets(game).await {
                Ok(rows) => {
                    let mut ids: Vec<String> = rows.into_iter().map(|s| s.id).collect();
                    ids.sort();
                    self.discovery.sets.insert(category, (ids, Instant::now()));
                    Ok(!self.allowance_spent())
                }
                Err(e) => self.failed(format!("sets of {game}"), e, report),
            };
        }
        let sets = self.discovery.sets.get(&category).map_or(&[][..], |s| &s.0);
        let Some(set) = sets.get(self.discovery.set % sets.len().max(1)).cloned() else {
            self.next_category();
            return Ok(true);
        };
        let (batch, offset) = (self.batch_size(), self.discovery.offset);
        match self.client.set_cards(game, &set, batch, offset).await {
            Ok(env) => {
                let n = env.data.len() as u64;
                let more = n > 0
                    && (env.meta.as_ref().and_then(|m| m.has_more))
                        .unwrap_or(n >= u64::from(batch));
                let read = Read::Listing(CategoryId(category));
                self.take_cards(&env.data, index, read, sink, report)
                    .await?;
                if more {
                    self.discovery.offset += n;
                } else {
                    self.next_set();
                }
                Ok(!self.allowance_spent())
            }
            Err(e) => {
                self.next_set();
                self.failed(format!("cards of set {set}"), e, report)
            }
        }
    }

    /// The configured categories JustTCG has a game for.
    fn discovered_categories(&self) -> Vec<u32> {
        (self.config.categories.iter())
            .copied()
            .filter(|&c| game_of(c).is_some())
            .collect()
    }

    fn next_set(&mut self) {
        self.discovery.offset = 0;
        self.discovery.set += 1;
        let categories = self.discovered_categories();
        let n = categories
            .get(self.discovery.category % categories.len().max(1))
            .and_then(|c| self.discovery.sets.get(c))
            .map_or(0, |s| s.0.len());
        if self.discovery.set >= n {
            self.next_category();
        }
    }

    fn next_category(&mut self) {
        self.discovery.offset = 0;
        self.discovery.set = 0;
        let n = self.discovered_categories().len().max(1);
        self.discovery.category = (self.discovery.category + 1) % n;
    }
}
