//! Scryfall's shapes, as sent: the bulk-data list (`GET /bulk-data`), the card objects of a bulk
//! file (only the fields we read; serde skips the rest), and the error object every failed API
//! request answers with.

use serde::Deserialize;
use tcg_schemas::Language;

use super::SOURCE;
use crate::CollectorError;

/// `GET /bulk-data`: a list object of bulk-data items.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct BulkList {
    /// `"list"`.
    pub object: String,
    pub data: Vec<BulkItem>,
}

/// One bulk-data file (`"object": "bulk_data"`). Scryfall rebuilds them about every 12 hours,
/// each build at a new, timestamped URI.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct BulkItem {
    pub id: String,
    /// `default_cards`, `oracle_cards`, `unique_artwork`, `all_cards`, `rulings` …
    #[serde(rename = "type")]
    pub kind: String,
    /// When the file was last built (`2025-01-16T22:39:59.251+00:00`).
    pub updated_at: String,
    #[serde(default)]
    pub name: Option<String>,
    /// The gzip-compressed JSON Lines file (one card object per line): what Scryfall publishes
    /// since 2026.
    #[serde(default)]
    pub jsonl_download_uri: Option<String>,
    /// The older single JSON array file (served with `Content-Encoding: gzip`), kept for
    /// mirrors and older snapshots of the list.
    #[serde(default)]
    pub download_uri: Option<String>,
    #[serde(default)]
    pub size: Option<u64>,
    #[serde(default)]
    pub compressed_size: Option<u64>,
}

impl BulkItem {
    /// Where to download the file: the JSON Lines file when listed, else the JSON array.
    pub fn file_uri(&self) -> Option<&str> {
        self.jsonl_download_uri
            .as_deref()
            .or(self.download_uri.as_deref())
            .filter(|u| !u.trim().is_empty())
    }
}

/// Scryfall's error object, sent with every 4xx/5xx answer of `api.scryfall.com`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct ScryfallError {
    /// `"error"`.
    pub object: String,
    /// `not_found`, `bad_request` …
    pub code: String,
    pub status: u16,
    pub details: String,
    /// A finer label of the failure (`ambiguous` for a 404 of `/cards/named`).
    #[serde(default, rename = "type")]
    pub kind: Option<String>,
    #[serde(default)]
    pub warnings: Option<Vec<String>>,
}

/// The fields of a Scryfall card object we read.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Card {
    /// Scryfall's id of this printing (a UUID).
    pub id: String,
    pub name: String,
    /// Scryfall's language code (`en`, `ja`, `zhs` …).
    pub lang: String,
    /// The set code (`mh3`).
    pub set: String,
    pub set_name: String,
    pub collector_number: String,
    /// Digital-only printings (MTGO, Arena) have no paper market.
    #[serde(default)]
    pub digital: bool,
    /// `nonfoil`, `foil`, `etched` (and, historically, `glossy`).
    #[serde(default)]
    pub finishes: Vec<String>,
    /// TCGplayer's product id of this printing (nonfoil and foil).
    #[serde(default)]
    pub tcgplayer_id: Option<u64>,
    /// TCGplayer's product id of the etched version when it is a product of its own (TCGplayer
    /// names it "… (Foil Etched)" and prices it as that product's `Foil`).
    #[serde(default)]
    pub tcgplayer_etched_id: Option<u64>,
    /// Cardmarket's `idProduct`.
    #[serde(default)]
    pub cardmarket_id: Option<u64>,
    #[serde(default)]
    pub prices: Prices,
}

impl Card {
    pub fn has_finish(&self, finish: &str) -> bool {
        self.finishes.iter().any(|f| f == finish)
    }
}

/// A card's prices as decimal strings, null when unknown. `usd*` are TCGplayer market prices,
/// `eur*` Cardmarket's; `tix` (Cardhoarder's MTGO price) is not read: it is not a currency.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
pub struct Prices {
    #[serde(default)]
    pub usd: Option<String>,
    #[serde(default)]
    pub usd_foil: Option<String>,
    #[serde(default)]
    pub usd_etched: Option<String>,
    #[serde(default)]
    pub eur: Option<String>,
    #[serde(default)]
    pub eur_foil: Option<String>,
    #[serde(default)]
    pub eur_etched: Option<String>,
}

impl Prices {
    pub fn is_empty(&self) -> bool {
        [
            &self.usd,
            &self.usd_foil,
            &self.usd_etched,
            &self.eur,
            &self.eur_foil,
            &self.eur_etched,
        ]
        .iter()
        .all(|p| p.is_none())
    }
}

/// Our language for a Scryfall language code; `None` for the ones no market of ours prices
/// (`he`, `la`, `grc`, `ar`, `sa`, `ph`, `qya`: prerelease and novelty printings).
pub fn language(code: &str) -> Option<Language> {
    Some(match code {
        "en" => Language::English,
        "es" => Language::Spanish,
        "fr" => Language::French,
        "de" => Language::German,
        "it" => Language::Italian,
        "pt" => Language::Portuguese,
        "ja" => Language::Japanese,
        "ko" => Language::Korean,
        "ru" => Language::Russian,
        "zhs" => Language::ChineseSimplified,
        "zht" => Language::ChineseTraditional,
        _ => return None,
    })
}

/// Parses the bulk-data list.
pub fn parse_bulk_list(body: &[u8]) -> Result<BulkList, CollectorError> {
    let list: BulkList = serde_json::from_slice(body)
        .map_err(|e| CollectorError::malformed_in(SOURCE, "bulk-data list", e))?;
    if list.object != "list" {
        return Err(CollectorError::malformed_because(
            SOURCE,
            format!("bulk-data answer is a {:?} object, not a list", list.object),
        ));
    }
    Ok(list)
}

/// Parses an error object.
pub fn parse_error(body: &[u8]) -> Result<ScryfallError, CollectorError> {
    serde_json::from_slice(body)
        .map_err(|e| CollectorError::malformed_in(SOURCE, "error object", e))
}
