//! The JustTCG API client: the key in `x-api-key`, `POST /cards` batch lookups by TCGplayer
//! product id, `GET /cards` lookups and listings, `GET /sets`, `GET /games`; the plan's usage
//! (`_metadata`) of the last answer kept.

use std::sync::Mutex;

use serde::{Serialize, de::DeserializeOwned};

use super::{
    JusttcgConfig,
    model::{Card, Envelope, GameRow, SetRow, Usage, parse_envelope},
};
use crate::{
    CollectorError,
    http::{Fetched, HttpClient, join},
    telemetry,
};

pub(crate) const SOURCE: &str = "justtcg";

/// The header JustTCG reads the key from.
pub const API_KEY_HEADER: &str = "x-api-key";

/// Most cards a request may name or return on any plan (Enterprise; Free 20, Starter and
/// Professional 100).
pub const MAX_CARDS_PER_REQUEST: u32 = 200;

/// One item of a `POST /cards` body.
#[derive(Debug, Serialize)]
struct Lookup<'a> {
    #[serde(rename = "tcgplayerId")]
    tcgplayer_id: &'a str,
}

/// A JustTCG API client.
#[derive(Debug)]
pub struct JusttcgClient {
    http: HttpClient,
    base: String,
    api_key: String,
    usage: Mutex<Option<Usage>>,
}

impl JusttcgClient {
    pub fn new(config: &JusttcgConfig) -> Result<Self, CollectorError> {
        Ok(JusttcgClient {
            http: HttpClient::new(SOURCE, &config.http)?,
            base: config.base_url.clone(),
            api_key: config.api_key.clone(),
            usage: Mutex::new(None),
        })
    }

    pub fn http(&self) -> &HttpClient {
        &self.http
    }

    /// The plan's usage as the last answer stated it.
    pub fn usage(&self) -> Option<Usage> {
        self.usage.lock().ok().and_then(|u| u.clone())
    }

    /// A refused key (401) or plan (403) is an authentication error naming the refusal.
    fn refused(e: CollectorError) -> CollectorError {
        let reason = match &e {
            CollectorError::Status { status: 401, .. } => {
                "JustTCG refused the API key (x-api-key missing, invalid or revoked)"
            }
            CollectorError::Status { status: 403, .. } => {
                "JustTCG refused the request for this plan (more cards a request than it allows?)"
            }
            _ => return e,
        };
        CollectorError::Auth {
            source_name: SOURCE,
            reason,
            source: Box::new(e),
        }
    }

    fn read<T: DeserializeOwned>(&self, fetched: &Fetched) -> Result<Envelope<T>, CollectorError> {
        let env: Envelope<T> =
            parse_envelope(SOURCE, &fetched.body).inspect_err(|e| telemetry::error(SOURCE, e))?;
        if let Some(usage) = &env.usage
            && let Ok(mut last) = self.usage.lock()
        {
            *last = Some(usage.clone());
        }
        Ok(env)
    }

    async fn get<T: DeserializeOwned>(
        &self,
        op: &'static str,
        path: &str,
        query: &[(&str, String)],
    ) -> Result<Envelope<T>, CollectorError> {
        let url = join(&self.base, path);
        let fetched = self
            .http
            .send(op, |c| {
                c.get(&url)
                    .query(query)
                    .header(API_KEY_HEADER, &self.api_key)
                    .header(reqwest::header::ACCEPT, "application/json")
            })
            .await
            .map_err(Self::refused)?;
        self.read(&fetched)
    }

    /// `POST /cards` with one `{tcgplayerId}` item per id: the cards JustTCG has of them (those
    /// it does not have are left out of the answer).
    pub async fn batch(&self, ids: &[u64]) -> Result<Envelope<Card>, CollectorError> {
        let texts: Vec<String> = ids.iter().map(u64::to_string).collect();
        let body: Vec<Lookup<'_>> = texts.iter().map(|t| Lookup { tcgplayer_id: t }).collect();
        let url = join(&self.base, "cards");
        let fetched = self
            .http
            .send("batch", |c| {
                c.post(&url)
                    .header(API_KEY_HEADER, &self.api_key)
                    .header(reqwest::header::ACCEPT, "application/json")
                    .json(&body)
            })
            .await
            .map_err(Self::refused)?;
        self.read(&fetched)
    }

    /// `GET /cards` with these parameters (a lookup with an id, else a search or listing).
    pub async fn cards(&self, query: &[(&str, String)]) -> Result<Envelope<Card>, CollectorError> {
        self.get("cards", "cards", query).await
    }

    /// One page of a set's cards.
    pub async fn set_cards(
        &self,
        game: &str,
        set: &str,
        limit: u32,
        offset: u64,
    ) -> Result<Envelope<Card>, CollectorError> {
        self.cards(&[
            ("game", game.to_owned()),
            ("set", set.to_owned()),
            ("limit", limit.to_string()),
            ("offset", offset.to_string()),
        ])
        .await
    }

    /// `GET /sets?game=`: every set of a game.
    pub async fn sets(&self, game: &str) -> Result<Vec<SetRow>, CollectorError> {
        self.get("sets", "sets", &[("game", game.to_owned())])
            .await
            .map(|e| e.data)
    }

    /// `GET /games`.
    pub async fn games(&self) -> Result<Vec<GameRow>, CollectorError> {
        self.get("games", "games", &[]).await.map(|e| e.data)
    }
}
