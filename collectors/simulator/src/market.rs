//! Prices as a pure function of (seed, product, printing, time step): a multi-scale random walk
//! (value noise over several periods) with occasional spikes and crashes. No state: any request
//! at any time is computable on its own.

use crate::rng::{hash, unit};

use super::catalog::{SimProduct, SkuParts};

/// Smooth noise in [-1, 1] at position `x` (in lattice units), keyed by `key`.
fn value_noise(key: u64, x: f64) -> f64 {
    let i = x.floor();
    let t = x - i;
    let a = unit(hash(&[key, i as i64 as u64])) * 2.0 - 1.0;
    let b = unit(hash(&[key, (i as i64 + 1) as u64])) * 2.0 - 1.0;
    let s = t * t * (3.0 - 2.0 * t);
    a + (b - a) * s
}

/// The multiplier of spikes and crashes at `step`: windows of 30 steps, about 1 in 100 a spike
/// (×1.5–3), 1 in 100 a crash (×0.4–0.7).
pub fn shock(seed: u64, product_id: u64, step: i64) -> f64 {
    let window = step.div_euclid(30) as u64;
    let h = hash(&[seed, product_id, window, 0x5b1c]);
    let r = unit(h);
    let mag = unit(hash(&[h, 1]));
    if r < 0.01 {
        1.5 + 1.5 * mag
    } else if r < 0.02 {
        0.4 + 0.3 * mag
    } else {
        1.0
    }
}

/// The near-mint market price of a product's printing at `step`, in cents (≥ 1).
pub fn market_cents(seed: u64, p: &SimProduct, printing: usize, step: i64) -> i64 {
    let key = hash(&[seed, p.product_id]);
    let mut log = 0.0;
    for (k, (period, amp)) in [
        (4.0, 0.02),
        (16.0, 0.04),
        (64.0, 0.08),
        (256.0, 0.12),
        (1024.0, 0.2),
    ]
    .into_iter()
    .enumerate()
    {
        log += amp * p.volatility * value_noise(hash(&[key, k as u64]), step as f64 / period);
    }
    let printing_mult = match printing {
        0 => 1.0,
        1 => 1.6 + 1.4 * unit(hash(&[key, 11])),
        _ => 1.1 + 0.3 * unit(hash(&[key, 12])),
    };
    let cents = p.base_cents as f64 * log.exp() * printing_mult * shock(seed, p.product_id, step);
    (cents.round() as i64).max(1)
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

/// The product price row of a printing at `step`.
pub fn price_row(seed: u64, p: &SimProduct, printing: usize, step: i64) -> PriceRow {
    let m = market_cents(seed, p, printing, step);
    let h = hash(&[seed, p.product_id, printing as u64, step as u64]);
    let u = |k: u64| unit(hash(&[h, k]));
    // High is distorted by sellers parking listings at absurd prices now and then.
    let high_f = if u(4) < 0.05 {
        20.0 + 40.0 * u(5)
    } else {
        1.5 + 2.5 * u(5)
    };
    PriceRow {
        low: (u(0) > 0.02).then(|| scaled(m, 0.7 + 0.25 * u(1))),
        mid: Some(scaled(m, 0.95 + 0.2 * u(2))),
        high: Some(scaled(m, high_f)),
        market: (u(3) > 0.01).then_some(m),
        direct_low: (u(6) > 0.4).then(|| scaled(m, 0.95 + 0.15 * u(7))),
    }
}

/// A SKU price row at `step`: (low, lowest shipping, lowest listing, market, direct low).
pub fn sku_row(seed: u64, p: &SimProduct, s: &SkuParts, step: i64) -> [Option<i64>; 5] {
    let cond = match s.condition_id {
        1 | 6 => 1.0,
        2 => 0.85,
        3 => 0.7,
        4 => 0.5,
        _ => 0.35,
    };
    let lang = if s.language_id == 1 { 1.0 } else { 0.8 };
    let m = scaled(market_cents(seed, p, s.printing, step), cond * lang);
    let h = hash(&[seed, s.id(), step as u64]);
    let u = |k: u64| unit(hash(&[h, k]));
    let shipping = [0, 99, 125, 199][(u(0) * 4.0) as usize % 4];
    [
        Some(scaled(m, 0.75 + 0.2 * u(1))),
        Some(shipping),
        Some(scaled(m, 0.85 + 0.15 * u(2))),
        (u(3) > 0.05).then_some(m),
        (u(4) > 0.5).then(|| scaled(m, 0.95 + 0.1 * u(5))),
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
    fn walk_is_deterministic_continuous_and_shocked() {
        let cat = SimCatalog::generate(3, &[3], 1, 20, 0);
        let p = &cat.products[0];
        assert_eq!(market_cents(3, p, 0, 1234), market_cents(3, p, 0, 1234));
        let mut max_jump: f64 = 0.0;
        let mut shocks = 0;
        for step in 0..20_000 {
            let a = market_cents(3, p, 0, step) as f64;
            let b = market_cents(3, p, 0, step + 1) as f64;
            if shock(3, p.product_id, step) == shock(3, p.product_id, step + 1) {
                max_jump = max_jump.max((b / a).ln().abs());
            } else {
                shocks += 1;
            }
        }
        assert!(max_jump < 0.2, "{max_jump}");
        assert!(shocks > 0, "some spike or crash in 20,000 steps");
        let json = serde_json::to_string(&dollars(74)).unwrap();
        assert_eq!(json, "0.74");
        for c in 0..10_000 {
            let text = dollars(c).to_string();
            let m = tcg_schemas::Money::parse_decimal(&text, tcg_schemas::Currency::USD).unwrap();
            assert_eq!(m.minor, c);
        }
    }
}
