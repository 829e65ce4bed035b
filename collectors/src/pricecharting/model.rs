//! PriceCharting's shapes: the rows of the CSV price guide and the products of the JSON API (one
//! [`GuideRow`] either way), the API's error answer, and what a product name says.
//!
//! The same keys name the prices in both: `loose-price`, `graded-price`, `manual-only-price` …
//! (video-game names reused for cards). The JSON API sends integer pennies (0 = no data); the
//! CSV guide sends dollars (`$1,234.56`, empty = no data).

use serde::Deserialize;
use serde_json::Value;
use tcg_schemas::{Currency, Grade, GradeLabel, Grader, Money, SchemaError};

use crate::CollectorError;

use super::client::SOURCE;

/// A price key of PriceCharting's card guide.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PriceKey {
    /// `loose-price`: ungraded.
    Loose,
    /// `cib-price`: grade 7 (7.5), any grader.
    Cib,
    /// `new-price`: grade 8 (8.5), any grader.
    New,
    /// `graded-price`: grade 9, any grader.
    Graded,
    /// `box-only-price`: grade 9.5, any grader.
    BoxOnly,
    /// `manual-only-price`: PSA 10.
    ManualOnly,
    /// `bgs-10-price`: BGS 10 (Pristine).
    Bgs10,
    /// `condition-17-price`: CGC 10.
    Condition17,
    /// `condition-18-price`: SGC 10.
    Condition18,
    /// `condition-19-price`: CGC 10 Pristine.
    Condition19,
    /// `condition-20-price`: BGS 10 Black Label.
    Condition20,
    /// `condition-21-price`: TAG 10.
    Condition21,
    /// `condition-22-price`: ACE 10.
    Condition22,
}

impl PriceKey {
    pub const ALL: [PriceKey; 13] = [
        PriceKey::Loose,
        PriceKey::Cib,
        PriceKey::New,
        PriceKey::Graded,
        PriceKey::BoxOnly,
        PriceKey::ManualOnly,
        PriceKey::Bgs10,
        PriceKey::Condition17,
        PriceKey::Condition18,
        PriceKey::Condition19,
        PriceKey::Condition20,
        PriceKey::Condition21,
        PriceKey::Condition22,
    ];

    /// The key as PriceCharting writes it.
    pub fn field(self) -> &'static str {
        match self {
            PriceKey::Loose => "loose-price",
            PriceKey::Cib => "cib-price",
            PriceKey::New => "new-price",
            PriceKey::Graded => "graded-price",
            PriceKey::BoxOnly => "box-only-price",
            PriceKey::ManualOnly => "manual-only-price",
            PriceKey::Bgs10 => "bgs-10-price",
            PriceKey::Condition17 => "condition-17-price",
            PriceKey::Condition18 => "condition-18-price",
            PriceKey::Condition19 => "condition-19-price",
            PriceKey::Condition20 => "condition-20-price",
            PriceKey::Condition21 => "condition-21-price",
            PriceKey::Condition22 => "condition-22-price",
        }
    }

    /// The grader and grade a key prices, for the keys that name a grader. `None` for the
    /// ungraded price and for grades 7–9.5, which PriceCharting pools across every grader (a
    /// "grade 9" is a PSA 9, a BGS 9 or a CGC 9): no series of ours is "any grader", so those
    /// are not quoted.
    pub fn graded(self) -> Option<(Grader, Grade)> {
        let ten = |label| Grade::from_tenths(100, label).ok();
        let (grader, grade) = match self {
            PriceKey::ManualOnly => (Grader::Psa, ten(None)?),
            // A BGS 10 is a Pristine (gold label) 10 unless it is a Black Label: the series
            // eBay titles saying "BGS 10" land in too.
            PriceKey::Bgs10 => (Grader::Bgs, ten(Some(GradeLabel::Pristine))?),
            PriceKey::Condition20 => (Grader::Bgs, ten(Some(GradeLabel::BlackLabel))?),
            PriceKey::Condition17 => (Grader::Cgc, ten(None)?),
            PriceKey::Condition19 => (Grader::Cgc, ten(Some(GradeLabel::Pristine))?),
            PriceKey::Condition18 => (Grader::Sgc, ten(None)?),
            PriceKey::Condition21 => (Grader::Tag, ten(None)?),
            PriceKey::Condition22 => (Grader::Ace, ten(None)?),
            PriceKey::Loose
            | PriceKey::Cib
            | PriceKey::New
            | PriceKey::Graded
            | PriceKey::BoxOnly => return None,
        };
        Some((grader, grade))
    }

    fn index(self) -> usize {
        PriceKey::ALL.iter().position(|k| *k == self).unwrap_or(0)
    }
}

