//! Copying an installation's app data from one app store into another (SQLite to PostgreSQL when
//! an installation grows to several machines, or back).
//!
//! What is copied, ids and times kept: users; API keys (hash, admin, revoked or not); webhook
//! endpoints with their secrets, the secret before the last rotation and their health; portfolios,
//! holdings and portfolio events; alert rules; fired alerts. Copied alerts are history: they are
//! not queued for delivery again. The delivery state (the outbox, pending deliveries, the attempt
//! log) is not copied: stop the source's dispatcher first and let it drain if that matters.
//! Which holdings each CSV import created (`portfolio_imports`) is not copied either: an import
//! made before the copy cannot be undone as a whole on the target (its holdings can, one by one).
//!
//! A row whose id the target already has is left as it is and counted as present, so running the
//! copy again (after an interruption, or to check) copies only what is missing. Meant for a
//! source nobody writes to meanwhile.

use std::collections::HashSet;

use serde::Serialize;

use crate::{AppStore, Result};

/// Alerts read and written per round trip.
const ALERT_PAGE: usize = 1000;

/// What a copy did with one kind of row.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct CopyCount {
    /// Written to the target.
    pub copied: u64,
    /// Already in the target (same id), left as they were.
    pub present: u64,
}

impl CopyCount {
    fn add(&mut self, copied: bool) {
        if copied {
            self.copied += 1;
        } else {
            self.present += 1;
        }
    }

    /// Rows seen in the source.
    pub fn total(&self) -> u64 {
        self.copied + self.present
    }
}

/// What [`copy_app_data`] did, per kind of row.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct CopyReport {
    pub users: CopyCount,
    pub api_keys: CopyCount,
    pub webhooks: CopyCount,
    pub portfolios: CopyCount,
    pub holdings: CopyCount,
    pub portfolio_events: CopyCount,
    pub alert_rules: CopyCount,
    pub alerts: CopyCount,
}

impl CopyReport {
    /// Every kind with its name, in copy order.
    pub fn kinds(&self) -> [(&'static str, CopyCount); 8] {
        [
            ("users", self.users),
            ("api_keys", self.api_keys),
            ("webhooks", self.webhooks),
            ("portfolios", self.portfolios),
            ("holdings", self.holdings),
            ("portfolio_events", self.portfolio_events),
            ("alert_rules", self.alert_rules),
            ("alerts", self.alerts),
        ]
    }

    /// Rows written, all kinds.
    pub fn copied(&self) -> u64 {
        self.kinds().iter().map(|(_, c)| c.copied).sum()
    }

    /// Rows already present, all kinds.
    pub fn present(&self) -> u64 {
        self.kinds().iter().map(|(_, c)| c.present).sum()
    }
}

/// One line per kind: `users: 3 copied, 0 already present`, then the totals.
impl std::fmt::Display for CopyReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        for (kind, c) in self.kinds() {
            writeln!(
                f,
                "{kind}: {} copied, {} already present",
                c.copied, c.present
            )?;
        }
        write!(
            f,
            "total: {} copied, {} already present",
            self.copied(),
            self.present()
        )
    }
}

/// Copies the app data of `from` into `to` (see the module's documentation). `progress` is
/// called with a kind's name (as in [`CopyReport::kinds`]) and how many of its rows were
/// handled so far, after each step.
pub async fn copy_app_data(
    from: &dyn AppStore,
    to: &dyn AppStore,
    progress: &mut dyn FnMut(&str, u64),
) -> Result<CopyReport> {
    let mut report = CopyReport::default();
    copy_accounts(from, to, &mut report, progress).await?;
    copy_portfolios(from, to, &mut report, progress).await?;
    copy_rules_and_alerts(from, to, &mut report, progress).await?;
    Ok(report)
}

/// Users, API keys and webhook endpoints.
async fn copy_accounts(
    from: &dyn AppStore,
    to: &dyn AppStore,
    report: &mut CopyReport,
    progress: &mut dyn FnMut(&str, u64),
) -> Result<()> {
    let have: HashSet<_> = to.users().await?.into_iter().map(|u| u.name).collect();
    for u in from.users().await? {
        let new = !have.contains(&u.name);
        if new {
            to.ensure_user(&u.name, u.created_at).await?;
        }
        report.users.add(new);
    }
    progress("users", report.users.total());

    let have: HashSet<_> = to.api_keys(None).await?.into_iter().map(|k| k.id).collect();
    // Oldest first, as they were made.
    for k in from.api_keys(None).await?.into_iter().rev() {
        let new = !have.contains(&k.id);
        if new {
            to.insert_api_key(&k).await?;
        }
        report.api_keys.add(new);
    }
    progress("api_keys", report.api_keys.total());

    for w in from.webhook_records().await? {
        report.webhooks.add(to.import_webhook(&w).await?);
    }
    progress("webhooks", report.webhooks.total());
    Ok(())
}

/// Portfolios, each with its holdings and events.
async fn copy_portfolios(
    from: &dyn AppStore,
    to: &dyn AppStore,
    report: &mut CopyReport,
    progress: &mut dyn FnMut(&str, u64),
) -> Result<()> {
    let have: HashSet<_> = to
        .all_portfolios()
        .await?
        .into_iter()
        .map(|p| p.id)
        .collect();
    for p in from.all_portfolios().await? {
        let new = !have.contains(&p.id);
        if new {
            to.upsert_portfolio(&p).await?;
        }
        report.portfolios.add(new);

        let held: HashSet<_> = to.holdings(p.id).await?.into_iter().map(|h| h.id).collect();
        for h in from.holdings(p.id).await? {
            let new = !held.contains(&h.id);
            if new {
                to.upsert_holding(&h).await?;
            }
            report.holdings.add(new);
        }

        let events = from.portfolio_events(p.id).await?;
        if !events.is_empty() {
            let w = to.append_portfolio_events(&events).await?;
            count_written(&mut report.portfolio_events, w.rows, w.new_rows);
        }
        progress("portfolios", report.portfolios.total());
    }
    progress("holdings", report.holdings.total());
    progress("portfolio_events", report.portfolio_events.total());
    Ok(())
}

/// Alert rules, then fired alerts page by page.
async fn copy_rules_and_alerts(
    from: &dyn AppStore,
    to: &dyn AppStore,
    report: &mut CopyReport,
    progress: &mut dyn FnMut(&str, u64),
) -> Result<()> {
    let have: HashSet<_> = to.rules(None).await?.into_iter().map(|r| r.id).collect();
    for r in from.rules(None).await? {
        let new = !have.contains(&r.id);
        if new {
            to.upsert_rule(&r).await?;
        }
        report.alert_rules.add(new);
    }
    progress("alert_rules", report.alert_rules.total());

    let mut after = None;
    loop {
        let page = from.alerts_after(after, ALERT_PAGE).await?;
        let Some(last) = page.last() else {
            break;
        };
        after = Some(last.id);
        let w = to.import_alerts(&page).await?;
        count_written(&mut report.alerts, w.rows, w.new_rows);
        progress("alerts", report.alerts.total());
    }
    Ok(())
}

/// An idempotent batch write: the new rows were copied, the others were present. A target that
/// cannot tell counts all as copied.
fn count_written(count: &mut CopyCount, rows: usize, new_rows: Option<usize>) {
    let rows = u64::try_from(rows).unwrap_or(u64::MAX);
    let new = new_rows.map_or(rows, |n| u64::try_from(n).unwrap_or(u64::MAX));
    count.copied += new;
    count.present += rows.saturating_sub(new);
}
