//! Collectr portfolio export: `Portfolio Name, Category, Set, Product Name, Card Number, Rarity,
//! Variance, Grade, Card Condition, Average Cost Paid, Quantity, Market Price (As of <date>),
//! Price Override, Watchlist, Date Added, Notes`.

use tcg_schemas::{Currency, Game, Grade, Grader, Grading, Printing};

use super::{CsvFormat, ImportRow, cells::Cells, detect::Layout, words};

pub(crate) const LAYOUT: Layout = Layout {
    format: CsvFormat::Collectr,
    title: "Collectr",
    needs: &[&["Product Name"], &["Quantity"]],
    signatures: &[&["Product Name", "Card Condition"]],
    tab_signatures: &[],
    card: &["product name"],
    read,
};

/// `Ungraded`/empty → none; `PSA 10`, `BGS 9.5`, `CGC 10 Pristine` → grader and grade.
fn grade(text: Option<&str>) -> Result<Option<Grading>, String> {
    let Some(t) = text else { return Ok(None) };
    if t.eq_ignore_ascii_case("ungraded") || t.eq_ignore_ascii_case("raw") {
        return Ok(None);
    }
    let (grader, grade) = t
        .split_once(' ')
        .ok_or_else(|| format!("grade {t:?} is not `<grader> <grade>`"))?;
    let grade = Grade::parse(grade.trim()).map_err(|e| format!("grade {t:?}: {e}"))?;
    Ok(Some(Grading {
        grader: Grader::parse(grader),
        grade,
    }))
}

fn read(c: &Cells<'_>) -> Result<ImportRow, String> {
    let name = c
        .owned(&["product name"])
        .ok_or("the row names no card (no Product Name)")?;
    let game = match c.text(&["category"]) {
        Some(g) => Some(Game::parse(g).ok_or_else(|| format!("game {g:?} is not known"))?),
        None => None,
    };
    Ok(ImportRow {
        name: Some(name),
        set: c.owned(&["set"]),
        number: c.owned(&["card number"]),
        game,
        printing: c
            .text(&["variance"])
            .map_or(Printing::Normal, Printing::parse),
        condition: c
            .text(&["card condition"])
            .map_or(tcg_schemas::Condition::NearMint, words::condition),
        language: c
            .text(&["language"])
            .map_or(tcg_schemas::Language::English, words::language),
        grading: grade(c.text(&["grade"]))?,
        cost_per_unit: c.cost(&["average cost paid"], Currency::USD)?,
        acquired_on: c.date(&["date added"])?,
        note: c.text(&["notes"]).map(|n| n.chars().take(500).collect()),
        ..ImportRow::new(c.row, c.quantity(&["quantity"])?)
    })
}
