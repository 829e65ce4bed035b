//! Card Kingdom's price list as sent: `{"meta": {...}, "data": [row, …]}`.
//!
//! The singles list is large (~150,000 rows, tens of MB), so [`read_list`] hands each row to a
//! callback as serde reads it, its strings borrowed from the document where they have no escapes;
//! nothing holds the whole list as values. Card Kingdom sends prices and `is_foil` as JSON strings
//! (`"price_retail": "0.35"`, `"is_foil": "false"`) and quantities as numbers; the readers here
//! also take numbers and booleans, and keep a figure they cannot read as such (never an error of
//! the whole document) so the row is rejected, not the list.

use std::{borrow::Cow, fmt};

use serde::{
    Deserialize, Deserializer,
    de::{self, DeserializeSeed, IgnoredAny, MapAccess, SeqAccess, Visitor},
};
use tcg_schemas::{Currency, Money};

/// A JSON string (or number, for ids), borrowed from the document when it has no escapes.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Text<'a>(pub Cow<'a, str>);

impl Text<'_> {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl<'de: 'a, 'a> Deserialize<'de> for Text<'a> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<'a>(std::marker::PhantomData<&'a ()>);
        impl<'de: 'a, 'a> Visitor<'de> for V<'a> {
            type Value = Text<'a>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a string")
            }
            fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Self::Value, E> {
                Ok(Text(Cow::Borrowed(v)))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
                Ok(Text(Cow::Owned(v.to_owned())))
            }
            fn visit_string<E: de::Error>(self, v: String) -> Result<Self::Value, E> {
                Ok(Text(Cow::Owned(v)))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
                Ok(Text(Cow::Owned(v.to_string())))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
                Ok(Text(Cow::Owned(v.to_string())))
            }
        }
        d.deserialize_any(V(std::marker::PhantomData))
    }
}

/// A price figure: absent (`null`, `""`), an amount in USD, or text that is not one.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Price {
    #[default]
    Absent,
    Usd(Money),
    Unreadable(String),
}

impl Price {
    /// The amount when it is a positive one (Card Kingdom writes `"0.00"` for "no price").
    pub fn positive(&self) -> Option<Money> {
        match self {
            Price::Usd(m) if m.is_positive() => Some(*m),
            _ => None,
        }
    }
}

impl<'de> Deserialize<'de> for Price {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Price;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a price (a decimal string or number)")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Price, E> {
                if v.trim().is_empty() {
                    return Ok(Price::Absent);
                }
                Ok(Money::parse_decimal(v.trim(), Currency::USD)
                    .map_or_else(|_| Price::Unreadable(v.to_owned()), Price::Usd))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Price, E> {
                Ok(Money::from_json_number(v, Currency::USD)
                    .map_or_else(|_| Price::Unreadable(v.to_string()), Price::Usd))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Price, E> {
                Ok(i64::try_from(v)
                    .ok()
                    .and_then(|d| d.checked_mul(100))
                    .map_or_else(
                        || Price::Unreadable(v.to_string()),
                        |c| Price::Usd(Money::usd_cents(c)),
                    ))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Price, E> {
                Ok(v.checked_mul(100).map_or_else(
                    || Price::Unreadable(v.to_string()),
                    |c| Price::Usd(Money::usd_cents(c)),
                ))
            }
            fn visit_unit<E: de::Error>(self) -> Result<Price, E> {
                Ok(Price::Absent)
            }
            fn visit_bool<E: de::Error>(self, v: bool) -> Result<Price, E> {
                Ok(Price::Unreadable(v.to_string()))
            }
        }
        d.deserialize_any(V)
    }
}

/// A count of copies: `None` when absent or unreadable; negative counts read as 0.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Qty(pub Option<u32>);

impl<'de> Deserialize<'de> for Qty {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Qty;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a quantity")
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Qty, E> {
                Ok(Qty(Some(u32::try_from(v).unwrap_or(u32::MAX))))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Qty, E> {
                Ok(Qty(Some(u32::try_from(v.max(0)).unwrap_or(u32::MAX))))
            }
            fn visit_f64<E: de::Error>(self, _: f64) -> Result<Qty, E> {
                Ok(Qty(None))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Qty, E> {
                Ok(Qty(v.trim().parse().ok()))
            }
            fn visit_unit<E: de::Error>(self) -> Result<Qty, E> {
                Ok(Qty(None))
            }
            fn visit_bool<E: de::Error>(self, _: bool) -> Result<Qty, E> {
                Ok(Qty(None))
            }
        }
        d.deserialize_any(V)
    }
}

