//! TCGplayer seller inventory (pricing) export: `TCGplayer Id, Product Line, Set Name, Product
//! Name, Title, Number, Rarity, Condition, TCG Market Price, TCG Direct Low, TCG Low Price With
//! Shipping, TCG Low Price, Total Quantity, Add to Quantity, TCG Marketplace Price, Photo URL`.
//! `TCGplayer Id` is a SKU id; `Condition` packs condition, printing and language. No cost.

use tcg_schemas::{Game, Language, Printing, SkuId};

use super::{CsvFormat, ImportRow, cells::Cells, detect::Layout, words};

pub(crate) const LAYOUT: Layout = Layout {
    format: CsvFormat::TcgplayerSeller,
    title: "TCGplayer seller inventory",
    needs: &[&["Product Name"], &["Total Quantity"]],
    signatures: &[&["TCGplayer Id", "Product Line", "Product Name"]],
    tab_signatures: &[],
    card: &["product name"],
    read,
};

fn read(c: &Cells<'_>) -> Result<ImportRow, String> {
    let name = c
        .owned(&["product name"])
        .ok_or("the row names no card (no Product Name)")?;
    let sku_id = match c.text(&["tcgplayer id"]) {
        Some(t) => {
            Some(SkuId(t.parse::<u64>().map_err(|_| {
                format!("TCGplayer Id {t:?} is not a number")
            })?))
        }
        None => None,
    };
    let (condition, printing, language) = match c.text(&["condition"]) {
        Some(t) => words::tcgplayer_condition(t)?,
        None => (tcg_schemas::Condition::NearMint, None, None),
    };
    let quantity = c.quantity(&["total quantity"]).map_err(|e| {
        if e == "quantity is 0" {
            "Total Quantity is 0: none in stock".to_owned()
        } else {
            e
        }
    })?;
    Ok(ImportRow {
        sku_id,
        name: Some(name),
        set: c.owned(&["set name"]),
        number: c.owned(&["number"]),
        // The product line only narrows the search: one that is not a known game is left out.
        game: c.text(&["product line"]).and_then(Game::parse),
        printing: printing.unwrap_or(Printing::Normal),
        condition,
        language: language.unwrap_or(Language::English),
        ..ImportRow::new(c.row, quantity)
    })
}
