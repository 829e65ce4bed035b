//! Bucket intervals (`1h`, `1d`, `1w`, `1M`, `300s` …) and the candle builder both backends share.

use std::{fmt, str::FromStr};

use chrono::{Datelike, NaiveDate};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use tcg_schemas::{
    Money, Timestamp,
    time::{MICROS_PER_DAY, MICROS_PER_SEC},
};

use crate::{
    StoreError,
    model::{Candle, FillMode},
};

/// A bucket width. Fixed widths align to the Unix epoch (so days start at 00:00 UTC), weeks start on
/// Monday 00:00 UTC, months on the 1st 00:00 UTC.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Interval {
    /// A fixed number of seconds (> 0).
    Seconds(i64),
    /// A calendar week (Monday to Monday, UTC).
    Week,
    /// A calendar month (UTC).
    Month,
}

impl Interval {
    pub const HOUR: Interval = Interval::Seconds(3600);
    pub const DAY: Interval = Interval::Seconds(86_400);

    /// The start of the bucket holding `ts`.
    pub fn floor(&self, ts: Timestamp) -> Timestamp {
        let us = ts.as_micros();
        match *self {
            Interval::Seconds(s) => {
                let w = s.max(1) * MICROS_PER_SEC;
                Timestamp::from_micros(us.div_euclid(w) * w)
            }
            Interval::Week => {
                // 1970-01-05 was a Monday.
                let w = 7 * MICROS_PER_DAY;
                let off = 4 * MICROS_PER_DAY;
                Timestamp::from_micros((us - off).div_euclid(w) * w + off)
            }
            Interval::Month => {
                let date = ts.to_datetime().date_naive();
                month_start(date.year(), date.month())
            }
        }
    }

    /// The start of the bucket after the one starting at `start`.
    pub fn next(&self, start: Timestamp) -> Timestamp {
        match *self {
            Interval::Seconds(s) => start.plus_secs(s.max(1)),
            Interval::Week => start.plus_secs(7 * 86_400),
            Interval::Month => {
                let date = start.to_datetime().date_naive();
                if date.month() == 12 {
                    month_start(date.year() + 1, 1)
                } else {
                    month_start(date.year(), date.month() + 1)
                }
            }
        }
    }

    /// Bucket starts covering `[from, to)`: the first is `floor(from)`.
    pub fn buckets(&self, from: Timestamp, to: Timestamp) -> Vec<Timestamp> {
        let mut out = Vec::new();
        let mut b = self.floor(from);
        while b < to {
            out.push(b);
            b = self.next(b);
        }
        out
    }

    /// The QuestDB `SAMPLE BY` unit text: `1h`, `1d`, `1w`, `1M`, `90s`.
    pub fn questdb_unit(&self) -> String {
        match *self {
            Interval::Seconds(s) if s % 86_400 == 0 => format!("{}d", s / 86_400),
            Interval::Seconds(s) if s % 3600 == 0 => format!("{}h", s / 3600),
            Interval::Seconds(s) if s % 60 == 0 => format!("{}m", s / 60),
            Interval::Seconds(s) => format!("{s}s"),
            Interval::Week => "1w".into(),
            Interval::Month => "1M".into(),
        }
    }
}

fn month_start(year: i32, month: u32) -> Timestamp {
    NaiveDate::from_ymd_opt(year, month, 1)
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .map_or(Timestamp::from_micros(0), |dt| {
            Timestamp::from_micros(dt.and_utc().timestamp_micros())
        })
}

impl fmt::Display for Interval {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Interval::Seconds(_) => f.write_str(&self.questdb_unit()),
            Interval::Week => f.write_str("1w"),
            Interval::Month => f.write_str("1M"),
        }
    }
}

impl FromStr for Interval {
    type Err = StoreError;

