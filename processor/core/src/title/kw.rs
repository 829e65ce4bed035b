//! The keyword vocabulary: every word a check looks for, as a [`Kw`], and the word classes the
//! checks ask about. A token is a keyword only when the whole token is one of the words in
//! [`words`]; [`lookup`] compares whole words, never a prefix.

mod words;

use std::sync::LazyLock;

use rustc_hash::FxHashMap;

#[cfg(test)]
mod tests;

/// The keyword spelled `w` (a whole folded token: lower-case ASCII letters and digits), or
/// `None` when `w` is no keyword.
pub(crate) fn lookup(w: &[u8]) -> Option<Kw> {
    INDEX.get(w).copied()
}

/// [`words::WORDS`] in a hash map with a cheaper hash than the perfect hash's SipHash: a title
/// looks up every one of its words (the list stays the `phf` map, whose build refuses a word
/// listed twice).
static INDEX: LazyLock<FxHashMap<&'static [u8], Kw>> =
    LazyLock::new(|| words::WORDS.entries().map(|(w, kw)| (*w, *kw)).collect());

impl Kw {
    /// Mechanic suffixes that make a Pokémon another card ("Charizard ex" ≠ "Charizard V").
    pub(crate) fn is_suffix(self) -> bool {
        matches!(
            self,
            Kw::Ex
                | Kw::Gx
                | Kw::V
                | Kw::Vmax
                | Kw::Vstar
                | Kw::Vunion
                | Kw::Break
                | Kw::Prime
                | Kw::Legend
                | Kw::Lv
                | Kw::Lvx
        )
    }

    /// Words before a name that make it another card ("Dark Charizard", "Radiant Charizard").
    pub(crate) fn is_prefix(self) -> bool {
        matches!(
            self,
            Kw::Dark
                | Kw::Light
                | Kw::Shining
                | Kw::Radiant
                | Kw::Galarian
                | Kw::Alolan
                | Kw::Hisuian
                | Kw::Paldean
                | Kw::Mega
                | Kw::Shadow
                | Kw::Crystal
        )
    }

    /// Words of a name that need not be in the title.
    pub(crate) fn is_stopword(self) -> bool {
        matches!(
            self,
            Kw::Of
                | Kw::The
                | Kw::A
                | Kw::An
                | Kw::And
                | Kw::To
                | Kw::In
                | Kw::On
                | Kw::From
                | Kw::For
                | Kw::With
                | Kw::At
                | Kw::By
        )
    }

    pub(crate) fn is_card(self) -> bool {
        matches!(self, Kw::Card | Kw::Cards)
    }

    pub(crate) fn is_played(self) -> bool {
        matches!(self, Kw::Played | Kw::Play)
    }

    pub(crate) fn is_negation(self) -> bool {
        matches!(self, Kw::Not | Kw::No | Kw::Non)
    }
}

/// Every word some check looks for (spelled in [`words`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u16)]
pub(crate) enum Kw {
    /// A token that is no keyword (never a value of [`lookup`]).
    None,
    Proxy,
    Proxies,
    Custom,
    Customs,
    Orica,
    Oricas,
    Orika,
    Replica,
    Fake,
    Fakes,
    Counterfeit,
    Reprint,
    Reproduction,
    Repro,
    Digital,
    Ptcgo,
    Ptcgl,
    Mtgo,
    Mtga,
    Unofficial,
    Fanart,
    Handmade,
    Plated,
    Codes,
    Altered,
    Fan,
    Art,
    Made,
    Code,
    Card,
    Cards,
    Live,
    Online,
    Unused,
    Tcg,
    Series,
    Metal,
    Gold,
    Full,
    Alt,
    Alternate,
    Alternative,
    Extended,
    Borderless,
    Special,
    Illustration,
    Secret,
    Rainbow,
    Textured,
    Showcase,
    Not,
    No,
    Non,
    Empty,
    Slab,
    Case,
    Label,
    Holder,
    Flip,
    Only,
    Sealed,
    Blister,
    Unopened,
    Booster,
    Boosters,
    Tin,
    Tins,
    Box,
    Boxes,
    Etb,
    Display,
    Topper,
    Pack,
    Packs,
    Fresh,
    Pulled,
    From,
    Pull,
    Opened,
    Elite,
    Trainer,
    Promo,
    Promos,
    Lot,
    Lots,
    Bundle,
    Bundles,
    Bulk,
    Playset,
    Playsets,
    Set,
    Sets,
    Complete,
    Master,
    Of,
    Pcs,
    Pieces,
    Copies,
    Choose,
    Choice,
    Choices,
    Upick,
    Pick,
    You,
    U,
    To,
    Your,
    Any,
    One,
    Select,
    Nm,
    Nmm,
    Near,
    Mint,
    Excellent,
    Lp,
    Light,
    Lightly,
    Slightly,
    Played,
    Play,
    Mp,
    Moderately,
    Moderate,
    Hp,
    Heavily,
    Heavy,
    Dmg,
    Damaged,
    Reverse,
    Rev,
    Holo,
    Holofoil,
    Foil,
    Foils,
    Reverseholo,
    Revholo,
    OneSt,
    First,
    Edition,
    Ed,
    Edt,
    OneStEd,
    OneStEdition,
    Unlimited,
    Unl,
    Nonholo,
    Nonfoil,
    Etched,
    English,
    Eng,
    Japanese,
    Jpn,
    Jp,
    Japan,
    Jap,
    Korean,
    Kor,
    Kr,
    Korea,
    Chinese,
    Chn,
    China,
    German,
    Deutsch,
    Deutsche,
    Ger,
    French,
    Francais,
    Fr,
    Fra,
    Italian,
    Italiano,
    Ita,
    Spanish,
    Espanol,
    Esp,
    Portuguese,
    Portugues,
    Russian,
    Psa,
    Bgs,
    Beckett,
    Cgc,
    Sgc,
    Tag,
    Ace,
    Hga,
    Gma,
    Mnt,
    Pca,
    Ags,
    Ksa,
    Ars,
    Team,
    Spec,
    Raw,
    Ungraded,
    Grading,
    Gradable,
    Gradeable,
    Candidate,
    Candidates,
    Graded,
    Slabbed,
    Encapsulated,
    Un,
    Gem,
    Mt,
    Gm,
    Gemmint,
    Gemmt,
    Grade,
    Pristine,
    Black,
    Bl,
    Perfect,
    Ready,
    Potential,
    Possible,
    Worthy,
    Quality,
    Material,
    Contender,
    Maybe,
    Likely,
    Prospect,
    Condition,
    Cond,
    Future,
    Could,
    Would,
    Should,
    Like,
    Vs,
    For,
    Submit,
    Send,
    Ex,
    Gx,
    V,
    Vmax,
    Vstar,
    Vunion,
    Break,
    Prime,
    Legend,
    Lv,
    Lvx,
    Dark,
    Shining,
    Radiant,
    Galarian,
    Alolan,
    Hisuian,
    Paldean,
    Mega,
    Shadow,
    Crystal,
    The,
    A,
    An,
    And,
    In,
    On,
    With,
    At,
    By,
    Shadowless,
    Jumbo,
    Oversized,
    Oversize,
    Retro,
    Celebrations,
    Classic,
    Collection,
    TwentyFifth,
    Anniversary,
    Legendary,
    Base,
}
