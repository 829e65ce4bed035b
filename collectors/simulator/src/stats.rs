//! Request and fault counters, readable while the simulator runs.

use std::{
    collections::HashMap,
    sync::{
        Mutex,
        atomic::{AtomicU64, Ordering},
    },
};

use serde::Serialize;

use crate::state::Fault;

/// Which kind of request was served (for the counters).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Endpoint {
    TcgplayerToken,
    Tcgplayer,
    Tcgcsv,
    TcgcsvArchive,
    EbayToken,
    EbayBrowse,
    EbayInsights,
    Ecb,
    /// Scryfall's API (`/bulk-data`).
    Scryfall,
    /// Scryfall's bulk files.
    ScryfallFile,
    /// PriceCharting's JSON API and CSV price guides.
    Pricecharting,
    /// Cardmarket's downloads (price guides, product lists).
    Cardmarket,
    /// Card Kingdom's price lists.
    Cardkingdom,
    /// The JustTCG API.
    Justtcg,
}

/// Request and fault counters, readable while the simulator runs.
#[derive(Debug, Default)]
pub struct SimStats {
    endpoints: [AtomicU64; 14],
    faults: [AtomicU64; 5],
    ebay_queries: Mutex<HashMap<String, u64>>,
}

/// A copy of the counters.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct StatsSnapshot {
    pub tcgplayer_tokens: u64,
    pub tcgplayer_requests: u64,
    pub tcgcsv_requests: u64,
    pub tcgcsv_archives: u64,
    pub ebay_tokens: u64,
    pub ebay_browse: u64,
    pub ebay_insights: u64,
    pub ecb_requests: u64,
    pub scryfall_requests: u64,
    pub scryfall_files: u64,
    pub pricecharting_requests: u64,
    pub cardmarket_requests: u64,
    pub cardkingdom_requests: u64,
    pub justtcg_requests: u64,
    pub faults_429: u64,
    pub faults_500: u64,
    pub faults_hang: u64,
    pub faults_malformed: u64,
    pub faults_expired_token: u64,
    /// eBay searches by `q`.
    pub ebay_queries: HashMap<String, u64>,
}

impl SimStats {
    pub(crate) fn hit(&self, e: Endpoint) {
        self.endpoints[e as usize].fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn fault(&self, f: Fault) {
        let i = match f {
            Fault::None => return,
            Fault::TooMany => 0,
            Fault::ServerError | Fault::Unavailable => 1,
            Fault::Hang => 2,
            Fault::Malformed => 3,
            Fault::ExpiredToken => 4,
        };
        self.faults[i].fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn query(&self, q: &str) {
        if let Ok(mut m) = self.ebay_queries.lock() {
            *m.entry(q.to_owned()).or_default() += 1;
        }
    }

    pub fn snapshot(&self) -> StatsSnapshot {
        let e = |i: usize| self.endpoints[i].load(Ordering::Relaxed);
        let f = |i: usize| self.faults[i].load(Ordering::Relaxed);
        StatsSnapshot {
            tcgplayer_tokens: e(0),
            tcgplayer_requests: e(1),
            tcgcsv_requests: e(2),
            tcgcsv_archives: e(3),
            ebay_tokens: e(4),
            ebay_browse: e(5),
            ebay_insights: e(6),
            ecb_requests: e(7),
            scryfall_requests: e(8),
            scryfall_files: e(9),
            pricecharting_requests: e(10),
            cardmarket_requests: e(Endpoint::Cardmarket as usize),
            cardkingdom_requests: e(Endpoint::Cardkingdom as usize),
            justtcg_requests: e(Endpoint::Justtcg as usize),
            faults_429: f(0),
            faults_500: f(1),
            faults_hang: f(2),
            faults_malformed: f(3),
            faults_expired_token: f(4),
            ebay_queries: self
                .ebay_queries
                .lock()
                .map(|m| m.clone())
                .unwrap_or_default(),
        }
    }
}
