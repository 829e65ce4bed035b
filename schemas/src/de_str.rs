//! Values that travel as JSON strings, read without copying the string.
//!
//! serde's `Deserialize` for `Cow<str>` always makes an owned `String`; a visitor that takes the
//! `&str` serde_json already has (borrowed from the input, or from its scratch buffer when the
//! string was escaped) parses it in place.

use std::{fmt, marker::PhantomData};

use serde::{Deserializer, de};

/// Reads a string and turns it into a `T` with `parse`; `parse`'s error becomes the decoder's.
pub(crate) fn parse_with<'de, D, T, E>(
    deserializer: D,
    parse: impl FnOnce(&str) -> Result<T, E>,
) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    E: fmt::Display,
{
    deserializer.deserialize_str(StrVisitor(parse, PhantomData))
}

struct StrVisitor<F, T>(F, PhantomData<fn() -> T>);

impl<T, E, F> de::Visitor<'_> for StrVisitor<F, T>
where
    F: FnOnce(&str) -> Result<T, E>,
    E: fmt::Display,
{
    type Value = T;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a string")
    }

    fn visit_str<Er: de::Error>(self, s: &str) -> Result<T, Er> {
        (self.0)(s).map_err(Er::custom)
    }
}

#[cfg(test)]
mod tests {
    use crate::{Currency, Grade, Printing, Timestamp};

    #[test]
    fn reads_plain_escaped_and_owned_strings_and_refuses_others() {
        let at = Timestamp::from_secs(1_714_521_600);
        for text in [
            r#""2024-05-01T00:00:00Z""#,
            r#""2024-05-01T00:00:00\u005a""#,
        ] {
            assert_eq!(serde_json::from_str::<Timestamp>(text).unwrap(), at);
        }
        let owned = serde_json::Value::from("usd");
        assert_eq!(
            serde_json::from_value::<Currency>(owned).unwrap(),
            Currency::USD
        );
        assert_eq!(
            serde_json::from_str::<Printing>(r#""Reverse Holofoil""#).unwrap(),
            Printing::ReverseHolofoil
        );
        assert_eq!(
            serde_json::from_str::<Grade>("\"9.5\"").unwrap(),
            Grade::parse("9.5").unwrap()
        );
        let err = serde_json::from_str::<Timestamp>("5").unwrap_err();
        assert_eq!(
            err.to_string(),
            "invalid type: integer `5`, expected a string at line 1 column 1"
        );
        let err = serde_json::from_str::<Currency>(r#""US""#).unwrap_err();
        assert!(err.to_string().contains("is not an ISO 4217 currency code"));
    }
}
