//! Verification of a received webhook, and the `webhook verify` CLI helper.

use std::{path::PathBuf, time::Duration};

use base64::{Engine, engine::general_purpose::STANDARD};

use crate::{WebhookError, sign::SigningKey};

/// The three headers of a signed delivery.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebhookHeaders {
    pub id: String,
    pub timestamp: String,
    pub signature: String,
}

impl WebhookHeaders {
    /// From (name, value) pairs, names case-insensitive; `svix-*` names are accepted too.
    pub fn from_pairs<'a>(
        pairs: impl IntoIterator<Item = (&'a str, &'a str)>,
    ) -> Result<Self, WebhookError> {
        let (mut id, mut timestamp, mut signature) = (None, None, None);
        for (name, value) in pairs {
            let name = name.trim().to_ascii_lowercase();
            let value = Some(value.trim().to_owned());
            match name.as_str() {
                "webhook-id" | "svix-id" => id = value,
                "webhook-timestamp" | "svix-timestamp" => timestamp = value,
                "webhook-signature" | "svix-signature" => signature = value,
                _ => {}
            }
        }
        Ok(Self {
            id: id.ok_or(WebhookError::MissingHeader("webhook-id"))?,
            timestamp: timestamp.ok_or(WebhookError::MissingHeader("webhook-timestamp"))?,
            signature: signature.ok_or(WebhookError::MissingHeader("webhook-signature"))?,
        })
    }

    /// From saved header text: `Name: value` lines (a request line or others are skipped), or a
    /// JSON object of names to values.
    pub fn parse(text: &str) -> Result<Self, WebhookError> {
        if text.trim_start().starts_with('{') {
            let map: std::collections::BTreeMap<String, serde_json::Value> =
                serde_json::from_str(text)?;
            let pairs: Vec<(String, String)> = map
                .into_iter()
                .map(|(k, v)| match v {
                    serde_json::Value::String(s) => (k, s),
                    other => (k, other.to_string()),
                })
                .collect();
            return Self::from_pairs(pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())));
        }
        Self::from_pairs(text.lines().filter_map(|l| l.split_once(':')))
    }
}

/// Checks a delivery: the timestamp is within `tolerance` of `now` (unix seconds) and one of the
/// `v1` signatures was made with one of `secrets`. Returns the index of the matching secret.
pub fn verify(
    secrets: &[&str],
    headers: &WebhookHeaders,
    body: &[u8],
    now: i64,
    tolerance: Option<Duration>,
) -> Result<usize, WebhookError> {
    let timestamp: i64 =
        headers
            .timestamp
            .trim()
            .parse()
            .map_err(|source| WebhookError::InvalidHeader {
                name: "webhook-timestamp",
                value: headers.timestamp.clone(),
                source,
            })?;
    if let Some(tolerance) = tolerance {
        let skew = now.saturating_sub(timestamp);
        if skew.unsigned_abs() > tolerance.as_secs() {
            return Err(WebhookError::TimestampOutOfTolerance {
                timestamp,
                skew_secs: skew,
                tolerance_secs: tolerance.as_secs(),
            });
        }
    }
    let keys = secrets
        .iter()
        .map(|s| SigningKey::from_secret(s))
        .collect::<Result<Vec<_>, _>>()?;
    let signatures: Vec<Vec<u8>> = headers
        .signature
        .split_whitespace()
        .filter_map(|s| s.strip_prefix("v1,"))
        .filter_map(|b64| STANDARD.decode(b64).ok())
        .collect();
    for (i, key) in keys.iter().enumerate() {
        if signatures
            .iter()
            .any(|sig| key.matches(&headers.id, timestamp, body, sig))
        {
            return Ok(i);
        }
    }
    Err(WebhookError::SignatureMismatch)
}

/// `webhook verify`: a saved request to check against a secret (the binary maps its flags
/// onto this).
#[derive(Debug, Clone)]
pub struct VerifyRequest {
    /// The endpoint's signing secret (`whsec_…`); repeat during a rotation.
    pub secret: Vec<String>,
    /// A file with the request headers (`Name: value` lines, or a JSON object).
    pub headers: Option<PathBuf>,
    /// The `webhook-id` header (instead of --headers).
    pub id: Option<String>,
    /// The `webhook-timestamp` header (instead of --headers).
    pub timestamp: Option<String>,
    /// The `webhook-signature` header (instead of --headers).
    pub signature: Option<String>,
    /// A file with the exact request body bytes.
    pub body: PathBuf,
    /// Largest accepted distance between the timestamp and now, seconds; 0 skips the check
    /// (for old saved requests).
    pub tolerance_secs: u64,
}

fn read(path: &PathBuf) -> Result<Vec<u8>, WebhookError> {
    std::fs::read(path).map_err(|source| WebhookError::Io {
        path: path.display().to_string(),
        source,
    })
}

