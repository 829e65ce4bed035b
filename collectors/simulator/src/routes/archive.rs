//! TCGCSV's daily price archives `/archive/tcgplayer/prices-YYYY-MM-DD.ppmd.7z`: every group's
//! prices as of that day's update, written with PPMd on a blocking thread and cached.

use std::sync::Arc;

use axum::{
    Router,
    extract::{Path, State},
    http::StatusCode,
    response::Response,
};
use bytes::Bytes;
use chrono::{DateTime, NaiveDate, Utc};

use super::{
    Envelope, St, body_response, preflight::Gate, shapes::PriceOut, shapes::price_rows, status,
    tcgcsv::last_update,
};
use crate::{SimError, archive::write_ppmd_archive, state::SimState, stats::Endpoint};

/// Archives kept in memory before the cache starts over.
const CACHED_DAYS: usize = 64;

pub(super) fn routes(state: &Arc<SimState>) -> Router<Arc<SimState>> {
    let gate = Gate::new(state, Endpoint::TcgcsvArchive).custom_user_agent();
    Router::new().route(
        "/archive/tcgplayer/{file}",
        gate.parsing::<Path<String>>().get(archive),
    )
}

/// The archive of one day: every group's prices as of that day's 20:00 UTC update.
fn build_archive(s: &SimState, day: NaiveDate) -> Result<Vec<u8>, SimError> {
    let secs = day
        .and_hms_opt(20, 0, 0)
        .map_or(0, |t| t.and_utc().timestamp());
    let t = s.quote_at(secs);
    let mut files = Vec::new();
    for g in &s.catalog.groups {
        let rows: Vec<PriceOut> = s
            .catalog
            .products_of(g)
            .iter()
            .flat_map(|p| price_rows(s, p, t))
            .collect();
        let n = rows.len();
        let body = serde_json::to_vec(&Envelope::ok(rows, Some(n)))?;
        files.push((
            format!("{day}/{}/{}/prices", g.category_id, g.group_id),
            body,
        ));
    }
    write_ppmd_archive(&files)
}

/// The day of `prices-YYYY-MM-DD.ppmd.7z`, if it is archived: from `archive_start` to the last
/// update.
fn archived_day(s: &SimState, file: &str) -> Option<NaiveDate> {
    let day = file
        .strip_prefix("prices-")
        .and_then(|f| f.strip_suffix(".ppmd.7z"))
        .and_then(|d| NaiveDate::parse_from_str(d, "%Y-%m-%d").ok())?;
    let start =
        NaiveDate::parse_from_str(&s.config.archive_start, "%Y-%m-%d").unwrap_or(NaiveDate::MIN);
    let last = DateTime::<Utc>::from_timestamp(last_update(s, s.now_secs()), 0)
        .map(|d| d.date_naive())
        .unwrap_or(NaiveDate::MIN);
    (start..=last).contains(&day).then_some(day)
}

async fn archive(State(s): St, Path(file): Path<String>) -> Response {
    let Some(day) = archived_day(&s, &file) else {
        return status(StatusCode::NOT_FOUND, "not found");
    };
    let key = day.to_string();
    let cached = s.archives.lock().ok().and_then(|m| m.get(&key).cloned());
    let bytes = match cached {
        Some(b) => b,
        None => {
            let st = s.clone();
            match tokio::task::spawn_blocking(move || build_archive(&st, day)).await {
                Ok(Ok(b)) => {
                    let b = Bytes::from(b);
                    if let Ok(mut m) = s.archives.lock() {
                        if m.len() >= CACHED_DAYS {
                            m.clear();
                        }
                        m.insert(key, b.clone());
                    }
                    b
                }
                _ => return status(StatusCode::INTERNAL_SERVER_ERROR, "archive failed"),
            }
        }
    };
    body_response("application/x-7z-compressed", bytes)
}
