//! The keyword table: every word a check looks for, found with one hash probe per token.
//!
//! Words are keyed by [`key`]: the bytes themselves for words up to 8 bytes, the first 7 bytes
//! plus the length for longer ones. The open-addressing table is built at compile time (a
//! duplicate word fails the build).

/// A word's key: exact for words up to 8 bytes; longer words keep their first 7 bytes and their
/// length (two long words sharing both would collide; none of the keywords do).
pub(crate) const fn key(w: &[u8]) -> u64 {
    let long = w.len() > 8;
    let n = if long { 7 } else { w.len() };
    let mut k = 0u64;
    let mut i = 0;
    while i < n {
        k |= (w[i] as u64) << (8 * i);
        i += 1;
    }
    if long {
        k |= ((0x80 | (w.len() & 0x7f)) as u64) << 56;
    }
    k
}

const TABLE_BITS: u32 = 10;
const TABLE_SIZE: usize = 1 << TABLE_BITS;

const fn slot(k: u64) -> usize {
    (k.wrapping_mul(0x9e37_79b9_7f4a_7c15) >> (64 - TABLE_BITS)) as usize
}

const fn build(entries: &[(&[u8], Kw)]) -> ([u64; TABLE_SIZE], [Kw; TABLE_SIZE]) {
    let mut keys = [0u64; TABLE_SIZE];
    let mut kws = [Kw::None; TABLE_SIZE];
    let mut i = 0;
    while i < entries.len() {
        let k = key(entries[i].0);
        let mut s = slot(k);
        while keys[s] != 0 {
            if keys[s] == k {
                panic!("duplicate keyword");
            }
            s = (s + 1) & (TABLE_SIZE - 1);
        }
        keys[s] = k;
        kws[s] = entries[i].1;
        i += 1;
    }
    (keys, kws)
}

const TABLE: ([u64; TABLE_SIZE], [Kw; TABLE_SIZE]) = build(ENTRIES);
static KEYS: [u64; TABLE_SIZE] = TABLE.0;
static KWS: [Kw; TABLE_SIZE] = TABLE.1;

/// The keyword with this key, or `Kw::None`.
pub(crate) fn lookup(k: u64) -> Kw {
    if k == 0 {
        return Kw::None;
    }
    let mut s = slot(k);
    loop {
        let entry = KEYS[s];
        if entry == k {
            return KWS[s];
        }
        if entry == 0 {
            return Kw::None;
        }
        s = (s + 1) & (TABLE_SIZE - 1);
    }
}

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

/// Every word some check looks for; `None` for all others.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u16)]
pub(crate) enum Kw {
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
}