/// A product's prices in cents, per key (`None`: no data).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Prices([Option<i64>; 13]);

impl Prices {
    pub fn get(&self, key: PriceKey) -> Option<i64> {
        self.0[key.index()]
    }

    pub fn set(&mut self, key: PriceKey, cents: Option<i64>) {
        self.0[key.index()] = cents.filter(|c| *c > 0);
    }

    /// Whether no key has a price.
    pub fn is_empty(&self) -> bool {
        self.0.iter().all(Option::is_none)
    }
}

/// One product of PriceCharting, from the CSV guide or the JSON API.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GuideRow {
    /// PriceCharting's product id.
    pub id: String,
    /// "Charizard ex [Reverse Holo] #199".
    pub product_name: String,
    /// The set, with the game in front: "Pokemon Obsidian Flames".
    pub console_name: String,
    /// "Pokemon Card", "Magic Card" … (absent from some answers).
    pub genre: Option<String>,
    /// The TCGplayer product id PriceCharting states (undocumented; shared by a card's variants).
    pub tcg_id: Option<u64>,
    pub prices: Prices,
}

/// The CSV guide's rows, and how many price cells were not money (counted, left empty).
#[derive(Debug, Default)]
pub struct Guide {
    pub rows: Vec<GuideRow>,
    pub bad_cells: usize,
}

/// Where the guide's columns are (by name: the order is not relied on; missing ones are empty).
struct Columns {
    id: usize,
    product_name: usize,
    console_name: usize,
    genre: Option<usize>,
    tcg_id: Option<usize>,
    prices: Vec<(PriceKey, usize)>,
}

impl Columns {
    fn of(headers: &csv::StringRecord) -> Result<Columns, CollectorError> {
        let at = |name: &str| headers.iter().position(|h| h.trim() == name);
        let (Some(id), Some(product_name), Some(console_name)) =
            (at("id"), at("product-name"), at("console-name"))
        else {
            return Err(CollectorError::malformed_because(
                SOURCE,
                "the price guide has no id, product-name and console-name columns",
            ));
        };
        Ok(Columns {
            id,
            product_name,
            console_name,
            genre: at("genre"),
            tcg_id: at("tcg-id"),
            prices: PriceKey::ALL
                .iter()
                .filter_map(|k| at(k.field()).map(|i| (*k, i)))
                .collect(),
        })
    }
}

/// Parses a CSV price guide (the `csv` crate; columns found by name). An HTML page (a login,
/// subscribe or challenge page served instead of the file) or a file without the `id`,
/// `product-name` and `console-name` columns is malformed.
pub fn parse_guide(body: &[u8]) -> Result<Guide, CollectorError> {
    let head = body.iter().find(|b| !b.is_ascii_whitespace());
    if head == Some(&b'<') {
        return Err(CollectorError::malformed_because(
            SOURCE,
            "an HTML page instead of the CSV price guide (download not allowed for this token, \
             or a challenge page)",
        ));
    }
    let mut reader = csv::ReaderBuilder::new().flexible(true).from_reader(body);
    let headers = reader
        .headers()
        .map_err(|e| CollectorError::malformed_in(SOURCE, "price guide header", e))?;
    let cols = Columns::of(headers)?;
    let mut guide = Guide::default();
    for record in reader.records() {
        let record =
            record.map_err(|e| CollectorError::malformed_in(SOURCE, "price guide row", e))?;
        let cell = |i: usize| record.get(i).unwrap_or("").trim();
        let mut prices = Prices::default();
        for &(key, i) in &cols.prices {
            match dollars(cell(i)) {
                Ok(cents) => prices.set(key, cents),
                Err(_) => guide.bad_cells += 1,
            }
        }
        let genre = cols.genre.map(cell).filter(|g| !g.is_empty());
        guide.rows.push(GuideRow {
            id: cell(cols.id).to_owned(),
            product_name: cell(cols.product_name).to_owned(),
            console_name: cell(cols.console_name).to_owned(),
            genre: genre.map(str::to_owned),
            tcg_id: cols.tcg_id.map(cell).and_then(id_number),
            prices,
        });
    }
    Ok(guide)
}

