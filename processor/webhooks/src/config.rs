//! Configuration of the [`crate::Dispatcher`] (serde, with defaults for every field).
//!
//! Durations are strings such as `"150ms"`, `"5s"`, `"5m"`, `"2h"`, `"5d"` (or a number of seconds).

use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::{WebhookError, schedule::RetrySchedule};

/// How the dispatcher delivers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DispatcherConfig {
    /// Most POSTs in flight at once (a semaphore).
    pub concurrency: usize,
    /// Most alerts fanned out, or deliveries claimed, per store round trip.
    pub page_size: usize,
    /// How often the outbox is polled when nothing wakes the dispatcher.
    #[serde(with = "duration")]
    pub poll_interval: Duration,
    /// A 2xx status within this time is a success.
    #[serde(with = "duration")]
    pub timeout: Duration,
    /// Delay before each attempt, from the previous failure (the first is normally 0).
    #[serde(with = "durations")]
    pub retry_schedule: Vec<Duration>,
    /// An endpoint failing for this long without a success is disabled.
    #[serde(with = "duration")]
    pub disable_after: Duration,
    /// Most bytes of a response body read (and kept in the attempt log).
    pub max_response_body: usize,
    /// Deliver to loopback, private, link-local, … addresses too (never in production).
    pub allow_private: bool,
    /// Networks allowed although internal, e.g. `["10.1.2.0/24", "127.0.0.1/32"]`.
    pub allow_cidrs: Vec<String>,
    /// How long a claimed delivery is reserved for its POST (it may wait up to one `timeout` in
    /// the local queue first); must exceed twice `timeout`. A dispatcher that dies mid-POST has
    /// the delivery retried after this.
    #[serde(with = "duration")]
    pub claim_lease: Duration,
    /// How many recorded attempts are written in one transaction at most.
    pub record_batch: usize,
    /// Most POSTs (first attempts and retries) started towards one endpoint in any minute. A
    /// delivery beyond it waits (it is due again when its lease ends), never dropped.
    pub per_endpoint_per_minute: u32,
    pub user_agent: String,
}

impl Default for DispatcherConfig {
    fn default() -> Self {
        Self {
            concurrency: 16,
            page_size: 256,
            poll_interval: Duration::from_secs(1),
            timeout: Duration::from_secs(15),
            retry_schedule: RetrySchedule::default().delays().to_vec(),
            disable_after: Duration::from_secs(5 * 86_400),
            max_response_body: 4096,
            allow_private: false,
            allow_cidrs: Vec::new(),
            claim_lease: Duration::from_secs(75),
            record_batch: 512,
            per_endpoint_per_minute: 30,
            user_agent: concat!("tcgtracker-webhooks/", env!("CARGO_PKG_VERSION")).to_owned(),
        }
    }
}

impl DispatcherConfig {
    /// Checks the values that have to make sense together.
    pub fn validate(&self) -> Result<(), WebhookError> {
        if self.concurrency == 0
            || self.page_size == 0
            || self.record_batch == 0
            || self.per_endpoint_per_minute == 0
        {
            return Err(WebhookError::Config(
                "concurrency, page_size, record_batch and per_endpoint_per_minute must be at \
                 least 1"
                    .into(),
            ));
        }
        if self.timeout.is_zero() || self.poll_interval.is_zero() {
            return Err(WebhookError::Config(
                "timeout and poll_interval must be positive".into(),
            ));
        }
        if self.retry_schedule.is_empty() {
            return Err(WebhookError::Config(
                "retry_schedule needs at least one attempt".into(),
            ));
        }
        if self.claim_lease <= self.timeout * 2 {
            return Err(WebhookError::Config(format!(
                "claim_lease ({:?}) must be longer than twice the timeout ({:?})",
                self.claim_lease, self.timeout
            )));
        }
        Ok(())
    }
}

