//! Prices as a pure function of (seed, product, printing, time): no state, so any request at any
//! time is computable on its own and every route (live prices, the TCGCSV archive) agrees.
//!
//! # The model
//!
//! Time is real time (Unix seconds), not steps. Routes quote prices at the start of the current
//! step ([`quote_time`]), so `step_secs` only sets how often a quote changes, never how far a
//! price moves in a day. The near-mint market price of a product's printing at `t` is
//!
//! `base × exp(volatility × trend + intraday + drift + news + printing)`, in cents (≥ 1):
//!
//! - trend: smooth value noise (random values on a lattice, smoothstep between them) in octaves
//!   with periods of 1, 7, 30, 120 and 365 days ([`TREND`]): at volatility 1 a day moves by a
//!   median ~0.8 % (sd ~1.5 %), a week by a few %, a year by tens of %. Bounded: over a year of
//!   the default catalog no week moves beyond ×/÷1.25 without news (`tests/distribution.rs`).
//! - volatility: the product's (`SimProduct::volatility`, set by the catalog from the rarity:
//!   0.5–0.7 for commons up to 1.1–1.7 for the top rarity; 0.3–0.5 for sealed products).
//! - intraday: octaves of 5 minutes and 2 hours, ±0.5 % at most ([`INTRADAY`]), so a live demo
//!   moves minute to minute.
//! - drift: sealed products only, +3–8 % a year (since 2024-01-01).
//! - news: rare events, about one a product a year ([`news_event`]): a spike ×1.3–2.5 or a crash
//!   ×0.45–0.75 within six hours, fading over months; the only way a week moves beyond ×/÷1.4.
//! - bulk floor: the result is `hypot(price, 10 ¢)`, so commons sit around 10–25 ¢ and barely
//!   move, as real bulk does (a one-cent tick there is a big % move).
//! - printing: the first printing is the base; a holofoil/foil (second printing) is worth
//!   ×1.6–3 (Yu-Gi-Oh!'s Unlimited ×0.6–0.9 of 1st Edition), a reverse holofoil ×1.1–1.4, each
//!   with its own slow ±5 % wobble.
//!
//! Rows around the market ([`price_row`], [`sku_row`]): low 0.7–0.95×, mid 1.0–1.25×, high
//! 1.3–3× the market, each spread wandering slowly (period 2 days), so `low ≤ market ≤ mid ≤ high`
//! on every row. A SKU's market is the printing's near-mint market times its condition's ratio
//! (NM 1, LP 0.85, MP 0.7, HP 0.5, DMG 0.35) and, for other languages, 0.8, each ratio with its own
//! ±5.5 % wobble (periods 30, 5 and 1 days): related, never in lock-step, always ordered. Nulls (a
//! missing low, market or direct low) are drawn per quote.

mod news;

pub use news::news_event;

use crate::rng::{hash, mix, unit};

use super::catalog::{SimProduct, SkuParts};

/// Seconds in a day.
pub const DAY: i64 = 86_400;

/// Trend octaves: (period in seconds, amplitude of ln price at volatility 1).
pub const TREND: [(i64, f64); 5] = [
    (DAY, 0.018),
    (7 * DAY, 0.04),
    (30 * DAY, 0.07),
    (120 * DAY, 0.12),
    (365 * DAY, 0.2),
];

/// Intraday octaves: (period in seconds, amplitude of ln price), whatever the volatility.
pub const INTRADAY: [(i64, f64); 2] = [(300, 0.002), (2 * 3600, 0.003)];

/// Sealed products' drift starts at 2024-01-01T00:00:00Z.
const DRIFT_EPOCH: i64 = 1_704_067_200;

/// Amplitude (ln) of a printing's premium wobble (period 45 days).
const PRINTING_WOBBLE: f64 = 0.05;
/// Amplitudes (ln) of a condition's or language's ratio wobble: periods 30, 5 and 1 days, ±5.5 %
/// in all, less than half the smallest gap between conditions (ln 0.85 ≈ −16 %), so they stay
/// ordered whatever the wobbles do.
const RATIO_WOBBLE: [(i64, f64); 3] = [(30 * DAY, 0.025), (5 * DAY, 0.015), (DAY, 0.015)];

/// Nobody sells a single for much less than this (cents): the price is `hypot(raw, floor)`, which
/// leaves a dollar card alone and holds bulk commons around 10–25 ¢, where they barely move.
const BULK_FLOOR_CENTS: f64 = 10.0;

/// The instant a price quoted at `secs` is computed for: the start of its step.
pub fn quote_time(secs: i64, step_secs: u64) -> i64 {
    let step = i64::try_from(step_secs.max(1)).unwrap_or(i64::MAX);
    secs.div_euclid(step) * step
}

fn smoothstep(x: f64) -> f64 {
    let x = x.clamp(0.0, 1.0);
    x * x * (3.0 - 2.0 * x)
}

