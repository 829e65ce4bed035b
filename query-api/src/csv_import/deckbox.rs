//! Deckbox inventory export: `Count, Tradelist Count, Name, Edition, Edition Code, Card Number,
//! Condition, Language, Foil, Signed, Artist Proof, Altered Art, Misprint, Promo, Textless,
//! Printing Id, Printing Note, Tags, My Price`. `My Price` is the owner's asking price, not what
//! the card cost: the export has no cost. Magic only.

use tcg_schemas::{Condition, Game, Language};

use super::{CsvFormat, ImportRow, cells::Cells, detect::Layout, words};

pub(crate) const LAYOUT: Layout = Layout {
    format: CsvFormat::Deckbox,
    title: "Deckbox",
    needs: &[&["Name"], &["Count"]],
    signatures: &[
        &["Count", "Tradelist Count", "Card Number"],
        &["Count", "Name", "My Price"],
    ],
    tab_signatures: &[],
    card: &["name"],
    read,
};

/// The yes/no columns that go to the note, with the word the note uses.
const FLAGS: [(&str, &str); 6] = [
    ("signed", "signed"),
    ("artist proof", "artist proof"),
    ("altered art", "altered art"),
    ("misprint", "misprint"),
    ("promo", "promo"),
    ("textless", "textless"),
];

fn read(c: &Cells<'_>) -> Result<ImportRow, String> {
    let name = c
        .owned(&["name"])
        .ok_or("the row names no card (no Name)")?;
    Ok(ImportRow {
        name: Some(name),
        set: c.owned(&["edition"]),
        set_code: c.owned(&["edition code"]),
        number: c.owned(&["card number"]),
        game: Some(Game::Magic),
        printing: words::finish(c.text(&["foil"])),
        condition: c
            .text(&["condition"])
            .map_or(Condition::NearMint, words::condition),
        language: c
            .text(&["language"])
            .map_or(Language::English, words::language),
        note: c.flags_note(&FLAGS),
        ..ImportRow::new(c.row, c.quantity(&["count"])?)
    })
}
