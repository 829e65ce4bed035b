//! The market model against what real singles do, over a simulated year of daily closes
//! (20:00 UTC, when TCGCSV updates) of every product of a default-sized catalog. The figures:
//! `cargo test -p tcg-simulator --test distribution -- --nocapture`.

#![allow(clippy::too_many_lines)] // a test reads best as one scenario, top to bottom

use std::collections::HashMap;

use tcg_simulator::{
    SimConfig,
    catalog::{SimCatalog, SimProduct},
    market::{DAY, market_cents, market_price, news_event, price_row, sku_row},
};

/// 2024-01-01T20:00:00Z.
const FIRST_CLOSE: i64 = 1_704_139_200;
/// Daily moves measured: 365 (366 closes).
const DAYS: usize = 365;
/// A week may move beyond ×1.4 or ÷1.4 (±40 % in log terms; −29 % down) only with news.
const WEEK_LIMIT: f64 = 1.4;

fn catalog() -> (u64, SimCatalog) {
    let c = SimConfig::default();
    let cat = SimCatalog::generate(
        c.seed,
        &c.categories,
        c.sets_per_game,
        c.cards_per_set,
        c.sealed_per_set,
    );
    (c.seed, cat)
}

fn close(d: usize) -> i64 {
    FIRST_CLOSE + d as i64 * DAY
}

fn quantile(v: &mut [f64], q: f64) -> f64 {
    v.sort_by(f64::total_cmp);
    v[((v.len() - 1) as f64 * q).round() as usize]
}

fn share(v: &[f64], pred: impl Fn(f64) -> bool) -> f64 {
    v.iter().filter(|x| pred(**x)).count() as f64 / v.len() as f64
}

fn pct(x: f64) -> String {
    format!("{:.2} %", 100.0 * x)
}

