//! The progress line of `up`: quotes, ticks, alerts and rejections so far.

use std::{
    sync::atomic::{AtomicU64, Ordering},
    time::{Duration, Instant},
};

use tcg_processor_core::Stats;
use tokio_util::sync::CancellationToken;

/// Counters the processor adds to after every batch.
#[derive(Debug, Default)]
pub struct Progress {
    quotes: AtomicU64,
    ticks: AtomicU64,
    alerts: AtomicU64,
    rejected: AtomicU64,
}

impl Progress {
    /// Adds one batch's statistics.
    pub fn add(&self, stats: &Stats) {
        self.quotes.fetch_add(stats.quotes, Ordering::Relaxed);
        self.ticks
            .fetch_add(stats.ticks + stats.heartbeats, Ordering::Relaxed);
        self.alerts.fetch_add(stats.alerts, Ordering::Relaxed);
        self.rejected.fetch_add(stats.rejected, Ordering::Relaxed);
    }

    /// Ticks stored so far.
    pub fn ticks(&self) -> u64 {
        self.ticks.load(Ordering::Relaxed)
    }

    /// `[hh:mm:ss] quotes … · ticks … · alerts … · rejected …`.
    pub fn line(&self, elapsed: Duration) -> String {
        let secs = elapsed.as_secs();
        format!(
            "[{:02}:{:02}:{:02}] quotes {} · ticks {} · alerts {} · rejected {}",
            secs / 3600,
            secs / 60 % 60,
            secs % 60,
            self.quotes.load(Ordering::Relaxed),
            self.ticks.load(Ordering::Relaxed),
            self.alerts.load(Ordering::Relaxed),
            self.rejected.load(Ordering::Relaxed)
        )
    }

    /// Prints the line: one updating line, or (plain) a line of its own.
    pub fn print(&self, started: Instant, plain: bool) {
        let line = self.line(started.elapsed());
        if plain {
            eprintln!("{line}");
        } else {
            eprint!("\r{line}   ");
        }
    }
}

/// When the progress is printed: (first after, then every). Plain (a log file): a line at once,
/// then every 10 s; else the updating line every second.
pub fn schedule(plain: bool) -> (Duration, Duration) {
    if plain {
        (Duration::ZERO, Duration::from_secs(10))
    } else {
        (Duration::from_secs(1), Duration::from_secs(1))
    }
}

/// Prints the progress on [`schedule`] until cancelled.
pub async fn report_until(
    progress: std::sync::Arc<Progress>,
    started: Instant,
    plain: bool,
    stop: CancellationToken,
) -> anyhow::Result<()> {
    let (first, every) = schedule(plain);
    let mut tick = tokio::time::interval_at(tokio::time::Instant::now() + first, every);
    loop {
        tokio::select! {
            () = stop.cancelled() => return Ok(()),
            _ = tick.tick() => progress.print(started, plain),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_prints_its_first_line_at_once() {
        assert_eq!(schedule(true), (Duration::ZERO, Duration::from_secs(10)));
        assert_eq!(schedule(false).1, Duration::from_secs(1));
    }

    #[test]
    fn the_line_counts_heartbeats_as_ticks() {
        let p = Progress::default();
        p.add(&Stats {
            quotes: 10,
            ticks: 6,
            heartbeats: 1,
            alerts: 2,
            rejected: 3,
            ..Stats::default()
        });
        p.add(&Stats {
            quotes: 1,
            ..Stats::default()
        });
        assert_eq!(p.ticks(), 7);
        assert_eq!(
            p.line(Duration::from_secs(3_725)),
            "[01:02:05] quotes 11 · ticks 7 · alerts 2 · rejected 3"
        );
    }
}