/// `is_foil`: Card Kingdom sends the strings `"true"` / `"false"`; booleans are read too.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Flag {
    #[default]
    Absent,
    Yes,
    No,
    Unreadable(String),
}

impl<'de> Deserialize<'de> for Flag {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Flag;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("\"true\" or \"false\"")
            }
            fn visit_bool<E: de::Error>(self, v: bool) -> Result<Flag, E> {
                Ok(if v { Flag::Yes } else { Flag::No })
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Flag, E> {
                Ok(match v.trim() {
                    t if t.eq_ignore_ascii_case("true") || t == "1" => Flag::Yes,
                    t if t.eq_ignore_ascii_case("false") || t == "0" => Flag::No,
                    _ => Flag::Unreadable(v.to_owned()),
                })
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Flag, E> {
                Ok(match v {
                    1 => Flag::Yes,
                    0 => Flag::No,
                    _ => Flag::Unreadable(v.to_string()),
                })
            }
            fn visit_unit<E: de::Error>(self) -> Result<Flag, E> {
                Ok(Flag::Absent)
            }
        }
        d.deserialize_any(V)
    }
}

/// `condition_values` (v2 list): Card Kingdom's retail price and copies in stock per grade,
/// Near Mint, Excellent, Very Good and Good.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(default)]
pub struct ConditionValues {
    pub nm_price: Price,
    pub nm_qty: Qty,
    pub ex_price: Price,
    pub ex_qty: Qty,
    pub vg_price: Price,
    pub vg_qty: Qty,
    pub g_price: Price,
    pub g_qty: Qty,
}

/// One row of the singles list. Fields we do not use (`url`, …) are skipped unread.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
pub struct Row<'a> {
    /// Card Kingdom's product id (foil and non-foil are two products).
    #[serde(default, borrow)]
    pub id: Option<Text<'a>>,
    /// `<set code>-<number>`, the code prefixed `F`/`E`/`FE` for some foil and etched rows.
    #[serde(default, borrow)]
    pub sku: Option<Text<'a>>,
    /// `null` on some rows (promo packs, Card Kingdom's own tokens).
    #[serde(default, borrow)]
    pub scryfall_id: Option<Text<'a>>,
    #[serde(default, borrow)]
    pub name: Option<Text<'a>>,
    /// The treatment ("Borderless", "Extended Art", "Foil Etched" …), often `""`.
    #[serde(default, borrow)]
    pub variation: Option<Text<'a>>,
    /// Card Kingdom's set name ("4th Edition", "Modern Horizons 3 Variants" …).
    #[serde(default, borrow)]
    pub edition: Option<Text<'a>>,
    #[serde(default)]
    pub is_foil: Flag,
    /// Near Mint retail price.
    #[serde(default)]
    pub price_retail: Price,
    #[serde(default)]
    pub qty_retail: Qty,
    /// What Card Kingdom pays for a Near Mint copy.
    #[serde(default)]
    pub price_buy: Price,
    /// Copies Card Kingdom still wants at `price_buy`; 0 while it is not buying.
    #[serde(default)]
    pub qty_buying: Qty,
    /// The v2 list's retail prices per grade (absent from the v1 list).
    #[serde(default)]
    pub condition_values: Option<ConditionValues>,
}

/// The list's `meta`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(default)]
pub struct Meta {
    /// `"2026-10-02 05:05:11"`: when Card Kingdom generated the list (no time zone given).
    pub created_at: Option<String>,
    /// `"https://www.cardkingdom.com/"`, the base of each row's `url` path.
    pub base_url: Option<String>,
}

/// Why a document is not a price list.
#[derive(Debug, thiserror::Error)]
pub enum ListError {
    #[error(transparent)]
    Json(#[from] serde_json::Error),
    /// A JSON object without a `data` array (an error answer, `message` saying why if it did).
    #[error("no `data` array in the answer{}", .message.as_deref().map(|m| format!(": {m}")).unwrap_or_default())]
    NoData { message: Option<String> },
    /// An HTML page where the list was expected (a block page, an error page).
    #[error("an HTML page, not the price list")]
    Html,
}

/// What [`read_list`] read besides the rows.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ListHead {
    pub meta: Meta,
    /// Rows handed to the callback.
    pub rows: usize,
}

