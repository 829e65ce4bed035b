//! Money as integer minor units of an ISO 4217 currency. No float arithmetic ever touches an amount.

use std::{fmt, str::FromStr};

use rust_decimal::{Decimal, RoundingStrategy};
use schemars::JsonSchema;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::SchemaError;

/// An ISO 4217 currency code (three upper-case ASCII letters).
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Currency([u8; 3]);

impl Currency {
    pub const USD: Currency = Currency(*b"USD");
    pub const EUR: Currency = Currency(*b"EUR");
    pub const GBP: Currency = Currency(*b"GBP");
    pub const JPY: Currency = Currency(*b"JPY");
    pub const CAD: Currency = Currency(*b"CAD");
    pub const AUD: Currency = Currency(*b"AUD");
    pub const CHF: Currency = Currency(*b"CHF");

    /// Parses a three-letter code; lower case is accepted and upper-cased.
    pub fn parse(code: &str) -> Result<Self, SchemaError> {
        let bytes = code.trim().as_bytes();
        if bytes.len() != 3 || !bytes.iter().all(u8::is_ascii_alphabetic) {
            return Err(SchemaError::InvalidCurrency(code.to_owned()));
        }
        Ok(Currency([
            bytes[0].to_ascii_uppercase(),
            bytes[1].to_ascii_uppercase(),
            bytes[2].to_ascii_uppercase(),
        ]))
    }

    /// The code, e.g. `"USD"`.
    pub fn as_str(&self) -> &str {
        // Only ASCII letters are ever stored.
        std::str::from_utf8(&self.0).unwrap_or("XXX")
    }

    /// Number of decimal places of the currency's minor unit (ISO 4217).
    pub fn minor_exponent(&self) -> u32 {
        if *self == Currency::USD {
            return 2;
        }
        match &self.0 {
            b"JPY" | b"KRW" | b"CLP" | b"ISK" | b"VND" | b"HUF" | b"TWD" | b"XAF" | b"XOF"
            | b"PYG" | b"UGX" => 0,
            b"BHD" | b"KWD" | b"OMR" | b"JOD" | b"TND" | b"IQD" | b"LYD" => 3,
            _ => 2,
        }
    }
}

impl fmt::Debug for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Display for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Currency {
    type Err = SchemaError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Currency::parse(s)
    }
}

impl Serialize for Currency {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for Currency {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        crate::de_str::parse_with(deserializer, Currency::parse)
    }
}

impl JsonSchema for Currency {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Currency".into()
    }
    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "type": "string",
            "pattern": "^[A-Z]{3}$",
            "description": "ISO 4217 currency code"
        })
    }
}

/// An amount of money: integer minor units (cents for USD, yen for JPY) and its currency.
///
/// On the wire: `{"amount":"189.99","currency":"USD"}`, the amount an exact decimal string.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Money {
    /// Amount in minor units of `currency`.
    pub minor: i64,
    pub currency: Currency,
}

impl Money {
    pub const fn new(minor: i64, currency: Currency) -> Self {
        Self { minor, currency }
    }

    /// US dollars from cents.
    pub const fn usd_cents(cents: i64) -> Self {
        Self::new(cents, Currency::USD)
    }

    /// Parses an exact decimal string such as `"189.99"`, `"5"` or `"-0.5"`.
    ///
    /// More decimal places than the currency has are refused (never rounded silently), as are
    /// exponents, blanks and amounts that overflow.
    pub fn parse_decimal(text: &str, currency: Currency) -> Result<Self, SchemaError> {
        match parse_plain(text.as_bytes(), currency.minor_exponent()) {
            Some(minor) => Ok(Self::new(minor, currency)),
            None => Self::parse_any_decimal(text, currency),
        }
    }

    /// [`Self::parse_decimal`] for every form: signs, blanks, a leading or trailing point,
    /// trailing zeros beyond the minor unit, and the errors.
    fn parse_any_decimal(text: &str, currency: Currency) -> Result<Self, SchemaError> {
        let err = || SchemaError::InvalidAmount(text.to_owned());
        let exp = currency.minor_exponent();
        let s = text.trim();
        let (negative, digits) = match s.as_bytes().first() {
            Some(b'-') => (true, &s[1..]),
            Some(b'+') => (false, &s[1..]),
            _ => (false, s),
        };
        let (int_part, frac_part) = match digits.split_once('.') {
            Some((i, f)) => (i, f),
            None => (digits, ""),
        };
        if int_part.is_empty() && frac_part.is_empty() {
            return Err(err());
        }
        if !int_part.bytes().all(|b| b.is_ascii_digit())
            || !frac_part.bytes().all(|b| b.is_ascii_digit())
        {
            return Err(err());
        }
        // Trailing zeros beyond the minor unit are harmless ("1.500" USD is 150 cents).
        let frac_trimmed = frac_part.trim_end_matches('0');
        if frac_trimmed.len() > exp as usize {
            return Err(SchemaError::TooPrecise {
                amount: text.to_owned(),
                currency,
            });
        }
        let mut minor: i64 = 0;
        for b in int_part.bytes() {
            minor = minor
                .checked_mul(10)
                .and_then(|m| m.checked_add(i64::from(b - b'0')))
                .ok_or_else(err)?;
        }
        let frac_bytes = frac_trimmed.as_bytes();
        for i in 0..exp as usize {
            let digit = frac_bytes.get(i).map_or(0, |b| i64::from(b - b'0'));
            minor = minor
                .checked_mul(10)
                .and_then(|m| m.checked_add(digit))
                .ok_or_else(err)?;
        }
        Ok(Self::new(if negative { -minor } else { minor }, currency))
    }

