//! Signing in the Standard Webhooks (Svix) style.
//!
//! The signed content is `"{webhook-id}.{webhook-timestamp}.{body}"`; the signature is
//! `v1,` + base64(HMAC-SHA256(key, content)). The key is the base64 decoding of the part of the
//! secret after `whsec_`, as Svix and the Standard Webhooks libraries do. (The query API creates
//! `whsec_` + 64 hex digits: hex digits are base64 characters, so those secrets decode to a
//! 48-byte key, and any Standard Webhooks library verifies our deliveries with the secret as
//! shown.) Several keys (during a rotation) give several signatures, separated by spaces.

use base64::{Engine, engine::general_purpose::STANDARD};
use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

use crate::WebhookError;

type HmacSha256 = Hmac<Sha256>;

/// The prefix of every secret.
pub const SECRET_PREFIX: &str = "whsec_";

/// A decoded signing key.
#[derive(Clone, PartialEq, Eq)]
pub struct SigningKey(Vec<u8>);

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "SigningKey({} bytes)", self.0.len())
    }
}

impl SigningKey {
    /// The key of a `whsec_<base64>` secret (the prefix is optional).
    pub fn from_secret(secret: &str) -> Result<Self, WebhookError> {
        let b64 = secret.trim();
        let b64 = b64.strip_prefix(SECRET_PREFIX).unwrap_or(b64);
        let key = STANDARD
            .decode(b64)
            .map_err(WebhookError::SecretNotBase64)?;
        if key.is_empty() {
            return Err(WebhookError::InvalidSecret("empty".into()));
        }
        Ok(Self(key))
    }

    /// The raw key bytes.
    pub fn bytes(&self) -> &[u8] {
        &self.0
    }

    fn mac(&self, id: &str, timestamp: i64, body: &[u8]) -> HmacSha256 {
        // HMAC accepts keys of any length; `new_from_slice` cannot fail for it.
        let mut mac = match HmacSha256::new_from_slice(&self.0) {
            Ok(m) => m,
            Err(_) => unreachable!("HMAC takes keys of any length"),
        };
        mac.update(id.as_bytes());
        mac.update(b".");
        mac.update(timestamp.to_string().as_bytes());
        mac.update(b".");
        mac.update(body);
        mac
    }

    /// `v1,<base64 signature>`.
    pub fn sign(&self, id: &str, timestamp: i64, body: &[u8]) -> String {
        let tag = self.mac(id, timestamp, body).finalize().into_bytes();
        format!("v1,{}", STANDARD.encode(tag))
    }

    /// Whether `signature` (the raw bytes of one `v1` signature) is ours, in constant time.
    pub fn matches(&self, id: &str, timestamp: i64, body: &[u8], signature: &[u8]) -> bool {
        self.mac(id, timestamp, body)
            .verify_slice(signature)
            .is_ok()
    }
}

/// The `webhook-signature` value: one `v1,…` per key, space separated.
pub fn signature_header(keys: &[SigningKey], id: &str, timestamp: i64, body: &[u8]) -> String {
    keys.iter()
        .map(|k| k.sign(id, timestamp, body))
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn matches_the_standard_webhooks_test_vector() {
        // From the Standard Webhooks specification's reference tests.
        let key = SigningKey::from_secret("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").unwrap();
        let body = br#"{"test": 2432232314}"#;
        assert_eq!(
            key.sign("msg_p5jXN8AQM9LWM0D4loKWxJek", 1_614_265_330, body),
            "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
        );
    }

    #[test]
    fn hex_secrets_of_the_api_are_valid_keys() {
        let secret = format!("whsec_{}", "ab".repeat(32));
        assert_eq!(SigningKey::from_secret(&secret).unwrap().bytes().len(), 48);
        assert!(SigningKey::from_secret("whsec_not*base64").is_err());
        assert!(SigningKey::from_secret("whsec_").is_err());
    }

    #[test]
    fn a_secret_that_is_not_base64_keeps_the_decoder_error() {
        let err = SigningKey::from_secret("whsec_not*base64").unwrap_err();
        assert!(matches!(err, WebhookError::SecretNotBase64(_)));
        assert!(std::error::Error::source(&err).is_some());
        assert!(
            err.to_string()
                .starts_with("invalid signing secret: not base64 after whsec_: "),
            "{err}"
        );
    }
}
