//! What one call of the core gives back.

use serde::{Deserialize, Serialize};
use tcg_schemas::{
    AlertEvent, CardRejection, RawQuote, RejectReason, RejectionStage, Subject, Tick, Timestamp,
};

/// The result of processing one batch.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Output {
    /// New ticks, in the order of the quotes that produced them.
    pub ticks: Vec<Tick>,
    /// Alerts fired by those ticks.
    pub alerts: Vec<AlertEvent>,
    /// Quotes that were not believable or not a price of the tracked card.
    pub rejected: Vec<Rejection>,
    pub stats: Stats,
}

/// One rejected quote, with the reason.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejection {
    /// Position of the quote in the batch.
    pub index: usize,
    pub reason: RejectReason,
    pub detail: String,
    /// eBay match confidence, when the classifier computed one.
    pub confidence: Option<u8>,
    pub quote: RawQuote,
}

impl Rejection {
    /// The rejection as the API serves it, stamped `at`: the card, the eBay listing's title and
    /// item id, the printing of a TCGplayer row, the reason's code and the quoted price.
    pub fn to_card_rejection(&self, at: Timestamp) -> CardRejection {
        let q = &self.quote;
        let (title, item_id, printing, group_id) = match &q.subject {
            Subject::EbayItem(item) => (
                Some(item.title.clone()),
                Some(item.item_id.clone()),
                None,
                None,
            ),
            Subject::TcgProduct {
                sub_type_name,
                group_id,
                ..
            } => (None, None, Some(sub_type_name.clone()), *group_id),
            Subject::TcgSku { printing, .. } => (None, None, Some(printing.clone()), None),
            Subject::Market(row) => (
                None,
                Some(row.external_id.clone()),
                Some(row.printing.clone()),
                None,
            ),
        };
        CardRejection {
            at,
            source: q.source.as_str().to_owned(),
            stage: RejectionStage::Processor,
            product_id: Some(q.subject.product_id()),
            group_id,
            reason: self.reason.as_str().to_owned(),
            detail: self.detail.clone(),
            confidence: self.confidence,
            title,
            item_id,
            printing,
            price: Some(q.price),
        }
    }
}

/// Counters of one batch (and, summed, of a run).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Stats {
    pub quotes: u64,
    /// Ticks with a new price (or a first observation).
    pub ticks: u64,
    /// Ticks that only say an unchanged price is still current.
    pub heartbeats: u64,
    /// Quotes already seen (same or older observation time for the same stream or item).
    pub duplicates: u64,
    /// Later polls of an unchanged price that did not warrant a heartbeat.
    pub unchanged: u64,
    pub rejected: u64,
    pub alerts: u64,
    /// Streams and items evicted from memory by the caps.
    pub evicted: u64,
    /// Fair-value ticks (tcgtracker's own, new values and heartbeats; not in `ticks` or
    /// `heartbeats`).
    #[serde(default)]
    pub fair: u64,
}

impl Stats {
    /// Adds another batch's counters.
    pub fn add(&mut self, other: &Stats) {
        self.quotes += other.quotes;
        self.ticks += other.ticks;
        self.heartbeats += other.heartbeats;
        self.duplicates += other.duplicates;
        self.unchanged += other.unchanged;
        self.rejected += other.rejected;
        self.alerts += other.alerts;
        self.evicted += other.evicted;
        self.fair += other.fair;
    }
}

#[cfg(test)]
mod tests {
    use tcg_schemas::{CategoryId, GroupId, Money, PriceKind, ProductId, Source};

    use super::*;

    #[test]
    fn a_rejected_row_names_its_card_printing_and_reason() {
        let rejection = Rejection {
            index: 0,
            reason: RejectReason::ImplausiblePrice,
            detail: "price 0".into(),
            confidence: None,
            quote: RawQuote {
                source: Source::Tcgcsv,
                observed_at: Timestamp::from_secs(10),
                kind: PriceKind::Market,
                price: Money::usd_cents(0),
                shipping: None,
                subject: Subject::TcgProduct {
                    category_id: CategoryId(3),
                    group_id: Some(GroupId(604)),
                    product_id: ProductId(42),
                    sub_type_name: "Holofoil".into(),
                },
            },
        };
        let card = rejection.to_card_rejection(Timestamp::from_secs(20));
        assert_eq!(card.at, Timestamp::from_secs(20));
        assert_eq!(card.source, "tcgcsv");
        assert_eq!(card.stage, RejectionStage::Processor);
        assert_eq!(card.product_id, Some(ProductId(42)));
        assert_eq!(card.group_id, Some(GroupId(604)));
        assert_eq!(card.reason, "implausible_price");
        assert_eq!(card.printing.as_deref(), Some("Holofoil"));
        assert_eq!(card.price, Some(Money::usd_cents(0)));
        assert_eq!(card.title, None);
    }
}
