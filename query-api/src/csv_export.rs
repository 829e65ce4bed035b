//! CSV export (generic) of a portfolio's holdings, safe to open in a spreadsheet: text cells
//! that a spreadsheet would run as a formula are neutralised (OWASP "CSV Injection"), and the
//! generic import reads them back as they were.

use std::collections::HashMap;

use tcg_schemas::{Holding, Product};

/// Characters that make a spreadsheet read a cell as a formula (OWASP, "CSV Injection").
pub(crate) const FORMULA_STARTS: [char; 6] = ['=', '+', '-', '@', '\t', '\r'];

/// A text cell as a spreadsheet will show it, not run it (OWASP): one starting with `=`, `+`,
/// `-`, `@`, a tab or a carriage return gets a `'` in front and is quoted. `None` when the
/// cell needs nothing.
pub fn neutralise(cell: &str) -> Option<String> {
    cell.starts_with(FORMULA_STARTS)
        .then(|| quoted(&format!("'{cell}")))
}

fn quoted(cell: &str) -> String {
    format!("\"{}\"", cell.replace('"', "\"\""))
}

/// A cell the export wrote itself (ids, quantities, costs, codes, dates): quoted only when CSV
/// needs it.
fn plain(cell: &str) -> String {
    if cell.contains([',', '"', '\n', '\r']) {
        quoted(cell)
    } else {
        cell.to_owned()
    }
}

/// A text cell (from the catalog or the user): neutralised, or as [`plain`].
fn text(cell: &str) -> String {
    neutralise(cell).unwrap_or_else(|| plain(cell))
}

/// The generic CSV of a portfolio's holdings (what import `format=generic` reads back). Text
/// cells (names, set names, numbers of cards, games, printings, conditions, languages,
/// graders, grades, notes) are neutralised ([`neutralise`]); ids, quantities, costs, currency
/// codes and dates are the export's own and written as they are (a cost stays a number).
pub fn export(
    holdings: &[Holding],
    catalog: &HashMap<u64, Product>,
    set_names: &HashMap<u32, String>,
) -> Vec<u8> {
    let mut out = String::from(
        "holding_id,product_id,name,set,number,game,printing,condition,language,grader,grade,\
         quantity,cost_per_unit,currency,acquired_on,note\n",
    );
    for h in holdings {
        let p = catalog.get(&h.product_id.0);
        let grading = h.grading.as_ref();
        let row = [
            plain(&h.id.to_string()),
            plain(&h.product_id.to_string()),
            text(p.map_or("", |p| p.name.as_str())),
            text(
                p.and_then(|p| set_names.get(&p.group_id.0))
                    .map_or("", String::as_str),
            ),
            text(p.and_then(|p| p.number.as_deref()).unwrap_or_default()),
            text(&p.map(|p| p.game.slug()).unwrap_or_default()),
            text(&h.printing.to_string()),
            text(&h.condition.to_string()),
            text(&h.language.to_string()),
            text(&grading.map(|g| g.grader.to_string()).unwrap_or_default()),
            text(&grading.map(|g| g.grade.to_string()).unwrap_or_default()),
            plain(&h.quantity.to_string()),
            plain(&h.cost_per_unit.to_decimal().to_string()),
            plain(&h.cost_per_unit.currency.to_string()),
            plain(&h.acquired_on),
            text(h.note.as_deref().unwrap_or_default()),
        ];
        out.push_str(&row.join(","));
        out.push('\n');
    }
    out.into_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formula_cells_are_quoted_behind_a_quote_and_others_left_alone() {
        for (cell, want) in [
            ("=1+1", Some("\"'=1+1\"")),
            ("+1", Some("\"'+1\"")),
            ("-1", Some("\"'-1\"")),
            ("@x", Some("\"'@x\"")),
            ("\tx", Some("\"'\tx\"")),
            ("\rx", Some("\"'\rx\"")),
            ("=\"a\"", Some("\"'=\"\"a\"\"\"")),
            ("plain", None),
            ("a=b", None),
        ] {
            assert_eq!(neutralise(cell).as_deref(), want, "{cell:?}");
        }
        assert_eq!(text("a,b"), "\"a,b\"");
        assert_eq!(plain("12.50"), "12.50");
    }
}
