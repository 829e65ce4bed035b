//! `tcgtracker migrate-app-data --from sqlite://… --to postgres://…`: copies an installation's own
//! data (users, API keys, portfolios, holdings and their events, rules, alerts, webhooks) from one
//! app database to another, so a user who outgrows `up` keeps everything. Safe to run again: what
//! the target already holds is counted, not copied twice.

use anyhow::{Context, Result};
use tcg_store::AppDatabase;

#[derive(Debug, clap::Args)]
pub struct MigrateArgs {
    /// The database to copy from, e.g. sqlite://data/tcgtracker.db (the file `up` keeps).
    #[arg(long)]
    from: String,
    /// The database to copy into, e.g. postgres://tcgtracker@db:5432/tcgtracker (migrated first).
    #[arg(long, env = "TCG_DATABASE_URL", hide_env_values = true)]
    to: String,
}

/// Copies, printing progress on standard error and the counts on standard output.
pub async fn run(args: MigrateArgs) -> Result<()> {
    let from = AppDatabase::parse(&args.from).context("--from")?;
    let to = AppDatabase::parse(&args.to).context("--to")?;
    anyhow::ensure!(
        from != to,
        "--from and --to name the same database ({from})"
    );
    if let AppDatabase::Sqlite(path) = &from {
        anyhow::ensure!(
            path.is_file(),
            "--from: {} does not exist (nothing to copy)",
            path.display()
        );
    }
    let source = tcg_store::connect_app_store(&from)
        .await
        .with_context(|| format!("opening {from}"))?;
    let target = tcg_store::connect_app_store(&to)
        .await
        .with_context(|| format!("opening {to}"))?;
    eprintln!("copying the app data from {from} to {to}");
    let mut progress = |what: &str, n: u64| eprintln!("  {what}: {n}");
    let report = tcg_store::copy_app_data(source.as_ref(), target.as_ref(), &mut progress)
        .await
        .context("copying")?;
    println!("{report}");
    Ok(())
}
