//! The card catalog (sets and products) from TCGCSV into the store: `up` loads it at start, and
//! `collect --sync-catalog` keeps it current in the distributed mode (daily by default), so that
//! the API's card search, the tracked cards and Grafana's variables have names to show.

use anyhow::{Context, Result};
use tcg_store::Store;

/// Reads TCGCSV's catalog (the simulator's or the live one) into the store. With `progress`,
/// the catalog's progress goes to standard error: one line updated in place on a terminal, a
/// line at every tenth of a category's sets in a log file (never a `\r`), counting the products
/// of the sets read. A set whose products cannot be read is skipped with a warning naming it;
/// a category whose sets cannot be listed is an error.
pub async fn sync_catalog(
    tcgcsv: tcg_collectors::tcgcsv::TcgcsvConfig,
    categories: &[u32],
    store: &dyn Store,
    progress: bool,
) -> Result<Vec<tcg_schemas::Product>> {
    let base_url = tcgcsv.base_url.clone();
    let client = tcg_collectors::tcgcsv::TcgcsvClient::new(&tcgcsv)?;
    let mut report = tcg_collectors::tcgcsv::catalog::CatalogProgress::stderr(progress);
    let mut products = Vec::new();
    for &category in categories {
        let read = tcg_collectors::tcgcsv::catalog::read_category(&client, category, &mut report)
            .await
            .with_context(|| format!("reading the sets of category {category} from {base_url}"))?;
        store.upsert_sets(&read.sets).await?;
        store.upsert_products(&read.products).await?;
        for (group, e) in &read.failed {
            eprintln!(
                "catalog: the products of set {group} (category {category}) could not be read ({e}); \
                 they are read again at the next start"
            );
        }
        products.extend(read.products);
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

    /// A TCGCSV whose second set's products answer 404 (as TCGCSV does for a set it dropped).
    async fn tcgcsv_with_a_broken_set() -> String {
        use axum::{Router, http::StatusCode, routing::get};
        use serde_json::json;
        let envelope = |results: serde_json::Value| {
            let n = results.as_array().map_or(0, Vec::len);
            json!({"totalItems": n, "success": true, "errors": [], "results": results}).to_string()
        };
        let group = |id: u32, name: &str| {
            json!({"groupId": id, "name": name, "abbreviation": "X", "isSupplemental": false,
                   "publishedOn": "2023-09-22T00:00:00", "modifiedOn": "2024-02-29T14:18:07.837",
                   "categoryId": 3})
        };
        let groups = envelope(json!([
            group(1, "First"),
            group(2, "Broken"),
            group(3, "Third")
        ]));
        let products = |group: u32| {
            envelope(
                json!([{"productId": 1000 + u64::from(group), "name": format!("Card of {group}"),
                "cleanName": format!("Card of {group}"), "imageUrl": "", "categoryId": 3,
                "groupId": group, "url": "", "modifiedOn": "2024-02-29T14:18:07.837",
                "extendedData": [{"name": "Number", "displayName": "Card Number", "value": "1/100"},
                                 {"name": "Rarity", "displayName": "Rarity", "value": "Rare"}]}]),
            )
        };
        let (p1, p3) = (products(1), products(3));
        let app = Router::new()
            .route("/tcgplayer/3/groups", get(move || async move { groups }))
            .route("/tcgplayer/3/1/products", get(move || async move { p1 }))
            .route(
                "/tcgplayer/3/2/products",
                get(|| async { (StatusCode::NOT_FOUND, "<html>Not Found</html>") }),
            )
            .route("/tcgplayer/3/3/products", get(move || async move { p3 }));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await });
        url
    }

    #[tokio::test]
    async fn a_set_that_fails_is_skipped_and_the_others_land() {
        let url = tcgcsv_with_a_broken_set().await;
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(dir.path().join("c.db")).unwrap();
        let config = tcg_collectors::tcgcsv::TcgcsvConfig {
            base_url: url,
            ..Default::default()
        };
        let products = sync_catalog(config, &[3], &store, false).await.unwrap();
        let ids: Vec<u64> = products.iter().map(|p| p.product_id.0).collect();
        assert_eq!(ids, [1001, 1003]);
        assert_eq!(
            store.sets(None).await.unwrap().len(),
            3,
            "every set is listed"
        );
        assert!(
            store
                .product(tcg_schemas::ProductId(1003))
                .await
                .unwrap()
                .is_some()
        );
    }

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
