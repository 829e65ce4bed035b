//! What goes on the wire for one delivery, and how an attempt's result becomes an
//! [`AttemptRecord`] for the outbox.

use serde::Serialize;
use tcg_schemas::{AlertEvent, Timestamp};
use tcg_store::{AttemptRecord, AttemptResolution, DueDelivery};

use crate::{WebhookError, schedule::RetrySchedule, sign::SigningKey};

/// The event type of a fired alert.
pub const EVENT_TYPE: &str = "alert.fired";

/// The JSON body of a delivery (Standard Webhooks payload shape). It depends only on the
/// alert, so every retry sends the same bytes.
#[derive(Debug, Serialize)]
pub struct Payload<'a> {
    #[serde(rename = "type")]
    pub kind: &'static str,
    /// When the tick that fired the alert was observed.
    pub timestamp: Timestamp,
    pub data: &'a AlertEvent,
}

/// The body bytes for a stored alert.
pub fn body(alert_json: &str) -> Result<Vec<u8>, WebhookError> {
    let alert: AlertEvent = serde_json::from_str(alert_json)?;
    Ok(serde_json::to_vec(&Payload {
        kind: EVENT_TYPE,
        timestamp: alert.observed_at,
        data: &alert,
    })?)
}

/// The keys to sign with at `now`: the current secret, and the previous one during its grace
/// period.
pub fn signing_keys(d: &DueDelivery, now: Timestamp) -> Result<Vec<SigningKey>, WebhookError> {
    let mut keys = vec![SigningKey::from_secret(&d.secret)?];
    if let (Some(prev), Some(until)) = (&d.previous_secret, d.previous_secret_until)
        && until > now
    {
        keys.push(SigningKey::from_secret(prev)?);
    }
    Ok(keys)
}

/// How an attempt ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// A status line arrived in time (any status; 2xx is success).
    Status {
        code: u16,
        body: Option<String>,
    },
    Timeout,
    /// Connection or protocol error.
    Network(String),
    /// The address guard refused the target.
    Refused(String),
    /// Nothing could be sent (bad secret, bad URL, bad stored alert).
    Invalid(String),
}

impl Outcome {
    /// The label stored and exported: `delivered`, `http_error`, `gone`, `timeout`, `network`,
    /// `refused` or `invalid`.
    pub fn label(&self) -> &'static str {
        match self {
            Outcome::Status { code, .. } if (200..300).contains(code) => "delivered",
            Outcome::Status { code: 410, .. } => "gone",
            Outcome::Status { .. } => "http_error",
            Outcome::Timeout => "timeout",
            Outcome::Network(_) => "network",
            Outcome::Refused(_) => "refused",
            Outcome::Invalid(_) => "invalid",
        }
    }

    pub fn is_success(&self) -> bool {
        self.label() == "delivered"
    }
}

/// The record of attempt number `attempt` of `d`, made at `at`, that took `latency_us`.
pub fn record(
    d: &DueDelivery,
    attempt: u32,
    at: Timestamp,
    latency_us: i64,
    outcome: Outcome,
    schedule: &RetrySchedule,
) -> AttemptRecord {
    let label = outcome.label().to_owned();
    let (status_code, error, response_body) = match &outcome {
        Outcome::Status { code, body } => {
            let err = (!(200..300).contains(code)).then(|| format!("HTTP {code}"));
            (Some(*code), err, body.clone())
        }
        Outcome::Timeout => (None, Some("timed out".to_owned()), None),
        Outcome::Network(e) | Outcome::Refused(e) | Outcome::Invalid(e) => {
            (None, Some(e.clone()), None)
        }
    };
    let resolution = match &outcome {
        o if o.is_success() => AttemptResolution::Delivered,
        Outcome::Status { code: 410, .. } => {
            AttemptResolution::DisableEndpoint(format!("the endpoint answered 410 Gone at {at}"))
        }
        _ => match schedule.next_delay(attempt) {
            Some(delay) => AttemptResolution::RetryAt(Timestamp::from_micros(
                at.as_micros()
                    .saturating_add(i64::try_from(delay.as_micros()).unwrap_or(i64::MAX)),
            )),
            None => AttemptResolution::GiveUp,
        },
    };
    AttemptRecord {
        alert_id: d.alert_id.clone(),
        webhook_id: d.webhook_id.clone(),
        attempt,
        attempted_at: at,
        latency_us,
        outcome: label,
        status_code,
        error,
        response_body,
        resolution,
    }
}

