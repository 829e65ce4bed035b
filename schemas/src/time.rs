//! Instants on the wire: microseconds since the Unix epoch inside, RFC 3339 (UTC) outside.

use std::fmt;

use chrono::{DateTime, SecondsFormat, Utc};
use schemars::JsonSchema;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// An instant with microsecond precision, always UTC.
///
/// Arithmetic is plain integer arithmetic on microseconds; the wire form is an RFC 3339 string
/// such as `2024-05-01T12:00:00.250Z`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Timestamp(i64);

/// Microseconds in one second.
pub const MICROS_PER_SEC: i64 = 1_000_000;
/// Microseconds in one day.
pub const MICROS_PER_DAY: i64 = 86_400 * MICROS_PER_SEC;

impl Timestamp {
    /// The instant `micros` microseconds after the Unix epoch.
    pub const fn from_micros(micros: i64) -> Self {
        Self(micros)
    }

    /// The instant `secs` seconds after the Unix epoch.
    pub const fn from_secs(secs: i64) -> Self {
        Self(secs.saturating_mul(MICROS_PER_SEC))
    }

    /// Microseconds since the Unix epoch.
    pub const fn as_micros(self) -> i64 {
        self.0
    }

    /// Whole seconds since the Unix epoch (rounded towards negative infinity).
    pub const fn as_secs(self) -> i64 {
        self.0.div_euclid(MICROS_PER_SEC)
    }

    /// The day number since the epoch (UTC), used to bucket daily lows and highs.
    pub const fn day(self) -> i64 {
        self.0.div_euclid(MICROS_PER_DAY)
    }

    /// This instant moved by `secs` seconds (saturating).
    pub const fn plus_secs(self, secs: i64) -> Self {
        Self(self.0.saturating_add(secs.saturating_mul(MICROS_PER_SEC)))
    }

    /// This instant moved back by `secs` seconds (saturating).
    pub const fn minus_secs(self, secs: i64) -> Self {
        Self(self.0.saturating_sub(secs.saturating_mul(MICROS_PER_SEC)))
    }

    /// Parses an RFC 3339 instant with any offset.
    pub fn parse(s: &str) -> Result<Self, chrono::ParseError> {
        let dt = DateTime::parse_from_rfc3339(s)?;
        Ok(Self(dt.with_timezone(&Utc).timestamp_micros()))
    }

    /// The same instant as a chrono value.
    pub fn to_datetime(self) -> DateTime<Utc> {
        DateTime::<Utc>::from_timestamp_micros(self.0).unwrap_or(DateTime::<Utc>::MIN_UTC)
    }
}

impl From<DateTime<Utc>> for Timestamp {
    fn from(value: DateTime<Utc>) -> Self {
        Self(value.timestamp_micros())
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let format = if self.0 % MICROS_PER_SEC == 0 {
            SecondsFormat::Secs
        } else if self.0 % 1000 == 0 {
            SecondsFormat::Millis
        } else {
            SecondsFormat::Micros
        };
        f.write_str(&self.to_datetime().to_rfc3339_opts(format, true))
    }
}

impl Serialize for Timestamp {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Timestamp {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
        Timestamp::parse(&s).map_err(serde::de::Error::custom)
    }
}

impl JsonSchema for Timestamp {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Timestamp".into()
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "type": "string",
            "format": "date-time",
            "description": "RFC 3339 instant in UTC with up to microsecond precision"
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_through_rfc3339() {
        for micros in [
            0,
            1,
            1_000,
            1_700_000_000_123_456,
            -5,
            1_714_564_800_000_000,
        ] {
            let ts = Timestamp::from_micros(micros);
            let text = ts.to_string();
            assert_eq!(Timestamp::parse(&text).unwrap(), ts, "{text}");
        }
        assert_eq!(
            Timestamp::from_secs(1_714_564_800).to_string(),
            "2024-05-01T12:00:00Z"
        );
    }

    #[test]
    fn parses_offsets_into_utc() {
        let ts = Timestamp::parse("2024-05-01T14:00:00+02:00").unwrap();
        assert_eq!(ts, Timestamp::from_secs(1_714_564_800));
        assert!(Timestamp::parse("yesterday").is_err());
    }

    #[test]
    fn days_floor_negative_instants() {
        assert_eq!(Timestamp::from_micros(-1).day(), -1);
        assert_eq!(Timestamp::from_secs(86_400).day(), 1);
    }
}
