//! Card names: which words of the tracked card's name the title has.
//!
//! The name is split into core words ("charizard"), mechanic suffixes that make it another card
//! ("ex", "V", "VMAX", "GX": "Charizard ex" is not "Charizard V"), a subtitle after " - "
//! (Lorcana "Elsa - Spirit of Winter") and optional words in parentheses ("(Secret)"). A
//! subtitle holding digits ("Charizard ex - 199/165", TCGplayer's way to tell variants apart) is
//! ignored: the number is checked on its own.

use super::kw::Kw;
use super::text::{Tokens, is_digits, within_one_edit};

const MAX_WORDS: usize = 16;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Role {
    Core,
    Suffix,
    Sub,
    Optional,
}

/// The tracked card's name, split into roles.
#[derive(Debug)]
pub(crate) struct NameWords<'a> {
    words: [(&'a [u8], Role); MAX_WORDS],
    len: usize,
}

impl<'a> NameWords<'a> {
    pub(crate) fn new(t: &Tokens<'a>) -> NameWords<'a> {
        let mut words: [(&'a [u8], Role); MAX_WORDS] = [(&[], Role::Optional); MAX_WORDS];
        let mut len = 0;
        let mut depth = 0i32;
        let mut in_sub = false;
        let mut sub_has_digits = false;
        for i in 0..t.len() {
            let gap = t.gap_before(i);
            for &b in gap {
                match b {
                    b'(' => depth += 1,
                    b')' => depth -= 1,
                    _ => {}
                }
            }
            if depth <= 0 && i > 0 && gap.contains(&b'-') && gap.contains(&b' ') {
                in_sub = true;
            }
            let w = t.word(i);
            let role = if depth > 0 {
                Role::Optional
            } else if in_sub {
                sub_has_digits |= w.iter().any(u8::is_ascii_digit);
                Role::Sub
            } else if t.kw(i).is_suffix() {
                Role::Suffix
            } else if is_digits(w) {
                Role::Optional
            } else {
                Role::Core
            };
            if t.kw(i).is_stopword() && role != Role::Optional {
                continue;
            }
            if len < MAX_WORDS {
                words[len] = (w, role);
                len += 1;
            }
        }
        let mut out = NameWords { words, len };
        let has_long_core = out.iter().any(|(w, r)| r == Role::Core && w.len() > 1);
        for (w, role) in &mut out.words[..len] {
            if *role == Role::Sub && sub_has_digits {
                *role = Role::Optional;
            }
            // Single letters ("Monkey D. Luffy") are optional unless they are all there is ("N").
            if *role == Role::Core && w.len() == 1 && has_long_core {
                *role = Role::Optional;
            }
        }
        out
    }

    fn iter(&self) -> impl Iterator<Item = (&'a [u8], Role)> + '_ {
        self.words[..self.len].iter().copied()
    }

    /// True when `w` is any word of the name.
    pub(crate) fn has(&self, w: &[u8]) -> bool {
        self.iter().any(|(x, _)| x == w)
    }

    /// True when `w` is a word of the name itself: not of its parentheses or its number.
    pub(crate) fn names(&self, w: &[u8]) -> bool {
        self.iter().any(|(x, r)| x == w && r != Role::Optional)
    }

    /// True when title token `j` is any word of the name.
    fn has_token(&self, t: &Tokens<'_>, j: usize) -> bool {
        self.iter().any(|(x, _)| t.is(j, x))
    }
}

/// How well the title names the card.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct NameMatch {
    pub core_total: u8,
    pub core_hit: u8,
    pub sub_total: u8,
    pub sub_hit: u8,
    /// Core words matched only with one typo ("Charzard").
    pub typos: u8,
    /// A suffix of the name the title lacks ("ex" of "Charizard ex").
    pub missing_suffix: Option<&'static str>,
    /// Title token of a suffix or prefix that makes it another card ("V" after "Charizard").
    pub foreign: Option<usize>,
}

/// Which level of match.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Level {
    /// Every core and subtitle word.
    Full,
    /// Every core word, not all of the subtitle.
    Partial,
    /// At least half of the core words.
    Weak,
    /// Fewer.
    None,
}

impl NameMatch {
    pub(crate) fn level(&self) -> Level {
        if self.core_hit == 0 || self.core_hit * 2 < self.core_total {
            Level::None
        } else if self.core_hit < self.core_total {
            Level::Weak
        } else if self.sub_hit < self.sub_total {
            Level::Partial
        } else {
            Level::Full
        }
    }
}

fn static_suffix(w: &[u8]) -> &'static str {
    match w {
        b"ex" => "ex",
        b"gx" => "GX",
        b"v" => "V",
        b"vmax" => "VMAX",
        b"vstar" => "VSTAR",
        b"vunion" => "V-UNION",
        b"break" => "BREAK",
        b"prime" => "Prime",
        b"legend" => "LEGEND",
        _ => "LV.X",
    }
}

/// Matches the name against the title. Tokens in `excluded` (a bit per token: the set's full
/// name, which may hold the card's name — "Blue-Eyes White Dragon" in "Legend of Blue Eyes White
/// Dragon") do not count as naming the card.
pub(crate) fn match_name(name: &NameWords<'_>, t: &Tokens<'_>, excluded: u64) -> NameMatch {
    let mut out = NameMatch::default();
    let free = |j: usize| excluded & (1 << j) == 0;
    // Title tokens matched by core or subtitle words.
    let mut matched: u64 = 0;
    let mut skip_next = false;
    let words = &name.words[..name.len];
    for (k, &(w, role)) in words.iter().enumerate() {
        if skip_next {
            skip_next = false;
            continue;
        }
        match role {
            Role::Optional => continue,
            Role::Core => out.core_total += 1,
            Role::Sub => out.sub_total += 1,
            Role::Suffix => {}
        }
        let mut hit = false;
        // The same word.
        for j in 0..t.len() {
            if free(j) && t.is(j, w) {
                matched |= 1 << j;
                hit = true;
            }
        }
        // Two name words written as one ("Ho-Oh" → "HoOh").
        if !hit
            && let Some(&(next, next_role)) = words.get(k + 1)
            && next_role != Role::Optional
        {
            for j in 0..t.len() {
                let tw = t.word(j);
                if free(j)
                    && tw.len() == w.len() + next.len()
                    && tw.starts_with(w)
                    && tw.ends_with(next)
                {
                    matched |= 1 << j;
                    hit = true;
                    skip_next = true;
                    if next_role == Role::Core {
                        out.core_total += 1;
                        out.core_hit += 1;
                    }
                }
            }
        }
        // One name word written as two ("Mew two").
        if !hit && w.len() >= 4 {
            for j in 1..t.len() {
                let (a, b) = (t.word(j - 1), t.word(j));
                if free(j - 1)
                    && free(j)
                    && a.len() + b.len() == w.len()
                    && w.starts_with(a)
                    && w.ends_with(b)
                {
                    matched |= 3 << (j - 1);
                    hit = true;
                }
            }
        }
        // One typo in a long word ("Charzard").
        if !hit && role != Role::Suffix && w.len() >= 6 {
            for j in 0..t.len() {
                let tw = t.word(j);
                if free(j) && tw.len() >= 5 && within_one_edit(w, tw) {
                    matched |= 1 << j;
                    hit = true;
                    out.typos += 1;
                    break;
                }
            }
        }
        match (role, hit) {
            (Role::Core, true) => out.core_hit += 1,
            (Role::Sub, true) => out.sub_hit += 1,
            (Role::Suffix, false) => {
                out.missing_suffix.get_or_insert(static_suffix(w));
            }
            _ => {}
        }
    }
    out.foreign = foreign(name, t, matched);
    out
}

/// The first title token that is a suffix right after, or a prefix right before, a matched name
/// word (a bit each in `matched`) and is no word of the name ("V" in "Charizard V").
fn foreign(name: &NameWords<'_>, t: &Tokens<'_>, matched: u64) -> Option<usize> {
    (0..t.len()).find(|&j| {
        let kw = t.kw(j);
        if kw == Kw::None || !(kw.is_suffix() || kw.is_prefix()) || name.has_token(t, j) {
            return false;
        }
        let after_name = j > 0 && matched & (1 << (j - 1)) != 0;
        let before_name = j + 1 < t.len() && matched & (1 << (j + 1)) != 0;
        (kw.is_suffix() && after_name) || (kw.is_prefix() && before_name)
    })
}

#[cfg(test)]
mod tests {
    use super::super::text::{MAX_TOKENS, STACK_TEXT, Scripts, TokenBuf, fold};
    use super::*;

    fn check(name: &str, title: &str) -> NameMatch {
        let mut s1 = [0u8; STACK_TEXT];
        let mut h1 = Vec::new();
        let mut s2 = [0u8; STACK_TEXT];
        let mut h2 = Vec::new();
        let mut scripts = Scripts::default();
        let mut n_buf = TokenBuf::<MAX_TOKENS>::new();
        let n = n_buf.tokenize(fold(name, &mut s1, &mut h1, &mut scripts), true);
        let mut t_buf = TokenBuf::<MAX_TOKENS>::new();
        let t = t_buf.tokenize(fold(title, &mut s2, &mut h2, &mut scripts), true);
        match_name(&NameWords::new(&n), &t, 0)
    }

    #[test]
    fn full_matches() {
        for (name, title) in [
            ("Charizard ex", "Pokemon CHARIZARD EX 199/165"),
            ("Flabébé", "Flabebe 123/100"),
            ("Farfetch'd", "Farfetchd 27/102"),
            ("Ho-Oh", "HoOh Holo Neo Revelation"),
            ("Ho-Oh", "Ho Oh"),
            ("Sheoldred, the Apocalypse", "Sheoldred the Apocalypse DMU"),
            ("Charizard ex - 199/165", "Charizard ex SIR"),
            ("Monkey.D.Luffy", "Monkey D Luffy OP05-119"),
            ("Pikachu (Secret)", "Pikachu SV 151"),
            ("Elsa - Spirit of Winter", "Elsa Spirit of Winter Enchanted"),
        ] {
            let m = check(name, title);
            assert_eq!(m.level(), Level::Full, "{name} / {title}: {m:?}");
            assert_eq!(m.typos, 0);
            assert_eq!(m.missing_suffix, None);
            assert_eq!(m.foreign, None, "{name} / {title}");
        }
    }

    #[test]
    fn suffixes_make_another_card() {
        let m = check("Charizard ex", "Charizard V 079/073");
        assert_eq!(m.missing_suffix, Some("ex"));
        assert!(m.foreign.is_some());
        let m = check("Charizard V", "Charizard VMAX");
        assert!(m.foreign.is_some() && m.missing_suffix == Some("V"));
        assert!(check("Charizard", "Dark Charizard 4/82").foreign.is_some());
        assert!(check("Charizard", "Radiant Charizard").foreign.is_some());
        assert!(check("Dark Charizard", "Dark Charizard").foreign.is_none());
    }

    #[test]
    fn typos_and_partials() {
        let m = check("Charizard", "Charzard Base Set");
        assert_eq!((m.level(), m.typos), (Level::Full, 1));
        assert_eq!(check("Mew", "Mewtwo").level(), Level::None);
        assert_eq!(check("Pikachu", "Pichu").level(), Level::None);
        assert_eq!(
            check("Elsa - Spirit of Winter", "Elsa Enchanted 207/204").level(),
            Level::Partial
        );
        assert_eq!(
            check("Blue-Eyes White Dragon", "Blue-Eyes Dragon LOB").level(),
            Level::Weak
        );
        assert_eq!(
            check("Blue-Eyes White Dragon", "Dark Magician").level(),
            Level::None
        );
    }
}