/// Number `k` of the SplitMix64 stream seeded by `key`: a cheap, well-mixed key of its own
/// (prices are evaluated millions of times in a year's test).
fn sub(key: u64, k: u64) -> u64 {
    mix(key.wrapping_add(k.wrapping_mul(0x9E37_79B9_7F4A_7C15)))
}

/// Smooth noise in [-1, 1] at position `x` (in lattice units), keyed by `key`.
fn value_noise(key: u64, x: f64) -> f64 {
    let i = x.floor();
    let s = smoothstep(x - i);
    let a = unit(sub(key, i as i64 as u64)) * 2.0 - 1.0;
    let b = unit(sub(key, (i as i64 + 1) as u64)) * 2.0 - 1.0;
    a + (b - a) * s
}

/// Value noise over time with period `period` seconds and a phase of its own.
fn noise(key: u64, t: i64, period: i64) -> f64 {
    value_noise(key, t as f64 / period as f64 + unit(key))
}

/// A slowly wandering number in [0, 1] (period two days) keyed by `key` and `k`.
fn spread(key: u64, k: u64, t: i64) -> f64 {
    0.5 + 0.5 * noise(sub(key, k), t, 2 * DAY)
}

fn octaves(key: u64, salt: u64, octaves: &[(i64, f64)], t: i64) -> f64 {
    let key = sub(key, salt);
    octaves
        .iter()
        .zip(0u64..)
        .map(|(&(period, amp), k)| amp * noise(sub(key, k), t, period))
        .sum()
}

/// ln of a printing's premium over the first printing at `t`.
fn printing_log(key: u64, p: &SimProduct, printing: usize, t: i64) -> f64 {
    let (lo, span) = match (p.category_id, printing) {
        (_, 0) => return 0.0,
        (2, 1) => (0.6, 0.3),
        (_, 1) => (1.6, 1.4),
        _ => (1.1, 0.3),
    };
    let premium = lo + span * unit(hash(&[key, 10 + printing as u64]));
    premium.ln() + PRINTING_WOBBLE * noise(sub(key, 20 + printing as u64), t, 45 * DAY)
}

/// The near-mint market price of a product's printing at `t` (Unix seconds), in cents, unrounded.
pub fn market_price(seed: u64, p: &SimProduct, printing: usize, t: i64) -> f64 {
    let key = hash(&[seed, p.product_id]);
    let trend = p.volatility * octaves(key, 1, &TREND, t);
    let intraday = octaves(key, 2, &INTRADAY, t);
    let drift = if p.is_sealed() {
        let rate = 0.03 + 0.05 * unit(hash(&[key, 0xD21F]));
        rate * (t - DRIFT_EPOCH) as f64 / (365.0 * DAY as f64)
    } else {
        0.0
    };
    let news = news::news_log(seed, p.product_id, t);
    let log = trend + intraday + drift + news + printing_log(key, p, printing, t);
    (p.base_cents as f64 * log.exp()).hypot(BULK_FLOOR_CENTS)
}

/// The near-mint market price of a product's printing at `t` (Unix seconds), in cents (≥ 1).
pub fn market_cents(seed: u64, p: &SimProduct, printing: usize, t: i64) -> i64 {
    (market_price(seed, p, printing, t).round() as i64).max(1)
}

/// A condition's typical ratio to near mint (1 Near Mint and 6 Unopened: 1).
pub fn condition_ratio(condition_id: u32) -> f64 {
    match condition_id {
        1 | 6 => 1.0,
        2 => 0.85,
        3 => 0.7,
        4 => 0.5,
        _ => 0.35,
    }
}

/// A SKU's ratio to its printing's near-mint market at `t`: its condition's and language's
/// typical ratios, each wobbling slowly on its own.
pub fn sku_ratio(seed: u64, s: &SkuParts, t: i64) -> f64 {
    let key = hash(&[seed, s.product_id, s.printing as u64, 0x5C0]);
    let lang = u64::from(s.language_id);
    let wobble = |k: u64| octaves(k, 3, &RATIO_WOBBLE, t);
    let language = if s.language_id == 1 {
        0.0
    } else {
        0.8f64.ln() + wobble(sub(key, lang))
    };
    let condition = if matches!(s.condition_id, 1 | 6) {
        0.0
    } else {
        condition_ratio(s.condition_id).ln()
            + wobble(sub(sub(key, lang), u64::from(s.condition_id)))
    };
    (language + condition).exp()
}

/// One TCGplayer product price row's figures, in cents (`None` = null).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PriceRow {
    pub low: Option<i64>,
    pub mid: Option<i64>,
    pub high: Option<i64>,
    pub market: Option<i64>,
    pub direct_low: Option<i64>,
}

fn scaled(cents: i64, f: f64) -> i64 {
    ((cents as f64 * f).round() as i64).max(1)
}

