//! One pass over the title's words: rejection keywords (lots, proxies, sealed product, "you
//! pick"), languages, conditions and printings.

use tcg_schemas::{Condition, Language};

use super::kw::Kw;
use super::text::{Tokens, digits_value, is_digits};

/// A language family, as far as titles can tell them apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Lang {
    En = 0,
    Ja,
    Ko,
    Zh,
    De,
    Fr,
    It,
    Es,
    Pt,
    Ru,
}

impl Lang {
    pub(crate) const ALL: [Lang; 10] = [
        Lang::En,
        Lang::Ja,
        Lang::Ko,
        Lang::Zh,
        Lang::De,
        Lang::Fr,
        Lang::It,
        Lang::Es,
        Lang::Pt,
        Lang::Ru,
    ];

    pub(crate) fn bit(self) -> u16 {
        1 << self as u16
    }

    pub(crate) fn name(self) -> &'static str {
        match self {
            Lang::En => "English",
            Lang::Ja => "Japanese",
            Lang::Ko => "Korean",
            Lang::Zh => "Chinese",
            Lang::De => "German",
            Lang::Fr => "French",
            Lang::It => "Italian",
            Lang::Es => "Spanish",
            Lang::Pt => "Portuguese",
            Lang::Ru => "Russian",
        }
    }

    /// The family of a catalog language; `None` for languages we cannot recognise in titles.
    pub(crate) fn of(language: &Language) -> Option<Lang> {
        Some(match language {
            Language::English => Lang::En,
            Language::Japanese => Lang::Ja,
            Language::Korean => Lang::Ko,
            Language::ChineseSimplified | Language::ChineseTraditional => Lang::Zh,
            Language::German => Lang::De,
            Language::French => Lang::Fr,
            Language::Italian => Lang::It,
            Language::Spanish => Lang::Es,
            Language::Portuguese => Lang::Pt,
            Language::Russian => Lang::Ru,
            Language::Other(_) => return None,
        })
    }

    /// The language of a Yu-Gi-Oh! set-code region (`EN`, `JP`, old `E`/`G`/`F`…).
    pub(crate) fn of_region(region: &[u8]) -> Option<Lang> {
        Some(match region {
            b"en" | b"e" | b"ae" => Lang::En,
            b"jp" | b"ja" | b"j" => Lang::Ja,
            b"kr" | b"k" => Lang::Ko,
            b"tc" | b"sc" | b"cn" => Lang::Zh,
            b"de" | b"g" => Lang::De,
            b"fr" | b"f" => Lang::Fr,
            b"it" | b"i" => Lang::It,
            b"sp" | b"s" | b"es" => Lang::Es,
            b"pt" | b"p" => Lang::Pt,
            _ => return None,
        })
    }
}

/// A condition named in the title, worst last.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Cond {
    NearMint,
    Excellent,
    LightlyPlayed,
    ModeratelyPlayed,
    HeavilyPlayed,
    Damaged,
}

impl Cond {
    pub(crate) fn condition(self) -> Condition {
        match self {
            Cond::NearMint => Condition::NearMint,
            Cond::Excellent => Condition::Excellent,
            Cond::LightlyPlayed => Condition::LightlyPlayed,
            Cond::ModeratelyPlayed => Condition::ModeratelyPlayed,
            Cond::HeavilyPlayed => Condition::HeavilyPlayed,
            Cond::Damaged => Condition::Damaged,
        }
    }
}

/// Printing hints (bit flags).
pub(crate) mod print {
    pub(crate) const REVERSE: u8 = 1;
    pub(crate) const FIRST: u8 = 2;
    pub(crate) const UNLIMITED: u8 = 4;
    pub(crate) const NON_FOIL: u8 = 8;
    pub(crate) const HOLO: u8 = 16;
    pub(crate) const FOIL: u8 = 32;
    pub(crate) const ETCHED: u8 = 64;
}

/// What one pass over the title found; `Option<usize>` fields hold the first token that said so.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Scan {
    pub not_genuine: Option<usize>,
    /// "empty slab", "slab only", "label only", "no card".
    pub empty_slab: Option<usize>,
    /// Words that always mean sealed product ("sealed", "blister").
    pub sealed: Option<usize>,
    /// Words that mean sealed product unless the listing is a promo card from it ("ETB promo").
    pub sealed_unless_promo: Option<usize>,
    pub promo: bool,
    pub lot: Option<usize>,
    pub choice: Option<usize>,
    /// Languages named (bit per [`Lang`]), not counting negated ones ("not Japanese").
    pub langs: u16,
    pub lang_at: [Option<u8>; 10],
    pub condition: Option<Cond>,
    /// [`print`] flags.
    pub print: u8,
}

