//! Per-stream and per-item memory of the core, bounded by caps with least-recently-seen
//! eviction, and its snapshot form.

use std::{collections::VecDeque, hash::BuildHasher};

use hashlink::{LinkedHashMap, LruCache};
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
            _ => {
                // Most streams hold one day and a point or two: their first buffers are sized
                // for one (a stream in memory is a few hundred bytes, not a kilobyte).
                if self.days.capacity() == 0 {
                    self.days.reserve_exact(1);
                }
                self.days.push_back(DayRange {
                    day,
                    low: cents,
                    high: cents,
                });
            }
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
        if self.window.capacity() == 0 {
            self.window.reserve_exact(1);
        }
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

/// The streams of one series in memory, in the order they were first seen: what the fair value,
/// the confirmation of moves and the deal rules read of a series is together, one lookup away.
#[derive(Debug, Clone)]
pub struct SeriesStreams {
    /// The series id ([`SeriesKey::id`]), made once for all the series' ticks.
    id: String,
    streams: Vec<(Source, PriceKind, StreamState)>,
}

impl SeriesStreams {
    /// The series id ([`SeriesKey::id`]).
    pub fn id(&self) -> &str {
        &self.id
    }

    fn position(&self, source: Source, kind: PriceKind) -> Option<usize> {
        self.streams
            .iter()
            .position(|(s, k, _)| *s == source && *k == kind)
    }

    /// The stream of (`source`, `kind`), if it is in memory.
    pub fn get(&self, source: Source, kind: PriceKind) -> Option<&StreamState> {
        self.position(source, kind).map(|i| &self.streams[i].2)
    }

    pub fn get_mut(&mut self, source: Source, kind: PriceKind) -> Option<&mut StreamState> {
        self.position(source, kind).map(|i| &mut self.streams[i].2)
    }

    /// Number of streams.
    pub fn len(&self) -> usize {
        self.streams.len()
    }

    pub fn is_empty(&self) -> bool {
        self.streams.is_empty()
    }

    /// The streams, first seen first.
    pub fn iter(&self) -> impl Iterator<Item = (Source, PriceKind, &StreamState)> {
        self.streams.iter().map(|(s, k, st)| (*s, *k, st))
    }
}

/// A stream in memory, as [`Memory::stream`] finds or makes it.
#[derive(Debug)]
pub struct Slot<'a> {
    pub state: &'a mut StreamState,
    /// Its series' id.
    pub series_id: &'a str,
    /// Whether the stream was already in memory.
    pub known: bool,
    /// Streams evicted to make room for it.
    pub evicted: u64,
}

/// The series in memory, least recently seen first.
pub type Series = LinkedHashMap<SeriesKey, SeriesStreams, FxBuildHasher>;

/// Bounded maps of streams (grouped by series) and items.
///
/// The cap on streams evicts whole series, least recently seen first (a series is seen when any
/// of its streams is); only when the series being written is the one series left do its own
/// oldest streams go.
#[derive(Debug)]
pub struct Memory {
    pub series: Series,
    pub items: LruCache<String, ItemState, FxBuildHasher>,
    streams: usize,
    max_streams: usize,
    max_items: usize,
}

impl Memory {
    pub fn new(max_streams: usize, max_items: usize) -> Self {
        Memory {
            series: LinkedHashMap::with_capacity_and_hasher(
                max_streams.clamp(1, 1 << 17),
                FxBuildHasher,
            ),
            items: LruCache::with_hasher(max_items.max(1), FxBuildHasher),
            streams: 0,
            max_streams: max_streams.max(1),
            max_items: max_items.max(1),
        }
    }

    /// Number of streams in memory.
    pub fn streams(&self) -> usize {
        self.streams
    }

    /// The stream (`series`, `source`, `kind`), created if new (evicting the least recently seen
    /// series when full); the series becomes the most recently seen.
    pub fn stream(&mut self, series: &SeriesKey, source: Source, kind: PriceKind) -> Slot<'_> {
        use hashlink::linked_hash_map::RawEntryMut;
        let hash = FxBuildHasher.hash_one(series);
        let known = match self
            .series
            .raw_entry_mut()
            .from_key_hashed_nocheck(hash, series)
        {
            RawEntryMut::Occupied(mut occupied) => {
                occupied.to_back();
                occupied.get().position(source, kind)
            }
            RawEntryMut::Vacant(_) => None,
        };
        let evicted = match known {
            Some(_) => 0,
            None => self.make_room(series),
        };
        let streams = match self
            .series
            .raw_entry_mut()
            .from_key_hashed_nocheck(hash, series)
        {
            RawEntryMut::Occupied(occupied) => occupied.into_mut(),
            RawEntryMut::Vacant(vacant) => {
                let empty = SeriesStreams {
                    id: series.id(),
                    streams: Vec::with_capacity(2),
                };
                vacant.insert_hashed_nocheck(hash, series.clone(), empty).1
            }
        };
        let index = match known {
            Some(i) => i,
            None => {
                streams.streams.push((source, kind, StreamState::default()));
                self.streams += 1;
                streams.streams.len() - 1
            }
        };
        Slot {
            state: &mut streams.streams[index].2,
            series_id: &streams.id,
            known: known.is_some(),
            evicted,
        }
    }

    /// Evicts until a new stream of `current` fits: the least recently seen series first, the
    /// oldest streams of `current` itself only when it is the one series left.
    fn make_room(&mut self, current: &SeriesKey) -> u64 {
        let mut evicted = 0;
        while self.streams >= self.max_streams {
            let front_is_current = self.series.iter().next().is_some_and(|(k, _)| k == current);
            let gone = if front_is_current && self.series.len() == 1 {
                self.series
                    .get_mut(current)
                    .filter(|s| !s.streams.is_empty())
                    .map(|s| {
                        s.streams.remove(0);
                        1
                    })
            } else {
                self.series.pop_front().map(|(_, s)| s.len())
            };
            let Some(gone) = gone else { break };
            self.streams -= gone;
            evicted += gone as u64;
        }
        evicted
    }

    /// The streams of `series`, without making it more recently seen.
    pub fn peek(&self, series: &SeriesKey) -> Option<&SeriesStreams> {
        self.series.get(series)
    }

    /// Every stream, least recently seen series first, each series' streams first seen first.
    pub fn iter_streams(&self) -> impl Iterator<Item = (StreamKey, &StreamState)> {
        self.series.iter().flat_map(|(series, streams)| {
            streams.iter().map(|(source, kind, state)| {
                let key = StreamKey {
                    series: series.clone(),
                    source,
                    kind,
                };
                (key, state)
            })
        })
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
