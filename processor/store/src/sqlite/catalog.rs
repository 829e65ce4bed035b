//! The catalog tables: sets, products (with name and number search) and SKUs.

use async_trait::async_trait;
use rusqlite::{Connection, OptionalExtension, params, params_from_iter, types::Value};
use tcg_schemas::{CardSet, CategoryId, Game, GroupId, Product, ProductId, Sku, SkuId};

use super::{SqliteStore, to_i64, to_u64};
use crate::{
    CatalogStore, Result,
    model::{CatalogPage, CatalogQuery, decode_cursor, encode_cursor},
};

fn product_from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<(Product, String)> {
    let game: String = r.get(3)?;
    let category = CategoryId(r.get(1)?);
    Ok((
        Product {
            product_id: ProductId(to_u64(r.get(0)?)),
            category_id: category,
            group_id: GroupId(r.get(2)?),
            game: Game::parse(&game).unwrap_or(Game::from_category(category)),
            name: r.get(4)?,
            clean_name: r.get(5)?,
            number: r.get(6)?,
            rarity: r.get(7)?,
            image_url: r.get(8)?,
            url: r.get(9)?,
        },
        game,
    ))
}

const PRODUCT_COLS: &str =
    "product_id, category_id, group_id, game, name, clean_name, number, rarity, image_url, url";

fn like_escape(s: &str) -> String {
    s.replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_")
}

/// The search's SQL and its binds: `limit` + 1 rows, to know whether a next page exists.
fn search_sql(q: &CatalogQuery, limit: usize) -> Result<(String, Vec<Value>)> {
    let mut sql = format!("SELECT {PRODUCT_COLS} FROM products WHERE 1 = 1");
    let mut args: Vec<Value> = Vec::new();
    if let Some(name) = q.name.as_deref().map(str::trim).filter(|n| !n.is_empty()) {
        sql.push_str(" AND name LIKE ? ESCAPE '\\'");
        args.push(Value::Text(format!("%{}%", like_escape(name))));
    }
    let number = q.number.as_deref().map(str::trim).filter(|n| !n.is_empty());
    if let Some(number) = number {
        // The number itself, or "number/…" (199 finds 199/165): one range of the NOCASE index,
        // [number, number + "0"), as SQLite's LIKE would seek it but planned once whatever the
        // number, then what lies between the two ("199-A") left out.
        sql.push_str(
            " AND number >= ? COLLATE NOCASE AND number < ? COLLATE NOCASE \
             AND (number = ? COLLATE NOCASE OR number >= ? COLLATE NOCASE)",
        );
        args.push(Value::Text(number.to_owned()));
        args.push(Value::Text(format!("{number}0")));
        args.push(Value::Text(number.to_owned()));
        args.push(Value::Text(format!("{number}/")));
    }
    if let Some(g) = q.group_id {
        sql.push_str(" AND group_id = ?");
        args.push(Value::Integer(i64::from(g.0)));
    }
    if let Some(g) = q.game {
        sql.push_str(" AND game = ?");
        args.push(Value::Text(g.slug()));
    }
    if let Some(c) = &q.cursor {
        let (name, id) = decode_cursor(c)?;
        sql.push_str(
            " AND (name > ? COLLATE NOCASE OR (name = ? COLLATE NOCASE AND product_id > ?))",
        );
        args.push(Value::Text(name.clone()));
        args.push(Value::Text(name));
        args.push(Value::Integer(to_i64(id)));
    }
    // A number matches few products: seek them by the number index and sort them, rather than
    // walk the name index over the whole catalog (`+name` keeps the planner off that walk).
    sql.push_str(if number.is_some() {
        " ORDER BY +name COLLATE NOCASE, product_id LIMIT ?"
    } else {
        " ORDER BY name COLLATE NOCASE, product_id LIMIT ?"
    });
    args.push(Value::Integer(i64::try_from(limit + 1).unwrap_or(501)));
    Ok((sql, args))
}

