//! `tcgtracker keys create|revoke|list`: the flags; the work is `tcg_query_api::run_keys_command`.

use std::path::PathBuf;

use anyhow::Result;
use tcg_query_api::KeysCommand;

use crate::serve_cmd::StoreArgs;

#[derive(Debug, clap::Args)]
pub struct KeysCmdArgs {
    #[command(flatten)]
    keys: KeysArgs,
    /// SQLite file that keeps the accounts (without `--database-url`).
    #[arg(
        long,
        env = "TCG_SQLITE",
        default_value = "data/tcgtracker.db",
        global = true
    )]
    sqlite: PathBuf,
    /// The app database (`postgres://…` or `sqlite://…`), as `serve` is given.
    #[arg(long, env = "TCG_DATABASE_URL", hide_env_values = true, global = true)]
    database_url: Option<String>,
}

/// `tcgtracker keys …`
#[derive(Debug, Clone, clap::Args)]
struct KeysArgs {
    #[command(subcommand)]
    command: KeysFlags,
}

#[derive(Debug, Clone, clap::Subcommand)]
enum KeysFlags {
    /// Creates an API key and prints it once (only its hash is kept).
    Create {
        /// The user the key acts for (created if new).
        #[arg(long)]
        user: String,
        /// An admin key (operational endpoints under /v1/admin).
        #[arg(long)]
        admin: bool,
    },
    /// Revokes a key by its id or prefix.
    Revoke {
        /// The key's id or prefix (the 12 hex digits after `tcg_`).
        key: String,
    },
    /// Lists keys (never the keys themselves).
    List {
        #[arg(long)]
        user: Option<String>,
    },
}

impl From<KeysFlags> for KeysCommand {
    fn from(flags: KeysFlags) -> Self {
        match flags {
            KeysFlags::Create { user, admin } => KeysCommand::Create { user, admin },
            KeysFlags::Revoke { key } => KeysCommand::Revoke { key },
            KeysFlags::List { user } => KeysCommand::List { user },
        }
    }
}

/// `tcgtracker keys create|revoke|list`.
pub async fn keys(args: KeysCmdArgs) -> Result<()> {
    let app = StoreArgs {
        sqlite: args.sqlite,
        database_url: args.database_url,
        questdb_http: None,
        questdb_pg: None,
        sqlite_tuning: crate::stores::SqliteTuning::default(),
    }
    .app()
    .await?;
    let text = tcg_query_api::run_keys_command(app.as_ref(), &args.keys.command.into()).await?;
    println!("{text}");
    Ok(())
}
