//! The formats' own words for a card's condition, finish (printing) and language, mapped onto the
//! crate's [`Condition`], [`Printing`] and [`Language`]. Words are compared by their letters and
//! digits only, case-insensitively (`near_mint` = `NearMint` = `Near Mint`). A word no table
//! knows goes to the crate's own parser, which keeps it as `Other(text)`: never guessed.
//!
//! Conditions. TCGplayer's scale (Near Mint, Lightly / Moderately / Heavily Played, Damaged) is
//! the crate's; the European scale of ManaBox and Dragon Shield (Mint, Near Mint, Excellent,
//! Good, Light Played, Played, Poor) and Deckbox's (Mint, Near Mint, Good (Lightly Played),
//! Played, Heavily Played, Poor) map as:
//!
//! | words | condition |
//! |---|---|
//! | Mint, M, MT, Near Mint, NM | Near Mint (TCGplayer has no grade above "Near Mint or better") |
//! | Excellent, EX | Excellent (the crate has the word) |
//! | Good, GD, Good (Lightly Played), Light Played, Lightly Played, LP, SP | Lightly Played |
//! | Played, PL, Moderately Played, MP | Moderately Played |
//! | Heavily Played, HP | Heavily Played |
//! | Damaged, D, DMG | Damaged |
//! | Poor, PO | Poor (the crate has the word) |
//!
//! "Good" is Deckbox's own name for Lightly Played (deckbox.org/help/card_conditions); on the
//! European scale it sits between Excellent and Light Played, and Lightly Played is the nearest
//! grade the crate prices.

use tcg_schemas::{Condition, Language, Printing};

/// Letters and digits, lower-cased: the form the tables below are written in.
fn fold(text: &str) -> String {
    text.chars()
        .filter(|c| c.is_alphanumeric())
        .flat_map(char::to_lowercase)
        .collect()
}

/// A condition in any format's words (see the module doc).
pub(crate) fn condition(text: &str) -> Condition {
    match fold(text).as_str() {
        "mint" | "m" | "mt" | "nearmint" | "nm" | "nearmintormint" => Condition::NearMint,
        "excellent" | "ex" => Condition::Excellent,
        "good" | "gd" | "goodlightlyplayed" | "lightplayed" | "lightlyplayed" | "lp" | "sp" => {
            Condition::LightlyPlayed
        }
        "played" | "pl" | "moderatelyplayed" | "mp" => Condition::ModeratelyPlayed,
        "heavilyplayed" | "hp" => Condition::HeavilyPlayed,
        "damaged" | "d" | "dmg" => Condition::Damaged,
        "poor" | "po" => Condition::Poor,
        _ => Condition::parse(text),
    }
}

/// A finish or foil cell: ManaBox `normal|foil|etched`, Moxfield `foil|etched|` (empty),
/// Archidekt `Normal|Foil|Etched`, Dragon Shield `Normal|Foil`, Deckbox and Delver Lens `foil` or
/// empty, and yes/no flags. Empty or absent is Normal; an etched foil is the crate's Etched Foil.
pub(crate) fn finish(text: Option<&str>) -> Printing {
    let Some(t) = text else {
        return Printing::Normal;
    };
    match fold(t).as_str() {
        "" | "normal" | "nonfoil" | "false" | "no" | "n" | "0" => Printing::Normal,
        "foil" | "true" | "yes" | "y" | "1" | "x" => Printing::Foil,
        "etched" | "etchedfoil" => Printing::EtchedFoil,
        _ => Printing::parse(t),
    }
}

/// A language as a name (`English`, `Japanese`) or a code: Scryfall's (`en`, `ja`, `zhs`,
/// `zht`, as ManaBox writes them) and the usual others (`JP`, `KR`, `pt-BR`, `zh-CN`).
pub(crate) fn language(text: &str) -> Language {
    match fold(text).as_str() {
        "en" | "eng" | "english" => Language::English,
        "ja" | "jp" | "jpn" | "japanese" => Language::Japanese,
        "de" | "ger" | "deu" | "german" | "deutsch" => Language::German,
        "fr" | "fra" | "fre" | "french" => Language::French,
        "it" | "ita" | "italian" => Language::Italian,
        "es" | "spa" | "spanish" => Language::Spanish,
        "pt" | "ptbr" | "por" | "portuguese" | "portuguesebr" => Language::Portuguese,
        "ru" | "rus" | "russian" => Language::Russian,
        "ko" | "kr" | "kor" | "korean" => Language::Korean,
        "zhs" | "zhhans" | "zhcn" | "chs" | "cs" | "chinesesimplified" | "simplifiedchinese" => {
            Language::ChineseSimplified
        }
        "zht" | "zhhant" | "zhtw" | "cht" | "ct" | "chinesetraditional" | "traditionalchinese" => {
            Language::ChineseTraditional
        }
        _ => Language::parse(text),
    }
}

/// TCGplayer's condition names, longest first.
const TCGPLAYER_CONDITIONS: [(&str, Condition); 6] = [
    ("moderately played", Condition::ModeratelyPlayed),
    ("lightly played", Condition::LightlyPlayed),
    ("heavily played", Condition::HeavilyPlayed),
    ("near mint", Condition::NearMint),
    ("unopened", Condition::Unopened),
    ("damaged", Condition::Damaged),
];

