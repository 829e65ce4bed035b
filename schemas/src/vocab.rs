//! The sources' vocabularies: printings, conditions, languages, graders and grades.
//!
//! Parsing is total: a string we do not know is kept as `Other(text)`, never a panic and never
//! silently mapped to something else. Known values have a canonical name (their wire form) and a
//! short code used inside series ids.

use std::fmt;

use schemars::JsonSchema;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::SchemaError;

/// The characters that matter when comparing spellings: alphanumerics, lower-cased.
fn folded(text: &str) -> impl Iterator<Item = char> + '_ {
    text.chars()
        .filter(|c| c.is_alphanumeric())
        .flat_map(char::to_lowercase)
}

/// Whether two spellings are the same up to case, spaces and punctuation
/// ("1st Edition Holo-Foil" = "1st edition holofoil"). Allocates nothing.
pub(crate) fn same_spelling(a: &str, b: &str) -> bool {
    folded(a).eq(folded(b))
}

/// Trims and collapses inner white space, the form an `Other` value is kept in.
pub(crate) fn tidy(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Percent-encodes everything but ASCII alphanumerics, `-` and `.`, so a free-form value can live
/// inside a series id.
pub(crate) fn pct_encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || b == b'-' || b == b'.' {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

pub(crate) fn pct_decode(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = text.get(i + 1..i + 3)?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

macro_rules! vocabulary {
    (
        $(#[$doc:meta])*
        $name:ident {
            $( $variant:ident => $canonical:literal, $code:literal, [$($alias:literal),*] ; )*
        }
    ) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum $name {
            $( $variant, )*
            /// A value the source sent that is not in our vocabulary, kept as sent (tidied).
            Other(String),
        }

        impl $name {
            /// Every known value.
            pub const KNOWN: &'static [$name] = &[$($name::$variant),*];

            /// Parses any spelling; unknown text is kept as `Other`.
            pub fn parse(text: &str) -> Self {
                // Exact canonical spellings (what the sources send) first: no folding.
                $(
                    if text == $canonical {
                        return $name::$variant;
                    }
                )*
                $(
                    if same_spelling(text, $canonical) $(|| same_spelling(text, $alias))* {
                        return $name::$variant;
                    }
                )*
                $name::Other(tidy(text))
            }

            /// The canonical name, or the text as sent for `Other`.
            pub fn as_str(&self) -> &str {
                match self {
                    $( $name::$variant => $canonical, )*
                    $name::Other(text) => text,
                }
            }

            /// The short code used in series ids (`~` + percent-encoded text for `Other`).
            pub fn code(&self) -> std::borrow::Cow<'_, str> {
                match self {
                    $( $name::$variant => $code.into(), )*
                    $name::Other(text) => format!("~{}", pct_encode(text)).into(),
                }
            }

            /// The inverse of [`Self::code`].
            pub fn from_code(code: &str) -> Option<Self> {
                if let Some(raw) = code.strip_prefix('~') {
                    return pct_decode(raw).map($name::Other);
                }
                match code {
                    $( $code => Some($name::$variant), )*
                    _ => None,
                }
            }

            /// True for values outside our vocabulary.
            pub fn is_other(&self) -> bool {
                matches!(self, $name::Other(_))
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_str(self.as_str())
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                crate::de_str::parse_with(deserializer, |s| {
                    Ok::<_, std::convert::Infallible>($name::parse(s))
                })
            }
        }

        impl JsonSchema for $name {
            fn schema_name() -> std::borrow::Cow<'static, str> {
                stringify!($name).into()
            }
            fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
                let known: Vec<&str> = vec![$($canonical),*];
                schemars::json_schema!({
                    "type": "string",
                    "description": concat!("A ", stringify!($name), ": one of the known names, or any other text as the source sent it"),
                    "examples": known
                })
            }
        }
    };
}