enum Hit {
    NotGenuine,
    EmptySlab,
    Sealed,
    SealedUnlessPromo,
    Promo,
    Lot,
    Choice,
    Lang(Lang),
    Cond(Cond),
    Print(u8),
}

fn is_art_kind(kw: Kw) -> bool {
    matches!(
        kw,
        Kw::Full
            | Kw::Alt
            | Kw::Alternate
            | Kw::Alternative
            | Kw::Extended
            | Kw::Borderless
            | Kw::Special
            | Kw::Illustration
            | Kw::Secret
            | Kw::Rainbow
            | Kw::Textured
            | Kw::Showcase
    )
}

fn is_holo(kw: Kw) -> bool {
    matches!(kw, Kw::Holo | Kw::Holofoil | Kw::Foil)
}

/// "x4", "4x", "x10": a quantity of two or more.
fn quantity(w: &[u8]) -> bool {
    if w.len() < 2 || !(w[0] == b'x' || w[w.len() - 1] == b'x') {
        return false;
    }
    let digits = w
        .strip_prefix(b"x")
        .or_else(|| w.strip_suffix(b"x"))
        .and_then(digits_value);
    matches!(digits, Some(2..=99))
}

/// The language a word names.
fn lang_of(kw: Kw) -> Option<Lang> {
    Some(match kw {
        Kw::English | Kw::Eng => Lang::En,
        Kw::Japanese | Kw::Jpn | Kw::Jp | Kw::Japan | Kw::Jap => Lang::Ja,
        Kw::Korean | Kw::Kor | Kw::Kr | Kw::Korea => Lang::Ko,
        Kw::Chinese | Kw::Chn | Kw::China => Lang::Zh,
        Kw::German | Kw::Deutsch | Kw::Deutsche | Kw::Ger => Lang::De,
        Kw::French | Kw::Francais | Kw::Fr | Kw::Fra => Lang::Fr,
        Kw::Italian | Kw::Italiano | Kw::Ita => Lang::It,
        Kw::Spanish | Kw::Espanol | Kw::Esp => Lang::Es,
        Kw::Portuguese | Kw::Portugues => Lang::Pt,
        Kw::Russian => Lang::Ru,
        _ => return None,
    })
}

/// A keyword token with the keywords of its neighbours.
#[derive(Debug, Clone, Copy)]
struct At {
    kw: Kw,
    prev: Kw,
    next: Kw,
    /// The previous word negates this one ("not Japanese").
    negated: bool,
}

fn hit(t: &Tokens<'_>, i: usize) -> Option<Hit> {
    let kw = t.kw(i);
    if kw == Kw::None {
        return quantity(t.word(i)).then_some(Hit::Lot);
    }
    let prev = if i > 0 { t.kw(i - 1) } else { Kw::None };
    let at = At {
        kw,
        prev,
        next: t.kw(i + 1),
        negated: prev.is_negation(),
    };
    // The keyword groups are disjoint: at most one of them says something.
    not_genuine(at)
        .or_else(|| packaging(at))
        .or_else(|| several(t, i, at))
        .or_else(|| condition(t, i, at))
        .or_else(|| printing(at))
        .or_else(|| lang_of(kw).filter(|_| !at.negated).map(Hit::Lang))
}

/// Proxies, customs, fakes, reprints, digital and code cards, fan art, metal cards.
fn not_genuine(at: At) -> Option<Hit> {
    let At {
        kw,
        prev,
        next,
        negated,
    } = at;
    let yes = match kw {
        Kw::Proxy
        | Kw::Proxies
        | Kw::Custom
        | Kw::Customs
        | Kw::Orica
        | Kw::Oricas
        | Kw::Orika
        | Kw::Replica
        | Kw::Fake
        | Kw::Fakes
        | Kw::Counterfeit
        | Kw::Reprint
        | Kw::Reproduction
        | Kw::Repro
        | Kw::Digital
        | Kw::Ptcgo
        | Kw::Ptcgl
        | Kw::Mtgo
        | Kw::Mtga
        | Kw::Unofficial
        | Kw::Fanart
        | Kw::Handmade
        | Kw::Plated
        | Kw::Codes
        | Kw::Altered => !negated,
        Kw::Fan => matches!(next, Kw::Art | Kw::Made),
        Kw::Code => {
            next.is_card()
                || matches!(
                    prev,
                    Kw::Live
                        | Kw::Online
                        | Kw::Ptcgo
                        | Kw::Ptcgl
                        | Kw::Digital
                        | Kw::Unused
                        | Kw::Tcg
                )
        }
        Kw::Art => (next.is_card() || next == Kw::Series) && !is_art_kind(prev),
        Kw::Metal => next.is_card() || prev == Kw::Gold,
        _ => false,
    };
    yes.then_some(Hit::NotGenuine)
}

