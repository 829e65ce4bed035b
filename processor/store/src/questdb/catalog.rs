//! [`CatalogStore`] on QuestDB: sets, products and SKUs as deduplicated tables.

use async_trait::async_trait;
use tcg_schemas::{CardSet, CategoryId, Game, GroupId, Product, ProductId, Sku, SkuId};
use tokio_postgres::Row;

use super::{ilp::*, sql::*, store::*};
use crate::{CatalogStore, Result, model::*};

fn product_of(r: &Row) -> Result<Product> {
    let category = CategoryId(u32::try_from(r.try_get::<_, i64>(1)?).map_err(corrupt)?);
    let game: Option<String> = r.try_get(3)?;
    Ok(Product {
        product_id: ProductId(r.try_get::<_, i64>(0)? as u64),
        category_id: category,
        group_id: GroupId(u32::try_from(r.try_get::<_, i64>(2)?).map_err(corrupt)?),
        game: game
            .as_deref()
            .and_then(Game::parse)
            .unwrap_or(Game::from_category(category)),
        name: r.try_get(4)?,
        clean_name: r.try_get(5)?,
        number: r.try_get(6)?,
        rarity: r.try_get(7)?,
        image_url: r.try_get(8)?,
        url: r.try_get(9)?,
    })
}

#[async_trait]
impl CatalogStore for QuestDbStore {
    async fn upsert_sets(&self, sets: &[CardSet]) -> Result<()> {
        let (sets, at) = (sets.to_vec(), self.now());
        self.writer
            .append(sets.len(), true, move |buf| {
                sets.iter().try_for_each(|s| encode_set(buf, s, at))
            })
            .await
    }

    async fn upsert_products(&self, products: &[Product]) -> Result<()> {
        let (products, at) = (products.to_vec(), self.now());
        self.writer
            .append(products.len(), true, move |buf| {
                products.iter().try_for_each(|p| encode_product(buf, p, at))
            })
            .await
    }

    async fn upsert_skus(&self, skus: &[Sku]) -> Result<()> {
        let (skus, at) = (skus.to_vec(), self.now());
        self.writer
            .append(skus.len(), true, move |buf| {
                skus.iter().try_for_each(|s| encode_sku(buf, s, at))
            })
            .await
    }

    async fn search_catalog(&self, q: &CatalogQuery) -> Result<CatalogPage> {
        let (sql, params) = sql_search(q)?;
        let limit = q.limit.clamp(1, 500);
        let mut items = self
            .query(&sql, &params)
            .await?
            .iter()
            .map(product_of)
            .collect::<Result<Vec<_>>>()?;
        let next_cursor = if items.len() > limit {
            items.truncate(limit);
            items.last().map(|p| encode_cursor(&p.name, p.product_id))
        } else {
            None
        };
        Ok(CatalogPage { items, next_cursor })
    }

    async fn product(&self, product_id: ProductId) -> Result<Option<Product>> {
        let sql = "SELECT product_id, category_id, group_id, game, name, clean_name, number, rarity, image_url, url FROM products WHERE product_id = $1 LIMIT -1";
        self.query(sql, &[Param::Long(product_id.0 as i64)])
            .await?
            .first()
            .map(product_of)
            .transpose()
    }

    async fn sets(&self, game: Option<Game>) -> Result<Vec<CardSet>> {
        let filter = game
            .map(|g| format!(" WHERE game = {}", lit(&g.slug())))
            .unwrap_or_default();
        let sql = format!(
            "SELECT group_id, category_id, game, name, abbreviation, published_on FROM (SELECT * FROM card_sets LATEST ON updated_at PARTITION BY group_id){filter} ORDER BY lower(name), group_id"
        );
        self.query(&sql, &[])
            .await?
            .iter()
            .map(|r| {
                let cat = CategoryId(u32::try_from(r.try_get::<_, i64>(1)?).map_err(corrupt)?);
                Ok(CardSet {
                    group_id: GroupId(u32::try_from(r.try_get::<_, i64>(0)?).map_err(corrupt)?),
                    category_id: cat,
                    game: r
                        .try_get::<_, Option<String>>(2)?
                        .as_deref()
                        .and_then(Game::parse)
                        .unwrap_or(Game::from_category(cat)),
                    name: r.try_get(3)?,
                    abbreviation: r.try_get(4)?,
                    published_on: r.try_get(5)?,
                })
            })
            .collect()
    }

    async fn skus(&self, product_id: ProductId) -> Result<Vec<Sku>> {
        let sql = "SELECT sku_id, product_id, printing, condition, language FROM (SELECT * FROM skus LATEST ON updated_at PARTITION BY sku_id) WHERE product_id = $1 ORDER BY sku_id";
        self.query(sql, &[Param::Long(product_id.0 as i64)])
            .await?
            .iter()
            .map(|r| {
                Ok(Sku {
                    sku_id: SkuId(r.try_get::<_, i64>(0)? as u64),
                    product_id: ProductId(r.try_get::<_, i64>(1)? as u64),
                    printing: tcg_schemas::Printing::parse(&r.try_get::<_, String>(2)?),
                    condition: tcg_schemas::Condition::parse(&r.try_get::<_, String>(3)?),
                    language: tcg_schemas::Language::parse(&r.try_get::<_, String>(4)?),
                })
            })
            .collect()
    }
}
