//! `tcgtracker webhook verify` and `tcgtracker webhook dispatch`: the webhook commands, their
//! flags mapped onto tcg-webhooks' `VerifyRequest` and `DispatcherConfig`.

use std::path::PathBuf;

use anyhow::Result;
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

/// Checks a saved webhook request and prints the verdict.
pub fn verify(flags: &VerifyFlags) -> Result<()> {
    println!("{}", tcg_webhooks::run_verify(&flags.request())?);
    Ok(())
}

#[derive(Debug, clap::Args)]
pub struct DispatchArgs {
    /// SQLite file holding the alert outbox, the webhook endpoints and the delivery log (without
    /// `--database-url`).
    #[arg(long, env = "TCG_SQLITE", default_value = "data/tcgtracker.db")]
    sqlite: PathBuf,
    /// The app database holding them (`postgres://…`: several dispatchers share its outbox).
    #[arg(long, env = "TCG_DATABASE_URL", hide_env_values = true)]
    database_url: Option<String>,
    /// Deliver to loopback and private addresses too.
    #[arg(long, env = "TCG_WEBHOOKS_ALLOW_PRIVATE")]
    allow_private: bool,
    /// Internal networks delivered to anyway, comma-separated CIDRs (e.g. 10.1.2.0/24).
    #[arg(long, env = "TCG_WEBHOOKS_ALLOW_CIDRS", value_delimiter = ',')]
    allow_cidrs: Vec<String>,
    /// Most deliveries in flight.
    #[arg(long, env = "TCG_WEBHOOKS_CONCURRENCY", default_value_t = 16)]
    concurrency: usize,
    #[command(flatten)]
    ops: crate::ops_server::OpsArgs,
}

/// Runs the webhook dispatcher on its own (distributed mode) until SIGTERM or Ctrl-C.
pub async fn dispatch(args: DispatchArgs) -> Result<()> {
    let ready = crate::ops_server::start(&args.ops, "webhook-dispatcher", None).await?;
    let stores = crate::stores::StoreArgs {
        sqlite: args.sqlite.clone(),
        database_url: args.database_url.clone(),
        questdb_http: None,
        questdb_pg: None,
        sqlite_tuning: crate::stores::SqliteTuning::default(),
    };
    let store = stores.app().await?;
    let from = stores.app_description();
    let dispatcher = tcg_webhooks::Dispatcher::from_arc(
        store,
        tcg_webhooks::DispatcherConfig {
            allow_private: args.allow_private,
            allow_cidrs: args.allow_cidrs.clone(),
            concurrency: args.concurrency.max(1),
            ..tcg_webhooks::DispatcherConfig::default()
        },
    )?;
    eprintln!("delivering webhooks from {from}");
    ready.set(true);
    let report = dispatcher
        .run(async move {
            crate::shutdown_signal().await;
            ready.set(false);
        })
        .await?;
    eprintln!("stopped: {report:?}");
    Ok(())
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
