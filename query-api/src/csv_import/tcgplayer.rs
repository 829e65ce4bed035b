//! TCGplayer app collection export: `Quantity, Name, Simple Name, Set, Card Number, Set Code,
//! Printing, Condition, Language, Rarity, Product ID, SKU` (`Price Each`, a market price, is
//! ignored). No cost.

use tcg_schemas::{Game, Language, Printing, ProductId};

use super::{CsvFormat, ImportRow, cells::Cells, detect::Layout, words};

pub(crate) const LAYOUT: Layout = Layout {
    format: CsvFormat::Tcgplayer,
    title: "TCGplayer collection",
    needs: &[&["Quantity"], &["Product ID", "Simple Name", "Name"]],
    signatures: &[&["Product ID", "Quantity"]],
    tab_signatures: &[],
    card: &["simple name", "name", "product id"],
    read,
};

fn read(c: &Cells<'_>) -> Result<ImportRow, String> {
    let product_id = match c.text(&["product id"]) {
        Some(t) => Some(ProductId(
            t.parse::<u64>()
                .map_err(|_| format!("product id {t:?} is not a number"))?,
        )),
        None => None,
    };
    let name = c.owned(&["simple name", "name"]);
    if product_id.is_none() && name.is_none() {
        return Err("the row names no card (no Product ID, no Name)".into());
    }
    let mut printing = c.text(&["printing"]).map(Printing::parse);
    let mut language = c.text(&["language"]).map(words::language);
    // `Near Mint Foil`: TCGplayer's condition names may carry the printing (and language).
    let condition = match c.text(&["condition"]) {
        Some(t) => match words::tcgplayer_condition(t) {
            Ok((cond, p, l)) => {
                printing = printing.or(p);
                language = language.or(l);
                cond
            }
            Err(_) => words::condition(t),
        },
        None => tcg_schemas::Condition::NearMint,
    };
    Ok(ImportRow {
        product_id,
        name,
        set: c.owned(&["set", "set name"]),
        set_code: c.owned(&["set code"]),
        number: c.owned(&["card number", "number"]),
        game: c.text(&["product line"]).and_then(Game::parse),
        printing: printing.unwrap_or(Printing::Normal),
        condition,
        language: language.unwrap_or(Language::English),
        ..ImportRow::new(c.row, c.quantity(&["quantity"])?)
    })
}