    /// Converts a JSON number as sent by TCGplayer (`0.74`) exactly: the number's shortest
    /// decimal representation is parsed, so `0.1` is ten cents, not 0.1000000000000000055.
    pub fn from_json_number(value: f64, currency: Currency) -> Result<Self, SchemaError> {
        if !value.is_finite() {
            return Err(SchemaError::InvalidAmount(value.to_string()));
        }
        Self::parse_decimal(&value.to_string(), currency)
    }

    /// The amount as an exact decimal.
    pub fn to_decimal(&self) -> Decimal {
        Decimal::new(self.minor, self.currency.minor_exponent())
    }

    /// From a decimal, rounded half-to-even to the currency's minor unit.
    pub fn from_decimal(value: Decimal, currency: Currency) -> Result<Self, SchemaError> {
        let exp = currency.minor_exponent();
        let rounded = value.round_dp_with_strategy(exp, RoundingStrategy::MidpointNearestEven);
        let mantissa = rounded.mantissa();
        let scale = rounded.scale();
        // Rescale the mantissa to exactly `exp` decimal places.
        let minor = if scale < exp {
            mantissa.checked_mul(10i128.pow(exp - scale))
        } else {
            Some(mantissa / 10i128.pow(scale - exp))
        };
        minor
            .and_then(|m| i64::try_from(m).ok())
            .map(|m| Self::new(m, currency))
            .ok_or_else(|| SchemaError::InvalidAmount(value.to_string()))
    }

    /// Sum of two amounts of one currency; `None` when currencies differ or on overflow.
    pub fn checked_add(self, other: Money) -> Option<Money> {
        if self.currency != other.currency {
            return None;
        }
        self.minor
            .checked_add(other.minor)
            .map(|m| Money::new(m, self.currency))
    }

    /// This amount times a whole quantity; `None` on overflow.
    pub fn checked_mul(self, quantity: i64) -> Option<Money> {
        self.minor
            .checked_mul(quantity)
            .map(|m| Money::new(m, self.currency))
    }

    pub fn is_positive(&self) -> bool {
        self.minor > 0
    }
}

/// The form every producer of ours writes, e.g. `189.99` or `5` (digits, then optionally a point
/// and one to `exp` digits, at most 15 characters), as minor units, in one pass; `None` for any
/// other form, which [`Money::parse_any_decimal`] reads or refuses. Fifteen digits times 10^3 (the
/// largest minor exponent) cannot overflow an `i64`.
fn parse_plain(text: &[u8], exp: u32) -> Option<i64> {
    if text.is_empty() || text.len() > 15 {
        return None;
    }
    let int_len = text.iter().take_while(|c| c.is_ascii_digit()).count();
    let (int_part, rest) = text.split_at(int_len);
    let frac_part = match rest {
        [] => rest,
        [b'.', frac @ ..] if !frac.is_empty() && frac.len() <= exp as usize => frac,
        _ => return None,
    };
    if int_part.is_empty() || !frac_part.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let mut minor = 0i64;
    for &c in int_part.iter().chain(frac_part) {
        minor = minor * 10 + i64::from(c - b'0');
    }
    for _ in frac_part.len()..exp as usize {
        minor *= 10;
    }
    Some(minor)
}

impl fmt::Display for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.to_decimal(), self.currency)
    }
}

impl fmt::Debug for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self)
    }
}

#[derive(Serialize, Deserialize, JsonSchema)]
#[serde(rename = "Money", deny_unknown_fields)]
struct MoneyWire<'a> {
    /// Exact decimal amount, e.g. "189.99".
    #[serde(borrow)]
    #[schemars(with = "String", regex(pattern = r"^-?[0-9]+(\.[0-9]+)?$"))]
    amount: std::borrow::Cow<'a, str>,
    currency: Currency,
}

impl Serialize for Money {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        MoneyWire {
            amount: self.to_decimal().to_string().into(),
            currency: self.currency,
        }
        .serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for Money {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let wire = MoneyWire::deserialize(deserializer)?;
        Money::parse_decimal(&wire.amount, wire.currency).map_err(serde::de::Error::custom)
    }
}