/// Runs `webhook verify`; the text to print on success.
pub fn run_verify(args: &VerifyRequest) -> Result<String, WebhookError> {
    let headers = match (&args.headers, &args.id, &args.timestamp, &args.signature) {
        (Some(path), ..) => WebhookHeaders::parse(&String::from_utf8_lossy(&read(path)?))?,
        (None, Some(id), Some(timestamp), Some(signature)) => WebhookHeaders {
            id: id.clone(),
            timestamp: timestamp.clone(),
            signature: signature.clone(),
        },
        _ => {
            return Err(WebhookError::Usage(
                "give --headers FILE, or all of --id, --timestamp and --signature".into(),
            ));
        }
    };
    let body = read(&args.body)?;
    let secrets: Vec<&str> = args.secret.iter().map(String::as_str).collect();
    let tolerance = (args.tolerance_secs > 0).then(|| Duration::from_secs(args.tolerance_secs));
    let now = chrono::Utc::now().timestamp();
    let which = verify(&secrets, &headers, &body, now, tolerance)?;
    Ok(format!(
        "valid: webhook-id {} signed at {} with secret #{} of {}{}",
        headers.id,
        headers.timestamp,
        which + 1,
        secrets.len(),
        if tolerance.is_none() {
            " (timestamp not checked)"
        } else {
            ""
        }
    ))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

    fn headers(sig: &str) -> WebhookHeaders {
        WebhookHeaders {
            id: "msg_1".into(),
            timestamp: "1700000000".into(),
            signature: sig.into(),
        }
    }

    #[test]
    fn verifies_any_matching_signature_and_checks_time() {
        let key = SigningKey::from_secret(SECRET).unwrap();
        let sig = key.sign("msg_1", 1_700_000_000, b"{}");
        let tol = Some(Duration::from_secs(300));
        assert_eq!(
            verify(&[SECRET], &headers(&sig), b"{}", 1_700_000_100, tol).unwrap(),
            0
        );
        let two = format!("v1,AAAA {sig}");
        let other = "whsec_AAAAAAAAAAAAAAAAAAAAAAAA";
        assert_eq!(
            verify(&[other, SECRET], &headers(&two), b"{}", 1_700_000_000, tol).unwrap(),
            1
        );
        assert!(matches!(
            verify(&[SECRET], &headers(&sig), b"{ }", 1_700_000_000, tol),
            Err(WebhookError::SignatureMismatch)
        ));
        assert!(matches!(
            verify(&[SECRET], &headers(&sig), b"{}", 1_700_001_000, tol),
            Err(WebhookError::TimestampOutOfTolerance { .. })
        ));
        verify(&[SECRET], &headers(&sig), b"{}", 1_800_000_000, None).unwrap();
    }

    #[test]
    fn parses_saved_headers() {
        let text = "POST /hook HTTP/1.1\r\nHost: x\r\nWebhook-Id: a\r\nwebhook-timestamp: 1\r\nwebhook-signature: v1,x y\r\n";
        let h = WebhookHeaders::parse(text).unwrap();
        assert_eq!((h.id.as_str(), h.timestamp.as_str()), ("a", "1"));
        assert_eq!(h.signature, "v1,x y");
        let j =
            WebhookHeaders::parse(r#"{"svix-id":"a","svix-timestamp":1,"svix-signature":"v1,x"}"#)
                .unwrap();
        assert_eq!(j.timestamp, "1");
        assert!(matches!(
            WebhookHeaders::parse("webhook-id: a"),
            Err(WebhookError::MissingHeader("webhook-timestamp"))
        ));
    }

    #[test]
    fn cli_checks_a_saved_request() {
        let dir = tempfile::tempdir().unwrap();
        let key = SigningKey::from_secret(SECRET).unwrap();
        let now = chrono::Utc::now().timestamp();
        let body = br#"{"type":"alert.fired"}"#;
        std::fs::write(dir.path().join("body.json"), body).unwrap();
        std::fs::write(
            dir.path().join("headers.txt"),
            format!(
                "webhook-id: msg_9\nwebhook-timestamp: {now}\nwebhook-signature: {}\n",
                key.sign("msg_9", now, body)
            ),
        )
        .unwrap();
        let mut args = VerifyRequest {
            secret: vec![SECRET.into()],
            headers: Some(dir.path().join("headers.txt")),
            id: None,
            timestamp: None,
            signature: None,
            body: dir.path().join("body.json"),
            tolerance_secs: 300,
        };
        assert!(
            run_verify(&args)
                .unwrap()
                .starts_with("valid: webhook-id msg_9")
        );
        std::fs::write(dir.path().join("body.json"), b"tampered").unwrap();
        assert!(matches!(
            run_verify(&args),
            Err(WebhookError::SignatureMismatch)
        ));
        args.headers = None;
        assert!(matches!(run_verify(&args), Err(WebhookError::Usage(_))));
    }

    #[test]
    fn a_timestamp_that_is_not_a_number_keeps_the_parse_error() {
        let mut h = headers("v1,AAAA");
        h.timestamp = "soon".into();
        let err = verify(&[SECRET], &h, b"{}", 1_700_000_000, None).unwrap_err();
        assert!(matches!(
            err,
            WebhookError::InvalidHeader {
                name: "webhook-timestamp",
                ..
            }
        ));
        assert!(std::error::Error::source(&err).is_some());
        assert!(
            err.to_string()
                .starts_with(r#"invalid header webhook-timestamp: "soon" is not unix seconds: "#),
            "{err}"
        );
    }
}
