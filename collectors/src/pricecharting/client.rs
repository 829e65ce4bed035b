//! The PriceCharting client: the CSV price guide of a category, and the JSON API's product and
//! search. Every request carries the token as `t=`, is spaced by the HTTP client's rate limit
//! (PriceCharting allows one call a second) and spends one unit of a daily budget. The token
//! never appears in an error: URLs in errors have it replaced by `***`.

use super::{
    PricechartingConfig,
    model::{ApiProduct, ApiSearch, ApiStatus, Guide, GuideRow, parse_guide},
};
use crate::{
    CollectorError,
    http::{Fetched, HttpClient, SharedBudget, join},
    telemetry,
};

pub(crate) const SOURCE: &str = "pricecharting";

/// A PriceCharting client.
#[derive(Debug)]
pub struct PricechartingClient {
    http: HttpClient,
    base: String,
    token: String,
    budget: SharedBudget,
}

impl PricechartingClient {
    pub fn new(config: &PricechartingConfig) -> Result<Self, CollectorError> {
        if config.token.trim().is_empty() {
            return Err(CollectorError::Config(
                "PriceCharting needs an API token (TCG_PRICECHARTING_TOKEN)".into(),
            ));
        }
        Ok(PricechartingClient {
            http: HttpClient::new(SOURCE, &config.http)?,
            base: config.base_url.clone(),
            token: config.token.trim().to_owned(),
            budget: SharedBudget::per_day(SOURCE, config.daily_budget),
        })
    }

    pub fn http(&self) -> &HttpClient {
        &self.http
    }

    /// Requests left in today's budget.
    pub fn budget_remaining(&self) -> u32 {
        self.budget.remaining()
    }

    fn spend(&self) -> Result<(), CollectorError> {
        self.budget.spend()
    }

    /// `GET path?t=TOKEN&name=value`, the token kept out of any error.
    async fn get(
        &self,
        op: &'static str,
        path: &str,
        param: (&str, &str),
    ) -> Result<Fetched, CollectorError> {
        self.spend()?;
        let url = join(&self.base, path);
        let query = [("t", self.token.as_str()), param];
        self.http
            .send(op, |c| c.get(&url).query(&query))
            .await
            .map_err(|e| self.redact(e))
    }

    /// The error without the token.
    fn redact(&self, e: CollectorError) -> CollectorError {
        let hide = |url: String| url.replace(&self.token, "***");
        match e {
            CollectorError::Status {
                source_name,
                status,
                url,
            } => CollectorError::Status {
                source_name,
                status,
                url: hide(url),
            },
            CollectorError::Timeout { source_name, url } => CollectorError::Timeout {
                source_name,
                url: hide(url),
            },
            CollectorError::Transport {
                source_name,
                source,
            } => CollectorError::Transport {
                source_name,
                source: source.without_url(),
            },
            other => other,
        }
    }

    /// The CSV price guide of a PriceCharting category (`pokemon-cards`, `magic-cards` …):
    /// `/price-guide/download-custom?t=TOKEN&category=…`. A refused download stays a `Status`
    /// error (a 403 may be a bad token or a challenge page: the API tells which); an HTML page
    /// instead of the file is malformed.
    pub async fn guide(&self, category: &str) -> Result<Guide, CollectorError> {
        let fetched = self
            .get(
                "guide",
                "price-guide/download-custom",
                ("category", category),
            )
            .await?;
        let body = fetched.body;
        tokio::task::spawn_blocking(move || parse_guide(&body))
            .await
            .map_err(|e| CollectorError::malformed_in(SOURCE, "price guide", e))?
            .inspect_err(|e| telemetry::error(SOURCE, e))
    }

    /// One product: `/api/product?t=TOKEN&id=…`. An unknown id is
    /// `Upstream(["No such product"])` (see [`is_not_found`]); a refused token is `Auth`.
    pub async fn product(&self, id: &str) -> Result<(GuideRow, usize), CollectorError> {
        let fetched = self
            .get("product", "api/product", ("id", id))
            .await
            .map_err(|e| refused(e, "PriceCharting refused the API token"))?;
        check_status(&fetched.body)?;
        let product: ApiProduct = serde_json::from_slice(&fetched.body)
            .map_err(|e| CollectorError::malformed_in(SOURCE, "product", e))?;
        let mut bad = 0;
        let row = product.into_row(&mut bad);
        Ok((row, bad))
    }

    /// Search: `/api/products?t=TOKEN&q=…` (up to 20 products, with their prices).
    pub async fn search(&self, q: &str) -> Result<Vec<GuideRow>, CollectorError> {
        let fetched = self
            .get("search", "api/products", ("q", q))
            .await
            .map_err(|e| refused(e, "PriceCharting refused the API token"))?;
        check_status(&fetched.body)?;
        let found: ApiSearch = serde_json::from_slice(&fetched.body)
            .map_err(|e| CollectorError::malformed_in(SOURCE, "products", e))?;
        let mut bad = 0;
        let rows = found
            .products
            .into_iter()
            .map(|p| p.into_row(&mut bad))
            .collect();
        telemetry::dropped(SOURCE, bad);
        Ok(rows)
    }
}

/// A 401 or 403 answer as an authentication error.
fn refused(e: CollectorError, reason: &'static str) -> CollectorError {
    match e {
        CollectorError::Status {
            status: 401 | 403, ..
        } => CollectorError::Auth {
            source_name: SOURCE,
            reason,
            source: Box::new(e),
        },
        other => other,
    }
}

/// The error a JSON answer states (`{"status":"error","error-message":"…"}`): a message about
/// the token is an authentication error, any other is `Upstream`.
pub fn check_status(body: &[u8]) -> Result<(), CollectorError> {
    let status: ApiStatus = serde_json::from_slice(body).map_err(|e| {
        let e = CollectorError::malformed(SOURCE, e);
        telemetry::error(SOURCE, &e);
        e
    })?;
    let Some(message) = status.error() else {
        return Ok(());
    };
    let upstream = CollectorError::Upstream {
        source_name: SOURCE,
        errors: vec![message.to_owned()],
    };
    let e = if message.to_ascii_lowercase().contains("token") {
        CollectorError::Auth {
            source_name: SOURCE,
            reason: "PriceCharting refused the API token",
            source: Box::new(upstream),
        }
    } else {
        upstream
    };
    telemetry::error(SOURCE, &e);
    Err(e)
}

/// Whether an API error says the product does not exist (an id PriceCharting dropped or merged).
pub fn is_not_found(e: &CollectorError) -> bool {
    match e {
        CollectorError::Status { status: 404, .. } => true,
        CollectorError::Upstream { errors, .. } => errors.iter().any(|m| {
            let m = m.to_ascii_lowercase();
            m.contains("no such product") || m.contains("not found") || m.contains("no product")
        }),
        _ => false,
    }
}