impl JsonSchema for Money {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Money".into()
    }
    fn json_schema(generator: &mut schemars::SchemaGenerator) -> schemars::Schema {
        MoneyWire::json_schema(generator)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn parses_exact_decimals() {
        let usd = Currency::USD;
        assert_eq!(Money::parse_decimal("189.99", usd).unwrap().minor, 18999);
        assert_eq!(Money::parse_decimal("5", usd).unwrap().minor, 500);
        assert_eq!(Money::parse_decimal("0.5", usd).unwrap().minor, 50);
        assert_eq!(Money::parse_decimal(".5", usd).unwrap().minor, 50);
        assert_eq!(Money::parse_decimal("1.500", usd).unwrap().minor, 150);
        assert_eq!(Money::parse_decimal("-2.01", usd).unwrap().minor, -201);
        assert_eq!(
            Money::parse_decimal("1200", Currency::JPY).unwrap().minor,
            1200
        );
        assert!(Money::parse_decimal("1.005", usd).is_err());
        assert!(Money::parse_decimal("12.5", Currency::JPY).is_err());
        for bad in [
            "",
            ".",
            "abc",
            "1e3",
            "1.2.3",
            "--1",
            "99999999999999999999",
        ] {
            assert!(Money::parse_decimal(bad, usd).is_err(), "{bad}");
        }
    }

    #[test]
    fn the_one_pass_reading_takes_only_the_plain_form() {
        assert_eq!(parse_plain(b"189.99", 2), Some(18999));
        assert_eq!(parse_plain(b"5", 2), Some(500));
        assert_eq!(parse_plain(b"0.5", 3), Some(500));
        assert_eq!(parse_plain(b"1200", 0), Some(1200));
        assert_eq!(
            parse_plain(b"999999999999999", 3),
            Some(999_999_999_999_999_000)
        );
        for other in [
            "",
            ".5",
            "5.",
            "-1",
            "+1",
            " 1",
            "1 ",
            "1.500",
            "1.2.3",
            "1e3",
            "1,5",
            "1000000000000000",
        ] {
            assert_eq!(parse_plain(other.as_bytes(), 2), None, "{other}");
        }
        assert_eq!(parse_plain(b"12.5", 0), None);
        assert_eq!(
            Money::parse_decimal("1.500", Currency::USD).unwrap().minor,
            150
        );
    }

    #[test]
    fn json_numbers_convert_exactly() {
        assert_eq!(
            Money::from_json_number(0.1, Currency::USD).unwrap().minor,
            10
        );
        assert_eq!(
            Money::from_json_number(0.74, Currency::USD).unwrap().minor,
            74
        );
        assert_eq!(
            Money::from_json_number(2.675, Currency::USD)
                .unwrap_err()
                .to_string(),
            "2.675 has more decimal places than USD allows"
        );
        assert!(Money::from_json_number(f64::NAN, Currency::USD).is_err());
    }

    #[test]
    fn wire_form_is_decimal_string() {
        let m = Money::usd_cents(18999);
        let json = serde_json::to_string(&m).unwrap();
        assert_eq!(json, r#"{"amount":"189.99","currency":"USD"}"#);
        assert_eq!(serde_json::from_str::<Money>(&json).unwrap(), m);
        assert!(serde_json::from_str::<Money>(r#"{"amount":"1.234","currency":"USD"}"#).is_err());
        assert!(serde_json::from_str::<Money>(r#"{"amount":"1","currency":"US"}"#).is_err());
    }

    #[test]
    fn decimal_round_trip_rounds_half_even() {
        let d: Decimal = "10.005".parse().unwrap();
        assert_eq!(Money::from_decimal(d, Currency::USD).unwrap().minor, 1000);
        let d: Decimal = "10.015".parse().unwrap();
        assert_eq!(Money::from_decimal(d, Currency::USD).unwrap().minor, 1002);
        let d: Decimal = "7".parse().unwrap();
        assert_eq!(Money::from_decimal(d, Currency::USD).unwrap().minor, 700);
    }

    proptest! {
        #[test]
        fn the_one_pass_reading_agrees_with_the_general_one(
            text in r"[+-]?[0-9]{0,17}(\.[0-9]{0,5})?0?|[ 0-9.,e+-]{0,8}",
            code in prop::sample::select(vec!["USD", "JPY", "KWD", "EUR"]),
        ) {
            let cur = Currency::parse(code).unwrap();
            let general = Money::parse_any_decimal(&text, cur);
            if let Some(minor) = parse_plain(text.as_bytes(), cur.minor_exponent()) {
                prop_assert_eq!(general.clone(), Ok(Money::new(minor, cur)), "{}", text);
            }
            prop_assert_eq!(Money::parse_decimal(&text, cur), general, "{}", text);
        }

        #[test]
        fn display_then_parse_is_identity(minor in -10_000_000_000i64..10_000_000_000i64, code in prop::sample::select(vec!["USD", "JPY", "KWD", "EUR"])) {
            let cur = Currency::parse(code).unwrap();
            let m = Money::new(minor, cur);
            let back = Money::parse_decimal(&m.to_decimal().to_string(), cur).unwrap();
            prop_assert_eq!(back, m);
            let json = serde_json::to_string(&m).unwrap();
            prop_assert_eq!(serde_json::from_str::<Money>(&json).unwrap(), m);
        }
    }
}