fn search_blocking(conn: &Connection, q: &CatalogQuery) -> Result<CatalogPage> {
    let limit = q.limit.clamp(1, 500);
    let (sql, args) = search_sql(q, limit)?;
    let mut items = conn
        .prepare_cached(&sql)?
        .query_map(params_from_iter(args), product_from_row)?
        .map(|r| r.map(|p| p.0))
        .collect::<rusqlite::Result<Vec<_>>>()?;
    let next_cursor = if items.len() > limit {
        items.truncate(limit);
        items.last().map(|p| encode_cursor(&p.name, p.product_id))
    } else {
        None
    };
    Ok(CatalogPage { items, next_cursor })
}

#[async_trait]
impl CatalogStore for SqliteStore {
    async fn upsert_sets(&self, sets: &[CardSet]) -> Result<()> {
        let sets = sets.to_vec();
        self.write(move |w| {
            let tx = w.conn.unchecked_transaction()?;
            {
                let mut st = tx.prepare_cached(
                    "INSERT INTO card_sets (group_id, category_id, game, name, abbreviation, published_on) VALUES (?1, ?2, ?3, ?4, ?5, ?6)
                     ON CONFLICT (group_id) DO UPDATE SET category_id = excluded.category_id, game = excluded.game, name = excluded.name,
                       abbreviation = excluded.abbreviation, published_on = excluded.published_on",
                )?;
                for s in &sets {
                    st.execute(params![s.group_id.0, s.category_id.0, s.game.slug(), s.name, s.abbreviation, s.published_on])?;
                }
            }
            Ok(tx.commit()?)
        })
        .await
    }

    async fn upsert_products(&self, products: &[Product]) -> Result<()> {
        let products = products.to_vec();
        self.write(move |w| {
            let tx = w.conn.unchecked_transaction()?;
            {
                let mut st = tx.prepare_cached(&format!(
                    "INSERT OR REPLACE INTO products ({PRODUCT_COLS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)"
                ))?;
                for p in &products {
                    st.execute(params![to_i64(p.product_id.0), p.category_id.0, p.group_id.0, p.game.slug(), p.name, p.clean_name, p.number, p.rarity, p.image_url, p.url])?;
                }
            }
            Ok(tx.commit()?)
        })
        .await
    }

    async fn upsert_skus(&self, skus: &[Sku]) -> Result<()> {
        let skus = skus.to_vec();
        self.write(move |w| {
            let tx = w.conn.unchecked_transaction()?;
            {
                let mut st = tx.prepare_cached("INSERT OR REPLACE INTO skus (sku_id, product_id, printing, condition, language) VALUES (?1, ?2, ?3, ?4, ?5)")?;
                for s in &skus {
                    st.execute(params![to_i64(s.sku_id.0), to_i64(s.product_id.0), s.printing.as_str(), s.condition.as_str(), s.language.as_str()])?;
                }
            }
            Ok(tx.commit()?)
        })
        .await
    }

    async fn search_catalog(&self, query: &CatalogQuery) -> Result<CatalogPage> {
        let q = query.clone();
        self.read(move |c| search_blocking(c, &q)).await
    }

    async fn product(&self, product_id: ProductId) -> Result<Option<Product>> {
        self.read(move |c| {
            Ok(c.prepare_cached(&format!(
                "SELECT {PRODUCT_COLS} FROM products WHERE product_id = ?1"
            ))?
            .query_row([to_i64(product_id.0)], product_from_row)
            .optional()?
            .map(|p| p.0))
        })
        .await
    }

    async fn sets(&self, game: Option<Game>) -> Result<Vec<CardSet>> {
        self.read(move |c| {
            let rows = c
                .prepare_cached("SELECT group_id, category_id, game, name, abbreviation, published_on FROM card_sets WHERE ?1 IS NULL OR game = ?1 ORDER BY name COLLATE NOCASE, group_id")?
                .query_map([game.map(|g| g.slug())], |r| {
                    let cat = CategoryId(r.get(1)?);
                    Ok(CardSet {
                        group_id: GroupId(r.get(0)?),
                        category_id: cat,
                        game: Game::parse(&r.get::<_, String>(2)?).unwrap_or(Game::from_category(cat)),
                        name: r.get(3)?,
                        abbreviation: r.get(4)?,
                        published_on: r.get(5)?,
                    })
                })?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            Ok(rows)
        })
        .await
    }

