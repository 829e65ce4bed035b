//! Delver Lens export: tab-separated, the user picks the columns among `Name`, `Edition` (the
//! set's name), `Edition code`, `Collector's number`, `Quantity` or `QuantityX` (`2x`), `Foil`
//! (`Foil` or empty), `Condition`, `Language`, `Price` (a market price, not a cost). Magic only.

use tcg_schemas::{Condition, Game, Language};

use super::{CsvFormat, ImportRow, cells::Cells, cells::parse_quantity, detect::Layout, words};

pub(crate) const LAYOUT: Layout = Layout {
    format: CsvFormat::DelverLens,
    title: "Delver Lens",
    needs: &[&["Name"], &["Quantity", "QuantityX"]],
    signatures: &[&["Name", "QuantityX"], &["Name", "Collector's number"]],
    tab_signatures: &[&["Name", "Quantity"], &["Name", "Edition"]],
    card: &["name"],
    read,
};

fn read(c: &Cells<'_>) -> Result<ImportRow, String> {
    let name = c
        .owned(&["name"])
        .ok_or("the row names no card (no Name)")?;
    let quantity = c
        .text(&["quantityx", "quantity"])
        .map(|q| q.trim_end_matches(['x', 'X']).trim());
    Ok(ImportRow {
        name: Some(name),
        set: c.owned(&["edition"]),
        set_code: c.owned(&["edition code"]),
        number: c.owned(&["collector's number", "collector number"]),
        game: Some(Game::Magic),
        printing: words::finish(c.text(&["foil"])),
        condition: c
            .text(&["condition"])
            .map_or(Condition::NearMint, words::condition),
        language: c
            .text(&["language"])
            .map_or(Language::English, words::language),
        ..ImportRow::new(c.row, parse_quantity(quantity)?)
    })
}
