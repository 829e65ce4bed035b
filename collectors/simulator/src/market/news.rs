//! News events: the rare spikes (a tournament result, a hyped reveal) and crashes (a reprint
//! announcement) that are the only way a price moves far in a few days.
//!
//! Time is cut into windows of [`WINDOW_DAYS`]; each holds at most one event per product, with
//! probability [`CHANCE`] (about 1.2 events per product per year, at most 4). An event starts at
//! a drawn second of a drawn day of its window, reaches its full size within [`RAMP_SECS`], then
//! fades: part of it (the residual) lasts, the rest decays with a time constant of 30–90 days,
//! and the whole is gone [`LIFE_DAYS`] after the start. Pure: the effect at `t` sums the events
//! of the windows that can still reach `t`.

use crate::rng::{hash, unit};

use super::{DAY, smoothstep, sub};

/// Length of the windows that hold at most one event, in days.
pub const WINDOW_DAYS: i64 = 120;
/// Chance that a window holds an event.
pub const CHANCE: f64 = 0.4;
/// An event reaches its full size within this many seconds of its start.
pub const RAMP_SECS: i64 = 6 * 3600;
/// An event has no effect this many days after its start.
pub const LIFE_DAYS: i64 = 360;
/// The residual fades out over the last this many days of an event's life.
const FADE_DAYS: i64 = 90;

/// One news event of a product.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Event {
    /// Unix seconds of the start.
    start: i64,
    /// ln of the full multiplier: ln 1.3–ln 2.5 (spike) or ln 0.45–ln 0.75 (crash).
    log_mult: f64,
    /// Part of the move that lasts until the fade.
    residual: f64,
    /// Time constant of the rest's decay, in seconds.
    tau: f64,
}

impl Event {
    /// ln of the event's multiplier at `t`.
    fn effect(&self, t: i64) -> f64 {
        let age = t - self.start;
        if !(0..LIFE_DAYS * DAY).contains(&age) {
            return 0.0;
        }
        let ramp = smoothstep(age as f64 / RAMP_SECS as f64);
        let decay = self.residual + (1.0 - self.residual) * (-(age as f64) / self.tau).exp();
        let fade_from = (LIFE_DAYS - FADE_DAYS) * DAY;
        let fade = 1.0 - smoothstep((age - fade_from) as f64 / (FADE_DAYS * DAY) as f64);
        self.log_mult * ramp * decay * fade
    }
}

/// The key of a product's news.
fn news_key(seed: u64, product_id: u64) -> u64 {
    hash(&[seed, product_id, 0x4E_5753])
}

/// The event of window `window` of a product (`key`: its [`news_key`]), if it has one.
fn event_in(key: u64, window: i64) -> Option<Event> {
    let h = sub(key, window as u64);
    let u = |k: u64| unit(sub(h, k));
    if u(0) >= CHANCE {
        return None;
    }
    let day = window * WINDOW_DAYS + (u(1) * WINDOW_DAYS as f64) as i64;
    let start = day * DAY + (u(2) * DAY as f64) as i64;
    let (lo, hi, residual) = if u(3) < 0.6 {
        (1.3f64, 2.5f64, 0.2 + 0.3 * u(5))
    } else {
        (0.45, 0.75, 0.3 + 0.4 * u(5))
    };
    Some(Event {
        start,
        log_mult: lo.ln() + (hi.ln() - lo.ln()) * u(4),
        residual,
        tau: (30.0 + 60.0 * u(6)) * DAY as f64,
    })
}

/// The full multiplier of the news event that starts on Unix day `day` (days since 1970-01-01,
/// UTC) for a product, if one does: ×1.3–2.5 (spike) or ×0.45–0.75 (crash), reached within six
/// hours of its start, then fading over months.
pub fn news_event(seed: u64, product_id: u64, day: i64) -> Option<f64> {
    let e = event_in(news_key(seed, product_id), day.div_euclid(WINDOW_DAYS))?;
    (e.start.div_euclid(DAY) == day).then(|| e.log_mult.exp())
}

/// ln of the multiplier every live news event of a product puts on its price at `t`.
pub(super) fn news_log(seed: u64, product_id: u64, t: i64) -> f64 {
    let window = t.div_euclid(WINDOW_DAYS * DAY);
    let reach = (LIFE_DAYS + WINDOW_DAYS - 1) / WINDOW_DAYS;
    let key = news_key(seed, product_id);
    (window - reach..=window)
        .filter_map(|w| event_in(key, w))
        .map(|e| e.effect(t))
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_are_rare_ramp_up_and_fade_out() {
        let days = 100 * 365;
        let mut count = 0;
        for product in 0..20u64 {
            for day in 0..days {
                if let Some(m) = news_event(9, product, day) {
                    count += 1;
                    assert!(
                        (0.45..=0.75).contains(&m) || (1.3..=2.5).contains(&m),
                        "{m}"
                    );
                    let start = day * DAY;
                    let before = news_log(9, product, start);
                    let after = news_log(9, product, start + DAY + RAMP_SECS);
                    assert!((after - before) * m.ln() > 0.0, "moves the announced way");
                }
            }
        }
        let per_year = f64::from(count) / (20.0 * 100.0);
        assert!((0.9..1.6).contains(&per_year), "{per_year}");
        let e = Event {
            start: 0,
            log_mult: 0.9,
            residual: 0.3,
            tau: 30.0 * DAY as f64,
        };
        assert_eq!(e.effect(-1), 0.0);
        assert!((e.effect(RAMP_SECS) - 0.9).abs() < 0.01);
        assert!(e.effect(200 * DAY) < 0.3 && e.effect(200 * DAY) > 0.25);
        assert!(e.effect((LIFE_DAYS - 1) * DAY).abs() < 1e-3);
        assert_eq!(e.effect(LIFE_DAYS * DAY), 0.0);
    }
}
