//! CSV import (Collectr, TCGplayer collection, generic) and export (generic).
//!
//! Column layouts assumed (headers are matched case-insensitively, surrounding blanks and a UTF-8
//! BOM ignored, unknown columns ignored; order does not matter):
//!
//! - **Collectr** portfolio export: `Portfolio Name, Category, Set, Product Name, Card Number,
//!   Rarity, Variance, Grade, Card Condition, Average Cost Paid, Quantity, Market Price (As of
//!   <date>), Price Override, Watchlist, Date Added, Notes`. Used: `Category` (game), `Set`,
//!   `Product Name`, `Card Number`, `Variance` (printing), `Grade` (`Ungraded` or `<grader>
//!   <grade>`, e.g. `PSA 10`), `Card Condition`, `Average Cost Paid` (USD), `Quantity`,
//!   `Date Added`, `Notes`. Required: `Product Name`, `Quantity`.
//! - **TCGplayer** collection export (app): `Quantity, Name, Simple Name, Set, Card Number, Set
//!   Code, Printing, Condition, Language, Rarity, Product ID, SKU` (some exports add `Price Each`,
//!   a market price, which is not a cost and is ignored). `Product ID` matches directly; without it
//!   `Simple Name` (or `Name`), `Set` and `Card Number` are used. A condition such as `Near Mint
//!   Foil` carries the printing when `Printing` is absent. The export has no cost: cost is 0 USD.
//!   Required: `Quantity` and one of `Product ID`, `Simple Name`, `Name`.
//! - **Generic** (also what export writes): `product_id` or `name` (+ `set`, `number`, `game`),
//!   `quantity`, `printing` (default Normal), `condition` (default Near Mint), `language` (default
//!   English), `grader` + `grade` (both or neither), `cost_per_unit` (decimal, default 0),
//!   `currency` (default USD), `acquired_on` (`YYYY-MM-DD`, default today), `note`.
//!   Required: `quantity` and `product_id` or `name`.
//!
//! Every row that cannot become a holding is reported back with its row number (1 = the first
//! row after the header) and the reason; none is dropped silently.

use std::collections::HashMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use tcg_schemas::{
    Condition, Currency, Game, Grade, Grader, Grading, Language, Money, Printing, Product,
    ProductId,
};
use tcg_store::{CatalogQuery, PriceStore};

use crate::error::ApiError;

/// The CSV dialect of an import.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum CsvFormat {
    Collectr,
    Tcgplayer,
    Generic,
}

impl CsvFormat {
    pub fn parse(s: &str) -> Option<Self> {
        match s.to_ascii_lowercase().as_str() {
            "collectr" => Some(Self::Collectr),
            "tcgplayer" => Some(Self::Tcgplayer),
            "generic" => Some(Self::Generic),
            _ => None,
        }
    }
}

/// A row read from the file, before it is matched to the catalog.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportRow {
    pub row: usize,
    pub product_id: Option<ProductId>,
    pub name: Option<String>,
    pub set: Option<String>,
    pub number: Option<String>,
    pub game: Option<Game>,
    pub printing: Printing,
    pub condition: Condition,
    pub language: Language,
    pub grading: Option<Grading>,
    pub quantity: u32,
    pub cost_per_unit: Money,
    pub acquired_on: Option<String>,
    pub note: Option<String>,
}

/// A row that did not become a holding.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct RowProblem {
    /// 1 = the first row after the header.
    pub row: usize,
    pub reason: String,
    /// The card as the row named it, when it did.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub card: Option<String>,
}

struct Header {
    index: HashMap<String, usize>,
}

impl Header {
    fn new(record: &csv::StringRecord) -> Self {
        let index = record
            .iter()
            .enumerate()
            .map(|(i, h)| {
                (
                    h.trim_start_matches('\u{feff}').trim().to_ascii_lowercase(),
                    i,
                )
            })
            .collect();
        Self { index }
    }

    /// The first of `names` present in the header.
    fn col(&self, names: &[&str]) -> Option<usize> {
        names.iter().find_map(|n| self.index.get(*n).copied())
    }

    fn starts_with(&self, prefix: &str) -> Option<usize> {
        self.index
            .iter()
            .filter(|(k, _)| k.starts_with(prefix))
            .map(|(_, i)| *i)
            .min()
    }
}

fn cell(record: &csv::StringRecord, col: Option<usize>) -> Option<&str> {
    col.and_then(|i| record.get(i))
        .map(str::trim)
        .filter(|s| !s.is_empty())
}

