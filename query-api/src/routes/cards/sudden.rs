//! Whether a mover moved in one go: the largest change between two of its daily closes at most
//! two days apart within the window (two, so that news breaking in the hours before a daily
//! close still counts as one jump), and `sudden` when that jump carries most of the move. A real market mostly
//! drifts; a move made in a day is news (a reprint announced, a ban, a tournament result), a
//! spike a collector should read before trusting it.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use tcg_schemas::{Money, Timestamp};
use tcg_store::{CandleQuery, FillMode, Mover, PriceFilter, SeriesTarget};

use crate::{error::ApiResult, routes::params::Interval, state::AppState};

/// The largest jump of a series: from one daily close to another at most two days later.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Jump {
    /// The day (bucket start, UTC midnight) of the close before the jump.
    pub from: Timestamp,
    /// The day of the close after it (one or two days later).
    pub to: Timestamp,
    /// The later close against the earlier, in basis points, rounded towards zero.
    pub change_bps: i64,
}

/// A jump is the move when it carries at least this share of the window's (log) move…
const SHARE: f64 = 0.5;
/// …and moved at least this much (10 %) on its own.
const MIN_JUMP_BPS: u64 = 1_000;
/// Closes at most this far apart make one jump.
const SPAN_SECS: i64 = 2 * 86_400;

fn log_of(bps: i64) -> f64 {
    (1.0 + bps as f64 / 10_000.0).max(1e-9).ln()
}

/// The largest jump (by the size of its log change) among `closes` (cents, in day order; `None`
/// = no price that day, skipped).
pub fn largest_jump(closes: &[(Timestamp, Option<i64>)]) -> Option<Jump> {
    let priced: Vec<(Timestamp, i64)> = closes
        .iter()
        .filter_map(|(t, c)| c.filter(|c| *c > 0).map(|c| (*t, c)))
        .collect();
    let mut best: Option<Jump> = None;
    for (i, &(from, before)) in priced.iter().enumerate() {
        for &(to, after) in priced[i + 1..]
            .iter()
            .take_while(|(t, _)| t.as_secs() - from.as_secs() <= SPAN_SECS)
        {
            let change_bps = (i128::from(after - before) * 10_000 / i128::from(before)) as i64;
            let jump = Jump {
                from,
                to,
                change_bps,
            };
            if best.is_none_or(|b| log_of(change_bps).abs() > log_of(b.change_bps).abs()) {
                best = Some(jump);
            }
        }
    }
    best
}

/// Whether `jump` made most of a move of `total_bps`, in the same direction.
pub fn is_sudden(jump: Jump, total_bps: i64) -> bool {
    let (j, t) = (log_of(jump.change_bps), log_of(total_bps));
    jump.change_bps.unsigned_abs() >= MIN_JUMP_BPS
        && j.signum() == t.signum()
        && j.abs() >= SHARE * t.abs()
}

/// The daily closes of a mover's series over its window, and its largest jump.
pub async fn of(state: &AppState, m: &Mover) -> ApiResult<Option<Jump>> {
    let read = CandleQuery {
        target: SeriesTarget::Series(m.series_id.clone()),
        prices: PriceFilter {
            sources: vec![m.source],
            kinds: vec![m.kind],
        },
        interval: Interval::Day.buckets(),
        from: Interval::Day.buckets().floor(m.start_at),
        to: m.end_at.plus_secs(1),
        fill: FillMode::Empty,
    };
    let candles = state.prices().candles(&read).await?;
    let closes: Vec<(Timestamp, Option<i64>)> = candles
        .into_iter()
        .flat_map(|s| s.candles)
        .map(|c| (c.start, c.close.map(|m: Money| m.minor)))
        .collect();
    Ok(largest_jump(&closes))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn days(cents: &[Option<i64>]) -> Vec<(Timestamp, Option<i64>)> {
        cents
            .iter()
            .enumerate()
            .map(|(i, c)| (Timestamp::from_secs(i as i64 * 86_400), *c))
            .collect()
    }

    fn jump(change_bps: i64) -> Jump {
        Jump {
            from: Timestamp::from_secs(0),
            to: Timestamp::from_secs(86_400),
            change_bps,
        }
    }

    #[test]
    fn the_largest_jump_spans_at_most_two_days_and_keeps_its_sign() {
        // 1010 → 600 over one day is the largest; 1000 → 1010 → 600 → 610.
        let d = largest_jump(&days(&[Some(1000), None, Some(1010), Some(600), Some(610)])).unwrap();
        assert_eq!(d.from, Timestamp::from_secs(2 * 86_400));
        assert_eq!(d.to, Timestamp::from_secs(3 * 86_400));
        assert_eq!(d.change_bps, -4_059);
        // News split across two closes is still one jump: +20 % then +25 % = +50 %.
        let d = largest_jump(&days(&[Some(1000), Some(1200), Some(1500), Some(1510)])).unwrap();
        assert_eq!(
            (d.from, d.to, d.change_bps),
            (
                Timestamp::from_secs(0),
                Timestamp::from_secs(2 * 86_400),
                5_000
            )
        );
        // Closes three days apart are not one jump.
        let d = largest_jump(&days(&[Some(1000), None, None, Some(2000)]));
        assert_eq!(d, None);
        assert_eq!(largest_jump(&days(&[Some(1000)])), None);
    }

    #[test]
    fn a_spike_is_sudden_a_drift_is_not() {
        // +60 % in a week, +50 % of it in one jump: news.
        assert!(is_sudden(jump(5_000), 6_000));
        // +60 % in a week at about 7 % a day: a drift.
        assert!(!is_sudden(jump(1_400), 6_000));
        // A crash inside a week that went up overall is not the week's move.
        assert!(!is_sudden(jump(-3_000), 2_000));
        assert!(is_sudden(jump(-3_000), -3_500));
        // Small moves are never sudden.
        assert!(!is_sudden(jump(900), 900));
    }
}
