//! The card catalog (sets and products) from TCGCSV into the store: `up` loads it at start, and
//! `collect --sync-catalog` keeps it current in the distributed mode (daily by default), so that
//! the API's card search, the tracked cards and Grafana's variables have names to show.

use anyhow::{Context, Result};
use tcg_store::Store;

/// Reads TCGCSV's catalog (the simulator's or the live one) into the store; `progress` prints
/// a line per set, since the live catalog takes a while.
pub async fn sync_catalog(
    tcgcsv: tcg_collectors::tcgcsv::TcgcsvConfig,
    categories: &[u32],
    store: &dyn Store,
    progress: bool,
) -> Result<Vec<tcg_schemas::Product>> {
    let base_url = tcgcsv.base_url.clone();
    let client = tcg_collectors::tcgcsv::TcgcsvClient::new(&tcgcsv)?;
    let mut products = Vec::new();
    for &category in categories {
        let groups = client
            .groups(category)
            .await
            .with_context(|| format!("reading the sets of category {category} from {base_url}"))?;
        let sets: Vec<_> = groups.iter().map(|g| g.to_card_set()).collect();
        store.upsert_sets(&sets).await?;
        for (i, g) in groups.iter().enumerate() {
            if progress {
                eprint!(
                    "\rcatalog: category {category}, set {}/{} ({} products)   ",
                    i + 1,
                    groups.len(),
                    products.len()
                );
            }
            let rows = client
                .products(category, g.group_id)
                .await
                .with_context(|| {
                    format!("reading the products of set {} from {base_url}", g.group_id)
                })?;
            let batch: Vec<_> = rows.iter().map(|r| r.to_product()).collect();
            store.upsert_products(&batch).await?;
            products.extend(batch);
        }
    }
    if progress {
        eprintln!();
    }
    Ok(products)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use tcg_simulator::SimConfig;
    use tcg_store::{CatalogQuery, SqliteStore};

    use super::*;
    use tcg_store::prelude::*;

    #[tokio::test]
    async fn the_simulators_catalog_lands_in_the_store_and_a_second_sync_changes_nothing() {
        let (_stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let sim = tcg_simulator::spawn(
            "127.0.0.1:0".parse().unwrap(),
            SimConfig {
                seed: 3,
                categories: vec![3, 68],
                ..SimConfig::default()
            },
            async move {
                let _ = stopped.await;
            },
        )
        .await
        .unwrap();
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(dir.path().join("c.db")).unwrap();
        let config = tcg_collectors::tcgcsv::TcgcsvConfig {
            base_url: sim.base_url.clone(),
            ..Default::default()
        };
        let products = sync_catalog(config.clone(), &[3, 68], &store, false)
            .await
            .unwrap();
        let sets = SimConfig::default().sets_per_game as usize * 2;
        assert_eq!(store.sets(None).await.unwrap().len(), sets);
        assert!(products.len() > sets * 10, "{} products", products.len());
        let first = &products[0];
        assert_eq!(
            store.product(first.product_id).await.unwrap().as_ref(),
            Some(first)
        );
        let again = sync_catalog(config, &[3, 68], &store, false).await.unwrap();
        assert_eq!(again, products);
        let page = store
            .search_catalog(&CatalogQuery {
                name: Some(first.name.clone()),
                number: None,
                group_id: None,
                game: None,
                limit: 50,
                cursor: None,
            })
            .await
            .unwrap();
        assert!(page.items.iter().any(|p| p.product_id == first.product_id));
    }
}
