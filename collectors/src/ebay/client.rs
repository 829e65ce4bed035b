//! The eBay client: an application token (client credentials) cached until shortly before it
//! expires, minted at most `token_daily_limit` times a day, and refreshed once on a 401.

use std::{
    sync::atomic::{AtomicU64, Ordering},
    time::Duration,
};

use base64::Engine;
use serde::Deserialize;
use tokio::{sync::Mutex, time::Instant};

use super::EbayConfig;
use crate::{
    CollectorError,
    http::{DailyBudget, Fetched, HttpClient, join},
    telemetry,
};

/// The Browse scope.
pub const BROWSE_SCOPE: &str = "https://api.ebay.com/oauth/api_scope";
/// The Marketplace Insights scope.
pub const INSIGHTS_SCOPE: &str = "https://api.ebay.com/oauth/api_scope/buy.marketplace.insights";

#[derive(Debug, Deserialize)]
struct TokenAnswer {
    access_token: String,
    #[serde(default)]
    expires_in: Option<u64>,
}

#[derive(Debug)]
struct TokenState {
    cached: Option<(String, Instant)>,
    mints: DailyBudget,
}

/// An eBay API client for one scope.
#[derive(Debug)]
pub struct EbayClient {
    source: &'static str,
    http: HttpClient,
    base: String,
    basic: String,
    scope: String,
    marketplace: String,
    token: Mutex<TokenState>,
    minted: AtomicU64,
}

impl EbayClient {
    pub fn new(
        source: &'static str,
        config: &EbayConfig,
        scope: &str,
    ) -> Result<Self, CollectorError> {
        let basic = base64::engine::general_purpose::STANDARD
            .encode(format!("{}:{}", config.client_id, config.client_secret));
        Ok(EbayClient {
            source,
            http: HttpClient::new(source, &config.http)?,
            base: config.base_url.clone(),
            basic,
            scope: scope.to_owned(),
            marketplace: config.marketplace_id.clone(),
            token: Mutex::new(TokenState {
                cached: None,
                mints: DailyBudget::per_day(config.token_daily_limit),
            }),
            minted: AtomicU64::new(0),
        })
    }

    pub fn http(&self) -> &HttpClient {
        &self.http
    }

    pub fn tokens_minted(&self) -> u64 {
        self.minted.load(Ordering::Relaxed)
    }

    /// A valid token: the cached one until five minutes (or a tenth of its life) before expiry.
    pub async fn token(&self) -> Result<String, CollectorError> {
        let mut state = self.token.lock().await;
        let now = Instant::now();
        if let Some((value, refresh_at)) = &state.cached
            && now < *refresh_at
        {
            return Ok(value.clone());
        }
        state
            .mints
            .try_take(now)
            .map_err(|wait| CollectorError::BudgetExhausted {
                source_name: self.source,
                limit: state.mints.limit(),
                retry_in_secs: wait.as_secs().max(1),
            })?;
        let url = join(&self.base, "identity/v1/oauth2/token");
        let form = [
            ("grant_type", "client_credentials"),
            ("scope", self.scope.as_str()),
        ];
        let auth = format!("Basic {}", self.basic);
        let fetched = self
            .http
            .send("token", |c| {
                c.post(&url)
                    .header(reqwest::header::AUTHORIZATION, &auth)
                    .form(&form)
            })
            .await
            .map_err(|e| match e {
                CollectorError::Status { status, .. } if status == 400 || status == 401 => {
                    CollectorError::Auth {
                        source_name: self.source,
                        message: format!("token endpoint answered {status}"),
                    }
                }
                other => other,
            })?;
        let answer: TokenAnswer = serde_json::from_slice(&fetched.body)
            .map_err(|e| CollectorError::malformed(self.source, format!("token: {e}")))?;
        let life = Duration::from_secs(answer.expires_in.unwrap_or(7200));
        let margin = (life / 10).min(Duration::from_secs(300));
        self.minted.fetch_add(1, Ordering::Relaxed);
        metrics::counter!(telemetry::TOKEN_MINTS, "source" => self.source).increment(1);
        tracing::info!(
            source = self.source,
            expires_in_s = life.as_secs(),
            "minted token"
        );
        state.cached = Some((answer.access_token.clone(), now + life - margin));
        Ok(answer.access_token)
    }

    async fn forget(&self, value: &str) {
        let mut state = self.token.lock().await;
        if state.cached.as_ref().is_some_and(|(v, _)| v == value) {
            state.cached = None;
        }
    }

    /// GET `path` with `query`, the token and the marketplace header; once more after a 401.
    pub async fn get(
        &self,
        op: &'static str,
        path: &str,
        query: &[(&str, String)],
    ) -> Result<Fetched, CollectorError> {
        let url = join(&self.base, path);
        let mut refreshed = false;
        loop {
            let token = self.token().await?;
            let auth = format!("Bearer {token}");
            let result = self
                .http
                .send(op, |c| {
                    c.get(&url)
                        .query(query)
                        .header(reqwest::header::AUTHORIZATION, &auth)
                        .header("X-EBAY-C-MARKETPLACE-ID", &self.marketplace)
                })
                .await;
            match result {
                Err(CollectorError::Status { status: 401, .. }) if !refreshed => {
                    tracing::info!(source = self.source, "401: refreshing token once");
                    self.forget(&token).await;
                    refreshed = true;
                }
                Err(CollectorError::Status {
                    status: 401, url, ..
                }) => {
                    return Err(CollectorError::Auth {
                        source_name: self.source,
                        message: format!("401 from {url} with a fresh token"),
                    });
                }
                other => return other,
            }
        }
    }
}
