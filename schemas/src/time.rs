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
        if let Some(micros) = parse_utc_z(s.as_bytes()) {
            return Ok(Self(micros));
        }
        let dt = DateTime::parse_from_rfc3339(s)?;
        Ok(Self(dt.with_timezone(&Utc).timestamp_micros()))
    }

    /// The same instant as a chrono value.
    pub fn to_datetime(self) -> DateTime<Utc> {
        DateTime::<Utc>::from_timestamp_micros(self.0).unwrap_or(DateTime::<Utc>::MIN_UTC)
    }
}

/// The form every producer of ours writes, `YYYY-MM-DDTHH:MM:SS[.f…]Z`, read without chrono
/// (two of them in every message); `None` for anything else (offsets, leap seconds, lower-case
/// letters, impossible dates), which chrono then reads or refuses.
fn parse_utc_z(b: &[u8]) -> Option<i64> {
    let digits = |range: std::ops::Range<usize>| -> Option<i64> {
        let mut n = 0i64;
        for &c in b.get(range)? {
            if !c.is_ascii_digit() {
                return None;
            }
            n = n * 10 + i64::from(c - b'0');
        }
        Some(n)
    };
    if b.len() < 20
        || b[4] != b'-'
        || b[7] != b'-'
        || b[10] != b'T'
        || b[13] != b':'
        || b[16] != b':'
        || b[b.len() - 1] != b'Z'
    {
        return None;
    }
    let (year, month, day) = (digits(0..4)?, digits(5..7)?, digits(8..10)?);
    let (hour, minute, second) = (digits(11..13)?, digits(14..16)?, digits(17..19)?);
    let fraction = &b[19..b.len() - 1];
    let micros = match fraction {
        [] => 0,
        [b'.', rest @ ..] if (1..=9).contains(&rest.len()) => {
            let mut micros = 0;
            for i in 0..6 {
                let c = rest.get(i).copied().unwrap_or(b'0');
                if !c.is_ascii_digit() {
                    return None;
                }
                micros = micros * 10 + i64::from(c - b'0');
            }
            if !rest.iter().all(u8::is_ascii_digit) {
                return None;
            }
            micros
        }
        _ => return None,
    };
    let leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
    let month_days = match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => return None,
    };
    if day < 1 || day > month_days || hour > 23 || minute > 59 || second > 59 {
        return None;
    }
    // Days from the civil date (H. Hinnant's algorithm), proleptic Gregorian.
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    let secs = days * 86_400 + hour * 3_600 + minute * 60 + second;
    Some(secs * MICROS_PER_SEC + micros)
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
        crate::de_str::parse_with(deserializer, Timestamp::parse)
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
    use proptest::prelude::*;

    fn by_chrono(s: &str) -> Option<i64> {
        DateTime::parse_from_rfc3339(s)
            .ok()
            .map(|dt| dt.with_timezone(&Utc).timestamp_micros())
    }

    proptest! {
        #[test]
        fn the_fast_reading_agrees_with_chrono_on_every_instant_we_write(micros in -62_135_596_800_000_000i64..253_402_300_799_999_999) {
            let text = Timestamp::from_micros(micros).to_string();
            prop_assert_eq!(parse_utc_z(text.as_bytes()), Some(micros), "{}", text);
            prop_assert_eq!(by_chrono(&text), Some(micros));
        }

        #[test]
        fn the_fast_reading_never_disagrees_with_chrono(
            year in 0u32..10_000, month in 0u32..14, day in 0u32..33,
            hour in 0u32..26, minute in 0u32..62, second in 0u32..62,
            fraction in prop::option::of("[0-9]{1,10}"),
            end in prop::sample::select(vec!["Z", "z", "+00:00", "+05:30", "-01:00", ""]),
        ) {
            let fraction = fraction.map(|f| format!(".{f}")).unwrap_or_default();
            let text = format!("{year:04}-{month:02}-{day:02}T{hour:02}:{minute:02}:{second:02}{fraction}{end}");
            if let Some(fast) = parse_utc_z(text.as_bytes()) {
                prop_assert_eq!(Some(fast), by_chrono(&text), "{}", text);
            }
            prop_assert_eq!(Timestamp::parse(&text).ok().map(Timestamp::as_micros), by_chrono(&text), "{}", text);
        }
    }

    #[test]
    fn the_fast_reading_leaves_other_forms_to_chrono() {
        for text in [
            "2024-05-01T12:00:00+02:00",
            "2024-05-01t12:00:00Z",
            "2016-12-31T23:59:60Z",
            "2023-02-29T00:00:00Z",
            "2024-05-01T12:00:00.Z",
            "2024-05-01T12:00:00.1234567890Z",
            "2024-05-01 12:00:00Z",
            "+2024-05-01T12:00:00Z",
        ] {
            assert_eq!(parse_utc_z(text.as_bytes()), None, "{text}");
        }
        assert_eq!(
            Timestamp::parse("2024-05-01T12:00:00+02:00").unwrap(),
            Timestamp::parse("2024-05-01T10:00:00Z").unwrap()
        );
        assert_eq!(
            parse_utc_z(b"2024-02-29T23:59:59.999999999Z"),
            by_chrono("2024-02-29T23:59:59.999999999Z")
        );
        assert_eq!(parse_utc_z(b"1970-01-01T00:00:00Z"), Some(0));
    }

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
