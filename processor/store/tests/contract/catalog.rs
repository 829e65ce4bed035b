//! The [`CatalogStore`] contract: sets, products, SKUs, search and pages.

use tcg_schemas::{CardSet, CategoryId, Condition, Game, Language, Printing, Product, Sku, SkuId};
use tcg_store::*;

use super::fixtures::*;

pub async fn catalog_search_and_pages(store: &dyn Store, ids: Ids) {
    let set = CardSet {
        group_id: ids.group(50),
        category_id: CategoryId(3),
        game: Game::Pokemon,
        name: "Silver Tempest".into(),
        abbreviation: Some("SIT".into()),
        published_on: Some("2022-11-11".into()),
    };
    store.upsert_sets(std::slice::from_ref(&set)).await.unwrap();
    let names = [
        "Lugia V",
        "Lugia VSTAR",
        "Alolan Vulpix",
        "lugia (Alt Art)",
        "Pikachu",
    ];
    let products: Vec<Product> = names
        .iter()
        .enumerate()
        .map(|(i, n)| product(ids, 100 + i as u64, 50, n))
        .collect();
    store.upsert_products(&products).await.unwrap();
    let sk = Sku {
        sku_id: SkuId(ids.base + 7),
        product_id: ids.product(100),
        printing: Printing::Holofoil,
        condition: Condition::NearMint,
        language: Language::English,
    };
    store.upsert_skus(std::slice::from_ref(&sk)).await.unwrap();
    // Upsert replaces.
    let mut renamed = products[4].clone();
    renamed.name = "Pikachu VMAX".into();
    store.upsert_products(&[renamed.clone()]).await.unwrap();
    store.sync().await.unwrap();

    let q = CatalogQuery {
        name: Some("LUGIA".into()),
        group_id: Some(ids.group(50)),
        limit: 2,
        ..Default::default()
    };
    let p1 = store.search_catalog(&q).await.unwrap();
    assert_eq!(
        p1.items.iter().map(|p| p.name.as_str()).collect::<Vec<_>>(),
        vec!["lugia (Alt Art)", "Lugia V"]
    );
    let p2 = store
        .search_catalog(&CatalogQuery {
            cursor: p1.next_cursor.clone(),
            ..q.clone()
        })
        .await
        .unwrap();
    assert_eq!(
        p2.items.iter().map(|p| p.name.as_str()).collect::<Vec<_>>(),
        vec!["Lugia VSTAR"]
    );
    assert_eq!(p2.next_cursor, None);
    let by_number = store
        .search_catalog(&CatalogQuery {
            number: Some("102".into()),
            group_id: Some(ids.group(50)),
            limit: 10,
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(
        by_number
            .items
            .iter()
            .map(|p| p.name.as_str())
            .collect::<Vec<_>>(),
        vec!["Alolan Vulpix"]
    );
    let exact = store
        .search_catalog(&CatalogQuery {
            number: Some("102/195".into()),
            group_id: Some(ids.group(50)),
            limit: 10,
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(exact.items.len(), 1);
    let pika = store
        .search_catalog(&CatalogQuery {
            name: Some("pika".into()),
            group_id: Some(ids.group(50)),
            limit: 10,
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(pika.items, vec![renamed]);
    assert_eq!(
        store.product(ids.product(100)).await.unwrap(),
        Some(products[0].clone())
    );
    assert_eq!(store.product(ids.product(99)).await.unwrap(), None);
    assert!(
        store
            .sets(Some(Game::Pokemon))
            .await
            .unwrap()
            .contains(&set)
    );
    assert_eq!(store.skus(ids.product(100)).await.unwrap(), vec![sk]);
    assert!(
        store
            .search_catalog(&CatalogQuery {
                cursor: Some("garbage".into()),
                limit: 1,
                ..Default::default()
            })
            .await
            .is_err()
    );
}
