//! Keeps the collectors' view of our catalog current: the index the other markets' sources map
//! their products with, rebuilt from the store as the TCGplayer collectors fill it (`up`, and
//! `collect` with a store).

use std::{sync::Arc, time::Duration};

use tcg_collectors::identity::{Identity, ProductIndex};
use tcg_store::{CatalogQuery, CatalogStore, StoreError};
use tokio::sync::watch;

/// How often the index is rebuilt once the catalog holds products.
const REFRESH: Duration = Duration::from_secs(600);
/// How often while the catalog is still empty.
const REFRESH_EMPTY: Duration = Duration::from_secs(5);
/// Products read per page.
const PAGE: usize = 500;

/// An identity whose catalog `refresh` keeps current (with a bridge of ids the sources fill as
/// they learn them).
pub fn identity() -> (Identity, watch::Sender<Arc<ProductIndex>>) {
    let (tx, catalog) = watch::channel(Arc::new(ProductIndex::default()));
    let identity = Identity {
        catalog,
        bridge: Arc::default(),
    };
    (identity, tx)
}

/// Rebuilds the index from `store` forever: every few seconds while the catalog is empty, then
/// every ten minutes.
pub async fn refresh(store: Arc<dyn CatalogStore>, tx: watch::Sender<Arc<ProductIndex>>) {
    loop {
        let wait = match load_index(store.as_ref()).await {
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
        tokio::time::sleep(wait).await;
    }
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