/// What a TCGplayer condition cell packs: `<condition>[ <printing>][ - <language>]`
/// (`Near Mint`, `Lightly Played Foil`, `Near Mint 1st Edition Holofoil - Japanese`). The
/// printing, when the cell names one, and the language, when it names one.
pub(crate) fn tcgplayer_condition(
    text: &str,
) -> Result<(Condition, Option<Printing>, Option<Language>), String> {
    let (head, lang) = match text.rsplit_once(" - ") {
        Some((head, lang)) => (head.trim(), Some(language(lang.trim()))),
        None => (text.trim(), None),
    };
    let lower = head.to_lowercase();
    let (condition, rest) = TCGPLAYER_CONDITIONS
        .iter()
        .find_map(|(name, c)| {
            lower
                .strip_prefix(name)
                .filter(|r| r.is_empty() || r.starts_with(' '))
                .map(|_| (c.clone(), head.get(name.len()..).unwrap_or("").trim()))
        })
        .ok_or_else(|| {
            format!("condition {text:?} does not start with a TCGplayer condition (Near Mint, …)")
        })?;
    let printing = (!rest.is_empty()).then(|| Printing::parse(rest));
    Ok((condition, printing, lang))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conditions_of_every_format() {
        use Condition as C;
        for (words, want) in [
            (
                &[
                    "near_mint",
                    "NearMint",
                    "Near Mint",
                    "NM",
                    "mint",
                    "Mint",
                    "M",
                ][..],
                C::NearMint,
            ),
            (&["excellent", "Excellent", "EX"], C::Excellent),
            (
                &[
                    "good",
                    "Good (Lightly Played)",
                    "light_played",
                    "lightly_played",
                    "LightPlayed",
                    "Lightly Played",
                    "LP",
                ],
                C::LightlyPlayed,
            ),
            (
                &["played", "Played", "Moderately Played", "MP"],
                C::ModeratelyPlayed,
            ),
            (
                &["Heavily Played", "HP", "heavily_played"],
                C::HeavilyPlayed,
            ),
            (&["D", "Damaged", "DMG", "damaged"], C::Damaged),
            (&["poor", "Poor"], C::Poor),
        ] {
            for w in words {
                assert_eq!(condition(w), want, "{w}");
            }
        }
        assert_eq!(condition("Sealed"), C::Unopened);
        assert_eq!(condition("chewed"), C::Other("chewed".into()));
    }

    #[test]
    fn finishes_of_every_format() {
        for (words, want) in [
            (&["normal", "Normal", "", "false"][..], Printing::Normal),
            (&["foil", "Foil", "FOIL", "true"], Printing::Foil),
            (&["etched", "Etched", "Etched Foil"], Printing::EtchedFoil),
        ] {
            for w in words {
                assert_eq!(finish(Some(w)), want, "{w}");
            }
        }
        assert_eq!(finish(None), Printing::Normal);
        assert_eq!(finish(Some("Holofoil")), Printing::Holofoil);
        assert_eq!(finish(Some("glitter")), Printing::Other("glitter".into()));
    }

    #[test]
    fn languages_as_codes_and_names() {
        for (words, want) in [
            (&["en", "EN", "English"][..], Language::English),
            (&["ja", "JP", "Japanese"], Language::Japanese),
            (&["de", "German"], Language::German),
            (&["ko", "KR", "Korean"], Language::Korean),
            (
                &["zhs", "zh-CN", "Chinese Simplified"],
                Language::ChineseSimplified,
            ),
            (
                &["zht", "zh-TW", "Chinese Traditional"],
                Language::ChineseTraditional,
            ),
            (&["pt", "pt-BR", "Portuguese"], Language::Portuguese),
            (&["es", "Spanish"], Language::Spanish),
        ] {
            for w in words {
                assert_eq!(language(w), want, "{w}");
            }
        }
        assert_eq!(language("ph"), Language::Other("ph".into()));
    }

    #[test]
    fn tcgplayer_conditions_pack_printing_and_language() {
        let c = |t| tcgplayer_condition(t).unwrap();
        assert_eq!(
            c("Near Mint Holofoil"),
            (Condition::NearMint, Some(Printing::Holofoil), None)
        );
        assert_eq!(
            c("Lightly Played Foil"),
            (Condition::LightlyPlayed, Some(Printing::Foil), None)
        );
        assert_eq!(
            c("Near Mint 1st Edition Holofoil - Japanese"),
            (
                Condition::NearMint,
                Some(Printing::FirstEditionHolofoil),
                Some(Language::Japanese)
            )
        );
        assert_eq!(
            c("Damaged Reverse Holofoil"),
            (Condition::Damaged, Some(Printing::ReverseHolofoil), None)
        );
        assert_eq!(
            c("Moderately Played"),
            (Condition::ModeratelyPlayed, None, None)
        );
        assert!(tcgplayer_condition("Mint-ish").is_err());
        assert!(tcgplayer_condition("Near Mintish").is_err());
    }
}
