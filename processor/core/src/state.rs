//! Per-stream and per-item memory of the core, bounded by caps with least-recently-seen
//! eviction, and its snapshot form.

use std::collections::VecDeque;

use hashlink::LruCache;
use rustc_hash::FxBuildHasher;
use serde::{Deserialize, Serialize};
use tcg_schemas::{
    AlertRule, FxRates, Money, PriceKind, RejectReason, RuleId, SeriesKey, Source, Timestamp,
};

/// One price stream: a series as priced by one source in one kind.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct StreamKey {
    pub series: SeriesKey,
    pub source: Source,
    pub kind: PriceKind,
}

/// Lowest and highest price of one UTC day.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct DayRange {
    pub day: i64,
    pub low: i64,
    pub high: i64,
}

/// What a rule remembers about one stream.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RuleMemo {
    pub rule_id: RuleId,
    /// The rule's `updated_at` when the memo was made: an edited rule starts afresh.
    pub version: Timestamp,
    /// Whether the rule's condition held at the last evaluation (crossing rules).
    pub held: Option<bool>,
    pub last_fired: Option<Timestamp>,
}

/// Memory of one stream.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct StreamState {
    pub last_observed_at: Timestamp,
    /// Last price in US cents.
    pub last_price: i64,
    /// When the last tick (price change or heartbeat) was emitted.
    pub last_emitted_at: Timestamp,
    /// Price observations that produced a tick (heartbeats excluded).
    pub observations: u64,
    /// Recent (time, cents) points for percent-change rules, oldest first.
    pub window: VecDeque<(Timestamp, i64)>,
    /// Daily ranges for new-low/new-high rules, oldest first.
    pub days: VecDeque<DayRange>,
    pub memos: Vec<RuleMemo>,
    /// A series' fair-value stream only: the inputs that have priced the series (bit `i` for row
    /// `i` of `fair::INPUTS`), so that the fair value looks up those streams only.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub inputs: u32,
    /// A series' fair-value stream only: the sources that agreed with the last fair tick (bit
    /// `i` for `Source::ALL[i]`), so that a change of them is a new tick even at the same price.
    #[serde(default, skip_serializing_if = "is_zero_16")]
    pub agreeing: u16,
}

fn is_zero(v: &u32) -> bool {
    *v == 0
}

fn is_zero_16(v: &u16) -> bool {
    *v == 0
}

/// The bit mask of `sources` (bit `i` for `Source::ALL[i]`).
pub fn source_mask(sources: &[tcg_schemas::Source]) -> u16 {
    sources.iter().fold(0, |m, s| {
        tcg_schemas::Source::ALL
            .iter()
            .position(|x| x == s)
            .map_or(m, |i| m | (1 << i))
    })
}

impl StreamState {
    /// Records a price point (after rules have looked at the state before it).
    pub fn record(
        &mut self,
        at: Timestamp,
        cents: i64,
        heartbeat: bool,
        max_window_secs: i64,
        max_points: usize,
        max_days: u16,
    ) {
        self.last_observed_at = at;
        self.last_price = cents;
        self.last_emitted_at = at;
        let day = at.day();
        match self.days.back_mut() {
            Some(range) if range.day == day => {
                range.low = range.low.min(cents);
                range.high = range.high.max(cents);
            }
            Some(range) if range.day > day => {}
            _ => self.days.push_back(DayRange {
                day,
                low: cents,
                high: cents,
            }),
        }
        while self
            .days
            .front()
            .is_some_and(|r| r.day < day - i64::from(max_days))
        {
            self.days.pop_front();
        }
        if heartbeat {
            return;
        }
        self.observations += 1;
        self.window.push_back((at, cents));
        let horizon = at.minus_secs(max_window_secs);
        while self
            .window
            .front()
            .is_some_and(|(t, _)| *t < horizon || self.window.len() > max_points)
        {
            self.window.pop_front();
        }
    }
}

/// Memory of one eBay item: what it was last quoted at, and what its title was judged to be, so
/// that a re-poll at the same price yields nothing and a new price is not classified again.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ItemState {
    pub last_observed_at: Timestamp,
    /// Price and shipping as quoted (a rate change alone is not a new price).
    pub price: Money,
    pub shipping: Option<Money>,
    /// FxHash of the title: a changed title is classified afresh.
    pub title_hash: u64,
    pub outcome: ItemOutcome,
}

/// What the classifier said about an item's title.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum ItemOutcome {
    Priced {
        series: SeriesKey,
        confidence: u8,
    },
    /// Not a price of the tracked card (lot, proxy …); its re-polls are not reported again.
    Rejected {
        reason: RejectReason,
    },
}

/// The streams in memory, least recently seen first.
pub type Streams = LruCache<StreamKey, StreamState, FxBuildHasher>;

/// Bounded maps of streams and items.
#[derive(Debug)]
pub struct Memory {
    pub streams: Streams,
    pub items: LruCache<String, ItemState, FxBuildHasher>,
    max_streams: usize,
    max_items: usize,
}

impl Memory {
    pub fn new(max_streams: usize, max_items: usize) -> Self {
        Memory {
            streams: LruCache::with_hasher(max_streams.max(1), FxBuildHasher),
            items: LruCache::with_hasher(max_items.max(1), FxBuildHasher),
            max_streams: max_streams.max(1),
            max_items: max_items.max(1),
        }
    }

    /// The stream's state, created (evicting the least recently seen stream when full) if new.
    /// The flag tells whether the stream was already known; the count is evictions made.
    pub fn stream(&mut self, key: StreamKey) -> (&mut StreamState, bool, u64) {
        use hashlink::linked_hash_map::RawEntryMut;
        let mut evicted = 0;
        if self.streams.len() >= self.max_streams && !self.streams.contains_key(&key) {
            self.streams.remove_lru();
            evicted = 1;
        }
        match self.streams.raw_entry_mut().from_key(&key) {
            RawEntryMut::Occupied(mut occupied) => {
                occupied.to_back();
                (occupied.into_mut(), true, evicted)
            }
            RawEntryMut::Vacant(vacant) => {
                let (_, state) = vacant.insert(key, StreamState::default());
                (state, false, evicted)
            }
        }
    }

    /// Inserts or replaces an item, evicting the least recently seen one when full.
    pub fn put_item(&mut self, id: &str, state: ItemState) -> u64 {
        if let Some(existing) = self.items.get_mut(id) {
            *existing = state;
            return 0;
        }
        let mut evicted = 0;
        if self.items.len() >= self.max_items {
            self.items.remove_lru();
            evicted = 1;
        }
        self.items.insert(id.to_owned(), state);
        evicted
    }
}

/// A serializable copy of the core's state, streams and items in least-to-most recent order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Snapshot {
    pub version: u32,
    pub streams: Vec<(StreamKey, StreamState)>,
    pub items: Vec<(String, ItemState)>,
    pub rules: Vec<AlertRule>,
    pub fx: FxRates,
}

impl Snapshot {
    pub const VERSION: u32 = 2;
}