#[test]
fn daily_and_weekly_moves_look_like_real_singles() {
    let (seed, cat) = catalog();
    let first_day = close(0).div_euclid(DAY);
    // |ln| of each daily move of the quoted cents, every printing of every product; of those
    // worth ≥ $1 (where a cent is ≤ 1 %); the largest on a day without news.
    let mut daily = Vec::new();
    let mut dollar = Vec::new();
    let mut quiet_day: f64 = 0.0;
    // |ln| of each daily move of the unrounded price, by group: commons (tier 0), tiers 1–2,
    // tiers ≥ 3, sealed.
    let mut groups: [Vec<f64>; 4] = Default::default();
    let (mut big_weeks, mut weeks, mut events, mut most_events) = (0, 0, 0, 0);
    let mut worst_quiet_week: f64 = 1.0;
    for p in &cat.products {
        let news: Vec<bool> = (0..=DAYS)
            .map(|d| news_event(seed, p.product_id, first_day + d as i64).is_some())
            .collect();
        let n = news.iter().filter(|x| **x).count();
        events += n;
        most_events = most_events.max(n);
        let group = match (p.is_sealed(), p.tier) {
            (true, _) => 3,
            (false, 0) => 0,
            (false, 1 | 2) => 1,
            _ => 2,
        };
        for &i in &p.printings {
            let cents: Vec<f64> = (0..=DAYS)
                .map(|d| market_cents(seed, p, i, close(d)) as f64)
                .collect();
            let exact: Vec<f64> = (0..=DAYS)
                .map(|d| market_price(seed, p, i, close(d)))
                .collect();
            for d in 1..=DAYS {
                let m = (cents[d] / cents[d - 1]).ln().abs();
                daily.push(m);
                if cents[d - 1] >= 100.0 {
                    dollar.push(m);
                }
                if !news[d - 1] && !news[d] {
                    quiet_day = quiet_day.max(m);
                }
                groups[group].push((exact[d] / exact[d - 1]).ln().abs());
            }
            for d in 7..=DAYS {
                weeks += 1;
                let r = cents[d] / cents[d - 7];
                let big = !(1.0 / WEEK_LIMIT..=WEEK_LIMIT).contains(&r);
                if news[d - 7..=d].iter().any(|x| *x) {
                    big_weeks += usize::from(big);
                } else {
                    assert!(
                        !big,
                        "{} printing {i}: ×{r:.2} in the week to day {d} without news",
                        p.product_id
                    );
                    worst_quiet_week = worst_quiet_week.max(r.max(1.0 / r));
                }
            }
        }
    }
    let products = cat.products.len();
    println!("{products} products, a year of daily closes (|ln| of the quoted cents' moves):");
    let figures = |name: &str, v: &mut Vec<f64>| {
        let f = [
            quantile(v, 0.5),
            quantile(v, 0.9),
            quantile(v, 0.99),
            share(v, |x| x <= 0.02),
            share(v, |x| x <= 0.03),
            share(v, |x| x <= 0.05),
            share(v, |x| x > 0.3_f64.ln_1p()),
        ];
        println!(
            "  {name} ({} moves): median {}, p90 {}, p99 {}; within 2 % {}, within 3 % {}, within 5 % {}; over 30 % {}",
            v.len(),
            pct(f[0]),
            pct(f[1]),
            pct(f[2]),
            pct(f[3]),
            pct(f[4]),
            pct(f[5]),
            pct(f[6])
        );
        f
    };
    let all = figures("every printing", &mut daily);
    let big = figures("worth ≥ $1", &mut dollar);
    let medians: Vec<f64> = groups.iter_mut().map(|g| quantile(g, 0.5)).collect();
    println!(
        "  median |daily move| unrounded: commons {}, tiers 1–2 {}, tiers ≥ 3 {}, sealed {}",
        pct(medians[0]),
        pct(medians[1]),
        pct(medians[2]),
        pct(medians[3])
    );
    println!(
        "  news events: {events} in the year ({:.2} a product, at most {most_events}); weeks beyond ×/÷{WEEK_LIMIT}: {big_weeks} of {weeks}, all with news; worst quiet week ×/÷{worst_quiet_week:.3}",
        events as f64 / products as f64
    );
    println!(
        "  largest daily move without news: {}",
        pct(quiet_day.exp_m1())
    );
    for f in [all, big] {
        assert!(f[0] <= 0.02, "median {}", f[0]);
        assert!(
            f[4] >= 0.9 && f[5] >= 0.95,
            "within 3 % {}, 5 % {}",
            f[4],
            f[5]
        );
        assert!(f[6] <= 0.005, "over 30 % {}", f[6]);
    }
    assert!(big[0] >= 0.005, "a $1+ card moves: median {}", big[0]);
    assert!(
        quiet_day < 0.2_f64.ln_1p(),
        "no day moves 20 % without news"
    );
    assert!(
        medians[0] < medians[1] && medians[1] < medians[2] && medians[3] < medians[1],
        "commons < mid tiers < chase, sealed < mid tiers: {medians:?}"
    );
    let per_product = events as f64 / products as f64;
    assert!((0.5..=2.0).contains(&per_product) && most_events <= 4);
    assert!(big_weeks > 0, "news does move prices");
}

/// What the rows of some products showed over the year.
#[derive(Default)]
struct RowFacts {
    rows: usize,
    sku_rows: usize,
    high_ratio: f64,
    /// Per SKU (not near mint) of a card worth ≥ $5: the least and most ratio to near mint, and
    /// on how many days.
    ratios: HashMap<u64, (f64, f64, usize)>,
    /// Daily ln moves of near mint and lightly played on the same days (English, ≥ $5).
    nm: Vec<f64>,
    lp: Vec<f64>,
}

fn correlation(a: &[f64], b: &[f64]) -> f64 {
    let n = a.len() as f64;
    let (ma, mb) = (a.iter().sum::<f64>() / n, b.iter().sum::<f64>() / n);
    let cov: f64 = a.iter().zip(b).map(|(x, y)| (x - ma) * (y - mb)).sum();
    let va: f64 = a.iter().map(|x| (x - ma).powi(2)).sum();
    let vb: f64 = b.iter().map(|y| (y - mb).powi(2)).sum();
    cov / (va * vb).sqrt()
}

