//! The collectors' feeds in `up`: the tracked cards, and the catalog index rebuilt from the
//! store (see [`crate::catalog_index`]).

use std::sync::Arc;

use tcg_collectors::Feeds;
use tcg_schemas::TrackedCard;
use tcg_store::SqliteStore;
use tokio::{sync::watch, task::JoinSet};
use tokio_util::sync::CancellationToken;

use super::PartResult;

/// The collectors' feeds: `tracked`, and the catalog index rebuilt from `store` until `stop` is
/// cancelled.
pub fn feeds(
    parts: &mut JoinSet<PartResult>,
    store: SqliteStore,
    tracked: watch::Receiver<Vec<TrackedCard>>,
    stop: &CancellationToken,
) -> Feeds {
    let (identity, tx) = crate::catalog_index::identity();
    let stop = stop.clone();
    parts.spawn(async move {
        tokio::select! {
            () = stop.cancelled() => {}
            () = crate::catalog_index::refresh(Arc::new(store), tx) => {}
        }
        ("the catalog index", Ok(()))
    });
    Feeds { tracked, identity }
}
