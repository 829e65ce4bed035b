//! `tcgtracker webhook verify`: its flags, mapped onto tcg-webhooks' `VerifyRequest`.

use std::path::PathBuf;

use tcg_webhooks::VerifyRequest;

/// `webhook verify`: checks a saved request against a secret.
#[derive(Debug, Clone, clap::Args)]
pub struct VerifyFlags {
    /// The endpoint's signing secret (`whsec_…`); repeat during a rotation.
    #[arg(long, env = "TCG_WEBHOOK_SECRET", required = true)]
    pub secret: Vec<String>,
    /// A file with the request headers (`Name: value` lines, or a JSON object).
    #[arg(long, value_name = "FILE", conflicts_with_all = ["id", "timestamp", "signature"])]
    pub headers: Option<PathBuf>,
    /// The `webhook-id` header (instead of --headers).
    #[arg(long)]
    pub id: Option<String>,
    /// The `webhook-timestamp` header (instead of --headers).
    #[arg(long)]
    pub timestamp: Option<String>,
    /// The `webhook-signature` header (instead of --headers).
    #[arg(long)]
    pub signature: Option<String>,
    /// A file with the exact request body bytes.
    #[arg(long, value_name = "FILE")]
    pub body: PathBuf,
    /// Largest accepted distance between the timestamp and now, seconds; 0 skips the check
    /// (for old saved requests).
    #[arg(long, default_value_t = 300)]
    pub tolerance_secs: u64,
}

impl VerifyFlags {
    pub fn request(&self) -> VerifyRequest {
        VerifyRequest {
            secret: self.secret.clone(),
            headers: self.headers.clone(),
            id: self.id.clone(),
            timestamp: self.timestamp.clone(),
            signature: self.signature.clone(),
            body: self.body.clone(),
            tolerance_secs: self.tolerance_secs,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Debug, Parser)]
    struct Cli {
        #[command(flatten)]
        flags: VerifyFlags,
    }

    #[test]
    fn headers_file_and_single_headers_exclude_each_other() {
        let both = [
            "x",
            "--secret",
            "whsec_a",
            "--body",
            "b",
            "--headers",
            "h",
            "--id",
            "1",
        ];
        assert!(Cli::try_parse_from(both).is_err());
        let req = Cli::try_parse_from([
            "x", "--secret", "whsec_a", "--secret", "whsec_b", "--body", "b",
        ])
        .unwrap()
        .flags
        .request();
        assert_eq!(req.secret, vec!["whsec_a", "whsec_b"]);
        assert_eq!(req.tolerance_secs, 300);
    }
}
