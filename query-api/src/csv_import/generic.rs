//! Our own format, what export writes: `product_id` or `name` (+ `set`, `number`, `game`),
//! `quantity`, `printing`, `condition`, `language`, `grader` + `grade`, `cost_per_unit`,
//! `currency`, `acquired_on`, `note` (export adds `holding_id`, ignored here). Values are read
//! with the crate's own parsers, as export writes them, so an export re-imports unchanged.

use tcg_schemas::{
    Condition, Currency, Game, Grade, Grader, Grading, Language, Printing, ProductId,
};

use super::{CsvFormat, ImportRow, cells::Cells, detect::Layout};

pub(crate) const LAYOUT: Layout = Layout {
    format: CsvFormat::Generic,
    title: "generic",
    needs: &[&["quantity"], &["product_id", "name"]],
    signatures: &[
        &["product_id"],
        &["cost_per_unit"],
        &["acquired_on"],
        &["quantity", "name"],
    ],
    tab_signatures: &[],
    card: &["name", "product_id"],
    read,
};

/// The reverse of [`crate::csv_export::neutralise`]: one leading `'` before a formula character
/// is dropped, so an export re-imports as it was.
fn unneutralise(cell: &str) -> &str {
    match cell.strip_prefix('\'') {
        Some(rest) if rest.starts_with(crate::csv_export::FORMULA_STARTS) => rest,
        _ => cell,
    }
}

fn read(c: &Cells<'_>) -> Result<ImportRow, String> {
    let text = |name: &str| c.text(&[name]).map(unneutralise);
    let product_id = match c.text(&["product_id"]) {
        Some(t) => Some(ProductId(
            t.parse::<u64>()
                .map_err(|_| format!("product id {t:?} is not a number"))?,
        )),
        None => None,
    };
    let name = text("name").map(str::to_owned);
    if product_id.is_none() && name.is_none() {
        return Err("the row names no card (no product id, no name)".into());
    }
    let grading = match (text("grader"), text("grade")) {
        (None, None) => None,
        (Some(g), Some(gr)) => Some(Grading {
            grader: Grader::parse(g),
            grade: Grade::parse(gr).map_err(|e| format!("grade {gr:?}: {e}"))?,
        }),
        _ => return Err("give both grader and grade, or neither".into()),
    };
    let currency = match c.text(&["currency"]) {
        Some(cur) => Currency::parse(cur).map_err(|e| e.to_string())?,
        None => Currency::USD,
    };
    let game = match text("game") {
        Some(g) => Some(Game::parse(g).ok_or_else(|| format!("game {g:?} is not known"))?),
        None => None,
    };
    Ok(ImportRow {
        product_id,
        name,
        set: text("set").map(str::to_owned),
        number: text("number").map(str::to_owned),
        game,
        printing: text("printing").map_or(Printing::Normal, Printing::parse),
        condition: text("condition").map_or(Condition::NearMint, Condition::parse),
        language: text("language").map_or(Language::English, Language::parse),
        grading,
        cost_per_unit: c.cost(&["cost_per_unit"], currency)?,
        acquired_on: c.date(&["acquired_on"])?,
        note: text("note").map(|n| n.chars().take(500).collect()),
        ..ImportRow::new(c.row, c.quantity(&["quantity"])?)
    })
}
