//! Dragon Shield card manager export, after its `sep=,` line: `Folder Name, Quantity, Trade
//! Quantity, Card Name, Set Code, Set Name, Card Number, Condition, Printing, Language, Price
//! Bought, Date Bought, LOW, MID, MARKET` (the last three are market prices). The game is not in
//! the file (the app tracks Magic and Pokémon).

use tcg_schemas::{Condition, Currency, Language};

use super::{CsvFormat, ImportRow, cells::Cells, detect::Layout, words};

pub(crate) const LAYOUT: Layout = Layout {
    format: CsvFormat::DragonShield,
    title: "Dragon Shield",
    needs: &[&["Card Name"], &["Quantity"]],
    signatures: &[
        &["Folder Name", "Card Name"],
        &["Card Name", "Set Code", "Printing"],
    ],
    tab_signatures: &[],
    card: &["card name"],
    read,
};

fn read(c: &Cells<'_>) -> Result<ImportRow, String> {
    let name = c
        .owned(&["card name"])
        .ok_or("the row names no card (no Card Name)")?;
    Ok(ImportRow {
        name: Some(name),
        set: c.owned(&["set name"]),
        set_code: c.owned(&["set code"]),
        number: c.owned(&["card number"]),
        printing: words::finish(c.text(&["printing"])),
        condition: c
            .text(&["condition"])
            .map_or(Condition::NearMint, words::condition),
        language: c
            .text(&["language"])
            .map_or(Language::English, words::language),
        cost_per_unit: c.cost(&["price bought"], Currency::USD)?,
        acquired_on: c.date(&["date bought"])?,
        ..ImportRow::new(c.row, c.quantity(&["quantity"])?)
    })
}
