//! The card's language and check 5: a title in, or naming, another language rejects.

use tcg_schemas::{Game, Language, RejectReason, TrackedCard};

use super::number::Small;
use super::scan::{Lang, Scan};
use super::text::{Scripts, Tokens};
use super::{TitleReject, reject, word};

/// `target.language`, else Japanese for TCGplayer category 85 (Pokémon Japan), else English.
pub(super) fn of_target(target: &TrackedCard) -> Language {
    match target.language.as_deref() {
        None if Game::from_category(target.category_id) == Game::PokemonJapan => Language::Japanese,
        None | Some("English") => Language::English,
        Some("Japanese") => Language::Japanese,
        Some(other) => Language::parse(other),
    }
}

/// Check 5: a language word other than the target's, CJK script for another language, or a set
/// code region of another language rejects. Otherwise, true when the title confirms the
/// language (always for English; for others, a language word, the script or a region).
pub(super) fn check(
    title: &Tokens<'_>,
    language: &Language,
    scan: &Scan,
    scripts: Scripts,
    region: Option<Small>,
) -> Result<bool, TitleReject> {
    let Some(family) = Lang::of(language) else {
        return Ok(true);
    };
    if let Some(other) = Lang::ALL
        .into_iter()
        .find(|l| *l != family && scan.langs & l.bit() != 0)
    {
        let at = scan.lang_at[other as usize].map_or(String::new(), |i| word(title, i as usize));
        return Err(reject(
            RejectReason::WrongLanguage,
            format!(
                "title says {} (\"{at}\"), the card is {}",
                other.name(),
                language
            ),
        ));
    }
    let script = script_of(scripts, family);
    if let Some(script) = script
        && script != family
    {
        return Err(reject(
            RejectReason::WrongLanguage,
            format!(
                "title is written in {} script, the card is {language}",
                script.name()
            ),
        ));
    }
    if let Some(region_lang) = region.and_then(|r| Lang::of_region(r.as_bytes()))
        && region_lang != family
    {
        return Err(reject(
            RejectReason::WrongLanguage,
            format!(
                "set code region \"{}\" is {}, the card is {language}",
                region.map_or(String::new(), |r| String::from_utf8_lossy(r.as_bytes())
                    .to_uppercase()),
                region_lang.name()
            ),
        ));
    }
    Ok(family == Lang::En
        || scan.langs & family.bit() != 0
        || script == Some(family)
        || region.is_some())
}

/// The language a title's CJK script says (Han alone is Japanese for a Japanese card, else
/// Chinese).
fn script_of(scripts: Scripts, family: Lang) -> Option<Lang> {
    if scripts.kana {
        Some(Lang::Ja)
    } else if scripts.hangul {
        Some(Lang::Ko)
    } else if scripts.han {
        Some(if family == Lang::Ja {
            Lang::Ja
        } else {
            Lang::Zh
        })
    } else {
        None
    }
}
