//! The eBay client: an application token (client credentials, the shared [`TokenCache`]) cached
//! until shortly before it expires, minted at most `token_daily_limit` times a day, and
//! refreshed once on a 401.

use std::{
    sync::{Mutex, PoisonError},
    time::Duration,
};

use base64::Engine;
use tokio::time::Instant;

use super::EbayConfig;
use crate::{
    CollectorError,
    http::{DailyBudget, Fetched, HttpClient, Minted, TokenCache, join, mint_client_credentials},
};

/// The Browse scope.
pub const BROWSE_SCOPE: &str = "https://api.ebay.com/oauth/api_scope";
/// The Marketplace Insights scope.
pub const INSIGHTS_SCOPE: &str = "https://api.ebay.com/oauth/api_scope/buy.marketplace.insights";

/// A token is refreshed a tenth of its life early, at most five minutes.
const MAX_REFRESH_MARGIN: Duration = Duration::from_secs(300);
/// The life of a token whose answer does not say (eBay's application tokens live two hours).
const DEFAULT_TOKEN_LIFE: Duration = Duration::from_secs(7200);

/// An eBay API client for one scope.
#[derive(Debug)]
pub struct EbayClient {
    source: &'static str,
    http: HttpClient,
    base: String,
    basic: String,
    scope: String,
    marketplace: String,
    token: TokenCache,
    /// Mints left today (taken only by the token cache's mint, one at a time).
    mints: Mutex<DailyBudget>,
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
            token: TokenCache::new(source, MAX_REFRESH_MARGIN),
            mints: Mutex::new(DailyBudget::per_day(config.token_daily_limit)),
        })
    }

    pub fn http(&self) -> &HttpClient {
        &self.http
    }

    pub fn tokens_minted(&self) -> u64 {
        self.token.minted()
    }

    /// A valid token: the cached one until five minutes (or a tenth of its life) before expiry.
    pub async fn token(&self) -> Result<String, CollectorError> {
        self.token.get(|| self.mint()).await
    }

    /// Takes a mint from today's allowance, then `POST /identity/v1/oauth2/token` with Basic
    /// auth and the scope.
    async fn mint(&self) -> Result<Minted, CollectorError> {
        self.take_mint()?;
        let url = join(&self.base, "identity/v1/oauth2/token");
        let form = [
            ("grant_type", "client_credentials"),
            ("scope", self.scope.as_str()),
        ];
        let auth = format!("Basic {}", self.basic);
        mint_client_credentials(&self.http, DEFAULT_TOKEN_LIFE, |c| {
            c.post(&url)
                .header(reqwest::header::AUTHORIZATION, &auth)
                .form(&form)
        })
        .await
    }

    fn take_mint(&self) -> Result<(), CollectorError> {
        // A panic elsewhere cannot leave a budget half-updated: keep using it.
        let mut mints = self.mints.lock().unwrap_or_else(PoisonError::into_inner);
        mints
            .try_take(Instant::now())
            .map_err(|wait| CollectorError::BudgetExhausted {
                source_name: self.source,
                limit: mints.limit(),
                retry_in_secs: wait.as_secs().max(1),
            })
    }

    /// GET `path` with `query`, the token and the marketplace header; once more after a 401.
    pub async fn get(
        &self,
        op: &'static str,
        path: &str,
        query: &[(&str, String)],
    ) -> Result<Fetched, CollectorError> {
        let url = &join(&self.base, path);
        self.token
            .authorized(
                || self.mint(),
                |token| async move {
                    let auth = format!("Bearer {token}");
                    self.http
                        .send(op, |c| {
                            c.get(url)
                                .query(query)
                                .header(reqwest::header::AUTHORIZATION, &auth)
                                .header("X-EBAY-C-MARKETPLACE-ID", &self.marketplace)
                        })
                        .await
                },
            )
            .await
    }
}