/// A CSV price cell in cents: `$1,234.56`, `1234.56` or `12` (dollars); empty or zero is no
/// price; anything else is an error.
pub fn dollars(cell: &str) -> Result<Option<i64>, SchemaError> {
    let text: String = cell
        .trim()
        .trim_start_matches('$')
        .chars()
        .filter(|c| *c != ',')
        .collect();
    if text.is_empty() {
        return Ok(None);
    }
    let money = Money::parse_decimal(&text, Currency::USD)?;
    Ok((money.minor > 0).then_some(money.minor))
}

/// A numeric id, as text or number.
fn id_number(text: &str) -> Option<u64> {
    text.trim().parse().ok().filter(|n| *n > 0)
}

/// `{"status":"error","error-message":"…"}`, or the `status` of a good answer.
#[derive(Debug, Deserialize)]
pub struct ApiStatus {
    #[serde(default)]
    pub status: Option<String>,
    #[serde(rename = "error-message", default)]
    pub error_message: Option<String>,
}

impl ApiStatus {
    /// The error message when the answer is an error.
    pub fn error(&self) -> Option<&str> {
        match self.status.as_deref() {
            Some(s) if s.eq_ignore_ascii_case("error") => {
                Some(self.error_message.as_deref().unwrap_or("error"))
            }
            _ => None,
        }
    }
}

/// A product of the JSON API (`/api/product`, and each of `/api/products`' `products`).
#[derive(Debug, Deserialize)]
pub struct ApiProduct {
    pub id: Value,
    #[serde(rename = "product-name", default)]
    pub product_name: String,
    #[serde(rename = "console-name", default)]
    pub console_name: String,
    #[serde(default)]
    pub genre: Option<String>,
    #[serde(rename = "tcg-id", default)]
    pub tcg_id: Option<Value>,
    #[serde(flatten)]
    pub rest: serde_json::Map<String, Value>,
}

/// `/api/products`' answer.
#[derive(Debug, Deserialize)]
pub struct ApiSearch {
    #[serde(default)]
    pub products: Vec<ApiProduct>,
}

/// A JSON number or numeric string as text.
fn value_text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.trim().to_owned()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

impl ApiProduct {
    /// The product as a guide row: pennies as sent (0, null or absent = no price; a value that
    /// is not a whole number of pennies counts in `bad`).
    pub fn into_row(self, bad: &mut usize) -> GuideRow {
        let mut prices = Prices::default();
        for key in PriceKey::ALL {
            match self.rest.get(key.field()) {
                None | Some(Value::Null) => {}
                Some(v) => match value_text(v).and_then(|t| t.parse::<i64>().ok()) {
                    Some(cents) => prices.set(key, Some(cents)),
                    None => *bad += 1,
                },
            }
        }
        GuideRow {
            id: value_text(&self.id).unwrap_or_default(),
            product_name: self.product_name.trim().to_owned(),
            console_name: self.console_name.trim().to_owned(),
            genre: self.genre.filter(|g| !g.trim().is_empty()),
            tcg_id: self
                .tcg_id
                .as_ref()
                .and_then(value_text)
                .as_deref()
                .and_then(id_number),
            prices,
        }
    }
}

/// What a product name says: "Charizard ex [Reverse Holo] #199" is the card "Charizard ex",
/// number 199, printing "Reverse Holofoil".
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParsedName {
    /// The name without brackets and number.
    pub name: String,
    /// The collector number after `#`, when there is one.
    pub number: Option<String>,
    /// The printing a bracket names, in TCGplayer's words.
    pub printing: Option<&'static str>,
    /// Other brackets and words after the number ("Alternate Art", "Shadowless", "Prize Pack"):
    /// versions of the card, which TCGplayer lists as products of their own.
    pub variants: Vec<String>,
}