vocabulary! {
    /// A printing (TCGplayer `subTypeName`, or a finish read from a listing).
    Printing {
        Normal => "Normal", "normal", ["Non-Holo", "Non Holo", "Regular"];
        Holofoil => "Holofoil", "holofoil", ["Holo", "Holo Foil"];
        ReverseHolofoil => "Reverse Holofoil", "reverse-holofoil", ["Reverse Holo", "Rev Holo"];
        FirstEditionHolofoil => "1st Edition Holofoil", "1st-edition-holofoil", ["1st Ed Holo", "1st Edition Holo"];
        FirstEditionNormal => "1st Edition Normal", "1st-edition-normal", ["1st Ed Normal"];
        UnlimitedHolofoil => "Unlimited Holofoil", "unlimited-holofoil", ["Unlimited Holo"];
        UnlimitedNormal => "Unlimited Normal", "unlimited-normal", [];
        Foil => "Foil", "foil", [];
        EtchedFoil => "Etched Foil", "etched-foil", ["Etched Foils", "Etched"];
        FirstEdition => "1st Edition", "1st-edition", ["1st Ed", "First Edition"];
        Unlimited => "Unlimited", "unlimited", [];
        Limited => "Limited", "limited", ["Limited Edition"];
    }
}

vocabulary! {
    /// A card's condition (TCGplayer condition ids 1–6, eBay's ungraded descriptors).
    Condition {
        NearMint => "Near Mint", "nm", ["NM", "Near Mint or Better", "NM-M"];
        LightlyPlayed => "Lightly Played", "lp", ["LP", "Slightly Played", "SP"];
        ModeratelyPlayed => "Moderately Played", "mp", ["MP"];
        HeavilyPlayed => "Heavily Played", "hp", ["HP"];
        Damaged => "Damaged", "dmg", ["DMG"];
        Unopened => "Unopened", "unopened", ["Sealed"];
        Excellent => "Excellent", "ex", [];
        VeryGood => "Very Good", "vg", [];
        Poor => "Poor", "poor", [];
    }
}

vocabulary! {
    /// A card's language (TCGplayer language ids 1–11).
    Language {
        English => "English", "en", ["EN", "ENG"];
        ChineseSimplified => "Chinese (S)", "zh-hans", ["Chinese Simplified", "Simplified Chinese"];
        ChineseTraditional => "Chinese (T)", "zh-hant", ["Chinese Traditional", "Traditional Chinese"];
        French => "French", "fr", ["FR", "Français"];
        German => "German", "de", ["DE", "Deutsch"];
        Italian => "Italian", "it", ["IT", "Italiano"];
        Japanese => "Japanese", "ja", ["JP", "JPN", "JA"];
        Korean => "Korean", "ko", ["KR", "KOR"];
        Portuguese => "Portuguese (BR)", "pt-br", ["Portuguese", "PT"];
        Russian => "Russian", "ru", ["RU"];
        Spanish => "Spanish", "es", ["ES", "Español"];
    }
}

vocabulary! {
    /// A professional grading company.
    Grader {
        Psa => "PSA", "psa", [];
        Bgs => "BGS", "bgs", ["Beckett"];
        Cgc => "CGC", "cgc", [];
        Sgc => "SGC", "sgc", [];
        Tag => "TAG", "tag", [];
        Ace => "ACE", "ace", [];
    }
}

impl Condition {
    /// TCGplayer condition id: 1 Near Mint … 6 Unopened. Unknown ids are kept as `Other("id N")`.
    pub fn from_tcgplayer_id(id: u32) -> Condition {
        match id {
            1 => Condition::NearMint,
            2 => Condition::LightlyPlayed,
            3 => Condition::ModeratelyPlayed,
            4 => Condition::HeavilyPlayed,
            5 => Condition::Damaged,
            6 => Condition::Unopened,
            other => Condition::Other(format!("TCGplayer condition {other}")),
        }
    }
}

impl Language {
    /// TCGplayer language id: 1 English … 11 Spanish. Unknown ids are kept as `Other`.
    pub fn from_tcgplayer_id(id: u32) -> Language {
        match id {
            1 => Language::English,
            2 => Language::ChineseSimplified,
            3 => Language::ChineseTraditional,
            4 => Language::French,
            5 => Language::German,
            6 => Language::Italian,
            7 => Language::Japanese,
            8 => Language::Korean,
            9 => Language::Portuguese,
            10 => Language::Russian,
            11 => Language::Spanish,
            other => Language::Other(format!("TCGplayer language {other}")),
        }
    }
}

