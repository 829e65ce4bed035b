//! The query API of tcgtracker: `app(state) -> axum::Router`.
//!
//! Everything under `/v1` needs `Authorization: Bearer <key>` (the SSE routes also take
//! `?access_token=<key>`, for browsers' `EventSource`); `/healthz`, `/readyz`, `/metrics`,
//! `/openapi.json`, `/docs` and the web page (`/`, `/assets/{file}`) do not. Every error is RFC 9457
//! `application/problem+json`.
//!
//! ```no_run
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! use std::sync::Arc;
//! use tcg_query_api::{ApiConfig, AppState, app};
//! let store = tcg_store::SqliteStore::open("data/tcgtracker.db")?;
//! let state = AppState::new(Arc::new(store.clone()), Arc::new(store), ApiConfig::default());
//! let ticks = state.tick_sender(); // publish ticks here for /v1/stream/ticks
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:8080").await?;
//! let limits = state.serve_limits(); // header, idle and connection limits of the config
//! tcg_query_api::serve(listener, app(state), limits, std::future::pending()).await?;
//! # Ok(()) }
//! ```

pub mod auth;
pub mod card_names;
mod conform;
pub mod csv_export;
pub mod csv_import;
pub mod error;
pub mod limits;
pub mod metrics;
mod not_modified;
pub mod openapi;
pub mod problem;
pub mod query;
pub mod response_cache;
pub mod routes;
pub mod serve;
pub mod state;
pub mod wire;

pub use auth::{
    Caller, CreatedKey, KeysCommand, create_key, hash_key, revoke_key, run_keys_command,
};
pub use error::ApiError;
pub use problem::{FieldError, Problem};
pub use routes::{app, route_table};
pub use serve::{ServeLimits, serve};
pub use state::{ApiConfig, AppState, ChannelRulePublisher, PublishError, RulePublisher};