    /// `<n><unit>` with unit `s`, `m`, `h`, `d`, `w` (1 only) or `M` (1 only).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = || StoreError::InvalidQuery(format!("bad interval {s:?}"));
        let t = s.trim();
        let unit = t.chars().last().ok_or_else(bad)?;
        let n: i64 = t[..t.len() - unit.len_utf8()].parse().map_err(|_| bad())?;
        if n <= 0 {
            return Err(bad());
        }
        Ok(match unit {
            's' => Interval::Seconds(n),
            'm' => Interval::Seconds(n.checked_mul(60).ok_or_else(bad)?),
            'h' => Interval::Seconds(n.checked_mul(3600).ok_or_else(bad)?),
            'd' => Interval::Seconds(n.checked_mul(86_400).ok_or_else(bad)?),
            'w' if n == 1 => Interval::Week,
            'M' if n == 1 => Interval::Month,
            _ => return Err(bad()),
        })
    }
}

impl Serialize for Interval {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Interval {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let s = String::deserialize(deserializer)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

/// One aggregated bucket as a backend returns it (prices in USD cents).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RawBucket {
    pub start: Timestamp,
    pub open: i64,
    pub high: i64,
    pub low: i64,
    pub close: i64,
    pub count: u64,
}

/// Aggregates time-ordered `(ts, cents)` points into buckets (only non-empty ones).
pub fn aggregate(
    interval: Interval,
    points: impl IntoIterator<Item = (i64, i64)>,
) -> Vec<RawBucket> {
    let mut out: Vec<RawBucket> = Vec::new();
    let mut next_start = i64::MIN;
    for (ts, cents) in points {
        match out.last_mut() {
            Some(b) if ts < next_start && ts >= b.start.as_micros() => {
                b.high = b.high.max(cents);
                b.low = b.low.min(cents);
                b.close = cents;
                b.count += 1;
            }
            _ => {
                let start = interval.floor(Timestamp::from_micros(ts));
                next_start = interval.next(start).as_micros();
                out.push(RawBucket {
                    start,
                    open: cents,
                    high: cents,
                    low: cents,
                    close: cents,
                    count: 1,
                });
            }
        }
    }
    out
}

/// Buckets of a narrower width (in time order, e.g. days) merged into `interval`'s buckets
/// (weeks start on Monday, months on the 1st, both UTC: whole days).
pub fn merge(interval: Interval, narrow: Vec<RawBucket>) -> Vec<RawBucket> {
    let mut out: Vec<RawBucket> = Vec::new();
    for b in narrow {
        let start = interval.floor(b.start);
        match out.last_mut() {
            Some(w) if w.start == start => {
                w.high = w.high.max(b.high);
                w.low = w.low.min(b.low);
                w.close = b.close;
                w.count += b.count;
            }
            _ => out.push(RawBucket { start, ..b }),
        }
    }
    out
}

/// Whether every instant is the last microsecond of a UTC day (a valuation history of days,
/// weeks or months): then a daily rollup's closes give the prices.
pub fn all_day_ends(instants: impl IntoIterator<Item = Timestamp>) -> bool {
    instants
        .into_iter()
        .all(|t| (t.as_micros() + 1).rem_euclid(MICROS_PER_DAY) == 0)
}

/// Lays non-empty buckets onto every bucket of `[from, to)`, filling empty ones as asked.
/// `prev_close` is the last price before the first bucket.
pub fn fill_candles(
    interval: Interval,
    from: Timestamp,
    to: Timestamp,
    buckets: &[RawBucket],
    prev_close: Option<i64>,
    fill: FillMode,
) -> Vec<Candle> {
    let usd = Money::usd_cents;
    let mut last = prev_close;
    let mut it = buckets.iter().peekable();
    let mut out = Vec::new();
    for start in interval.buckets(from, to) {
        while it.peek().is_some_and(|b| b.start < start) {
            it.next();
        }
        match it.peek() {
            Some(b) if b.start == start => {
                out.push(Candle {
                    start,
                    open: Some(usd(b.open)),
                    high: Some(usd(b.high)),
                    low: Some(usd(b.low)),
                    close: Some(usd(b.close)),
                    count: b.count,
                    filled: false,
                });
                last = Some(b.close);
                it.next();
            }
            _ => {
                let p = match fill {
                    FillMode::PreviousClose => last.map(usd),
                    FillMode::Empty => None,
                };
                out.push(Candle {
                    start,
                    open: p,
                    high: p,
                    low: p,
                    close: p,
                    count: 0,
                    filled: p.is_some(),
                });
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_prints() {
        for (s, i) in [
            ("1h", Interval::HOUR),
            ("1d", Interval::DAY),
            ("1w", Interval::Week),
            ("1M", Interval::Month),
            ("90s", Interval::Seconds(90)),
            ("15m", Interval::Seconds(900)),
        ] {
            assert_eq!(s.parse::<Interval>().unwrap(), i);
            assert_eq!(i.to_string(), s);
        }
        for bad in ["", "0d", "2w", "3M", "-1h", "1x", "h"] {
            assert!(bad.parse::<Interval>().is_err(), "{bad}");
        }
    }

    #[test]
    fn calendar_buckets() {
        let t = Timestamp::parse("2024-02-14T13:00:00Z").unwrap();
        assert_eq!(Interval::Month.floor(t).to_string(), "2024-02-01T00:00:00Z");
        assert_eq!(
            Interval::Month.next(Interval::Month.floor(t)).to_string(),
            "2024-03-01T00:00:00Z"
        );
        // 2024-02-14 was a Wednesday.
        assert_eq!(Interval::Week.floor(t).to_string(), "2024-02-12T00:00:00Z");
        assert_eq!(Interval::DAY.floor(t).to_string(), "2024-02-14T00:00:00Z");
        let dec = Timestamp::parse("2023-12-31T23:59:59Z").unwrap();
        assert_eq!(
            Interval::Month.next(Interval::Month.floor(dec)).to_string(),
            "2024-01-01T00:00:00Z"
        );
        let b = Interval::Month.buckets(
            Timestamp::parse("2024-01-15T00:00:00Z").unwrap(),
            Timestamp::parse("2024-04-01T00:00:00Z").unwrap(),
        );
        assert_eq!(b.len(), 3);
    }

    #[test]
    fn aggregates_and_fills() {
        let d = 86_400 * MICROS_PER_SEC;
        let pts = [(0, 100), (10, 120), (20, 90), (2 * d + 5, 200)];
        let b = aggregate(Interval::DAY, pts);
        assert_eq!(b.len(), 2);
        assert_eq!(
            (b[0].open, b[0].high, b[0].low, b[0].close, b[0].count),
            (100, 120, 90, 90, 3)
        );
        let c = fill_candles(
            Interval::DAY,
            Timestamp::from_micros(-d),
            Timestamp::from_micros(3 * d),
            &b,
            Some(50),
            FillMode::PreviousClose,
        );
        assert_eq!(c.len(), 4);
        assert_eq!(c[0].close, Some(Money::usd_cents(50)));
        assert!(c[0].filled);
        assert_eq!(c[2].close, Some(Money::usd_cents(90)));
        assert!(c[2].filled && c[2].count == 0);
        let e = fill_candles(
            Interval::DAY,
            Timestamp::from_micros(-d),
            Timestamp::from_micros(3 * d),
            &b,
            Some(50),
            FillMode::Empty,
        );
        assert_eq!(e[2].close, None);
        assert!(!e[2].filled);
    }

    fn day(d: i64, open: i64, high: i64, low: i64, close: i64, count: u64) -> RawBucket {
        RawBucket {
            start: Timestamp::from_micros(d * MICROS_PER_DAY),
            open,
            high,
            low,
            close,
            count,
        }
    }

    #[test]
    fn days_merge_into_weeks_and_months() {
        // 1970-01-05 was a Monday: days 4..=10 are one week, day 11 the next.
        let days = vec![
            day(4, 10, 12, 9, 11, 2),
            day(6, 11, 20, 5, 7, 3),
            day(11, 8, 8, 8, 8, 1),
        ];
        let weeks = merge(Interval::Week, days.clone());
        assert_eq!(weeks, vec![day(4, 10, 20, 5, 7, 5), day(11, 8, 8, 8, 8, 1)]);
        assert_eq!(merge(Interval::Month, days), vec![day(0, 10, 20, 5, 8, 6)]);
    }

    #[test]
    fn day_ends_are_the_last_microsecond_of_a_day() {
        let end = |d: i64| Timestamp::from_micros((d + 1) * MICROS_PER_DAY - 1);
        assert!(all_day_ends([end(0), end(5)]));
        assert!(!all_day_ends([
            end(0),
            Timestamp::from_micros(MICROS_PER_DAY)
        ]));
    }
}
