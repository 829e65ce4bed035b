//! The QuestDB store of `bench api --questdb-http URL --questdb-pg URL`: the catalog and the
//! synthetic market's ticks written into the server's tables over ILP (through `QuestDbStore`,
//! flushed every 50,000 rows), the app's own data (API keys, the portfolio) in a SQLite file in
//! the bench's folder, as `serve --questdb-http … --questdb-pg … --sqlite FILE` keeps them.
//!
//! Reused while the server holds the build a marker file in the folder names (its size, the
//! day its year ends, the server): a `.complete` file written once the ticks are applied and
//! the daily view has caught up. A server that holds other bench ticks is refused rather than
//! written over (start a fresh one, or drop its tables).

use std::{
    path::Path,
    time::{Duration, Instant},
};

use anyhow::{Context, Result, bail};
use tcg_schemas::Timestamp;
use tcg_store::{QuestDbConfig, QuestDbStore, bench::synthetic_ticks, prelude::*};

use super::dataset::{BATCH, Dataset, FIRST_PRODUCT, QuestDbUrls, write_catalog};

/// Marker files are reused for this long: the one-year window still ends within the last week,
/// so `/v1/movers?window=7d` (which ends now) still finds prices.
const REUSE_DAYS: i64 = 6;

/// The store configuration of the build: flushes by rows alone, every [`BATCH`] rows, with room
/// for a slow server.
fn build_config(urls: &QuestDbUrls) -> Result<QuestDbConfig> {
    let mut c = QuestDbConfig::from_urls(&urls.http, &urls.pg)?;
    c.max_rows = BATCH;
    c.max_bytes = 512 * 1024 * 1024;
    c.max_age = Duration::from_secs(24 * 3600);
    c.retry_timeout = Duration::from_secs(60);
    c.request_timeout = Duration::from_secs(60);
    c.visibility_timeout = Duration::from_secs(3600);
    Ok(c)
}

/// The marker's text: the day the year ends and the server.
fn marker(end: i64, urls: &QuestDbUrls) -> String {
    format!("{end} {}", urls.http)
}

/// The day the marker's build ends, when it was made on this server.
fn marked_end(text: &str, urls: &QuestDbUrls) -> Option<i64> {
    let (end, http) = text.trim().split_once(' ')?;
    (http == urls.http).then(|| end.parse().ok()).flatten()
}

/// The store of this size on the server, built if it is not there yet.
pub async fn prepare(dir: &Path, ticks: u64, series: u64, urls: QuestDbUrls) -> Result<Dataset> {
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let db = dir.join(format!("questdb-app-{ticks}-{series}.db"));
    let done = dir.join(format!("questdb-{ticks}-{series}.complete"));
    let today = chrono::Utc::now().timestamp().div_euclid(86_400) * 86_400;
    let mut out = Dataset {
        db: db.clone(),
        questdb: Some(urls.clone()),
        now: Timestamp::from_secs(today),
        series: series.max(5),
        ticks,
        build_secs: 0.0,
    };
    let store = QuestDbStore::connect(build_config(&urls)?)
        .await
        .with_context(|| format!("connecting to QuestDB at {} / {}", urls.http, urls.pg))?;
    let held = bench_rows(&urls, out.products()).await?;
    let marked = std::fs::read_to_string(&done)
        .ok()
        .and_then(|t| marked_end(&t, &urls));
    if let Some(end) = marked.filter(|end| today - end <= REUSE_DAYS * 86_400)
        && held == i64::try_from(ticks).unwrap_or(i64::MAX)
    {
        eprintln!("bench api: reusing the {ticks} ticks on {}", urls.http);
        out.now = Timestamp::from_secs(end);
        // A server restarted since may still be refreshing the daily view.
        store.sync().await?;
        return Ok(out);
    }
    if held > 0 {
        bail!(
            "QuestDB at {} holds {held} ticks of the bench's cards, not a build of {ticks} ticks this \
             folder's marker names: start a fresh QuestDB (e.g. remove the folder given to \
             `tcg-engines run questdb --data`) or drop its tables",
            urls.http
        );
    }
    for stale in [&db, &done] {
        let _ = std::fs::remove_file(stale);
    }
    let started = Instant::now();
    write_catalog(&store, out.products()).await?;
    let written = write_ticks(&store, &out).await?;
    std::fs::write(&done, marker(today, &urls))
        .with_context(|| format!("writing {}", done.display()))?;
    out.build_secs = started.elapsed().as_secs_f64();
    eprintln!(
        "bench api: built {ticks} ticks on {} in {:.0} s (written and acknowledged in {:.0} s, {:.0} ticks/s; \
         applied and rolled up in {:.0} s more)",
        urls.http,
        out.build_secs,
        written.as_secs_f64(),
        ticks as f64 / written.as_secs_f64(),
        out.build_secs - written.as_secs_f64(),
    );
    Ok(out)
}

/// Ticks of the bench's cards the server holds (over its REST endpoint, `/exec`).
async fn bench_rows(urls: &QuestDbUrls, products: u64) -> Result<i64> {
    let sql = format!(
        "SELECT count() FROM ticks WHERE product_id >= {FIRST_PRODUCT} AND product_id < {}",
        FIRST_PRODUCT + products
    );
    let answer: serde_json::Value = reqwest::Client::new()
        .get(format!("{}/exec", urls.http.trim_end_matches('/')))
        .query(&[("query", sql.as_str())])
        .send()
        .await?
        .error_for_status()?
        .json()
        .await?;
    answer["dataset"][0][0]
        .as_i64()
        .with_context(|| format!("QuestDB's count of the bench's ticks: {answer}"))
}

/// The synthetic market's ticks over the year before `now`: written and flushed, then applied
/// (and the daily view caught up). Returns the time until the last flush was acknowledged.
async fn write_ticks(store: &QuestDbStore, d: &Dataset) -> Result<Duration> {
    let started = Instant::now();
    let mut written = 0u64;
    let mut last_report = Instant::now();
    for batch in synthetic_ticks(d.ticks, d.series, 365, BATCH, d.now) {
        store.write_ticks(&batch).await?;
        written += batch.len() as u64;
        if last_report.elapsed().as_secs() >= 10 {
            eprintln!(
                "bench api: {:.1} M of {:.1} M ticks written to QuestDB",
                written as f64 / 1e6,
                d.ticks as f64 / 1e6
            );
            last_report = Instant::now();
        }
    }
    store.flush().await?;
    let acknowledged = started.elapsed();
    store.sync().await?;
    Ok(acknowledged)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn the_marker_names_the_end_and_the_server() {
        let urls = QuestDbUrls {
            http: "http://127.0.0.1:9000".into(),
            pg: "postgres://admin:quest@127.0.0.1:8812/qdb".into(),
        };
        let text = marker(86_400, &urls);
        assert_eq!(marked_end(&text, &urls), Some(86_400));
        let other = QuestDbUrls {
            http: "http://127.0.0.1:9100".into(),
            ..urls
        };
        assert_eq!(marked_end(&text, &other), None);
        assert_eq!(marked_end("garbage", &other), None);
    }
}
