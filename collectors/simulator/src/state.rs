//! The state every route shares: configuration, catalog, counters, tokens, cached archives, and
//! the fault of each data request.

use std::{
    collections::HashMap,
    sync::{
        Arc, Mutex,
        atomic::{AtomicU64, Ordering},
    },
};

use crate::{SimConfig, catalog::SimCatalog, rng, stats::SimStats};

/// The fault drawn for one data request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Fault {
    None,
    TooMany,
    Unavailable,
    ServerError,
    Hang,
    Malformed,
    ExpiredToken,
}

#[derive(Debug)]
pub(crate) struct SimState {
    pub(crate) config: SimConfig,
    pub(crate) catalog: SimCatalog,
    pub(crate) stats: Arc<SimStats>,
    request_no: AtomicU64,
    pub(crate) token_generation: AtomicU64,
    pub(crate) token_no: AtomicU64,
    pub(crate) archives: Mutex<HashMap<String, bytes::Bytes>>,
}

impl SimState {
    pub(crate) fn new(config: SimConfig) -> Self {
        let catalog = SimCatalog::generate(
            config.seed,
            &config.categories,
            config.sets_per_game,
            config.cards_per_set,
            config.sealed_per_set,
        );
        SimState {
            config,
            catalog,
            stats: Arc::new(SimStats::default()),
            request_no: AtomicU64::new(0),
            token_generation: AtomicU64::new(0),
            token_no: AtomicU64::new(0),
            archives: Mutex::new(HashMap::new()),
        }
    }

    pub(crate) fn now_secs(&self) -> i64 {
        self.config
            .fixed_time
            .unwrap_or_else(|| chrono::Utc::now().timestamp())
    }

    /// The instant prices asked for at `secs` are quoted at: the start of its step.
    pub(crate) fn quote_at(&self, secs: i64) -> i64 {
        crate::market::quote_time(secs, self.config.step_secs)
    }

    /// Decides the fault of the next data request (deterministic in request order).
    pub(crate) fn next_fault(&self, authed: bool) -> Fault {
        let n = self.request_no.fetch_add(1, Ordering::Relaxed);
        let f = &self.config.faults;
        let fault = if n < f.first_429 {
            Fault::TooMany
        } else if n < f.first_429 + f.first_503 {
            Fault::Unavailable
        } else if n < f.first_429 + f.first_503 + f.first_500 {
            Fault::ServerError
        } else if n < f.first_429 + f.first_503 + f.first_500 + f.first_malformed {
            Fault::Malformed
        } else {
            let r = rng::unit(rng::hash(&[self.config.seed, n, 0xFA17]));
            let mut edge = f.rate_429;
            if r < edge {
                Fault::TooMany
            } else if r < {
                edge += f.rate_500;
                edge
            } {
                Fault::ServerError
            } else if r < {
                edge += f.rate_hang;
                edge
            } {
                Fault::Hang
            } else if r < {
                edge += f.rate_malformed;
                edge
            } {
                Fault::Malformed
            } else if authed && r < edge + f.rate_expired_token {
                Fault::ExpiredToken
            } else {
                Fault::None
            }
        };
        self.stats.fault(fault);
        fault
    }
}