/// Parses `"150ms"`, `"5s"`, `"5m"`, `"2h"`, `"5d"` or a bare number of seconds.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let t = text.trim();
    let split = t
        .find(|c: char| !c.is_ascii_digit() && c != '.')
        .unwrap_or(t.len());
    let (num, unit) = t.split_at(split);
    let value: f64 = num
        .parse()
        .map_err(|_| format!("{text:?} is not a duration like 5s, 5m, 2h"))?;
    let scale = match unit.trim() {
        "ms" => 0.001,
        "" | "s" => 1.0,
        "m" | "min" => 60.0,
        "h" => 3600.0,
        "d" => 86_400.0,
        other => return Err(format!("unknown unit {other:?} in {text:?}")),
    };
    Duration::try_from_secs_f64(value * scale).map_err(|e| format!("{text:?}: {e}"))
}

/// Writes a duration the way [`parse_duration`] reads it.
pub fn format_duration(d: Duration) -> String {
    let ms = d.as_millis();
    if !ms.is_multiple_of(1000) {
        return format!("{ms}ms");
    }
    let s = d.as_secs();
    for (unit, n) in [("d", 86_400), ("h", 3600), ("m", 60)] {
        if s >= n && s.is_multiple_of(n) {
            return format!("{}{unit}", s / n);
        }
    }
    format!("{s}s")
}

#[derive(Deserialize)]
#[serde(untagged)]
enum Raw {
    Secs(f64),
    Text(String),
}

fn from_raw(raw: Raw) -> Result<Duration, String> {
    match raw {
        Raw::Secs(s) => Duration::try_from_secs_f64(s).map_err(|e| e.to_string()),
        Raw::Text(t) => parse_duration(&t),
    }
}

mod duration {
    use std::time::Duration;

    use serde::{Deserialize, Deserializer, Serializer, de::Error};

    pub fn serialize<S: Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&super::format_duration(*d))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
        super::from_raw(super::Raw::deserialize(d)?).map_err(D::Error::custom)
    }
}

mod durations {
    use std::time::Duration;

    use serde::{Deserialize, Deserializer, Serializer, de::Error, ser::SerializeSeq};

    pub fn serialize<S: Serializer>(ds: &[Duration], s: S) -> Result<S::Ok, S::Error> {
        let mut seq = s.serialize_seq(Some(ds.len()))?;
        for d in ds {
            seq.serialize_element(&super::format_duration(*d))?;
        }
        seq.end()
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<Duration>, D::Error> {
        Vec::<super::Raw>::deserialize(d)?
            .into_iter()
            .map(|r| super::from_raw(r).map_err(D::Error::custom))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn durations_round_trip_and_defaults_validate() {
        assert_eq!(parse_duration("150ms").unwrap(), Duration::from_millis(150));
        assert_eq!(parse_duration("5m").unwrap(), Duration::from_secs(300));
        assert_eq!(parse_duration("10").unwrap(), Duration::from_secs(10));
        assert!(parse_duration("5 parsecs").is_err());
        let c = DispatcherConfig::default();
        c.validate().unwrap();
        let json = serde_json::to_string(&c).unwrap();
        assert!(json.contains(r#""retry_schedule":["0s","5s","5m","30m","2h","5h","10h","10h"]"#));
        let back: DispatcherConfig = serde_json::from_str(&json).unwrap();
        assert_eq!(back, c);
        let partial: DispatcherConfig =
            serde_json::from_str(r#"{"timeout": 2, "allow_cidrs": ["127.0.0.1/32"]}"#).unwrap();
        assert_eq!(partial.timeout, Duration::from_secs(2));
        assert_eq!(partial.concurrency, 16);
        assert_eq!(partial.per_endpoint_per_minute, 30);
        let no_cap = DispatcherConfig {
            per_endpoint_per_minute: 0,
            ..DispatcherConfig::default()
        };
        assert!(no_cap.validate().is_err(), "a cap of 0 would never deliver");
    }
}
