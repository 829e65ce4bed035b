//! What a price source is doing, as `GET /v1/sources`, `/readyz` and the start-up banner show
//! it: a [`SourceHealth`] per source, updated by the collectors after every pass.
//!
//! A pass that failed, or that published nothing while something failed, leaves the source
//! **down**; a pass that did its work while an auxiliary lookup (printings, a group's products,
//! a price batch …) failed leaves it **degraded**, naming what failed and what that cost; a
//! source that has not finished a pass yet is **starting**.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::{ProductId, Timestamp};

/// A source's state after its last pass.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum HealthStatus {
    /// No pass has finished yet.
    Starting,
    /// The last pass did its work and nothing failed.
    Ok,
    /// The last pass did its work, but something it reads failed (see `degraded`).
    Degraded,
    /// The last pass failed, or published nothing while something failed.
    Down,
}

impl HealthStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            HealthStatus::Starting => "starting",
            HealthStatus::Ok => "ok",
            HealthStatus::Degraded => "degraded",
            HealthStatus::Down => "down",
        }
    }

    /// Ok or degraded: the source delivers.
    pub fn is_up(self) -> bool {
        matches!(self, HealthStatus::Ok | HealthStatus::Degraded)
    }
}

/// An error as health shows it: when, which kind, the message, and what the source was doing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct HealthError {
    pub at: Timestamp,
    /// `client_error`, `server_error`, `timeout`, `breaker_open`, `decode` …
    pub kind: String,
    pub message: String,
    /// `pass`, or the lookup that failed (`printings of category 3`, `products of group 604` …).
    pub during: String,
}

/// Something a pass could not read, and what the pass did without it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Degradation {
    /// The lookup that failed: `printings of category 3`, `product prices of group 604 (250
    /// products)` …
    pub what: String,
    /// The kind of the failure (as in [`HealthError::kind`]).
    pub kind: String,
    pub message: String,
    /// What was done without it: `SKU printings named from price rows`, `group skipped` …
    pub effect: String,
}

/// One source's health.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct SourceHealth {
    /// `tcgplayer`, `tcgcsv`, `ebay_browse`, `ebay_sold`, `ecb`.
    pub source: String,
    pub status: HealthStatus,
    /// `status` is ok or degraded.
    pub up: bool,
    pub passes: u64,
    pub failed_passes: u64,
    /// When the last pass ended.
    pub last_pass_at: Option<Timestamp>,
    /// When a pass last ended up (ok or degraded).
    pub last_success_at: Option<Timestamp>,
    /// The last error: of a failed pass, or the last lookup that failed.
    pub last_error: Option<HealthError>,
    /// Quotes the last pass published.
    pub quotes_last_pass: u64,
    /// Requests the last pass made.
    pub requests_last_pass: u64,
    /// Rows and requests that failed in the last pass without failing it.
    pub errors_last_pass: u64,
    /// Rows the last pass rejected (see `GET /v1/cards/{product_id}/rejections`).
    pub rejected_last_pass: u64,
    /// The last pass found nothing new upstream (TCGCSV's unchanged day, no tracked cards).
    pub skipped_last_pass: bool,
    /// What the last pass could not read (empty when nothing failed).
    pub degraded: Vec<Degradation>,
    /// Products of this market that no card of ours fits, or several do (listed by
    /// `GET /v1/sources/unmapped?source=`); 0 for the sources that price our ids.
    #[serde(default)]
    pub unmapped_products: u64,
}

impl SourceHealth {
    /// A source that has not finished a pass yet.
    pub fn starting(source: &str) -> Self {
        SourceHealth {
            source: source.to_owned(),
            status: HealthStatus::Starting,
            up: false,
            passes: 0,
            failed_passes: 0,
            last_pass_at: None,
            last_success_at: None,
            last_error: None,
            quotes_last_pass: 0,
            requests_last_pass: 0,
            errors_last_pass: 0,
            rejected_last_pass: 0,
            skipped_last_pass: false,
            degraded: Vec::new(),
            unmapped_products: 0,
        }
    }

    /// One line for a log or the banner: `tcgplayer ok, 1234 quotes`, `tcgplayer degraded
    /// (printings of category 3: …)`, `ebay_browse down (pass: …)`.
    pub fn summary(&self) -> String {
        let status = self.status.as_str();
        match (self.status, &self.last_error) {
            (HealthStatus::Starting, _) => format!("{} starting", self.source),
            (HealthStatus::Ok, _) if self.skipped_last_pass => {
                format!("{} ok, nothing new upstream", self.source)
            }
            (HealthStatus::Ok, _) | (_, None) => {
                format!("{} {status}, {} quotes", self.source, self.quotes_last_pass)
            }
            (_, Some(e)) => format!(
                "{} {status}, {} quotes ({}: {})",
                self.source, self.quotes_last_pass, e.during, e.message
            ),
        }
    }
}

/// A product of another market that a collector could not map to one of ours: none fits, or
/// several fit equally well. Never guessed into a series; listed so a user can see what a source
/// does not price.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct UnmappedProduct {
    /// The market (`cardmarket`, `cardkingdom`, …).
    pub source: String,
    /// The market's own id of the product.
    pub external_id: String,
    /// `unmapped` (none of ours fits) or `ambiguous` (several do).
    pub why: String,
    /// The product as the market names it.
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub number: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub set: Option<String>,
    /// Our products that fit equally well (ambiguous only).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub candidates: Vec<ProductId>,
    /// When the collector last met it.
    pub last_seen: Timestamp,
}
