//! ManaBox collection export: `Name, Set code, Set name, Collector number, Foil, Rarity,
//! Quantity, ManaBox ID, Scryfall ID, Purchase price, Misprint, Altered, Condition, Language,
//! Purchase price currency`. Magic only.

use tcg_schemas::{Condition, Currency, Game, Language};

use super::{CsvFormat, ImportRow, cells::Cells, detect::Layout, words};

pub(crate) const LAYOUT: Layout = Layout {
    format: CsvFormat::Manabox,
    title: "ManaBox",
    needs: &[&["Name"], &["Quantity"]],
    signatures: &[&["ManaBox ID"], &["Set code", "Collector number", "Foil"]],
    tab_signatures: &[],
    card: &["name"],
    read,
};

fn read(c: &Cells<'_>) -> Result<ImportRow, String> {
    let name = c
        .owned(&["name"])
        .ok_or("the row names no card (no Name)")?;
    let currency = match c.text(&["purchase price currency"]) {
        Some(cur) => Currency::parse(cur).map_err(|e| e.to_string())?,
        None => Currency::USD,
    };
    Ok(ImportRow {
        name: Some(name),
        set: c.owned(&["set name"]),
        set_code: c.owned(&["set code"]),
        number: c.owned(&["collector number"]),
        game: Some(Game::Magic),
        printing: words::finish(c.text(&["foil"])),
        condition: c
            .text(&["condition"])
            .map_or(Condition::NearMint, words::condition),
        language: c
            .text(&["language"])
            .map_or(Language::English, words::language),
        cost_per_unit: c.cost(&["purchase price"], currency)?,
        note: c.flags_note(&[("misprint", "misprint"), ("altered", "altered")]),
        ..ImportRow::new(c.row, c.quantity(&["quantity"])?)
    })
}