/// The printing a bracket names (TCGplayer's words), if it names one.
fn bracket_printing(text: &str) -> Option<&'static str> {
    match text.trim().to_ascii_lowercase().as_str() {
        "reverse holo" | "reverse holofoil" => Some("Reverse Holofoil"),
        "holo" | "holofoil" => Some("Holofoil"),
        "foil" => Some("Foil"),
        "cold foil" => Some("Cold Foil"),
        "1st edition" | "first edition" => Some("1st Edition"),
        "unlimited" => Some("Unlimited"),
        _ => None,
    }
}

/// Reads a product name: `[…]` brackets are printings or versions, `#…` is the number, words
/// after the number are versions too.
pub fn parse_product_name(product_name: &str) -> ParsedName {
    let mut rest = String::with_capacity(product_name.len());
    let mut brackets = Vec::new();
    let mut current: Option<String> = None;
    for c in product_name.chars() {
        match (c, current.as_mut()) {
            ('[', None) => current = Some(String::new()),
            (']', Some(_)) => brackets.extend(current.take()),
            (c, Some(b)) => b.push(c),
            (c, None) => rest.push(c),
        }
    }
    // An unclosed bracket is text.
    if let Some(b) = current {
        rest.push('[');
        rest.push_str(&b);
    }
    let mut words = rest.split_whitespace();
    let mut name_words = Vec::new();
    let mut number = None;
    let mut variants = Vec::new();
    for w in words.by_ref() {
        if let Some(n) = w.strip_prefix('#').filter(|n| !n.is_empty()) {
            number = Some(n.to_owned());
            break;
        }
        name_words.push(w);
    }
    let after: Vec<&str> = words.collect();
    if !after.is_empty() {
        variants.push(after.join(" "));
    }
    let mut printing = None;
    for b in brackets {
        match bracket_printing(&b) {
            Some(p) if printing.is_none() => printing = Some(p),
            _ => {
                let b = b.split_whitespace().collect::<Vec<_>>().join(" ");
                if !b.is_empty() {
                    variants.push(b);
                }
            }
        }
    }
    ParsedName {
        name: name_words.join(" "),
        number,
        printing,
        variants,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn product_names_split_into_name_number_printing_and_versions() {
        let p = parse_product_name("Charizard ex [Reverse Holo] #199");
        assert_eq!(p.name, "Charizard ex");
        assert_eq!(p.number.as_deref(), Some("199"));
        assert_eq!(p.printing, Some("Reverse Holofoil"));
        assert!(p.variants.is_empty());
        let p = parse_product_name("Monkey.D.Luffy [Alternate Art Manga] #OP05-119");
        assert_eq!(p.name, "Monkey.D.Luffy");
        assert_eq!(p.number.as_deref(), Some("OP05-119"));
        assert_eq!(p.printing, None);
        assert_eq!(p.variants, ["Alternate Art Manga"]);
        let p = parse_product_name("Charizard #4 Shadowless");
        assert_eq!((p.name.as_str(), p.variants.len()), ("Charizard", 1));
        let p = parse_product_name("Pikachu");
        assert_eq!((p.name.as_str(), p.number), ("Pikachu", None));
        let p = parse_product_name("Charizard [1st Edition] [Shadowless] #4");
        assert_eq!(p.printing, Some("1st Edition"));
        assert_eq!(p.variants, ["Shadowless"]);
        let p = parse_product_name("Odd [name #5");
        assert_eq!(p.name, "Odd [name");
    }

    #[test]
    fn csv_cells_are_dollars() {
        assert_eq!(dollars("$1,234.56"), Ok(Some(123_456)));
        assert_eq!(dollars("12.34"), Ok(Some(1_234)));
        assert_eq!(dollars("12"), Ok(Some(1_200)));
        assert_eq!(dollars(""), Ok(None));
        assert_eq!(dollars("$0.00"), Ok(None));
        assert!(dollars("n/a").is_err());
    }

    #[test]
    fn only_keys_naming_a_grader_are_graded() {
        let graded: Vec<_> = PriceKey::ALL.iter().filter_map(|k| k.graded()).collect();
        assert_eq!(graded.len(), 8);
        assert_eq!(PriceKey::Graded.graded(), None);
        assert_eq!(
            PriceKey::Bgs10
                .graded()
                .map(|(g, grade)| (g, grade.to_string())),
            Some((Grader::Bgs, "10 Pristine".to_owned()))
        );
    }
}
