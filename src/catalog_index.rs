//! Keeps the collectors' view of our catalog current: the index the other markets' sources map
//! their products with, rebuilt from the store as the TCGplayer collectors fill it (`up`, and
//! `collect` with a store).

use std::{sync::Arc, time::Duration};

use tcg_collectors::identity::{Identity, ProductIndex};
use tcg_store::{CatalogQuery, PriceStore, StoreError};
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

/// How long the index waits for TCGplayer's printings before it is given without them.
const PRINTINGS_GRACE: Duration = Duration::from_secs(120);

/// Rebuilds the index from `store` forever: every few seconds while the catalog is empty, then
/// every ten minutes. A catalog without TCGplayer prices yet is held back (the other markets wait)
/// for up to two minutes, so that their first rows already meet TCGplayer's printings.
pub async fn refresh(store: Arc<dyn PriceStore>, tx: watch::Sender<Arc<ProductIndex>>) {
    let started = tokio::time::Instant::now();
    loop {
        let wait = match load_index(store.as_ref()).await {
            Ok(index) if !index.has_printings() && started.elapsed() < PRINTINGS_GRACE => {
                REFRESH_EMPTY
            }
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

/// Every set and product of the store, as an index, with the printings TCGplayer prices of each.
pub async fn load_index(store: &dyn PriceStore) -> Result<ProductIndex, StoreError> {
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
    let printings = store.tcgplayer_printings().await?;
    Ok(ProductIndex::new(&sets, &products).with_printings(
        printings
            .into_iter()
            .map(|(id, p)| (id, p.as_str().to_owned())),
    ))
}
