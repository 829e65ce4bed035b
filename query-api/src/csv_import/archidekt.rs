//! Archidekt collection export; the user picks the columns, commonly `Quantity, Name, Finish,
//! Condition, Date Added, Language, Purchase Price, Tags, Edition Name, Edition Code, Multiverse
//! Id, Scryfall ID, MTGO ID, Collector Number`. Magic only.

use tcg_schemas::{Condition, Currency, Game, Language};

use super::{CsvFormat, ImportRow, cells::Cells, detect::Layout, words};

pub(crate) const LAYOUT: Layout = Layout {
    format: CsvFormat::Archidekt,
    title: "Archidekt",
    needs: &[&["Name"], &["Quantity"]],
    signatures: &[
        &["Quantity", "Name", "Finish"],
        &["Quantity", "Name", "Edition Code"],
        &["Quantity", "Name", "Edition Name"],
    ],
    tab_signatures: &[],
    card: &["name"],
    read,
};

fn read(c: &Cells<'_>) -> Result<ImportRow, String> {
    let name = c
        .owned(&["name"])
        .ok_or("the row names no card (no Name)")?;
    Ok(ImportRow {
        name: Some(name),
        set: c.owned(&["edition name"]),
        set_code: c.owned(&["edition code"]),
        number: c.owned(&["collector number"]),
        game: Some(Game::Magic),
        printing: words::finish(c.text(&["finish"])),
        condition: c
            .text(&["condition"])
            .map_or(Condition::NearMint, words::condition),
        language: c
            .text(&["language"])
            .map_or(Language::English, words::language),
        cost_per_unit: c.cost(&["purchase price"], Currency::USD)?,
        acquired_on: c.date(&["date added"])?,
        ..ImportRow::new(c.row, c.quantity(&["quantity"])?)
    })
}