/// Cuts `bytes` to at most `max` bytes of (lossy) UTF-8. The result is never longer than
/// `max` bytes either: a replacement character (3 bytes) for an invalid byte, or for a
/// character the cut split, is dropped where it would go past `max`.
pub fn truncate_body(bytes: &[u8], max: usize) -> Option<String> {
    if bytes.is_empty() {
        return None;
    }
    let cut = &bytes[..bytes.len().min(max)];
    let mut text = String::from_utf8_lossy(cut).into_owned();
    if text.len() > max {
        let mut end = max;
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        text.truncate(end);
    }
    Some(text)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use std::time::Duration;

    use super::*;

    fn due() -> DueDelivery {
        DueDelivery {
            alert_id: "a".into(),
            webhook_id: "w".into(),
            attempts: 0,
            url: "http://x".into(),
            secret: "whsec_AAAA".into(),
            previous_secret: Some("whsec_BBBB".into()),
            previous_secret_until: Some(Timestamp::from_secs(100)),
            alert_json: "{}".into(),
        }
    }

    #[test]
    fn resolutions_follow_the_schedule() {
        let s = RetrySchedule::new(vec![Duration::ZERO, Duration::from_secs(5)]);
        let at = Timestamp::from_secs(10);
        let ok = record(
            &due(),
            1,
            at,
            5,
            Outcome::Status {
                code: 204,
                body: None,
            },
            &s,
        );
        assert_eq!(ok.resolution, AttemptResolution::Delivered);
        assert_eq!(ok.outcome, "delivered");
        let r = record(&due(), 1, at, 5, Outcome::Timeout, &s);
        assert_eq!(
            r.resolution,
            AttemptResolution::RetryAt(Timestamp::from_secs(15))
        );
        let r = record(
            &due(),
            2,
            at,
            5,
            Outcome::Status {
                code: 500,
                body: None,
            },
            &s,
        );
        assert_eq!(r.resolution, AttemptResolution::GiveUp);
        assert_eq!(r.error.as_deref(), Some("HTTP 500"));
        let r = record(
            &due(),
            1,
            at,
            5,
            Outcome::Status {
                code: 410,
                body: None,
            },
            &s,
        );
        assert!(matches!(
            r.resolution,
            AttemptResolution::DisableEndpoint(_)
        ));
        assert_eq!(r.outcome, "gone");
    }

    #[test]
    fn previous_secret_signs_only_during_grace() {
        assert_eq!(
            signing_keys(&due(), Timestamp::from_secs(99))
                .unwrap()
                .len(),
            2
        );
        assert_eq!(
            signing_keys(&due(), Timestamp::from_secs(100))
                .unwrap()
                .len(),
            1
        );
        // The cut splits "é": its replacement character would go past the 2-byte cap.
        assert_eq!(truncate_body("héllo".as_bytes(), 2).unwrap(), "h");
        assert_eq!(truncate_body("héllo".as_bytes(), 3).unwrap(), "hé");
    }

    #[test]
    fn truncated_bodies_never_exceed_the_cap_in_bytes() {
        assert_eq!(truncate_body(b"", 10), None);
        assert_eq!(truncate_body(b"hello world", 5).as_deref(), Some("hello"));
        // Invalid bytes become U+FFFD (3 bytes each): still at most `max` bytes.
        let invalid = [0xffu8; 100];
        for max in [1, 2, 3, 7, 50, 100] {
            let t = truncate_body(&invalid, max).unwrap_or_default();
            assert!(t.len() <= max, "{max}: {} bytes", t.len());
        }
        // A two-byte character cut in half.
        let accents = "é".repeat(10);
        let t = truncate_body(accents.as_bytes(), 5).unwrap_or_default();
        assert!(t.len() <= 5, "{t:?}");
        assert!(t.starts_with("éé"), "{t:?}");
    }
}