/// `$1,234.50` → 123450 cents.
fn parse_cost(text: &str, currency: Currency) -> Result<Money, String> {
    let cleaned: String = text
        .chars()
        .filter(|c| !matches!(c, '$' | '€' | '£' | '¥' | ',' | ' '))
        .collect();
    Money::parse_decimal(&cleaned, currency)
        .map_err(|e| format!("cost {text:?} is not an amount: {e}"))
        .and_then(|m| {
            if m.minor < 0 {
                Err(format!("cost {text:?} is negative"))
            } else {
                Ok(m)
            }
        })
}

fn parse_quantity(text: Option<&str>) -> Result<u32, String> {
    let t = text.ok_or("quantity is missing")?;
    let q = t
        .parse::<u32>()
        .ok()
        .or_else(|| {
            t.parse::<f64>()
                .ok()
                .filter(|f| f.fract() == 0.0 && *f >= 0.0 && *f < 1e9)
                .map(|f| f as u32)
        })
        .ok_or_else(|| format!("quantity {t:?} is not a whole number"))?;
    if q == 0 {
        return Err("quantity is 0".into());
    }
    if q > 1_000_000 {
        return Err(format!("quantity {q} is more than 1000000"));
    }
    Ok(q)
}

/// `YYYY-MM-DD` from the start of a date cell (`2024-05-01`, `2024-05-01T10:00:00Z`,
/// `2024-05-01 10:00`); other layouts are reported.
fn parse_date(text: &str) -> Result<String, String> {
    let head = text.get(..10).unwrap_or(text);
    chrono::NaiveDate::parse_from_str(head, "%Y-%m-%d")
        .map(|d| d.format("%Y-%m-%d").to_string())
        .or_else(|_| {
            chrono::NaiveDate::parse_from_str(
                text.split_whitespace().next().unwrap_or(""),
                "%m/%d/%Y",
            )
            .map(|d| d.format("%Y-%m-%d").to_string())
        })
        .map_err(|_| format!("date {text:?} is not YYYY-MM-DD"))
}

