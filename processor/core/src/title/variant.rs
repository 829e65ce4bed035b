//! Products TCGplayer lists apart under one card name and number, told apart by the catalog's
//! own words for them: the product name's `(Showcase)`, `(Borderless)`, `(Extended Art)`,
//! `(Retro Frame)`, `(Jumbo)`; the set's `Base Set (Shadowless)`, `Celebrations: Classic
//! Collection`, `Base Set 2`, `Legendary Collection`; the printing (1st Edition).
//!
//! The tracked card's catalog fields say which of these products it **is**; a title naming
//! another (a Shadowless copy for the Base Set card, the Celebrations reprint for the 1999 one,
//! a jumbo card, a Showcase frame for the plain one) is another product; a title that does not
//! name a distinction the card **must** show (Shadowless, Jumbo, a Magic treatment, the Classic
//! Collection reprint) is too ambiguous to price: sellers always say them, so a title without
//! them is most likely the plain product.
//!
//! Base Set: TCGplayer keeps the 1st Edition and Shadowless prints in `Base Set (Shadowless)`,
//! so a card of the set named exactly `Base Set` is the Unlimited print, and a 1st Edition is
//! always Shadowless.

use tcg_schemas::Printing;

use super::kw::Kw;
use super::scan::print;
use super::text::Tokens;

/// Distinctions (bit flags).
pub(super) mod mark {
    pub(crate) const SHADOWLESS: u16 = 1;
    pub(crate) const JUMBO: u16 = 1 << 1;
    pub(crate) const SHOWCASE: u16 = 1 << 2;
    pub(crate) const BORDERLESS: u16 = 1 << 3;
    pub(crate) const EXTENDED: u16 = 1 << 4;
    pub(crate) const RETRO: u16 = 1 << 5;
    /// "Celebrations" (the 2021 set and its Classic Collection).
    pub(crate) const CELEBRATIONS: u16 = 1 << 6;
    /// "Classic Collection": Celebrations' reprints of old cards under their old numbers.
    pub(crate) const CLASSIC: u16 = 1 << 7;
    pub(crate) const ANNIVERSARY_25: u16 = 1 << 8;
    pub(crate) const BASE_SET_2: u16 = 1 << 9;
    pub(crate) const LEGENDARY: u16 = 1 << 10;
    /// Distinctions a title must state for the card that has them.
    pub(crate) const MUST_STATE: u16 =
        SHADOWLESS | JUMBO | SHOWCASE | BORDERLESS | EXTENDED | RETRO | CLASSIC;
}

/// How a distinction is written in answers.
fn mark_name(bit: u16) -> &'static str {
    match bit {
        mark::SHADOWLESS => "Shadowless",
        mark::JUMBO => "Jumbo",
        mark::SHOWCASE => "Showcase",
        mark::BORDERLESS => "Borderless",
        mark::EXTENDED => "Extended Art",
        mark::RETRO => "Retro Frame",
        mark::CELEBRATIONS => "Celebrations",
        mark::CLASSIC => "Classic Collection",
        mark::ANNIVERSARY_25 => "25th Anniversary",
        mark::BASE_SET_2 => "Base Set 2",
        _ => "Legendary Collection",
    }
}

/// The first distinction among `bits`.
fn first(bits: u16) -> &'static str {
    mark_name(1 << bits.trailing_zeros())
}

/// The distinction token `i` starts, if any.
fn mark_at(t: &Tokens<'_>, i: usize) -> u16 {
    let next = t.kw(i + 1);
    match t.kw(i) {
        Kw::Shadowless => mark::SHADOWLESS,
        Kw::Jumbo | Kw::Oversized | Kw::Oversize => mark::JUMBO,
        Kw::Showcase => mark::SHOWCASE,
        Kw::Borderless => mark::BORDERLESS,
        Kw::Extended if next == Kw::Art => mark::EXTENDED,
        Kw::Retro => mark::RETRO,
        Kw::Celebrations => mark::CELEBRATIONS,
        Kw::Classic if next == Kw::Collection => mark::CLASSIC | mark::CELEBRATIONS,
        Kw::TwentyFifth if next == Kw::Anniversary => mark::ANNIVERSARY_25,
        Kw::Legendary if next == Kw::Collection => mark::LEGENDARY,
        Kw::Base if base_set_2(t, i) => mark::BASE_SET_2,
        _ => 0,
    }
}

