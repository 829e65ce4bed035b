//! Ranking of movers, shared by both backends (they only differ in how they find the two prices).

use std::cmp::Ordering;

use crate::model::{Mover, Movers};

/// Change in basis points, rounded towards zero (`start` > 0).
pub fn change_bps(start: i64, end: i64) -> i64 {
    let v = (i128::from(end) - i128::from(start)) * 10_000 / i128::from(start.max(1));
    i64::try_from(v).unwrap_or(if v > 0 { i64::MAX } else { i64::MIN })
}

/// Exact comparison of relative changes (end−start)/start by cross multiplication.
fn cmp_change(a: &Mover, b: &Mover) -> Ordering {
    let (sa, ea) = (i128::from(a.start_usd.minor), i128::from(a.end_usd.minor));
    let (sb, eb) = (i128::from(b.start_usd.minor), i128::from(b.end_usd.minor));
    ((ea - sa) * sb).cmp(&((eb - sb) * sa))
}

fn tie(a: &Mover, b: &Mover) -> Ordering {
    (&a.series_id, a.source, a.kind).cmp(&(&b.series_id, b.source, b.kind))
}

/// Top `limit` gainers (rises only) and losers (falls only). Rows with a start price ≤ 0 or below
/// `min_start_cents` are dropped.
pub fn rank(rows: Vec<Mover>, limit: usize, min_start_cents: i64) -> Movers {
    let rows: Vec<Mover> = rows
        .into_iter()
        .filter(|m| m.start_usd.minor > 0 && m.start_usd.minor >= min_start_cents)
        .collect();
    let mut gainers: Vec<Mover> = rows
        .iter()
        .filter(|m| m.end_usd.minor > m.start_usd.minor)
        .cloned()
        .collect();
    let mut losers: Vec<Mover> = rows
        .into_iter()
        .filter(|m| m.end_usd.minor < m.start_usd.minor)
        .collect();
    let top = |v: &mut Vec<Mover>, cmp: &dyn Fn(&Mover, &Mover) -> Ordering| {
        if v.len() > limit {
            v.select_nth_unstable_by(limit, |a, b| cmp(a, b));
            v.truncate(limit);
        }
        v.sort_by(|a, b| cmp(a, b));
    };
    top(&mut gainers, &|a, b| {
        cmp_change(b, a).then_with(|| tie(a, b))
    });
    top(&mut losers, &|a, b| {
        cmp_change(a, b).then_with(|| tie(a, b))
    });
    Movers { gainers, losers }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bps() {
        assert_eq!(change_bps(100, 150), 5000);
        assert_eq!(change_bps(300, 200), -3333);
    }
}
