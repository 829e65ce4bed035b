//! Keeps the collectors' view of our catalog current: the index the other markets' sources map
//! their products with, rebuilt from the store as the TCGplayer collectors fill it.

use std::{sync::Arc, time::Duration};

use tcg_collectors::{
    Feeds,
    identity::{Identity, ProductIndex},
};
use tcg_schemas::TrackedCard;
use tcg_store::{CatalogQuery, CatalogStore, SqliteStore, StoreError};
use tokio::{sync::watch, task::JoinSet};
use tokio_util::sync::CancellationToken;

use super::PartResult;

/// How often the index is rebuilt once the catalog holds products.
const REFRESH: Duration = Duration::from_secs(600);
/// How often while the catalog is still empty.
const REFRESH_EMPTY: Duration = Duration::from_secs(5);
/// Products read per page.
const PAGE: usize = 500;

/// The collectors' feeds: `tracked`, and the catalog index rebuilt from `store` until `stop` is
/// cancelled (with a bridge of ids the sources fill as they learn them).
pub fn feeds(
    parts: &mut JoinSet<PartResult>,
    store: SqliteStore,
    tracked: watch::Receiver<Vec<TrackedCard>>,
    stop: &CancellationToken,
) -> Feeds {
    let (tx, catalog) = watch::channel(Arc::new(ProductIndex::default()));
    spawn_identity(parts, store, tx, stop);
    Feeds {
        tracked,
        identity: Identity {
            catalog,
            bridge: Arc::default(),
        },
    }
}

/// Rebuilds the index from `store` until `stop` is cancelled.
fn spawn_identity(
    parts: &mut JoinSet<PartResult>,
    store: SqliteStore,
    tx: watch::Sender<Arc<ProductIndex>>,
    stop: &CancellationToken,
) {
    let stop = stop.clone();
    parts.spawn(async move {
        loop {
            let wait = match load_index(&store).await {
                Ok(index) => {
                    let empty = index.is_empty();
                    let _ = tx.send(Arc::new(index));
                    if empty { REFRESH_EMPTY } else { REFRESH }
                }
                Err(e) => {
                    tracing::warn!(error = %e, "reading the catalog for the other markets");
                    REFRESH_EMPTY
                }
            };
            tokio::select! {
                () = stop.cancelled() => return ("the catalog index", Ok(())),
                () = tokio::time::sleep(wait) => {}
            }
        }
    });
}

/// Every set and product of the store, as an index.
pub async fn load_index(store: &dyn CatalogStore) -> Result<ProductIndex, StoreError> {
    let sets = store.sets(None).await?;
    let mut products = Vec::new();
    let mut cursor = None;
    loop {
        let page = store
            .search_catalog(&CatalogQuery {
                limit: PAGE,
                cursor,
                ..CatalogQuery::default()
            })
            .await?;
        products.extend(page.items);
        match page.next_cursor {
            Some(next) => cursor = Some(next),
            None => break,
        }
    }
    Ok(ProductIndex::new(&sets, &products))
}