/// Packaging: empty slabs, sealed product, promos (which may come from it).
fn packaging(at: At) -> Option<Hit> {
    let At {
        kw,
        prev,
        next,
        negated,
    } = at;
    Some(match kw {
        Kw::Empty if !negated => Hit::EmptySlab,
        Kw::Slab | Kw::Case | Kw::Label | Kw::Holder | Kw::Flip if next == Kw::Only => {
            Hit::EmptySlab
        }
        Kw::Card if prev == Kw::No => Hit::EmptySlab,
        Kw::Sealed | Kw::Blister | Kw::Unopened if !negated => Hit::Sealed,
        Kw::Booster | Kw::Boosters | Kw::Tin | Kw::Tins | Kw::Boxes | Kw::Etb | Kw::Display => {
            Hit::SealedUnlessPromo
        }
        Kw::Box if next != Kw::Topper => Hit::SealedUnlessPromo,
        Kw::Pack | Kw::Packs
            if !matches!(next, Kw::Fresh | Kw::Pulled)
                && !matches!(
                    prev,
                    Kw::From | Kw::Pulled | Kw::Pull | Kw::Fresh | Kw::Opened
                ) =>
        {
            Hit::SealedUnlessPromo
        }
        Kw::Elite if next == Kw::Trainer => Hit::SealedUnlessPromo,
        Kw::Promo | Kw::Promos => Hit::Promo,
        _ => return None,
    })
}

/// More than one card: lots, sets, counts, and the buyer's choice among several.
fn several(t: &Tokens<'_>, i: usize, at: At) -> Option<Hit> {
    let At { kw, prev, next, .. } = at;
    Some(match kw {
        Kw::Lot | Kw::Lots | Kw::Bundle | Kw::Bundles | Kw::Bulk | Kw::Playset | Kw::Playsets => {
            Hit::Lot
        }
        Kw::Set | Kw::Sets
            if matches!(prev, Kw::Complete | Kw::Full | Kw::Master) || next == Kw::Of =>
        {
            Hit::Lot
        }
        Kw::Cards | Kw::Pcs | Kw::Pieces | Kw::Copies
            if i > 0 && digits_value(t.word(i - 1)).is_some_and(|v| v >= 2) =>
        {
            Hit::Lot
        }
        Kw::Choose | Kw::Choice | Kw::Choices | Kw::Upick => Hit::Choice,
        Kw::Pick
            if matches!(prev, Kw::You | Kw::U | Kw::To)
                || matches!(next, Kw::Your | Kw::From | Kw::Any | Kw::One) =>
        {
            Hit::Choice
        }
        Kw::Select if matches!(next, Kw::Your | Kw::From | Kw::Any) => Hit::Choice,
        _ => return None,
    })
}

/// Raw conditions: NM, LP, "lightly played", MP, HP (not "120 HP"), DMG.
fn condition(t: &Tokens<'_>, i: usize, at: At) -> Option<Hit> {
    let At {
        kw, next, negated, ..
    } = at;
    let c = match kw {
        Kw::Nm | Kw::Nmm => Cond::NearMint,
        Kw::Near if next == Kw::Mint => Cond::NearMint,
        Kw::Excellent if !negated => Cond::Excellent,
        Kw::Lp => Cond::LightlyPlayed,
        Kw::Light | Kw::Lightly | Kw::Slightly if next.is_played() => Cond::LightlyPlayed,
        Kw::Mp => Cond::ModeratelyPlayed,
        Kw::Moderately | Kw::Moderate if next.is_played() => Cond::ModeratelyPlayed,
        Kw::Hp if i == 0 || !is_digits(t.word(i - 1)) => Cond::HeavilyPlayed,
        Kw::Heavily | Kw::Heavy if next.is_played() => Cond::HeavilyPlayed,
        Kw::Dmg | Kw::Damaged if !negated => Cond::Damaged,
        _ => return None,
    };
    Some(Hit::Cond(c))
}

/// Printings: reverse holo, 1st Edition, Unlimited, non-foil, holo, foil, etched.
fn printing(at: At) -> Option<Hit> {
    let At { kw, prev, next, .. } = at;
    let bit = match kw {
        Kw::Reverse | Kw::Rev if is_holo(next) => print::REVERSE,
        Kw::Reverseholo | Kw::Revholo => print::REVERSE,
        Kw::OneSt | Kw::First if matches!(next, Kw::Edition | Kw::Ed | Kw::Edt) => print::FIRST,
        Kw::OneStEd | Kw::OneStEdition => print::FIRST,
        Kw::Unlimited | Kw::Unl => print::UNLIMITED,
        Kw::Non if is_holo(next) => print::NON_FOIL,
        Kw::Nonholo | Kw::Nonfoil => print::NON_FOIL,
        Kw::Holo | Kw::Holofoil if !matches!(prev, Kw::Reverse | Kw::Rev | Kw::Non) => print::HOLO,
        Kw::Foil | Kw::Foils if !matches!(prev, Kw::Reverse | Kw::Rev | Kw::Non | Kw::Etched) => {
            print::FOIL
        }
        Kw::Etched => print::ETCHED,
        _ => return None,
    };
    Some(Hit::Print(bit))
}

