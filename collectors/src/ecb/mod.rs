//! ECB euro reference rates (`eurofxref-daily.xml`, `eurofxref-hist.xml`) → `FxRates`, which
//! feed currency normalisation. Rates are not quotes: they are published on a watch channel.

use std::{collections::BTreeMap, future::Future, time::Duration};

use rust_decimal::Decimal;
use serde::Deserialize;
use tcg_schemas::{Currency, FxRates};
use tokio::sync::watch;

use crate::{
    CollectorError, CollectorMonitor, PassReport,
    http::{HttpClient, HttpConfig, join},
    telemetry,
};

pub(crate) const SOURCE: &str = "ecb";

/// ECB settings.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct EcbConfig {
    pub base_url: String,
    pub poll_interval_secs: u64,
    pub http: HttpConfig,
}

impl Default for EcbConfig {
    fn default() -> Self {
        EcbConfig {
            base_url: "https://www.ecb.europa.eu".into(),
            poll_interval_secs: 3600,
            http: HttpConfig::default(),
        }
    }
}

/// The value of attribute `name` inside one tag's text (`currency='USD'` or `currency="USD"`).
fn attribute<'a>(tag: &'a str, name: &str) -> Option<&'a str> {
    let mut rest = tag;
    while let Some(pos) = rest.find(name) {
        let before_ok = pos == 0 || rest[..pos].ends_with(char::is_whitespace);
        let after = rest[pos + name.len()..].trim_start();
        if before_ok && let Some(after) = after.strip_prefix('=') {
            let after = after.trim_start();
            let quote = after.chars().next()?;
            if quote == '\'' || quote == '"' {
                let body = &after[1..];
                return body.find(quote).map(|end| &body[..end]);
            }
            return None;
        }
        rest = &rest[pos + name.len()..];
    }
    None
}

/// Parses an ECB reference-rate document into one `FxRates` per day, newest first (the order
/// the ECB publishes). Anything without a day and at least one readable rate is an error.
pub fn parse_rates(xml: &str) -> Result<Vec<FxRates>, CollectorError> {
    // A cut-off document could still hold whole days; only a complete one is believed.
    if !xml.trim_end().ends_with("Envelope>") {
        return Err(CollectorError::malformed_because(
            SOURCE,
            "truncated document (no closing Envelope)",
        ));
    }
    let mut days: Vec<FxRates> = Vec::new();
    for tag in xml.split('<').skip(1) {
        let tag = tag.split('>').next().unwrap_or("");
        if !tag.starts_with("Cube") || tag.starts_with("Cube>") {
            continue;
        }
        if let Some(time) = attribute(tag, "time") {
            if chrono::NaiveDate::parse_from_str(time, "%Y-%m-%d").is_err() {
                return Err(CollectorError::malformed_because(
                    SOURCE,
                    format!("bad day {time:?}"),
                ));
            }
            days.push(FxRates {
                base: Currency::EUR,
                as_of: time.to_owned(),
                rates: BTreeMap::new(),
            });
        } else if let (Some(cur), Some(rate)) = (attribute(tag, "currency"), attribute(tag, "rate"))
        {
            let day = days
                .last_mut()
                .ok_or_else(|| CollectorError::malformed_because(SOURCE, "rate outside a day"))?;
            let currency =
                Currency::parse(cur).map_err(|e| CollectorError::malformed(SOURCE, e))?;
            let rate: Decimal = rate
                .parse()
                .map_err(|e| CollectorError::malformed_in(SOURCE, format!("rate {rate:?}"), e))?;
            if rate <= Decimal::ZERO {
                return Err(CollectorError::malformed_because(
                    SOURCE,
                    format!("rate {rate} for {cur}"),
                ));
            }
            day.rates.insert(currency, rate);
        }
    }
    days.retain(|d| !d.rates.is_empty());
    if days.is_empty() {
        return Err(CollectorError::malformed_because(
            SOURCE,
            "no rates in the document",
        ));
    }
    Ok(days)
}

/// Fetches the ECB documents.
#[derive(Debug)]
pub struct EcbClient {
    http: HttpClient,
    base: String,
}

impl EcbClient {
    pub fn new(config: &EcbConfig) -> Result<Self, CollectorError> {
        Ok(EcbClient {
            http: HttpClient::new(SOURCE, &config.http)?,
            base: config.base_url.clone(),
        })
    }

    async fn fetch(&self, op: &'static str, path: &str) -> Result<Vec<FxRates>, CollectorError> {
        let fetched = self.http.get(op, &join(&self.base, path)).await?;
        let text =
            std::str::from_utf8(&fetched.body).map_err(|e| CollectorError::malformed(SOURCE, e))?;
        parse_rates(text).inspect_err(|e| telemetry::error(SOURCE, e))
    }

