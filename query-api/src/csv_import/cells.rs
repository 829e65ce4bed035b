//! What every format shares: the file's first lines (a UTF-8 BOM, Excel's `sep=` line, the
//! delimiter), the header, reading a cell by its column names, and the numbers, dates and costs
//! inside cells.

use std::collections::HashMap;

use tcg_schemas::{Currency, Money};

/// A file's bytes after its BOM and `sep=` line, with the delimiter its header uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Body<'a> {
    pub bytes: &'a [u8],
    pub delimiter: u8,
}

/// Drops a UTF-8 BOM and a first line `sep=X` (or `"sep=X"`, as Excel and Dragon Shield write
/// it), whose `X` is then the delimiter; otherwise a header with more tabs than commas is
/// tab-separated (Delver Lens), any other comma-separated.
pub(crate) fn body(raw: &[u8]) -> Body<'_> {
    let bytes = raw.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(raw);
    let line_end = bytes
        .iter()
        .position(|b| *b == b'\n')
        .unwrap_or(bytes.len());
    let first = bytes.get(..line_end).unwrap_or(bytes);
    let first = first.strip_suffix(b"\r").unwrap_or(first);
    let unquoted = first
        .strip_prefix(b"\"")
        .and_then(|f| f.strip_suffix(b"\""))
        .unwrap_or(first);
    if let Some([sep]) = unquoted
        .get(..4)
        .filter(|p| p.eq_ignore_ascii_case(b"sep="))
        .and_then(|_| unquoted.get(4..))
    {
        let rest = bytes.get(line_end + 1..).unwrap_or_default();
        return Body {
            bytes: rest,
            delimiter: *sep,
        };
    }
    let count = |c: u8| first.iter().filter(|b| **b == c).count();
    let delimiter = if count(b'\t') > count(b',') {
        b'\t'
    } else {
        b','
    };
    Body { bytes, delimiter }
}

/// The header: column positions by name, lower-cased and trimmed.
#[derive(Debug, Clone, Default)]
pub(crate) struct Header {
    index: HashMap<String, usize>,
}

impl Header {
    pub fn new<'a>(names: impl IntoIterator<Item = &'a str>) -> Self {
        let mut index = HashMap::new();
        for (i, n) in names.into_iter().enumerate() {
            index
                .entry(n.trim_start_matches('\u{feff}').trim().to_lowercase())
                .or_insert(i);
        }
        Self { index }
    }

    /// The first of `names` (lower case) present in the header.
    pub fn col(&self, names: &[&str]) -> Option<usize> {
        names.iter().find_map(|n| self.index.get(*n).copied())
    }

    pub fn has(&self, name: &str) -> bool {
        self.index.contains_key(name)
    }
}

/// One data row and the header it is read by.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Cells<'a> {
    pub header: &'a Header,
    pub record: &'a csv::StringRecord,
    /// 1 = the first row after the header.
    pub row: usize,
}

impl<'a> Cells<'a> {
    /// The trimmed, non-empty text of column `i`.
    pub fn at(&self, i: Option<usize>) -> Option<&'a str> {
        i.and_then(|i| self.record.get(i))
            .map(str::trim)
            .filter(|s| !s.is_empty())
    }

    /// The trimmed, non-empty text of the first of `names` present in the header.
    pub fn text(&self, names: &[&str]) -> Option<&'a str> {
        self.at(self.header.col(names))
    }

    pub fn owned(&self, names: &[&str]) -> Option<String> {
        self.text(names).map(str::to_owned)
    }

    pub fn quantity(&self, names: &[&str]) -> Result<u32, String> {
        parse_quantity(self.text(names))
    }

    /// A cost in `currency`, or `None` when the cell is empty or the column absent.
    pub fn cost(&self, names: &[&str], currency: Currency) -> Result<Option<Money>, String> {
        self.text(names)
            .map(|t| parse_cost(t, currency))
            .transpose()
    }

    pub fn date(&self, names: &[&str]) -> Result<Option<String>, String> {
        self.text(names).map(parse_date).transpose()
    }

    /// A yes/no cell: empty, absent, `false`, `no`, `n` or `0` is no; anything else is yes
    /// (`true`, `x`, or the column's own word as Deckbox writes it: `signed`, `promo`).
    pub fn flag(&self, names: &[&str]) -> bool {
        self.text(names)
            .is_some_and(|t| !matches!(t.to_ascii_lowercase().as_str(), "false" | "no" | "n" | "0"))
    }

    /// A note naming the flags that are set (`altered, misprint`), or none.
    pub fn flags_note(&self, flags: &[(&str, &str)]) -> Option<String> {
        let set: Vec<&str> = flags
            .iter()
            .filter(|(col, _)| self.flag(&[col]))
            .map(|(_, word)| *word)
            .collect();
        (!set.is_empty()).then(|| set.join(", "))
    }
}