const ENTRIES: &[(&[u8], Kw)] = &[
    (b"proxy", Kw::Proxy),
    (b"proxies", Kw::Proxies),
    (b"custom", Kw::Custom),
    (b"customs", Kw::Customs),
    (b"orica", Kw::Orica),
    (b"oricas", Kw::Oricas),
    (b"orika", Kw::Orika),
    (b"replica", Kw::Replica),
    (b"fake", Kw::Fake),
    (b"fakes", Kw::Fakes),
    (b"counterfeit", Kw::Counterfeit),
    (b"reprint", Kw::Reprint),
    (b"reproduction", Kw::Reproduction),
    (b"repro", Kw::Repro),
    (b"digital", Kw::Digital),
    (b"ptcgo", Kw::Ptcgo),
    (b"ptcgl", Kw::Ptcgl),
    (b"mtgo", Kw::Mtgo),
    (b"mtga", Kw::Mtga),
    (b"unofficial", Kw::Unofficial),
    (b"fanart", Kw::Fanart),
    (b"handmade", Kw::Handmade),
    (b"plated", Kw::Plated),
    (b"codes", Kw::Codes),
    (b"altered", Kw::Altered),
    (b"fan", Kw::Fan),
    (b"art", Kw::Art),
    (b"made", Kw::Made),
    (b"code", Kw::Code),
    (b"card", Kw::Card),
    (b"cards", Kw::Cards),
    (b"live", Kw::Live),
    (b"online", Kw::Online),
    (b"unused", Kw::Unused),
    (b"tcg", Kw::Tcg),
    (b"series", Kw::Series),
    (b"metal", Kw::Metal),
    (b"gold", Kw::Gold),
    (b"full", Kw::Full),
    (b"alt", Kw::Alt),
    (b"alternate", Kw::Alternate),
    (b"alternative", Kw::Alternative),
    (b"extended", Kw::Extended),
    (b"borderless", Kw::Borderless),
    (b"special", Kw::Special),
    (b"illustration", Kw::Illustration),
    (b"secret", Kw::Secret),
    (b"rainbow", Kw::Rainbow),
    (b"textured", Kw::Textured),
    (b"showcase", Kw::Showcase),
    (b"not", Kw::Not),
    (b"no", Kw::No),
    (b"non", Kw::Non),
    (b"empty", Kw::Empty),
    (b"slab", Kw::Slab),
    (b"case", Kw::Case),
    (b"label", Kw::Label),
    (b"holder", Kw::Holder),
    (b"flip", Kw::Flip),
    (b"only", Kw::Only),
    (b"sealed", Kw::Sealed),
    (b"blister", Kw::Blister),
    (b"unopened", Kw::Unopened),
    (b"booster", Kw::Booster),
    (b"boosters", Kw::Boosters),
    (b"tin", Kw::Tin),
    (b"tins", Kw::Tins),
    (b"box", Kw::Box),
    (b"boxes", Kw::Boxes),
    (b"etb", Kw::Etb),
    (b"display", Kw::Display),
    (b"topper", Kw::Topper),
    (b"pack", Kw::Pack),
    (b"packs", Kw::Packs),
    (b"fresh", Kw::Fresh),
    (b"pulled", Kw::Pulled),
    (b"from", Kw::From),
    (b"pull", Kw::Pull),
    (b"opened", Kw::Opened),
    (b"elite", Kw::Elite),
    (b"trainer", Kw::Trainer),
    (b"promo", Kw::Promo),
    (b"promos", Kw::Promos),
    (b"lot", Kw::Lot),
    (b"lots", Kw::Lots),
    (b"bundle", Kw::Bundle),
    (b"bundles", Kw::Bundles),
    (b"bulk", Kw::Bulk),
    (b"playset", Kw::Playset),
    (b"playsets", Kw::Playsets),
    (b"set", Kw::Set),
    (b"sets", Kw::Sets),
    (b"complete", Kw::Complete),
    (b"master", Kw::Master),
    (b"of", Kw::Of),
    (b"pcs", Kw::Pcs),
    (b"pieces", Kw::Pieces),
    (b"copies", Kw::Copies),
    (b"choose", Kw::Choose),
    (b"choice", Kw::Choice),
    (b"choices", Kw::Choices),
    (b"upick", Kw::Upick),
    (b"pick", Kw::Pick),
    (b"you", Kw::You),
    (b"u", Kw::U),
    (b"to", Kw::To),
    (b"your", Kw::Your),
    (b"any", Kw::Any),
    (b"one", Kw::One),
    (b"select", Kw::Select),
    (b"nm", Kw::Nm),
    (b"nmm", Kw::Nmm),
    (b"near", Kw::Near),
    (b"mint", Kw::Mint),
    (b"excellent", Kw::Excellent),
    (b"lp", Kw::Lp),
    (b"light", Kw::Light),
    (b"lightly", Kw::Lightly),
    (b"slightly", Kw::Slightly),
    (b"played", Kw::Played),
    (b"play", Kw::Play),
    (b"mp", Kw::Mp),
    (b"moderately", Kw::Moderately),
    (b"moderate", Kw::Moderate),
    (b"hp", Kw::Hp),
    (b"heavily", Kw::Heavily),
    (b"heavy", Kw::Heavy),
    (b"dmg", Kw::Dmg),
    (b"damaged", Kw::Damaged),
    (b"reverse", Kw::Reverse),
    (b"rev", Kw::Rev),
    (b"holo", Kw::Holo),
    (b"holofoil", Kw::Holofoil),
    (b"foil", Kw::Foil),
    (b"foils", Kw::Foils),
    (b"reverseholo", Kw::Reverseholo),
    (b"revholo", Kw::Revholo),
    (b"1st", Kw::OneSt),
    (b"first", Kw::First),
    (b"edition", Kw::Edition),
    (b"ed", Kw::Ed),
    (b"edt", Kw::Edt),
    (b"1sted", Kw::OneStEd),
    (b"1stedition", Kw::OneStEdition),
    (b"unlimited", Kw::Unlimited),
    (b"unl", Kw::Unl),
    (b"nonholo", Kw::Nonholo),
    (b"nonfoil", Kw::Nonfoil),
    (b"etched", Kw::Etched),
    (b"english", Kw::English),
    (b"eng", Kw::Eng),
    (b"japanese", Kw::Japanese),
    (b"jpn", Kw::Jpn),
    (b"jp", Kw::Jp),
    (b"japan", Kw::Japan),
    (b"jap", Kw::Jap),
    (b"korean", Kw::Korean),
    (b"kor", Kw::Kor),
    (b"kr", Kw::Kr),
    (b"korea", Kw::Korea),
    (b"chinese", Kw::Chinese),
    (b"chn", Kw::Chn),
    (b"china", Kw::China),
    (b"german", Kw::German),
    (b"deutsch", Kw::Deutsch),
    (b"deutsche", Kw::Deutsche),
    (b"ger", Kw::Ger),
    (b"french", Kw::French),
    (b"francais", Kw::Francais),
    (b"fr", Kw::Fr),
    (b"fra", Kw::Fra),
    (b"italian", Kw::Italian),
    (b"italiano", Kw::Italiano),
    (b"ita", Kw::Ita),
    (b"spanish", Kw::Spanish),
    (b"espanol", Kw::Espanol),
    (b"esp", Kw::Esp),
    (b"portuguese", Kw::Portuguese),
    (b"portugues", Kw::Portugues),
    (b"russian", Kw::Russian),
    (b"psa", Kw::Psa),
    (b"bgs", Kw::Bgs),
    (b"beckett", Kw::Beckett),
    (b"cgc", Kw::Cgc),
    (b"sgc", Kw::Sgc),
    (b"tag", Kw::Tag),
    (b"ace", Kw::Ace),
    (b"hga", Kw::Hga),
    (b"gma", Kw::Gma),
    (b"mnt", Kw::Mnt),
    (b"pca", Kw::Pca),
    (b"ags", Kw::Ags),
    (b"ksa", Kw::Ksa),
    (b"ars", Kw::Ars),
    (b"team", Kw::Team),
    (b"spec", Kw::Spec),
    (b"raw", Kw::Raw),
    (b"ungraded", Kw::Ungraded),
    (b"grading", Kw::Grading),
    (b"gradable", Kw::Gradable),
    (b"gradeable", Kw::Gradeable),
    (b"candidate", Kw::Candidate),
    (b"candidates", Kw::Candidates),
    (b"graded", Kw::Graded),
    (b"slabbed", Kw::Slabbed),
    (b"encapsulated", Kw::Encapsulated),
    (b"un", Kw::Un),
    (b"gem", Kw::Gem),
    (b"mt", Kw::Mt),
    (b"gm", Kw::Gm),
    (b"gemmint", Kw::Gemmint),
    (b"gemmt", Kw::Gemmt),
    (b"grade", Kw::Grade),
    (b"pristine", Kw::Pristine),
    (b"black", Kw::Black),
    (b"bl", Kw::Bl),
    (b"perfect", Kw::Perfect),
    (b"ready", Kw::Ready),
    (b"potential", Kw::Potential),
    (b"possible", Kw::Possible),
    (b"worthy", Kw::Worthy),
    (b"quality", Kw::Quality),
    (b"material", Kw::Material),
    (b"contender", Kw::Contender),
    (b"maybe", Kw::Maybe),
    (b"likely", Kw::Likely),
    (b"prospect", Kw::Prospect),
    (b"condition", Kw::Condition),
    (b"cond", Kw::Cond),
    (b"future", Kw::Future),
    (b"could", Kw::Could),
    (b"would", Kw::Would),
    (b"should", Kw::Should),
    (b"like", Kw::Like),
    (b"vs", Kw::Vs),
    (b"for", Kw::For),
    (b"submit", Kw::Submit),
    (b"send", Kw::Send),
    (b"ex", Kw::Ex),
    (b"gx", Kw::Gx),
    (b"v", Kw::V),
    (b"vmax", Kw::Vmax),
    (b"vstar", Kw::Vstar),
    (b"vunion", Kw::Vunion),
    (b"break", Kw::Break),
    (b"prime", Kw::Prime),
    (b"legend", Kw::Legend),
    (b"lv", Kw::Lv),
    (b"lvx", Kw::Lvx),
    (b"dark", Kw::Dark),
    (b"shining", Kw::Shining),
    (b"radiant", Kw::Radiant),
    (b"galarian", Kw::Galarian),
    (b"alolan", Kw::Alolan),
    (b"hisuian", Kw::Hisuian),
    (b"paldean", Kw::Paldean),
    (b"mega", Kw::Mega),
    (b"shadow", Kw::Shadow),
    (b"crystal", Kw::Crystal),
    (b"the", Kw::The),
    (b"a", Kw::A),
    (b"an", Kw::An),
    (b"and", Kw::And),
    (b"in", Kw::In),
    (b"on", Kw::On),
    (b"with", Kw::With),
    (b"at", Kw::At),
    (b"by", Kw::By),
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_entry_is_found_and_others_are_not() {
        for (word, kw) in ENTRIES {
            assert_eq!(lookup(key(word)), *kw, "{}", String::from_utf8_lossy(word));
        }
        for other in [
            &b"charizard"[..],
            b"pokemon",
            b"199",
            b"",
            b"proxyy",
            b"reproductive!",
        ] {
            assert_eq!(
                lookup(key(other)),
                Kw::None,
                "{}",
                String::from_utf8_lossy(other)
            );
        }
    }

    #[test]
    fn keys_tell_lengths_apart() {
        assert_ne!(key(b"candidate"), key(b"candidates"));
        assert_ne!(key(b"abcdefgh"), key(b"abcdefghi"));
    }
}