/// Scans the title. `target_has` says whether a word belongs to the tracked card's name or set
/// ("Pack Rat", "Booster Tutor", "Japanese Alternate Art"); such words are never keywords.
pub(crate) fn scan(t: &Tokens<'_>, target_has: &dyn Fn(&[u8]) -> bool) -> Scan {
    let mut s = Scan::default();
    for i in 0..t.len() {
        let Some(h) = hit(t, i) else {
            continue;
        };
        // Words of the card's own name or set are not keywords; "promo" only ever helps.
        if !matches!(h, Hit::Promo) && target_has(t.word(i)) {
            continue;
        }
        match h {
            Hit::NotGenuine => {
                s.not_genuine.get_or_insert(i);
            }
            Hit::EmptySlab => {
                s.empty_slab.get_or_insert(i);
            }
            Hit::Sealed => {
                s.sealed.get_or_insert(i);
            }
            Hit::SealedUnlessPromo => {
                s.sealed_unless_promo.get_or_insert(i);
            }
            Hit::Promo => s.promo = true,
            Hit::Lot => {
                s.lot.get_or_insert(i);
            }
            Hit::Choice => {
                s.choice.get_or_insert(i);
            }
            Hit::Lang(lang) => {
                s.langs |= lang.bit();
                s.lang_at[lang as usize].get_or_insert(i as u8);
            }
            Hit::Cond(c) => s.condition = Some(s.condition.map_or(c, |old| old.max(c))),
            Hit::Print(bit) => s.print |= bit,
        }
    }
    s
}

#[cfg(test)]
mod tests {
    use super::super::text::{MAX_TOKENS, STACK_TEXT, Scripts, TokenBuf, fold};
    use super::*;

    fn scanned(title: &str, target: &[&str]) -> Scan {
        let mut stack = [0u8; STACK_TEXT];
        let mut heap = Vec::new();
        let mut scripts = Scripts::default();
        let mut t_buf = TokenBuf::<MAX_TOKENS>::new();
        let t = t_buf.tokenize(fold(title, &mut stack, &mut heap, &mut scripts), true);
        scan(&t, &|w: &[u8]| target.iter().any(|x| x.as_bytes() == w))
    }

    #[test]
    fn rejection_words() {
        assert!(scanned("Charizard proxy card", &[]).not_genuine.is_some());
        assert!(
            scanned("Charizard Full Art Card", &[])
                .not_genuine
                .is_none()
        );
        assert!(scanned("Blue-Eyes art card", &[]).not_genuine.is_some());
        assert!(scanned("PTCGL code card", &[]).not_genuine.is_some());
        assert!(
            scanned("Charizard pack fresh NM", &[])
                .sealed_unless_promo
                .is_none()
        );
        assert!(
            scanned("Charizard booster pack", &[])
                .sealed_unless_promo
                .is_some()
        );
        assert!(
            scanned("Pack Rat foil", &["pack", "rat"])
                .sealed_unless_promo
                .is_none()
        );
        assert!(scanned("PSA 10 empty slab", &[]).empty_slab.is_some());
        assert!(scanned("lot of 4x Lightning Bolt", &[]).lot.is_some());
        assert!(scanned("Lightning Bolt x4", &[]).lot.is_some());
        assert!(scanned("Lightning Bolt x1", &[]).lot.is_none());
        assert!(scanned("Complete set 102/102", &[]).lot.is_some());
        assert!(scanned("Base Set Charizard", &[]).lot.is_none());
        assert!(scanned("Pokemon singles you pick", &[]).choice.is_some());
        assert!(scanned("Choose your card", &[]).choice.is_some());
    }

    #[test]
    fn languages_conditions_printings() {
        let s = scanned(
            "Pikachu Japanese not Korean NM/LP 1st Edition Reverse Holo",
            &[],
        );
        assert_eq!(s.langs, Lang::Ja.bit());
        assert_eq!(s.condition, Some(Cond::LightlyPlayed));
        assert_eq!(s.print, print::FIRST | print::REVERSE);
        assert_eq!(scanned("Charizard 120 HP Holo", &[]).condition, None);
        assert_eq!(
            scanned("Charizard HP", &[]).condition,
            Some(Cond::HeavilyPlayed)
        );
        assert_eq!(scanned("Sheoldred non-foil", &[]).print, print::NON_FOIL);
        assert_eq!(scanned("Japanese Alt Art", &["japanese"]).langs, 0);
    }
}
