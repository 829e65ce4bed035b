//! Moxfield collection export: `Count, Tradelist Count, Name, Edition, Condition, Language, Foil,
//! Tags, Last Modified, Collector Number, Alter, Proxy, Purchase Price`. Edition is a set code.
//! Magic only.

use tcg_schemas::{Condition, Currency, Game, Language};

use super::{CsvFormat, ImportRow, cells::Cells, detect::Layout, words};

pub(crate) const LAYOUT: Layout = Layout {
    format: CsvFormat::Moxfield,
    title: "Moxfield",
    needs: &[&["Name"], &["Count"]],
    signatures: &[
        &["Count", "Tradelist Count", "Collector Number"],
        &["Count", "Name", "Last Modified"],
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
        set_code: c.owned(&["edition"]),
        number: c.owned(&["collector number"]),
        game: Some(Game::Magic),
        printing: words::finish(c.text(&["foil"])),
        condition: c
            .text(&["condition"])
            .map_or(Condition::NearMint, words::condition),
        language: c
            .text(&["language"])
            .map_or(Language::English, words::language),
        cost_per_unit: c.cost(&["purchase price"], Currency::USD)?,
        note: c.flags_note(&[("alter", "altered"), ("proxy", "proxy")]),
        ..ImportRow::new(c.row, c.quantity(&["count"])?)
    })
}
