//! Whether other sources confirm a mover: for a mover of series S on source X, the prices of S
//! that things sold at (TCGplayer's market, eBay sales: the fair value's inputs that confirm
//! moves, `tcg_processor_core::fair::INPUTS`) at the window's start and end, counted by
//! independent source (TCGplayer's API and TCGCSV are one). A source confirms when it moved the
//! same way by at least half as much; the mover's own source confirms itself when it is such an
//! input. "Confirmed by 1 of 2 sources" is a single-source move: one source's spike, or a broken
//! price, until another shows it too.

use tcg_processor_core::fair::{self, FairInput, INPUTS};
use tcg_schemas::{Money, Timestamp};
use tcg_store::{CandleQuery, FillMode, Mover, PriceFilter, SeriesCandles, SeriesTarget};

use crate::{error::ApiResult, routes::params::Interval, state::AppState};

/// How many independent sources show a mover's move.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Confirmed {
    /// Sources that moved the same way by at least half as much (the mover's own included).
    pub confirmed_by: u8,
    /// Sources with a price at both ends of the window.
    pub sources_priced: u8,
}

/// The start and end of one price stream: the close of the last bucket that starts at or before
/// `since`, and the last close.
fn ends(candles: &SeriesCandles, since: Timestamp) -> Option<(i64, i64)> {
    let closes = || {
        candles
            .candles
            .iter()
            .filter_map(|c| c.close.map(|m: Money| (c.start, m.minor)))
    };
    let start = closes().rfind(|(t, _)| *t <= since)?.1;
    let end = closes().next_back()?.1;
    Some((start, end))
}

/// Counts the sources that confirm `m`, given the candles of its series' confirming inputs over
/// the window opening at `since`.
pub fn count(m: &Mover, since: Timestamp, candles: &[SeriesCandles]) -> Confirmed {
    let mut priced: Vec<&FairInput> = Vec::new();
    let mut confirmed: Vec<&FairInput> = Vec::new();
    if let Some(own) = fair::input(m.source, m.kind).filter(|i| i.confirms) {
        priced.push(own);
        confirmed.push(own);
    }
    let moved = (m.start_usd.minor, m.end_usd.minor);
    for c in candles {
        let Some(input) = fair::input(c.source, c.kind).filter(|i| i.confirms) else {
            continue;
        };
        if (c.source, c.kind) == (m.source, m.kind) {
            continue;
        }
        let Some(other) = ends(c, since) else {
            continue;
        };
        priced.push(input);
        if fair::same_way(moved, other) {
            confirmed.push(input);
        }
    }
    Confirmed {
        confirmed_by: fair::count_groups(confirmed),
        sources_priced: fair::count_groups(priced),
    }
}

/// Reads the candles of the mover's series (hourly for a window of a day or less, else daily)
/// from `lookback_secs` before the window's start to `as_of`, and counts the confirmations.
pub async fn of(
    state: &AppState,
    m: &Mover,
    (since, as_of): (Timestamp, Timestamp),
    lookback_secs: i64,
) -> ApiResult<Confirmed> {
    let inputs = INPUTS.iter().filter(|i| i.confirms);
    let mut prices = PriceFilter::default();
    for i in inputs {
        if !prices.sources.contains(&i.source) {
            prices.sources.push(i.source);
        }
        if !prices.kinds.contains(&i.kind) {
            prices.kinds.push(i.kind);
        }
    }
    let interval = if as_of.as_secs() - since.as_secs() <= 86_400 {
        Interval::Hour
    } else {
        Interval::Day
    };
    let read = CandleQuery {
        target: SeriesTarget::Series(m.series_id.clone()),
        prices,
        interval: interval.buckets(),
        from: interval.buckets().floor(since.minus_secs(lookback_secs)),
        to: as_of.plus_secs(1),
        fill: FillMode::Empty,
    };
    let candles = state.prices().candles(&read).await?;
    Ok(count(m, since, &candles))
}

#[cfg(test)]
mod tests {
    use tcg_schemas::{PriceKind, ProductId, Source};
    use tcg_store::Candle;

    use super::*;

    const DAY: i64 = 86_400;

    fn mover(source: Source, kind: PriceKind, start: i64, end: i64) -> Mover {
        Mover {
            series_id: "7/holofoil/nm/en".into(),
            product_id: ProductId(7),
            source,
            kind,
            start_usd: Money::usd_cents(start),
            start_at: Timestamp::from_secs(0),
            end_usd: Money::usd_cents(end),
            end_at: Timestamp::from_secs(7 * DAY),
            change_bps: tcg_store::movers::change_bps(start, end),
        }
    }

    fn closes(source: Source, kind: PriceKind, days: &[(i64, i64)]) -> SeriesCandles {
        SeriesCandles {
            series_id: "7/holofoil/nm/en".into(),
            source,
            kind,
            candles: days
                .iter()
                .map(|&(d, c)| Candle {
                    start: Timestamp::from_secs(d * DAY),
                    open: Some(Money::usd_cents(c)),
                    high: Some(Money::usd_cents(c)),
                    low: Some(Money::usd_cents(c)),
                    close: Some(Money::usd_cents(c)),
                    count: 1,
                    filled: false,
                })
                .collect(),
        }
    }

    #[test]
    fn sources_count_once_and_confirm_by_half_the_move() {
        let since = Timestamp::from_secs(0);
        let m = mover(Source::Tcgcsv, PriceKind::Market, 1_000, 2_000);
        // TCGplayer's API is the same source as TCGCSV; eBay sales rose 60 %: confirmed by 2 of 2.
        let candles = [
            closes(
                Source::Tcgplayer,
                PriceKind::Market,
                &[(0, 1_000), (7, 1_000)],
            ),
            closes(
                Source::EbaySold,
                PriceKind::Sold,
                &[(-1, 1_000), (6, 1_600)],
            ),
            closes(
                Source::Tcgplayer,
                PriceKind::High,
                &[(0, 1_000), (7, 99_900)],
            ),
        ];
        let c = count(&m, since, &candles);
        assert_eq!((c.confirmed_by, c.sources_priced), (2, 2));
        // Sales up 40 % only (less than half of +100 %): a single-source move.
        let candles = [closes(
            Source::EbaySold,
            PriceKind::Sold,
            &[(0, 1_000), (6, 1_400)],
        )];
        let c = count(&m, since, &candles);
        assert_eq!((c.confirmed_by, c.sources_priced), (1, 2));
        // No sale before the window's start: not priced.
        let candles = [closes(Source::EbaySold, PriceKind::Sold, &[(3, 1_000)])];
        let c = count(&m, since, &candles);
        assert_eq!((c.confirmed_by, c.sources_priced), (1, 1));
    }

    #[test]
    fn a_fair_value_mover_counts_the_markets_only() {
        let m = mover(Source::Tcgtracker, PriceKind::Fair, 1_000, 1_500);
        let candles = [
            closes(Source::Tcgcsv, PriceKind::Market, &[(0, 1_000), (7, 1_500)]),
            closes(Source::EbaySold, PriceKind::Sold, &[(0, 1_000), (7, 1_000)]),
        ];
        let c = count(&m, Timestamp::from_secs(0), &candles);
        assert_eq!((c.confirmed_by, c.sources_priced), (1, 2));
    }
}