    /// Today's rates.
    pub async fn latest(&self) -> Result<FxRates, CollectorError> {
        self.fetch("daily", "stats/eurofxref/eurofxref-daily.xml")
            .await?
            .into_iter()
            .next()
            .ok_or_else(|| CollectorError::malformed_because(SOURCE, "empty"))
    }

    /// Every published day, newest first.
    pub async fn history(&self) -> Result<Vec<FxRates>, CollectorError> {
        self.fetch("hist", "stats/eurofxref/eurofxref-hist.xml")
            .await
    }
}

/// Publishes the latest rates on `tx` every `poll_interval` until `shutdown`; a failure is
/// logged, the previous rates stay in force, and the fetch is tried again sooner (1 s, doubling).
pub async fn run_fx(
    client: EcbClient,
    tx: watch::Sender<FxRates>,
    poll_interval: Duration,
    shutdown: impl Future<Output = ()>,
) {
    run_fx_monitored(
        client,
        tx,
        poll_interval,
        shutdown,
        &CollectorMonitor::default(),
    )
    .await;
}

/// [`run_fx`], recording every fetch as a pass of `ecb` in `monitor`'s health (one quote per
/// rate read).
pub async fn run_fx_monitored(
    client: EcbClient,
    tx: watch::Sender<FxRates>,
    poll_interval: Duration,
    shutdown: impl Future<Output = ()>,
    monitor: &CollectorMonitor,
) {
    tokio::pin!(shutdown);
    monitor.health.register(SOURCE);
    let mut retry_in = Duration::from_secs(1);
    loop {
        let fetched = client.latest().await;
        let mut pass = PassReport {
            requests: 1,
            quotes: fetched.as_ref().map_or(0, |r| r.rates.len() as u64),
            ..PassReport::default()
        };
        monitor.record_pass(SOURCE, &mut pass, fetched.as_ref().map(|_| ()));
        let wait = match fetched {
            Ok(rates) => {
                tracing::info!(source = SOURCE, as_of = %rates.as_of, n = rates.rates.len(), "fx rates");
                tx.send_replace(rates);
                retry_in = Duration::from_secs(1);
                poll_interval
            }
            Err(e) => {
                tracing::warn!(source = SOURCE, error = %e, retry_in_s = retry_in.as_secs(), "fx rates failed");
                let wait = retry_in.min(poll_interval);
                retry_in = (retry_in * 2).min(poll_interval);
                wait
            }
        };
        tokio::select! {
            () = tokio::time::sleep(wait) => {}
            () = &mut shutdown => return,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tcg_schemas::Money;

    const DAILY: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<gesmes:Envelope xmlns:gesmes="http://www.gesmes.org/xml/2002-08-01" xmlns="http://www.ecb.int/vocabulary/2002-08-01/eurofxref">
	<gesmes:subject>Reference rates</gesmes:subject>
	<gesmes:Sender><gesmes:name>European Central Bank</gesmes:name></gesmes:Sender>
	<Cube>
		<Cube time='2024-05-02'>
			<Cube currency='USD' rate='1.0712'/>
			<Cube currency='JPY' rate='165.93'/>
			<Cube currency="GBP" rate="0.85505"/>
		</Cube>
		<Cube time='2024-05-01'>
			<Cube currency='USD' rate='1.0686'/>
		</Cube>
	</Cube>
</gesmes:Envelope>"#;

    #[test]
    fn parses_days_and_rates() {
        let days = parse_rates(DAILY).unwrap();
        assert_eq!(days.len(), 2);
        assert_eq!(days[0].as_of, "2024-05-02");
        assert_eq!(
            days[0].rates[&Currency::USD],
            "1.0712".parse::<Decimal>().unwrap()
        );
        assert_eq!(days[0].rates.len(), 3);
        // 100 EUR at 1.0712 = 107.12 USD.
        assert_eq!(
            days[0].to_usd(Money::new(10_000, Currency::EUR)).unwrap(),
            Money::usd_cents(10_712)
        );
    }

    #[test]
    fn malformed_documents_are_errors() {
        let cut = &DAILY[..DAILY.find("<Cube time='2024-05-01'>").unwrap()];
        assert!(
            parse_rates(cut).is_err(),
            "a truncated document is not believed"
        );
        for bad in [
            "",
            "<html>nope</html>",
            "<Cube time='2024-05-02'><Cube currency='USD' rate='abc'/></Cube></Envelope>",
            "<Cube currency='USD' rate='1.0'/></Envelope>",
            "<Cube time='yesterday'><Cube currency='USD' rate='1.0'/></Cube></Envelope>",
            "<Cube time='2024-05-02'><Cube currency='USD' rate='-1'/></Cube></Envelope>",
            "<x></Envelope>",
        ] {
            assert!(parse_rates(bad).is_err(), "{bad}");
        }
        assert_eq!(attribute("Cube currency='USD' rate='1'", "rate"), Some("1"));
        assert_eq!(attribute("Cube xrate='2' rate='1'", "rate"), Some("1"));
    }
}
