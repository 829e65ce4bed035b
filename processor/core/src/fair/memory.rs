//! The fair value's candidates and the confirmation of moves, read from the core's stream memory
//! (the same state the rules use, so both survive restarts and replays as it does).

use tcg_schemas::{PriceKind, Source, Timestamp};

use super::{Candidate, FairInput, INPUTS, count_groups, input, same_way};
use crate::state::{SeriesStreams, StreamState};

/// The median of the single items of `stream` observed in `[from, to]`, their number and the
/// newest one's time.
fn items_between(
    stream: &StreamState,
    from: Timestamp,
    to: Timestamp,
) -> Option<(i64, u32, Timestamp)> {
    let mut prices = Vec::new();
    let mut newest = from;
    for &(t, cents) in stream.window.iter().filter(|(t, _)| *t >= from && *t <= to) {
        prices.push(cents);
        newest = newest.max(t);
    }
    if prices.is_empty() {
        return None;
    }
    let (n, mid) = (prices.len(), prices.len() / 2);
    let (below, &mut upper, _) = prices.select_nth_unstable(mid);
    let median = match below.iter().max() {
        Some(&lower) if mid * 2 == n => ((i128::from(lower) + i128::from(upper)) / 2) as i64,
        _ => upper,
    };
    Some((
        median,
        u32::try_from(prices.len()).unwrap_or(u32::MAX),
        newest,
    ))
}

/// The input's current value in `stream` at `at`, if it has one within its window.
fn current(input: &FairInput, stream: &StreamState, at: Timestamp) -> Option<Candidate> {
    let horizon = at.minus_secs(input.window_secs);
    let (cents, weight, observed_at) = if input.items {
        let (median, n, newest) = items_between(stream, horizon, Timestamp::from_micros(i64::MAX))?;
        (median, input.weight.saturating_mul(n), newest)
    } else {
        if stream.last_observed_at < horizon {
            return None;
        }
        (stream.last_price, input.weight, stream.last_observed_at)
    };
    Some(Candidate {
        source: input.source,
        kind: input.kind,
        group: input.group,
        cents,
        weight: weight.min(input.max_weight),
        observed_at,
    })
}

/// The candidates of a series (its streams in memory) at `at`, among the inputs of `mask` (bit
/// `i` for row `i` of [`INPUTS`]), in the order of [`INPUTS`].
pub fn candidates(series: &SeriesStreams, at: Timestamp, mask: u32) -> Candidates {
    let mut out = Candidates::default();
    fill_candidates(series, at, mask, &mut out);
    out
}

/// [`candidates`] into `out` (emptied first), which the caller keeps on its stack.
pub fn fill_candidates(series: &SeriesStreams, at: Timestamp, mask: u32, out: &mut Candidates) {
    out.len = 0;
    for (i, input) in INPUTS.iter().enumerate() {
        if mask & (1 << i) == 0 {
            continue;
        }
        if let Some(c) = series
            .get(input.source, input.kind)
            .and_then(|stream| current(input, stream, at))
        {
            out.push(c);
        }
    }
}

/// The inputs that have a stream in a series' memory, as a mask for [`candidates`].
pub fn scan(series: &SeriesStreams) -> u32 {
    series
        .iter()
        .filter_map(|(source, kind, _)| super::input_bit(source, kind))
        .fold(0, |mask, bit| mask | bit)
}

/// At most one candidate per input, kept on the stack.
#[derive(Debug, Clone, Copy)]
pub struct Candidates {
    items: [Candidate; INPUTS.len()],
    len: usize,
}

impl Default for Candidates {
    fn default() -> Self {
        Candidates {
            items: [super::NO_CANDIDATE; INPUTS.len()],
            len: 0,
        }
    }
}

impl Candidates {
    fn push(&mut self, c: Candidate) {
        if let Some(slot) = self.items.get_mut(self.len) {
            *slot = c;
            self.len += 1;
        }
    }