/// "Base Set 2" (or "Base 2"), not "Base Set 2/102" (a card number).
fn base_set_2(t: &Tokens<'_>, i: usize) -> bool {
    let two = if t.kw(i + 1) == Kw::Set { i + 2 } else { i + 1 };
    t.is(two, b"2") && !t.joined(two + 1, b'/')
}

/// Every distinction in `t`, skipping tokens `skip` says belong to the card's own name.
pub(super) fn marks(t: &Tokens<'_>, skip: &dyn Fn(&[u8]) -> bool) -> u16 {
    let mut out = 0;
    for i in 0..t.len() {
        if t.kw(i) != Kw::None && !skip(t.word(i)) {
            out |= mark_at(t, i);
        }
    }
    out
}

/// Which product the tracked card is.
#[derive(Debug, Clone, Copy)]
pub(super) struct Variant {
    /// Distinctions the card has (a title may name them).
    is: u16,
    /// Distinctions a title must name.
    must: u16,
    /// The card is of TCGplayer's `Base Set`: the Unlimited print.
    base_unlimited: bool,
    /// The card is of `Base Set (Shadowless)`.
    shadowless_set: bool,
    first_edition: bool,
}

/// The tracked card's product from its catalog name, its set's name and its printing.
pub(super) fn of_target(name: &Tokens<'_>, set: &Tokens<'_>, printing: &Printing) -> Variant {
    let none = |_: &[u8]| false;
    let from_set = marks(set, &none);
    let mut is = marks(name, &none) | from_set;
    let must = is & mark::MUST_STATE;
    let first_edition = matches!(
        printing,
        Printing::FirstEdition | Printing::FirstEditionHolofoil | Printing::FirstEditionNormal
    );
    let base_unlimited = set.len() == 2 && set.is(0, b"base") && set.is(1, b"set");
    if is & mark::CELEBRATIONS != 0 {
        // Celebrations is the 25th anniversary set: its listings say so.
        is |= mark::ANNIVERSARY_25;
    }
    if first_edition {
        // WOTC's 1st Edition Base Set cards were all printed without the shadow.
        is |= mark::SHADOWLESS;
    }
    Variant {
        is,
        must,
        base_unlimited,
        shadowless_set: from_set & mark::SHADOWLESS != 0,
        first_edition,
    }
}

/// What a title's distinctions say about the tracked card's product.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum VariantCheck {
    Agrees,
    /// The title names another product.
    Foreign(&'static str),
    /// The title does not name a distinction the card must show.
    Lacks(&'static str),
}

/// Checks the title's distinctions (`seen`) and printing words (`print` flags).
pub(super) fn check(v: &Variant, seen: u16, print: u8) -> VariantCheck {
    let says = |bit: u8| print & bit != 0;
    let foreign = seen & !v.is;
    if foreign != 0 {
        return VariantCheck::Foreign(first(foreign));
    }
    let old_base = v.base_unlimited || v.shadowless_set;
    if old_base && !v.first_edition && says(print::FIRST) {
        return VariantCheck::Foreign("1st Edition");
    }
    if v.shadowless_set && says(print::UNLIMITED) && seen & mark::SHADOWLESS == 0 {
        return VariantCheck::Foreign("Unlimited");
    }
    if v.shadowless_set && v.first_edition && seen & mark::SHADOWLESS != 0 && !says(print::FIRST) {
        return VariantCheck::Foreign("Shadowless without 1st Edition");
    }
    // A 1st Edition says Shadowless by itself; "Celebrations" says which Classic Collection.
    let mut stated = seen;
    if v.first_edition && says(print::FIRST) {
        stated |= mark::SHADOWLESS;
    }
    if seen & mark::CELEBRATIONS != 0 {
        stated |= mark::CLASSIC;
    }
    match v.must & !stated {
        0 => VariantCheck::Agrees,
        missing => VariantCheck::Lacks(first(missing)),
    }
}
