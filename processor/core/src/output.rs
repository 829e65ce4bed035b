//! What one call of the core gives back.

use serde::{Deserialize, Serialize};
use tcg_schemas::{AlertEvent, RawQuote, RejectReason, Tick};

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
    }
}