    pub fn as_slice(&self) -> &[Candidate] {
        &self.items[..self.len]
    }

    pub fn as_mut_slice(&mut self) -> &mut [Candidate] {
        &mut self.items[..self.len]
    }
}

/// How many independent sources confirm a move.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Confirmation {
    /// Sources that moved the same way by at least half as much (the watched one included).
    pub confirmed_by: u8,
    /// Sources with a price at both ends of the window.
    pub sources_priced: u8,
}

/// The value of `input` in `stream` at `t`: the last price at or before it, or for single items
/// the median of those within `span` seconds before it.
fn value_at(input: &FairInput, stream: &StreamState, t: Timestamp, span: i64) -> Option<i64> {
    if input.items {
        return items_between(stream, t.minus_secs(span), t).map(|(m, _, _)| m);
    }
    stream
        .window
        .iter()
        .rev()
        .find(|(at, _)| *at <= t)
        .map(|&(_, c)| c)
}

/// A move of a series (its streams in memory), seen on (`own` source, kind), from `from` (cents,
/// at the time given) to `to`, within a window opening at `window_start`: which of the inputs that confirm
/// moves (market prices, sales) moved the same way by at least half as much, counted by
/// independent source. The watched price's own source counts as confirming when it is such an
/// input. Single items compare the medians of the `max(window, 7 days)` (at most their own
/// window) before each end.
pub fn confirmations(
    series: &SeriesStreams,
    own: (Source, PriceKind),
    window_start: Timestamp,
    from: (Timestamp, i64),
    to: (Timestamp, i64),
) -> Confirmation {
    let mut priced: Vec<&FairInput> = Vec::new();
    let mut confirmed: Vec<&FairInput> = Vec::new();
    if let Some(i) = input(own.0, own.1).filter(|i| i.confirms) {
        priced.push(i);
        confirmed.push(i);
    }
    let window = to.0.as_secs() - window_start.as_secs();
    for i in INPUTS
        .iter()
        .filter(|i| i.confirms && (i.source, i.kind) != own)
    {
        let Some(stream) = series.get(i.source, i.kind) else {
            continue;
        };
        let span = window.max(7 * 86_400).min(i.window_secs);
        let start = value_at(i, stream, from.0, span).or_else(|| {
            // A price that began inside the window starts there (not for single items).
            (!i.items)
                .then(|| {
                    stream
                        .window
                        .iter()
                        .find(|(t, _)| *t >= window_start && *t <= to.0)
                })
                .flatten()
                .map(|&(_, c)| c)
        });
        let (Some(start), Some(end)) = (start, value_at(i, stream, to.0, span)) else {
            continue;
        };
        priced.push(i);
        if same_way((from.1, to.1), (start, end)) {
            confirmed.push(i);
        }
    }
    Confirmation {
        confirmed_by: count_groups(confirmed),
        sources_priced: count_groups(priced),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stream(points: &[(i64, i64)]) -> StreamState {
        let mut s = StreamState::default();
        for &(t, c) in points {
            s.record(Timestamp::from_secs(t), c, false, 40 * 86_400, 256, 400);
        }
        s
    }

    #[test]
    fn items_count_by_their_median_and_their_number_up_to_the_cap() {
        let sold = input(Source::EbaySold, PriceKind::Sold).unwrap();
        let s = stream(&[(0, 1_000), (10, 1_200), (20, 90_000), (30, 1_100)]);
        let c = current(sold, &s, Timestamp::from_secs(40)).unwrap();
        assert_eq!((c.cents, c.weight), (1_150, 12));
        let one = stream(&[(0, 5_000)]);
        let listing = input(Source::EbayBrowse, PriceKind::Listing).unwrap();
        let c = current(listing, &one, Timestamp::from_secs(40)).unwrap();
        assert_eq!((c.cents, c.weight), (5_000, 1), "a single listing weighs 1");
        // Items older than the input's window are gone.
        assert!(current(listing, &one, Timestamp::from_secs(8 * 86_400)).is_none());
    }
}