    async fn skus(&self, product_id: ProductId) -> Result<Vec<Sku>> {
        self.read(move |c| {
            Ok(c.prepare_cached("SELECT sku_id, product_id, printing, condition, language FROM skus WHERE product_id = ?1 ORDER BY sku_id")?
                .query_map([to_i64(product_id.0)], |r| {
                    Ok(Sku {
                        sku_id: SkuId(to_u64(r.get(0)?)),
                        product_id: ProductId(to_u64(r.get(1)?)),
                        printing: tcg_schemas::Printing::parse(&r.get::<_, String>(2)?),
                        condition: tcg_schemas::Condition::parse(&r.get::<_, String>(3)?),
                        language: tcg_schemas::Language::parse(&r.get::<_, String>(4)?),
                    })
                })?
                .collect::<rusqlite::Result<Vec<_>>>()?)
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The plan of a search by number under the connections' fixed plans (see `configure`): one
    /// seek of the number index (the exact number and "number/…"), not a walk of the catalog.
    #[test]
    fn a_search_by_number_seeks_the_number_index() {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(dir.path().join("c.db")).unwrap();
        let q = CatalogQuery {
            name: None,
            number: Some("199".into()),
            group_id: None,
            game: None,
            limit: 20,
            cursor: None,
        };
        let (sql, args) = search_sql(&q, 20).unwrap();
        let plan: Vec<String> = store
            .with_reader(|c| {
                Ok(c.prepare(&format!("EXPLAIN QUERY PLAN {sql}"))?
                    .query_map(params_from_iter(args), |r| r.get::<_, String>(3))?
                    .collect::<rusqlite::Result<Vec<_>>>()?)
            })
            .unwrap();
        let seeks = plan
            .iter()
            .filter(|l| l.starts_with("SEARCH products USING INDEX products_number"))
            .count();
        assert_eq!(seeks, 1, "{plan:?}");
        assert!(!plan.iter().any(|l| l.starts_with("SCAN")), "{plan:?}");
    }

    /// A number finds the card of that number and those numbered "number/…", case aside, and
    /// nothing between them in the index's order ("199-A", "199.5") or after ("1990").
    #[tokio::test]
    async fn a_number_finds_itself_and_its_slash_forms_only() {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(dir.path().join("n.db")).unwrap();
        let numbers = [
            "199",
            "199/165",
            "199-A",
            "199.5",
            "1990",
            "19",
            "SV12/SV99",
            "sv12",
            "SV120",
        ];
        let products: Vec<Product> = numbers
            .iter()
            .enumerate()
            .map(|(i, n)| Product {
                product_id: ProductId(1000 + i as u64),
                category_id: CategoryId(3),
                group_id: GroupId(7),
                game: Game::Pokemon,
                name: format!("Card {n}"),
                clean_name: None,
                number: Some((*n).to_owned()),
                rarity: None,
                image_url: None,
                url: None,
            })
            .collect();
        store.upsert_products(&products).await.unwrap();
        let found = |number: &str| {
            let q = CatalogQuery {
                name: None,
                number: Some(number.into()),
                group_id: None,
                game: None,
                limit: 50,
                cursor: None,
            };
            let store = store.clone();
            async move {
                let mut n: Vec<String> = store
                    .search_catalog(&q)
                    .await
                    .unwrap()
                    .items
                    .into_iter()
                    .filter_map(|p| p.number)
                    .collect();
                n.sort();
                n
            }
        };
        assert_eq!(found("199").await, ["199", "199/165"]);
        assert_eq!(found("199/165").await, ["199/165"]);
        assert_eq!(found("SV12").await, ["SV12/SV99", "sv12"]);
        assert_eq!(found("sv12/sv99").await, ["SV12/SV99"]);
        assert_eq!(found("2").await, Vec::<String>::new());
    }
}
