//! eBay listing title classification (placeholder; being written).

use tcg_schemas::{EbayItem, RejectReason, SeriesKey};

/// A listing that prices the tracked card.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TitleMatch {
    /// The series the listing prices: the tracked card raw (SKU series) or graded.
    pub series: SeriesKey,
    /// 0–100.
    pub confidence: u8,
}

/// A listing that does not price the tracked card.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TitleReject {
    pub reason: RejectReason,
    pub detail: String,
    pub confidence: Option<u8>,
}

/// Classifies one eBay item against the card the collector searched for.
pub fn classify(item: &EbayItem, min_confidence: u8) -> Result<TitleMatch, TitleReject> {
    let _ = (item, min_confidence);
    Err(TitleReject {
        reason: RejectReason::LowConfidence,
        detail: "classifier not written yet".into(),
        confidence: None,
    })
}