/// A special designation on top of a numeric grade.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum GradeLabel {
    /// CGC / BGS "Pristine 10".
    Pristine,
    /// BGS "Black Label" 10.
    BlackLabel,
}

/// A numeric grade from 1 to 10 in half steps, with an optional special label.
///
/// Wire form: `"10"`, `"9.5"`, `"10 Pristine"`, `"10 Black Label"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Grade {
    /// The grade times ten: 95 is 9.5.
    tenths: u8,
    label: Option<GradeLabel>,
}

impl Grade {
    /// A grade from tenths (10..=100, multiples of 5).
    pub fn from_tenths(tenths: u8, label: Option<GradeLabel>) -> Result<Grade, SchemaError> {
        if !(10..=100).contains(&tenths) || !tenths.is_multiple_of(5) {
            return Err(SchemaError::InvalidGrade(format!(
                "{}",
                f64::from(tenths) / 10.0
            )));
        }
        if label.is_some() && tenths != 100 {
            return Err(SchemaError::InvalidGrade(format!(
                "{} with a label",
                f64::from(tenths) / 10.0
            )));
        }
        Ok(Grade { tenths, label })
    }

    /// A whole grade, e.g. `Grade::whole(10)`.
    pub fn whole(value: u8) -> Result<Grade, SchemaError> {
        Grade::from_tenths(value.saturating_mul(10), None)
    }

    pub fn tenths(&self) -> u8 {
        self.tenths
    }

    pub fn label(&self) -> Option<GradeLabel> {
        self.label
    }

    /// Parses `"10"`, `"9.5"`, `"10 Pristine"`, `"Pristine 10"`, `"10 Black Label"`, `"BL 10"`.
    pub fn parse(text: &str) -> Result<Grade, SchemaError> {
        let folded = text.to_ascii_lowercase();
        let label =
            if folded.contains("black label") || folded.split_whitespace().any(|w| w == "bl") {
                Some(GradeLabel::BlackLabel)
            } else if folded.contains("pristine") {
                Some(GradeLabel::Pristine)
            } else {
                None
            };
        let number = folded
            .split(|c: char| !(c.is_ascii_digit() || c == '.'))
            .find(|t| !t.is_empty() && t.bytes().any(|b| b.is_ascii_digit()))
            .ok_or_else(|| SchemaError::InvalidGrade(text.to_owned()))?;
        let tenths = match number.split_once('.') {
            None => number.parse::<u8>().ok().and_then(|v| v.checked_mul(10)),
            Some((whole, "5")) => whole
                .parse::<u8>()
                .ok()
                .and_then(|v| v.checked_mul(10))
                .and_then(|v| v.checked_add(5)),
            Some((whole, "0")) => whole.parse::<u8>().ok().and_then(|v| v.checked_mul(10)),
            Some(_) => None,
        }
        .ok_or_else(|| SchemaError::InvalidGrade(text.to_owned()))?;
        Grade::from_tenths(tenths, label).map_err(|_| SchemaError::InvalidGrade(text.to_owned()))
    }

    /// Code used in series ids: `10`, `9.5`, `10-pristine`, `10-black-label`.
    pub fn code(&self) -> String {
        let mut s = self.number();
        match self.label {
            Some(GradeLabel::Pristine) => s.push_str("-pristine"),
            Some(GradeLabel::BlackLabel) => s.push_str("-black-label"),
            None => {}
        }
        s
    }

    fn number(&self) -> String {
        if self.tenths.is_multiple_of(10) {
            format!("{}", self.tenths / 10)
        } else {
            format!("{}.{}", self.tenths / 10, self.tenths % 10)
        }
    }
}

impl fmt::Display for Grade {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.number())?;
        match self.label {
            Some(GradeLabel::Pristine) => f.write_str(" Pristine"),
            Some(GradeLabel::BlackLabel) => f.write_str(" Black Label"),
            None => Ok(()),
        }
    }
}

impl Serialize for Grade {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Grade {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        crate::de_str::parse_with(deserializer, Grade::parse)
    }
}