/// The product price row of a printing quoted at `t` (see [`quote_time`]): low 0.7–0.95×,
/// mid 1.0–1.25×, high 1.3–3× the market; direct low 0.95–1.1×.
pub fn price_row(seed: u64, p: &SimProduct, printing: usize, t: i64) -> PriceRow {
    let m = market_cents(seed, p, printing, t);
    let key = hash(&[seed, p.product_id, printing as u64]);
    let h = hash(&[seed, p.product_id, printing as u64, t as u64]);
    let u = |k: u64| unit(hash(&[h, k]));
    let s = |k: u64| spread(key, k, t);
    PriceRow {
        low: (u(0) > 0.02).then(|| scaled(m, 0.7 + 0.25 * s(1))),
        mid: Some(scaled(m, 1.0 + 0.25 * s(2))),
        high: Some(scaled(m, 1.3 + 1.7 * s(5))),
        market: (u(3) > 0.01).then_some(m),
        direct_low: (u(6) > 0.4).then(|| scaled(m, 0.95 + 0.15 * s(7))),
    }
}

/// A SKU price row quoted at `t` (see [`quote_time`]): (low, lowest shipping, lowest listing,
/// market, direct low), with low 0.75–0.9× ≤ lowest listing 0.9–1× ≤ market.
pub fn sku_row(seed: u64, p: &SimProduct, s: &SkuParts, t: i64) -> [Option<i64>; 5] {
    let m = scaled(market_cents(seed, p, s.printing, t), sku_ratio(seed, s, t));
    let key = hash(&[seed, s.id()]);
    let h = hash(&[seed, s.id(), t as u64]);
    let u = |k: u64| unit(hash(&[h, k]));
    let sp = |k: u64| spread(key, k, t);
    let shipping = [0, 99, 125, 199][(u(0) * 4.0) as usize % 4];
    [
        Some(scaled(m, 0.75 + 0.15 * sp(1))),
        Some(shipping),
        Some(scaled(m, 0.9 + 0.1 * sp(2))),
        (u(3) > 0.05).then_some(m),
        (u(4) > 0.5).then(|| scaled(m, 0.95 + 0.1 * sp(5))),
    ]
}

/// Cents as the JSON number TCGplayer sends (`0.74`); exact to two places.
pub fn dollars(cents: i64) -> f64 {
    cents as f64 / 100.0
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::SimCatalog;

    #[test]
    fn prices_are_deterministic_smooth_minute_to_minute_and_independent_of_the_step() {
        let cat = SimCatalog::generate(3, &[3], 1, 20, 1);
        let t0 = 1_709_323_200;
        for p in &cat.products {
            let i = p.printings[0];
            assert_eq!(market_cents(3, p, i, t0), market_cents(3, p, i, t0));
            // A quote depends on the instant, not on the step that led to it.
            assert_eq!(
                market_price(3, p, i, quote_time(t0 + 59, 60)),
                market_price(3, p, i, quote_time(t0 + 3599, 3600))
            );
            let mut max_jump: f64 = 0.0;
            let mut moved = 0;
            for minute in 0..24 * 60 {
                let t = t0 + minute * 60;
                if news_event(3, p.product_id, t.div_euclid(DAY)).is_some() {
                    continue;
                }
                let a = market_price(3, p, i, t);
                let b = market_price(3, p, i, t + 60);
                max_jump = max_jump.max((b / a).ln().abs());
                moved += usize::from(market_cents(3, p, i, t) != market_cents(3, p, i, t + 60));
            }
            assert!(max_jump < 0.005, "{max_jump}");
            if p.base_cents >= 1_000 {
                assert!(moved > 100, "a live demo moves: {moved} of 1440 minutes");
            }
        }
        assert_eq!(quote_time(-1, 60), -60);
        assert_eq!(quote_time(119, 60), 60);
    }

    #[test]
    fn rows_and_dollars() {
        let cat = SimCatalog::generate(4, &[3, 1], 1, 30, 2);
        for p in &cat.products {
            for step in 0..50 {
                let t = 1_709_323_200 + step * 7_919;
                for &i in &p.printings {
                    let r = price_row(4, p, i, t);
                    let m = market_cents(4, p, i, t);
                    assert!(r.low.unwrap_or(m) <= m && Some(m) <= r.mid && r.mid <= r.high);
                    assert!(r.high.unwrap_or(0) <= 3 * m + 1, "no parked high");
                }
                for k in cat.skus(p) {
                    let [low, _, listing, _, _] = sku_row(4, p, &k, t);
                    let m = scaled(market_cents(4, p, k.printing, t), sku_ratio(4, &k, t));
                    assert!(
                        low <= listing && listing <= Some(m),
                        "{low:?} {listing:?} {m}"
                    );
                }
            }
        }
        let json = serde_json::to_string(&dollars(74)).unwrap();
        assert_eq!(json, "0.74");
        for c in 0..10_000 {
            let text = dollars(c).to_string();
            let m = tcg_schemas::Money::parse_decimal(&text, tcg_schemas::Currency::USD).unwrap();
            assert_eq!(m.minor, c);
        }
    }
}
