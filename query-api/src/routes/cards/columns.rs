//! The compact shape of a history answer: one series' candles column by column, its currency
//! said once, prices as decimal strings.
//!
//! One year of daily candles is about 17 KB of JSON this way (a bucket costs its start, four
//! prices and a count), against 81 KB as an array of objects whose every price carried its own
//! currency. Columns are also what chart libraries take without reshaping.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::json;
use tcg_schemas::{Currency, Money};
use tcg_store::Candle;

/// Candles column by column: the i-th bucket is `start[i]`, `open[i]`, `high[i]`, `low[i]`,
/// `close[i]`, `count[i]`. A bucket with no tick has count 0: its prices are null (`fill=empty`),
/// or the previous close carried over (`fill=previous`, the default).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[schemars(example = example())]
pub struct CandleColumns {
    /// Bucket starts (inclusive), Unix seconds, UTC.
    pub start: Vec<i64>,
    /// Decimal strings in the series' `currency` ("12.34"); null where the bucket has no price.
    pub open: Vec<Option<String>>,
    pub high: Vec<Option<String>>,
    pub low: Vec<Option<String>>,
    pub close: Vec<Option<String>>,
    /// Ticks in each bucket (0: no tick; the prices, if any, are the previous close's).
    pub count: Vec<u64>,
}

fn example() -> serde_json::Value {
    json!({
        "start": [1_709_251_200, 1_709_337_600, 1_709_424_000],
        "open": ["41.20", "42.05", "42.05"],
        "high": ["42.50", "42.05", "42.05"],
        "low": ["41.20", "42.05", "42.05"],
        "close": ["42.05", "42.05", "42.05"],
        "count": [3, 1, 0]
    })
}

/// The amount of `m` as the decimal string a `Money` carries (`"12.34"`).
fn decimal(m: Option<Money>) -> Option<String> {
    m.map(|m| m.to_decimal().to_string())
}

impl CandleColumns {
    /// The columns of `candles` (in bucket order), all priced in `Currency::USD`.
    pub fn of(candles: Vec<Candle>) -> (Currency, Self) {
        let mut c = Self::default();
        for x in candles {
            c.start.push(x.start.as_secs());
            c.open.push(decimal(x.open));
            c.high.push(decimal(x.high));
            c.low.push(decimal(x.low));
            c.close.push(decimal(x.close));
            c.count.push(x.count);
        }
        (Currency::USD, c)
    }

    /// Buckets in the columns.
    pub fn len(&self) -> usize {
        self.start.len()
    }

    pub fn is_empty(&self) -> bool {
        self.start.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use tcg_schemas::Timestamp;

    use super::*;

    fn candle(day: i64, prices: Option<[i64; 4]>, count: u64) -> Candle {
        let m = |i: usize| prices.map(|p| Money::usd_cents(p[i]));
        Candle {
            start: Timestamp::from_secs(day * 86_400),
            open: m(0),
            high: m(1),
            low: m(2),
            close: m(3),
            count,
            filled: count == 0 && prices.is_some(),
        }
    }

    #[test]
    fn columns_line_up_and_keep_empty_buckets_null() {
        let (currency, c) = CandleColumns::of(vec![
            candle(1, Some([4_120, 4_250, 4_120, 4_205]), 3),
            candle(2, None, 0),
            candle(3, Some([4_205, 4_205, 4_205, 4_205]), 0),
        ]);
        assert_eq!(currency, Currency::USD);
        assert_eq!(c.len(), 3);
        assert_eq!(c.start, vec![86_400, 172_800, 259_200]);
        assert_eq!(c.close[0].as_deref(), Some("42.05"));
        assert_eq!(c.open[1], None);
        assert_eq!(c.count, vec![3, 0, 0]);
        assert_eq!(c.high[2].as_deref(), Some("42.05"));
    }

    #[test]
    fn a_year_of_daily_candles_is_under_20_kb() {
        let year: Vec<Candle> = (0..365)
            .map(|d| {
                let p = 99_000 + d * 37;
                candle(19_000 + d, Some([p, p + 250, p - 250, p + 120]), 4)
            })
            .collect();
        let (_, c) = CandleColumns::of(year);
        let bytes = serde_json::to_vec(&c).unwrap().len();
        // Four-digit dollar prices, the widest a card usually has.
        assert!(bytes <= 20 * 1024, "{bytes} bytes");
    }
}