/// `$1,234.50` → 123450 cents; a currency sign or code and thousands commas are dropped.
pub(crate) fn parse_cost(text: &str, currency: Currency) -> Result<Money, String> {
    let cleaned: String = text
        .chars()
        .filter(|c| !matches!(c, '$' | '€' | '£' | '¥' | ',' | ' ') && !c.is_ascii_alphabetic())
        .collect();
    let m = Money::parse_decimal(&cleaned, currency)
        .map_err(|e| format!("cost {text:?} is not an amount: {e}"))?;
    if m.minor < 0 {
        return Err(format!("cost {text:?} is negative"));
    }
    Ok(m)
}

/// A whole number from 1 to 1000000 (`3`, `3.0`).
pub(crate) fn parse_quantity(text: Option<&str>) -> Result<u32, String> {
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
/// `2024-05-01 10:00:00`) or a US date (`05/01/2024`); other layouts are reported.
pub(crate) fn parse_date(text: &str) -> Result<String, String> {
    let head = text.get(..10).unwrap_or(text);
    chrono::NaiveDate::parse_from_str(head, "%Y-%m-%d")
        .or_else(|_| {
            chrono::NaiveDate::parse_from_str(
                text.split_whitespace().next().unwrap_or(""),
                "%m/%d/%Y",
            )
        })
        .map(|d| d.format("%Y-%m-%d").to_string())
        .map_err(|_| format!("date {text:?} is not YYYY-MM-DD"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bom_sep_line_and_tabs() {
        let b = body(b"\xEF\xBB\xBF\"sep=,\"\r\nFolder Name,Quantity\r\nx,1\r\n");
        assert_eq!(b.delimiter, b',');
        assert!(b.bytes.starts_with(b"Folder Name"));
        let b = body(b"sep=;\nName;Quantity\n");
        assert_eq!((b.delimiter, b.bytes), (b';', &b"Name;Quantity\n"[..]));
        assert_eq!(body(b"Name\tEdition\tFoil, or not\n").delimiter, b'\t');
        assert_eq!(body(b"Name,Edition\n").delimiter, b',');
        assert_eq!(body(b"").bytes, b"");
    }

    #[test]
    fn costs_quantities_dates() {
        assert_eq!(
            parse_cost("$1,234.50", Currency::USD),
            Ok(Money::usd_cents(123_450))
        );
        assert_eq!(
            parse_cost("2.5 EUR", Currency::EUR),
            Ok(Money::new(250, Currency::EUR))
        );
        assert!(parse_cost("-1", Currency::USD).is_err());
        assert!(parse_cost("lots", Currency::USD).is_err());
        assert_eq!(parse_quantity(Some("3.0")), Ok(3));
        assert!(parse_quantity(Some("0")).is_err());
        assert!(parse_quantity(None).is_err());
        assert_eq!(
            parse_date("2024-05-01T10:00:00Z").as_deref(),
            Ok("2024-05-01")
        );
        assert_eq!(parse_date("05/01/2024 10:00").as_deref(), Ok("2024-05-01"));
        assert!(parse_date("yesterday").is_err());
    }
}