/// Checks every product row and SKU row of `products` on every day; gathers the facts.
fn check_rows(seed: u64, cat: &SimCatalog, products: &[SimProduct]) -> RowFacts {
    let mut f = RowFacts::default();
    for p in products {
        let skus = cat.skus(p);
        // The day and (NM, LP) markets of each English group's last full pair.
        let mut last: HashMap<u64, (usize, f64, f64)> = HashMap::new();
        for d in 0..=DAYS {
            let t = close(d);
            for &i in &p.printings {
                let r = price_row(seed, p, i, t);
                let m = market_cents(seed, p, i, t);
                assert!(r.market.is_none_or(|x| x == m));
                let (low, mid, high) =
                    (r.low.unwrap_or(m), r.mid.unwrap_or(m), r.high.unwrap_or(m));
                assert!(low <= m && m <= mid && mid <= high, "{r:?} {m}");
                assert!(low as f64 >= 0.7 * m as f64 - 1.0 && mid as f64 <= 1.25 * m as f64 + 1.0);
                f.high_ratio = f.high_ratio.max(high as f64 / m as f64);
                f.rows += 1;
            }
            let rows: Vec<[Option<i64>; 5]> = skus.iter().map(|k| sku_row(seed, p, k, t)).collect();
            f.sku_rows += rows.len();
            // SKUs come printing × language × condition, conditions in order NM … DMG.
            let per_group = if p.is_sealed() { 1 } else { 5 };
            for (group, chunk) in skus.chunks(per_group).zip(rows.chunks(per_group)) {
                let markets: Vec<i64> = chunk.iter().filter_map(|r| r[3]).collect();
                assert!(markets.windows(2).all(|w| w[0] >= w[1]), "{markets:?}");
                for r in chunk {
                    assert!(
                        r[0] <= r[2] && r[2].zip(r[3]).is_none_or(|(l, m)| l <= m),
                        "{r:?}"
                    );
                }
                let Some(nm) = chunk[0][3].filter(|nm| *nm >= 500 && !p.is_sealed()) else {
                    continue;
                };
                for (k, r) in group.iter().zip(chunk).skip(1) {
                    if let Some(m) = r[3] {
                        let ratio = m as f64 / nm as f64;
                        let e = f.ratios.entry(k.id()).or_insert((ratio, ratio, 0));
                        *e = (e.0.min(ratio), e.1.max(ratio), e.2 + 1);
                    }
                }
                if let (Some(lp), true) = (chunk[1][3], group[0].language_id == 1) {
                    let (nm, lp) = (nm as f64, lp as f64);
                    if let Some((day, a, b)) = last.insert(group[0].id(), (d, nm, lp))
                        && day + 1 == d
                    {
                        f.nm.push((nm / a).ln());
                        f.lp.push((lp / b).ln());
                    }
                }
            }
        }
    }
    f
}

#[test]
fn rows_stay_ordered_and_conditions_move_on_their_own() {
    let (seed, cat) = catalog();
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get().min(4));
    let per_thread = cat.products.len().div_ceil(threads);
    let parts: Vec<RowFacts> = std::thread::scope(|scope| {
        let handles: Vec<_> = cat
            .products
            .chunks(per_thread)
            .map(|products| scope.spawn(|| check_rows(seed, &cat, products)))
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let mut f = RowFacts::default();
    for part in parts {
        f.rows += part.rows;
        f.sku_rows += part.sku_rows;
        f.high_ratio = f.high_ratio.max(part.high_ratio);
        f.ratios.extend(part.ratios);
        f.nm.extend(part.nm);
        f.lp.extend(part.lp);
    }
    let RowFacts {
        rows,
        sku_rows,
        high_ratio,
        ratios,
        nm,
        lp,
    } = f;
    let spans: Vec<f64> = ratios
        .values()
        .filter(|r| r.2 >= 60)
        .map(|(lo, hi, _)| hi / lo - 1.0)
        .collect();
    let mut sorted = spans.clone();
    let median_span = quantile(&mut sorted, 0.5);
    let least_span = quantile(&mut sorted, 0.0);
    let corr = correlation(&nm, &lp);
    println!(
        "{rows} product rows and {sku_rows} SKU rows ordered; highest high/market {high_ratio:.2}"
    );
    println!(
        "  ratio to NM over the year ({} SKUs of cards ≥ $5 on 60+ days): median span {}, least {}; NM vs LP daily moves correlate {corr:.3} ({} pairs)",
        spans.len(),
        pct(median_span),
        pct(least_span),
        nm.len()
    );
    assert!(high_ratio <= 3.05, "no parked high: {high_ratio}");
    assert!(!spans.is_empty() && median_span >= 0.03, "{median_span}");
    assert!(
        share(&spans, |s| s >= 0.01) >= 0.95,
        "ratios vary for almost every SKU"
    );
    assert!(corr < 0.99, "conditions are not in lock-step: {corr}");
}