impl JsonSchema for Grade {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Grade".into()
    }
    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "type": "string",
            "description": "Grade 1-10 in half steps, optionally 'Pristine' or 'Black Label' (10 only)",
            "pattern": "^([1-9](\\.5)?|10)( Pristine| Black Label)?$"
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn printings_parse_tolerantly_and_keep_unknowns() {
        assert_eq!(
            Printing::parse("Reverse Holofoil"),
            Printing::ReverseHolofoil
        );
        assert_eq!(
            Printing::parse(" reverse  holofoil "),
            Printing::ReverseHolofoil
        );
        assert_eq!(
            Printing::parse("1st Edition Holofoil"),
            Printing::FirstEditionHolofoil
        );
        assert_eq!(Printing::parse("Etched foils"), Printing::EtchedFoil);
        assert_eq!(
            Printing::parse("Cosmos  Holo"),
            Printing::Other("Cosmos Holo".into())
        );
        assert_eq!(Printing::parse(""), Printing::Other(String::new()));
    }

    #[test]
    fn conditions_and_languages_from_ids() {
        assert_eq!(Condition::from_tcgplayer_id(1), Condition::NearMint);
        assert_eq!(Condition::from_tcgplayer_id(6), Condition::Unopened);
        assert!(Condition::from_tcgplayer_id(42).is_other());
        assert_eq!(Language::from_tcgplayer_id(7), Language::Japanese);
        assert_eq!(Language::from_tcgplayer_id(9), Language::Portuguese);
        assert!(Language::from_tcgplayer_id(99).is_other());
        assert_eq!(Condition::parse("Near Mint or Better"), Condition::NearMint);
        assert_eq!(Condition::parse("Excellent"), Condition::Excellent);
        assert_eq!(
            Condition::parse("Pretty OK"),
            Condition::Other("Pretty OK".into())
        );
    }

    #[test]
    fn grades_parse_and_validate() {
        assert_eq!(Grade::parse("10").unwrap().to_string(), "10");
        assert_eq!(Grade::parse("9.5").unwrap().tenths(), 95);
        assert_eq!(
            Grade::parse("Pristine 10").unwrap().to_string(),
            "10 Pristine"
        );
        assert_eq!(
            Grade::parse("10 black label").unwrap().label(),
            Some(GradeLabel::BlackLabel)
        );
        for bad in ["11", "0", "9.3", "", "nine", "9.5 Pristine", "255"] {
            assert!(Grade::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn codes_round_trip() {
        for p in Printing::KNOWN {
            assert_eq!(Printing::from_code(&p.code()).as_ref(), Some(p));
        }
        let odd = Printing::Other("Holo/Foil 100%".into());
        assert_eq!(Printing::from_code(&odd.code()), Some(odd));
        for c in Condition::KNOWN {
            assert_eq!(Condition::from_code(&c.code()).as_ref(), Some(c));
        }
        for l in Language::KNOWN {
            assert_eq!(Language::from_code(&l.code()).as_ref(), Some(l));
        }
    }

    proptest! {
        #[test]
        fn parsing_is_total_and_stable(text in ".{0,40}") {
            let p = Printing::parse(&text);
            prop_assert_eq!(Printing::parse(p.as_str()), p.clone());
            prop_assert_eq!(Printing::from_code(&p.code()), Some(p));
            let c = Condition::parse(&text);
            prop_assert_eq!(Condition::parse(c.as_str()), c.clone());
            prop_assert_eq!(Condition::from_code(&c.code()), Some(c));
            let l = Language::parse(&text);
            prop_assert_eq!(Language::parse(l.as_str()), l);
            let _ = Grade::parse(&text);
        }

        #[test]
        fn grades_round_trip(half_steps in 2u8..=20, label in prop::option::of(prop::bool::ANY)) {
            let tenths = half_steps * 5;
            let label = if tenths == 100 { label.map(|b| if b { GradeLabel::Pristine } else { GradeLabel::BlackLabel }) } else { None };
            let g = Grade::from_tenths(tenths, label).unwrap();
            prop_assert_eq!(Grade::parse(&g.to_string()).unwrap(), g);
        }
    }
}