/// `Ungraded`/empty → none; `PSA 10`, `BGS 9.5`, `CGC 10 Pristine` → grader and grade.
fn parse_collectr_grade(text: Option<&str>) -> Result<Option<Grading>, String> {
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

/// Reads the rows of a file. Errors of the whole file (not CSV, missing columns, too many rows)
/// are `Err`; errors of single rows are returned beside the good rows.
pub fn read(
    format: CsvFormat,
    body: &[u8],
    max_rows: usize,
) -> Result<(Vec<ImportRow>, Vec<RowProblem>), ApiError> {
    let mut reader = csv::ReaderBuilder::new()
        .flexible(true)
        .trim(csv::Trim::All)
        .from_reader(body);
    let header = Header::new(reader.headers()?);
    let need = |ok: bool, what: &str| {
        if ok {
            Ok(())
        } else {
            Err(ApiError::field(
                "body",
                format!("the {format:?} CSV needs a {what} column"),
            ))
        }
    };
    let c = Columns::of(format, &header);
    need(c.quantity.is_some(), "quantity")?;
    need(
        c.product_id.is_some() || c.name.is_some(),
        "product id or name",
    )?;
    let mut rows = Vec::new();
    let mut problems = Vec::new();
    for (i, record) in reader.records().enumerate() {
        let row = i + 1;
        if row > max_rows {
            return Err(ApiError::field(
                "body",
                format!("more than {max_rows} rows; split the file"),
            ));
        }
        let record = match record {
            Ok(r) => r,
            Err(e) => {
                problems.push(RowProblem {
                    row,
                    reason: format!("unreadable row: {e}"),
                    card: None,
                });
                continue;
            }
        };
        if record.iter().all(|f| f.trim().is_empty()) {
            continue;
        }
        match c.row(format, row, &record) {
            Ok(r) => rows.push(r),
            Err(reason) => problems.push(RowProblem {
                row,
                reason,
                card: cell(&record, c.name).map(str::to_owned),
            }),
        }
    }
    Ok((rows, problems))
}

struct Columns {
    product_id: Option<usize>,
    name: Option<usize>,
    set: Option<usize>,
    number: Option<usize>,
    game: Option<usize>,
    printing: Option<usize>,
    condition: Option<usize>,
    language: Option<usize>,
    grade: Option<usize>,
    grader: Option<usize>,
    quantity: Option<usize>,
    cost: Option<usize>,
    currency: Option<usize>,
    date: Option<usize>,
    note: Option<usize>,
}

impl Columns {
    /// Where each field is in a file of `format` with this header.
    fn of(format: CsvFormat, header: &Header) -> Self {
        match format {
            CsvFormat::Collectr => Columns {
                product_id: None,
                name: header.col(&["product name"]),
                set: header.col(&["set"]),
                number: header.col(&["card number"]),
                game: header.col(&["category"]),
                printing: header.col(&["variance"]),
                condition: header.col(&["card condition"]),
                language: header.col(&["language"]),
                grade: header.col(&["grade"]),
                grader: None,
                quantity: header.col(&["quantity"]),
                cost: header.col(&["average cost paid"]),
                currency: None,
                date: header.col(&["date added"]),
                note: header.col(&["notes"]),
            },
            CsvFormat::Tcgplayer => Columns {
                product_id: header.col(&["product id"]),
                name: header.col(&["simple name", "name"]),
                set: header.col(&["set", "set name"]),
                number: header.col(&["card number", "number"]),
                game: header.col(&["product line"]),
                printing: header.col(&["printing"]),
                condition: header.col(&["condition"]),
                language: header.col(&["language"]),
                grade: None,
                grader: None,
                quantity: header
                    .col(&["quantity"])
                    .or_else(|| header.starts_with("total quantity")),
                cost: None,
                currency: None,
                date: None,
                note: None,
            },
            CsvFormat::Generic => Columns {
                product_id: header.col(&["product_id"]),
                name: header.col(&["name"]),
                set: header.col(&["set"]),
                number: header.col(&["number"]),
                game: header.col(&["game"]),
                printing: header.col(&["printing"]),
                condition: header.col(&["condition"]),
                language: header.col(&["language"]),
                grade: header.col(&["grade"]),
                grader: header.col(&["grader"]),
                quantity: header.col(&["quantity"]),
                cost: header.col(&["cost_per_unit"]),
                currency: header.col(&["currency"]),
                date: header.col(&["acquired_on"]),
                note: header.col(&["note"]),
            },
        }
    }

    fn row(
        &self,
        format: CsvFormat,
        row: usize,
        r: &csv::StringRecord,
    ) -> Result<ImportRow, String> {
        // What a generic export neutralised (`'=…`) reads back as it was.
        let text = |col: Option<usize>| {
            cell(r, col).map(|t| {
                if format == CsvFormat::Generic {
                    unneutralise(t)
                } else {
                    t
                }
            })
        };
        let product_id = match cell(r, self.product_id) {
            Some(t) => Some(ProductId(
                t.parse::<u64>()
                    .map_err(|_| format!("product id {t:?} is not a number"))?,
            )),
            None => None,
        };
        let name = text(self.name).map(str::to_owned);
        if product_id.is_none() && name.is_none() {
            return Err("the row names no card (no product id, no name)".into());
        }
        let mut printing = text(self.printing).map(Printing::parse);
        let mut condition_text = text(self.condition).map(str::to_owned);
        // TCGplayer writes "Near Mint Foil" when the printing is foil.
        if let Some(ct) = condition_text.clone()
            && let Some(base) = ct.strip_suffix(" Foil")
        {
            condition_text = Some(base.to_owned());
            printing.get_or_insert(Printing::Foil);
        }
        let grading = match format {
            CsvFormat::Collectr => parse_collectr_grade(text(self.grade))?,
            _ => match (text(self.grader), text(self.grade)) {
                (None, None) => None,
                (Some(g), Some(gr)) => Some(Grading {
                    grader: Grader::parse(g),
                    grade: Grade::parse(gr).map_err(|e| format!("grade {gr:?}: {e}"))?,
                }),
                _ => return Err("give both grader and grade, or neither".into()),
            },
        };
        let currency = match cell(r, self.currency) {
            Some(c) => Currency::parse(c).map_err(|e| e.to_string())?,
            None => Currency::USD,
        };
        let cost_per_unit = match cell(r, self.cost) {
            Some(t) => parse_cost(t, currency)?,
            None => Money::new(0, currency),
        };
        let game = match text(self.game) {
            Some(g) => Some(Game::parse(g).ok_or_else(|| format!("game {g:?} is not known"))?),
            None => None,
        };
        let acquired_on = cell(r, self.date).map(parse_date).transpose()?;
        let note = text(self.note).map(|n| n.chars().take(500).collect());
        Ok(ImportRow {
            row,
            product_id,
            name,
            set: text(self.set).map(str::to_owned),
            number: text(self.number).map(str::to_owned),
            game,
            printing: printing.unwrap_or(Printing::Normal),
            condition: condition_text
                .as_deref()
                .map_or(Condition::NearMint, Condition::parse),
            language: text(self.language).map_or(Language::English, Language::parse),
            grading,
            quantity: parse_quantity(cell(r, self.quantity))?,
            cost_per_unit,
            acquired_on,
            note,
        })
    }
}

/// The reverse of [`crate::csv_export::neutralise`] for a generic import (what export wrote):
/// one leading `'` before a formula character is dropped, so an export re-imports as it was.
fn unneutralise(cell: &str) -> &str {
    match cell.strip_prefix('\'') {
        Some(rest) if rest.starts_with(crate::csv_export::FORMULA_STARTS) => rest,
        _ => cell,
    }
}

/// Finds the catalog product a row means, or says why not.
pub async fn match_row(
    store: &dyn PriceStore,
    set_names: &HashMap<u32, String>,
    row: &ImportRow,
) -> Result<Product, String> {
    if let Some(id) = row.product_id {
        return store
            .product(id)
            .await
            .map_err(|e| format!("catalog lookup failed: {e}"))?
            .ok_or_else(|| format!("no card with product id {id} in the catalog"));
    }
    let name = row.name.as_deref().unwrap_or("");
    let number = row
        .number
        .as_deref()
        .map(|n| n.trim_start_matches('#').to_owned());
    let page = store
        .search_catalog(&CatalogQuery {
            name: Some(name.to_owned()),
            number: number.clone(),
            group_id: None,
            game: row.game,
            limit: 200,
            cursor: None,
        })
        .await
        .map_err(|e| format!("catalog lookup failed: {e}"))?;
    let in_set = |p: &Product| {
        row.set.as_deref().is_none_or(|s| {
            set_names
                .get(&p.group_id.0)
                .is_some_and(|n| n.eq_ignore_ascii_case(s.trim()))
        })
    };
    let mut candidates: Vec<&Product> = page.items.iter().filter(|p| in_set(p)).collect();
    if candidates.len() > 1 {
        let exact: Vec<&Product> = candidates
            .iter()
            .copied()
            .filter(|p| {
                p.name.eq_ignore_ascii_case(name)
                    || p.clean_name
                        .as_deref()
                        .is_some_and(|c| c.eq_ignore_ascii_case(name))
            })
            .collect();
        if !exact.is_empty() {
            candidates = exact;
        }
    }
    match candidates.as_slice() {
        [one] => Ok((*one).clone()),
        [] => Err(format!(
            "no card named {name:?}{}{} in the catalog",
            row.set
                .as_deref()
                .map(|s| format!(" in set {s:?}"))
                .unwrap_or_default(),
            number
                .map(|n| format!(" with number {n:?}"))
                .unwrap_or_default()
        )),
        many => Err(format!(
            "{} cards match {name:?}; add the set and card number, or the product id",
            many.len()
        )),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn reads_collectr() {
        let csv = "\u{feff}Portfolio Name,Category,Set,Product Name,Card Number,Rarity,Variance,Grade,Card Condition,Average Cost Paid,Quantity,Market Price (As of 2026-02-03),Price Override,Watchlist,Date Added,Notes\n\
Main,Pokemon,Base Set,Charizard,4/102,Holo Rare,Holofoil,PSA 10,Near Mint,\"$1,200.00\",1,5000,,false,2024-05-01,slab\n\
Main,Pokemon,Base Set,Blastoise,2/102,Holo Rare,Holofoil,Ungraded,Lightly Played,80,2,100,,false,2024-05-02,\n\
Main,Pokemon,Base Set,Venusaur,15/102,Holo Rare,Holofoil,Ungraded,Near Mint,10,zero,1,,false,,\n";
        let (rows, problems) = read(CsvFormat::Collectr, csv.as_bytes(), 100).unwrap();
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0].cost_per_unit, Money::usd_cents(120_000));
        assert_eq!(rows[0].grading.as_ref().unwrap().grader, Grader::Psa);
        assert_eq!(rows[1].condition, Condition::LightlyPlayed);
        assert_eq!(rows[1].quantity, 2);
        assert_eq!(problems.len(), 1);
        assert_eq!(problems[0].row, 3);
        assert!(problems[0].reason.contains("quantity"));
    }

    #[test]
    fn reads_tcgplayer() {
        let csv = "Quantity,Name,Simple Name,Set,Card Number,Set Code,Printing,Condition,Language,Rarity,Product ID,SKU\n\
1,Verdant Catacombs,Verdant Catacombs,Zendikar,229,ZEN,Normal,Near Mint Foil,English,Rare,33470,315319\n";
        let (rows, problems) = read(CsvFormat::Tcgplayer, csv.as_bytes(), 100).unwrap();
        assert!(problems.is_empty());
        assert_eq!(rows[0].product_id, Some(ProductId(33470)));
        assert_eq!(rows[0].condition, Condition::NearMint);
        assert_eq!(rows[0].printing, Printing::Normal);
    }

    #[test]
    fn missing_columns_are_a_file_error() {
        assert!(read(CsvFormat::Generic, b"name,set\nx,y\n", 100).is_err());
        assert!(read(CsvFormat::Generic, b"quantity,product_id\n1,2\n2,3\n", 1).is_err());
    }
}
