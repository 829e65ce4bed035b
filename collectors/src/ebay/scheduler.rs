//! Spends a daily call budget on what users track, fairly: round-robin over the tracked cards,
//! one call per visit, calls spread evenly over the day; extra pages only while the budget still
//! covers one more visit of every card.

use std::{collections::HashSet, time::Duration};

use tcg_schemas::TrackedCard;
use tokio::time::Instant;

use crate::http::DailyBudget;

/// Round-robin over tracked cards under a daily budget.
#[derive(Debug, Clone)]
pub struct TrackScheduler {
    cards: Vec<TrackedCard>,
    cursor: usize,
    budget: DailyBudget,
}

impl TrackScheduler {
    pub fn new(budget: DailyBudget, tracked: Vec<TrackedCard>) -> Self {
        let mut s = TrackScheduler {
            cards: Vec::new(),
            cursor: 0,
            budget,
        };
        s.set_tracked(tracked);
        s
    }

    /// Replaces what is tracked (duplicates removed, order kept), staying on the card that was
    /// next if it is still tracked.
    pub fn set_tracked(&mut self, tracked: Vec<TrackedCard>) {
        let next = self.cards.get(self.cursor).cloned();
        let mut seen = HashSet::new();
        self.cards = tracked
            .into_iter()
            .filter(|c| seen.insert(c.clone()))
            .collect();
        self.cursor = next
            .and_then(|n| self.cards.iter().position(|c| *c == n))
            .unwrap_or(0);
    }

    pub fn tracked(&self) -> &[TrackedCard] {
        &self.cards
    }

    /// The next card to search, having spent one call on it; `Ok(None)` when nothing is tracked;
    /// `Err(wait)` when today's budget is spent.
    pub fn next(&mut self, now: Instant) -> Result<Option<TrackedCard>, Duration> {
        if self.cards.is_empty() {
            return Ok(None);
        }
        self.budget.try_take(now)?;
        let card = self.cards[self.cursor % self.cards.len()].clone();
        self.cursor = (self.cursor + 1) % self.cards.len();
        Ok(Some(card))
    }

    /// Spends one call on another page of the current card, if that leaves enough for one
    /// visit of every tracked card.
    pub fn extra_page(&mut self, now: Instant) -> bool {
        if self.budget.remaining(now) as usize > self.cards.len() {
            self.budget.try_take(now).is_ok()
        } else {
            false
        }
    }

    pub fn remaining(&mut self, now: Instant) -> u32 {
        self.budget.remaining(now)
    }

    /// Even spacing of calls that spends the budget over the window.
    pub fn pacing(&self) -> Duration {
        self.budget.pacing()
    }

    pub fn limit(&self) -> u32 {
        self.budget.limit()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tcg_schemas::{CategoryId, ProductId, Wanted};

    fn card(id: u64) -> TrackedCard {
        TrackedCard {
            product_id: ProductId(id),
            category_id: CategoryId(3),
            name: format!("card {id}"),
            number: None,
            set_name: None,
            set_code: None,
            printing: None,
            language: None,
            want: Wanted::Any,
        }
    }

    #[tokio::test(start_paused = true)]
    async fn round_robin_within_budget_then_refill() {
        let mut s = TrackScheduler::new(
            DailyBudget::new(7, Duration::from_secs(70)),
            vec![card(1), card(2), card(1), card(3)],
        );
        assert_eq!(s.tracked().len(), 3);
        let now = Instant::now();
        let got: Vec<u64> = (0..7)
            .map(|_| s.next(now).unwrap().unwrap().product_id.0)
            .collect();
        assert_eq!(got, vec![1, 2, 3, 1, 2, 3, 1]);
        assert_eq!(s.next(now), Err(Duration::from_secs(70)));
        assert_eq!(s.pacing(), Duration::from_secs(10));
        tokio::time::advance(Duration::from_secs(70)).await;
        assert_eq!(s.next(Instant::now()).unwrap().unwrap().product_id.0, 2);
    }

    #[tokio::test(start_paused = true)]
    async fn extra_pages_never_starve_other_cards() {
        let mut s = TrackScheduler::new(
            DailyBudget::new(5, Duration::from_secs(50)),
            vec![card(1), card(2)],
        );
        let now = Instant::now();
        s.next(now).unwrap();
        assert!(s.extra_page(now)); // 4 left > 2 cards
        assert!(s.extra_page(now)); // 3 left > 2
        assert!(!s.extra_page(now)); // 2 left: kept for the visits
        assert_eq!(s.remaining(now), 2);
    }

    #[test]
    fn keeps_position_when_tracking_changes() {
        let mut s = TrackScheduler::new(
            DailyBudget::new(100, Duration::from_secs(100)),
            vec![card(1), card(2), card(3)],
        );
        let now = Instant::now();
        s.next(now).unwrap();
        s.set_tracked(vec![card(9), card(2), card(3)]);
        assert_eq!(s.next(now).unwrap().unwrap().product_id.0, 2);
        s.set_tracked(Vec::new());
        assert_eq!(s.next(now), Ok(None));
    }
}