/// Card Kingdom sometimes wraps the JSON in `<html><head></head><body>…</body></html>` (as
/// MTGJSON's client notes); this is the JSON inside. Any other HTML is refused.
pub fn unwrap_html(body: &[u8]) -> Result<&[u8], ListError> {
    let body = body.trim_ascii();
    if !body.starts_with(b"<") {
        return Ok(body);
    }
    body.strip_prefix(b"<html><head></head><body>".as_slice())
        .and_then(|b| b.strip_suffix(b"</body></html>".as_slice()))
        .map(<[u8]>::trim_ascii)
        .filter(|b| b.starts_with(b"{"))
        .ok_or(ListError::Html)
}

/// Reads a price list document (after [`unwrap_html`]), handing every row of `data` to `on_row`
/// as it is read. On an error, rows already handed over came before the fault; callers act on
/// them only once the whole document has been read.
pub fn read_list<'de>(
    json: &'de [u8],
    mut on_row: impl FnMut(Row<'de>),
) -> Result<ListHead, ListError> {
    let mut de = serde_json::Deserializer::from_slice(json);
    let read = ListSeed {
        on_row: &mut on_row,
        skip_rows: false,
    }
    .deserialize(&mut de)?;
    de.end()?;
    read.into_head()
}

/// Only the list's `meta` (the rows are skimmed, not read).
pub fn read_meta(json: &[u8]) -> Result<Meta, ListError> {
    let mut de = serde_json::Deserializer::from_slice(json);
    let read = ListSeed {
        on_row: &mut |_: Row<'_>| {},
        skip_rows: true,
    }
    .deserialize(&mut de)?;
    de.end()?;
    read.into_head().map(|h| h.meta)
}

struct Read {
    meta: Option<Meta>,
    rows: Option<usize>,
    message: Option<String>,
}

impl Read {
    fn into_head(self) -> Result<ListHead, ListError> {
        match self.rows {
            Some(rows) => Ok(ListHead {
                meta: self.meta.unwrap_or_default(),
                rows,
            }),
            None => Err(ListError::NoData {
                message: self.message,
            }),
        }
    }
}

struct ListSeed<'f, F> {
    on_row: &'f mut F,
    skip_rows: bool,
}

impl<'de, F: FnMut(Row<'de>)> DeserializeSeed<'de> for ListSeed<'_, F> {
    type Value = Read;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Read, D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de, F: FnMut(Row<'de>)> Visitor<'de> for ListSeed<'_, F> {
    type Value = Read;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a price list object with `meta` and `data`")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Read, A::Error> {
        let mut read = Read {
            meta: None,
            rows: None,
            message: None,
        };
        while let Some(key) = map.next_key::<Text<'de>>()? {
            match key.as_str() {
                "meta" => read.meta = map.next_value::<Option<Meta>>()?,
                "data" if self.skip_rows => {
                    map.next_value::<IgnoredAny>()?;
                    read.rows = Some(0);
                }
                "data" => {
                    read.rows = Some(map.next_value_seed(RowsSeed(&mut *self.on_row))?);
                }
                "message" | "error" | "errors" => {
                    let v = map.next_value::<serde_json::Value>()?;
                    read.message = Some(match v {
                        serde_json::Value::String(s) => s,
                        other => other.to_string(),
                    });
                }
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(read)
    }
}

struct RowsSeed<'f, F>(&'f mut F);

impl<'de, F: FnMut(Row<'de>)> DeserializeSeed<'de> for RowsSeed<'_, F> {
    type Value = usize;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<usize, D::Error> {
        d.deserialize_seq(self)
    }
}

impl<'de, F: FnMut(Row<'de>)> Visitor<'de> for RowsSeed<'_, F> {
    type Value = usize;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an array of price list rows")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<usize, A::Error> {
        let mut n = 0;
        while let Some(row) = seq.next_element::<Row<'de>>()? {
            (self.0)(row);
            n += 1;
        }
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TWO_ROWS: &str = r#"{"meta": {"created_at": "2026-10-02 05:05:11", "base_url": "https://www.cardkingdom.com/"}, "data": [
{"id": 65155, "sku": "PTK-014", "scryfall_id": "f484d47a-fb1d-4746-8f1d-dd9d24e67c1a", "url": "mtg/portal-3k/pang-tong-young-phoenix", "name": "Pang Tong, \"Young Phoenix\"", "variation": "", "edition": "Portal 3K", "is_foil": "false", "price_retail": "69.99", "qty_retail": 4, "price_buy": "32.00", "qty_buying": 2, "condition_values": {"nm_price": "69.99", "nm_qty": 0, "ex_price": "59.49", "ex_qty": 1, "vg_price": "52.49", "vg_qty": 3, "g_price": "45.49", "g_qty": 0}},
{"id": 39000, "sku": "FNEM-001", "scryfall_id": null, "url": "mtg/nemesis/angelic-favor-foil", "name": "Angelic Favor", "variation": "", "edition": "Nemesis", "is_foil": "true", "price_retail": "1.49", "qty_retail": 4, "price_buy": "0.45", "qty_buying": 10}
]}"#;

    #[test]
    fn rows_are_read_one_by_one_with_borrowed_strings() {
        let mut rows = Vec::new();
        let head = read_list(TWO_ROWS.as_bytes(), |r| rows.push(r)).unwrap();
        assert_eq!(head.rows, 2);
        assert_eq!(head.meta.created_at.as_deref(), Some("2026-10-02 05:05:11"));
        let a = &rows[0];
        assert_eq!(a.id.as_ref().unwrap().as_str(), "65155");
        // An escaped name is owned, a plain one borrowed.
        assert_eq!(
            a.name.as_ref().unwrap().as_str(),
            "Pang Tong, \"Young Phoenix\""
        );
        assert!(matches!(a.edition.as_ref().unwrap().0, Cow::Borrowed(_)));
        assert_eq!(a.is_foil, Flag::No);
        assert_eq!(a.price_retail.positive(), Some(Money::usd_cents(6999)));
        let cv = a.condition_values.as_ref().unwrap();
        assert_eq!(cv.g_price.positive(), Some(Money::usd_cents(4549)));
        assert_eq!(cv.ex_qty, Qty(Some(1)));
        let b = &rows[1];
        assert_eq!(b.scryfall_id, None);
        assert_eq!(b.is_foil, Flag::Yes);
        assert_eq!(b.qty_buying, Qty(Some(10)));
        assert_eq!(b.condition_values, None);
        assert_eq!(read_meta(TWO_ROWS.as_bytes()).unwrap(), head.meta);
    }

    #[test]
    fn odd_figures_are_kept_as_such_not_errors() {
        let doc = r#"{"data":[{"id":"x1","is_foil":true,"price_retail":1.5,"price_buy":"abc","qty_buying":-3,"qty_retail":null},{"is_foil":"maybe","price_retail":"0.00","price_buy":""}]}"#;
        let mut rows = Vec::new();
        read_list(doc.as_bytes(), |r| rows.push(r)).unwrap();
        assert_eq!(rows[0].is_foil, Flag::Yes);
        assert_eq!(rows[0].price_retail, Price::Usd(Money::usd_cents(150)));
        assert_eq!(rows[0].price_buy, Price::Unreadable("abc".into()));
        assert_eq!(rows[0].qty_buying, Qty(Some(0)));
        assert_eq!(rows[0].qty_retail, Qty(None));
        assert_eq!(rows[1].is_foil, Flag::Unreadable("maybe".into()));
        assert_eq!(rows[1].price_retail.positive(), None);
        assert_eq!(rows[1].price_buy, Price::Absent);
    }

    #[test]
    fn error_answers_and_cut_documents_are_errors() {
        let no_data = read_list(br#"{"message":"Too Many Attempts."}"#, |_| {}).unwrap_err();
        assert!(
            no_data.to_string().contains("Too Many Attempts."),
            "{no_data}"
        );
        let cut = &TWO_ROWS.as_bytes()[..TWO_ROWS.len() / 2];
        assert!(matches!(
            read_list(cut, |_| {}).unwrap_err(),
            ListError::Json(_)
        ));
        assert!(read_list(b"[]", |_| {}).is_err());
    }

    #[test]
    fn html_wrapped_json_is_unwrapped_other_html_refused() {
        let wrapped = format!("<html><head></head><body>{TWO_ROWS}</body></html>\n");
        let inner = unwrap_html(wrapped.as_bytes()).unwrap();
        assert_eq!(read_list(inner, |_| {}).unwrap().rows, 2);
        assert!(matches!(
            unwrap_html(b"<!DOCTYPE html><html><body>Access denied</body></html>"),
            Err(ListError::Html)
        ));
        assert_eq!(unwrap_html(b" {} ").unwrap(), b"{}");
    }
}
