//! Card numbers: `199/165`, `#4/102`, `004/102`, `TG12/TG30`, `FL1-EN003`, `LOB-001`,
//! `OP05-119`, `SWSH050`, `SVP 085`, Magic collector numbers (`107`, `123a`).

use super::grade::is_grader_word;
#[cfg(test)]
use super::text::{MAX_TOKENS, STACK_TEXT};
use super::text::{Scripts, TokenBuf, Tokens, digits_value, fold, is_digits, is_letters};

/// A short inline string (prefixes, set codes, region codes); longer input is cut.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Small {
    bytes: [u8; 8],
    len: u8,
}

impl Small {
    pub(crate) fn new(s: &[u8]) -> Small {
        let mut out = Small::default();
        out.push(s);
        out
    }

    fn push(&mut self, s: &[u8]) {
        for &b in s {
            if let Some(slot) = self.bytes.get_mut(self.len as usize) {
                *slot = b;
                self.len += 1;
            }
        }
    }

    pub(crate) fn as_bytes(&self) -> &[u8] {
        &self.bytes[..self.len as usize]
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.len == 0
    }
}

/// One number part: leading letters, a value, trailing letters (`TG12`, `177a`, `EN003`).
/// Leading zeros do not matter: `004` is `4`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Part {
    pub prefix: Small,
    pub value: u32,
    pub suffix: Small,
    /// How many digits were written (`003` has 3).
    pub digits: u8,
}

impl Part {
    /// Same number, however many leading zeros were written.
    pub(crate) fn same(&self, other: &Part) -> bool {
        self.prefix == other.prefix && self.value == other.value && self.suffix == other.suffix
    }
}

/// Parses `letters* digits{1,6} letters{0,3}`.
pub(crate) fn parse_part(w: &[u8]) -> Option<Part> {
    let letters = w.iter().take_while(|b| b.is_ascii_lowercase()).count();
    let digits = w[letters..]
        .iter()
        .take_while(|b| b.is_ascii_digit())
        .count();
    let rest = &w[letters + digits..];
    if digits == 0
        || digits > 6
        || letters > 8
        || rest.len() > 3
        || !rest.iter().all(u8::is_ascii_lowercase)
    {
        return None;
    }
    Some(Part {
        prefix: Small::new(&w[..letters]),
        value: digits_value(&w[letters..letters + digits])?,
        suffix: Small::new(rest),
        digits: digits as u8,
    })
}

/// A tracked card's number.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum CardNo {
    /// `199/165`, `TG12/TG30`.
    Fraction { num: Part, den: Part },
    /// A set code and a number: `FL1-EN003` (region `en` is `num.prefix`), `OP05-119`, `LOB-001`.
    Code { set: Small, num: Part },
    /// A bare or prefixed number: `107`, `123a`, `SWSH050`, `SVP 085`.
    Single(Part),
}

/// A set code in front of a dash: starts with a letter, 1–6 letters and digits.
fn set_like(w: &[u8]) -> bool {
    (1..=6).contains(&w.len()) && w[0].is_ascii_lowercase()
}

impl CardNo {
    /// Parses a catalog number; `None` for anything unrecognisable (then numbers are not checked).
    pub(crate) fn parse(number: &str) -> Option<CardNo> {
        let mut stack = [0u8; 64];
        let mut heap = Vec::new();
        let mut scripts = Scripts::default();
        let mut t_buf = TokenBuf::<8>::new();
        let t = t_buf.tokenize(fold(number, &mut stack, &mut heap, &mut scripts), false);
        for i in 1..t.len() {
            if t.joined(i, b'/') {
                return Some(CardNo::Fraction {
                    num: parse_part(t.word(i - 1))?,
                    den: parse_part(t.word(i))?,
                });
            }
        }
        if t.len() == 2
            && t.joined(1, b'-')
            && set_like(t.word(0))
            && let Some(num) = parse_part(t.word(1)).filter(|p| p.prefix.len <= 2)
        {
            return Some(CardNo::Code {
                set: Small::new(t.word(0)),
                num,
            });
        }
        let last = t.len().checked_sub(1)?;
        let mut part = parse_part(t.word(last))?;
        if last > 0 {
            let mut prefix = Small::default();
            for i in 0..last {
                if !is_letters(t.word(i)) {
                    return None;
                }
                prefix.push(t.word(i));
            }
            prefix.push(part.prefix.as_bytes());
            part.prefix = prefix;
        }
        Some(CardNo::Single(part))
    }

    /// The part a bare `#4` is compared with.
    pub(crate) fn main(&self) -> &Part {
        match self {
            CardNo::Fraction { num, .. } | CardNo::Code { num, .. } | CardNo::Single(num) => num,
        }
    }
}

/// What the title says about the card number.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct NumberEvidence {
    /// The full number was found (`199/165`, `FL1-EN003`, `SWSH050`).
    pub exact: bool,
    /// Only part of it (`#199`, a bare `199`, `TG12` for `TG12/TG30`).
    pub partial: bool,
    /// Tokens (first, last) of a number that is not the tracked card's.
    pub conflict: Option<(usize, usize)>,
    /// The region code written in the title's copy of the target's set code (`jp` in `FL1-JP003`).
    pub region: Option<Small>,
}

impl NumberEvidence {
    fn hit(&mut self, exact: bool) {
        if exact {
            self.exact = true;
        } else {
            self.partial = true;
        }
    }

    fn miss(&mut self, first: usize, last: usize) {
        if self.conflict.is_none() {
            self.conflict = Some((first, last));
        }
    }
}

/// Looks for card numbers in the title and compares them with the target's.
pub(crate) fn compare(target: &CardNo, t: &Tokens<'_>) -> NumberEvidence {
    let mut ev = NumberEvidence::default();
    let mut i = 0;
    while i < t.len() {
        let next = fraction(target, t, i, &mut ev)
            .or_else(|| set_code(target, t, i, &mut ev))
            .or_else(|| prefixed(target, t, i, &mut ev));
        if let Some(next) = next {
            i = next;
            continue;
        }
        plain(target, t, i, &mut ev);
        i += 1;
    }
    ev
}

/// `a/b` at token `i`; gives the token after it.
fn fraction(target: &CardNo, t: &Tokens<'_>, i: usize, ev: &mut NumberEvidence) -> Option<usize> {
    if !t.joined(i + 1, b'/') {
        return None;
    }
    let (a, b) = (parse_part(t.word(i))?, parse_part(t.word(i + 1))?);
    let grade_like = a.prefix.is_empty() && b.prefix.is_empty() && b.value == 10 && a.value <= 10;
    let target_den_10 = matches!(target, CardNo::Fraction { den, .. } if den.value == 10);
    if !grade_like || target_den_10 {
        match target {
            CardNo::Fraction { num, den } => {
                if a.same(num) && b.same(den) {
                    ev.hit(true);
                } else {
                    ev.miss(i, i + 1);
                }
            }
            CardNo::Single(p) if a.prefix == p.prefix => {
                if a.same(p) {
                    ev.hit(true);
                } else {
                    ev.miss(i, i + 1);
                }
            }
            _ => {}
        }
    }
    Some(i + 2)
}

/// A Yu-Gi-Oh!-style set code at token `i` (`FL1-EN003`, `OP05 119`, `FL1EN003`) for a target
/// with one; gives the token after it when it took more than token `i`.
fn set_code(target: &CardNo, t: &Tokens<'_>, i: usize, ev: &mut NumberEvidence) -> Option<usize> {
    let CardNo::Code { set, num } = target else {
        return None;
    };
    let w = t.word(i);
    // SET-REGIONNUM
    if t.joined(i + 1, b'-')
        && set_like(w)
        && !is_grader_word(w)
        && let Some(p) = parse_part(t.word(i + 1)).filter(|p| p.prefix.len <= 2 && p.digits >= 2)
    {
        if w == set.as_bytes() && p.value == num.value && p.suffix == num.suffix {
            ev.hit(true);
            if !p.prefix.is_empty() && p.prefix != num.prefix {
                ev.region = Some(p.prefix);
            }
        } else {
            ev.miss(i, i + 1);
        }
        return Some(i + 2);
    }
    // "OP05 119"
    if w == set.as_bytes() {
        if let Some(v) = digits_value(t.word(i + 1))
            && !t.joined(i + 2, b'/')
            && v == num.value
        {
            ev.hit(true);
            return Some(i + 2);
        }
    } else if w.len() > set.len as usize
        && w.starts_with(set.as_bytes())
        && let Some(p) = parse_part(&w[set.len as usize..]).filter(|p| p.prefix.len <= 2)
    {
        // "FL1EN003"
        if p.value == num.value {
            ev.hit(true);
            if !p.prefix.is_empty() && p.prefix != num.prefix {
                ev.region = Some(p.prefix);
            }
        } else {
            ev.miss(i, i);
        }
    }
    None
}

/// Prefixed numbers on their own at token `i`: SWSH050, TG12, SVP 085; gives the token after
/// the number when its prefix was split over tokens ("SV-P 085", "SWSH 050").
fn prefixed(target: &CardNo, t: &Tokens<'_>, i: usize, ev: &mut NumberEvidence) -> Option<usize> {
    let main = target.main();
    if main.prefix.is_empty() || t.joined(i, b'/') || t.joined(i + 1, b'/') {
        return None;
    }
    let w = t.word(i);
    let single = matches!(target, CardNo::Single(_));
    if let Some(q) = parse_part(w).filter(|q| q.prefix == main.prefix) {
        if q.same(main) {
            ev.hit(single);
        } else {
            ev.miss(i, i);
        }
    } else if single && is_letters(w) && main.prefix.as_bytes().starts_with(w) {
        // The prefix split over tokens.
        let mut acc = Small::new(w);
        let mut j = i + 1;
        while acc != main.prefix && j < t.len() && j < i + 3 && is_letters(t.word(j)) {
            acc.push(t.word(j));
            j += 1;
        }
        if acc == main.prefix
            && let Some(v) = digits_value(t.word(j))
        {
            if v == main.value {
                ev.hit(true);
            } else {
                ev.miss(i, j);
            }
            return Some(j + 1);
        }
    }
    None
}

/// `#4`, `#199`, or a bare number that is the target's, at token `i`.
fn plain(target: &CardNo, t: &Tokens<'_>, i: usize, ev: &mut NumberEvidence) {
    let main = target.main();
    let w = t.word(i);
    if t.char_before(i) == b'#'
        && !t.joined(i + 1, b'/')
        && let Some(q) = parse_part(w)
    {
        if q.same(main) {
            ev.hit(matches!(target, CardNo::Single(_)));
        } else if q.prefix == main.prefix {
            ev.miss(i, i);
        }
    } else if is_digits(w)
        && main.prefix.is_empty()
        && main.suffix.is_empty()
        && !matches!(t.char_before(i), b'/' | b'-' | b'.' | b'#')
        && !matches!(t.char_after(i), b'/' | b'-' | b'.')
        && digits_value(w) == Some(main.value)
    {
        ev.hit(false);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn evidence(target: &str, title: &str) -> NumberEvidence {
        let target = CardNo::parse(target).unwrap();
        let mut stack = [0u8; STACK_TEXT];
        let mut heap = Vec::new();
        let mut scripts = Scripts::default();
        let mut t_buf = TokenBuf::<MAX_TOKENS>::new();
        let t = t_buf.tokenize(fold(title, &mut stack, &mut heap, &mut scripts), true);
        compare(&target, &t)
    }

    fn exact(target: &str, title: &str) -> bool {
        let ev = evidence(target, title);
        ev.exact && ev.conflict.is_none()
    }

    fn conflict(target: &str, title: &str) -> bool {
        let ev = evidence(target, title);
        ev.conflict.is_some() && !ev.exact && !ev.partial
    }

    #[test]
    fn parses_catalog_numbers() {
        assert!(
            matches!(CardNo::parse("199/165"), Some(CardNo::Fraction { num, den }) if num.value == 199 && den.value == 165)
        );
        assert!(
            matches!(CardNo::parse("TG12/TG30"), Some(CardNo::Fraction { num, .. }) if num.prefix.as_bytes() == b"tg")
        );
        assert!(
            matches!(CardNo::parse("FL1-EN003"), Some(CardNo::Code { set, num }) if set.as_bytes() == b"fl1" && num.prefix.as_bytes() == b"en" && num.value == 3)
        );
        assert!(
            matches!(CardNo::parse("OP05-119"), Some(CardNo::Code { set, num }) if set.as_bytes() == b"op05" && num.value == 119)
        );
        assert!(
            matches!(CardNo::parse("SWSH050"), Some(CardNo::Single(p)) if p.prefix.as_bytes() == b"swsh" && p.value == 50)
        );
        assert!(
            matches!(CardNo::parse("SV-P 085"), Some(CardNo::Single(p)) if p.prefix.as_bytes() == b"svp" && p.value == 85)
        );
        assert!(
            matches!(CardNo::parse("123a"), Some(CardNo::Single(p)) if p.value == 123 && p.suffix.as_bytes() == b"a")
        );
        assert_eq!(CardNo::parse(""), None);
        assert_eq!(CardNo::parse("n/a"), None);
    }

    #[test]
    fn leading_zeros_and_hashes_are_equal() {
        assert!(exact("4/102", "Charizard 004/102 Base Set"));
        assert!(exact("4/102", "Charizard #4/102 Holo"));
        assert!(exact("004/102", "Charizard 4/102 Holo"));
        assert!(evidence("4/102", "Charizard #4 Holo").partial);
        assert!(evidence("199/165", "Charizard ex 199 SIR").partial);
    }

    #[test]
    fn other_numbers_conflict() {
        assert!(conflict("199/165", "Charizard ex 183/165"));
        assert!(conflict("4/102", "Charizard 4/130 Base Set 2"));
        assert!(conflict("4/102", "Charizard #11 Holo"));
        assert!(conflict("TG12/TG30", "Pikachu TG05/TG30"));
        assert!(conflict("OP05-119", "Luffy OP01-003"));
        assert!(conflict("LOB-001", "Blue-Eyes SDK-001"));
        assert!(conflict("SWSH050", "Charizard V SWSH260 promo"));
    }

    #[test]
    fn grade_fractions_are_not_card_numbers() {
        let ev = evidence("199/165", "Charizard ex 199/165 condition 9/10");
        assert!(ev.exact && ev.conflict.is_none());
    }

    #[test]
    fn set_codes_with_regions() {
        assert!(exact("FL1-EN003", "Yu-Gi-Oh FL1-EN003 Ghost Rare"));
        assert!(exact("FL1-EN003", "fl1en003 ghost"));
        let jp = evidence("FL1-EN003", "FL1-JP003 Japanese");
        assert!(jp.exact && jp.region.map(|r| r.as_bytes() == b"jp") == Some(true));
        assert!(exact("OP05-119", "Luffy OP05-119 SEC"));
        assert!(exact("OP05-119", "Luffy OP05 119 SEC"));
        assert!(exact("LOB-001", "Blue-Eyes White Dragon LOB-001"));
        assert!(exact("LOB-001", "Blue-Eyes White Dragon LOB-EN001"));
        assert!(!conflict("OP05-119", "Luffy PSA-10"));
    }

    #[test]
    fn promos_and_collector_numbers() {
        assert!(exact("SWSH050", "Charizard V SWSH050 Promo"));
        assert!(exact("SWSH050", "Charizard V SWSH 050 Promo"));
        assert!(exact("SV-P 085", "Pikachu SVP 085 promo"));
        assert!(exact("SV-P 085", "Pikachu SV-P 085 promo"));
        assert!(exact("107", "Sheoldred the Apocalypse #107 DMU"));
        assert!(exact("107", "Sheoldred 107/281"));
        assert!(evidence("107", "Sheoldred 107 DMU").partial);
        assert!(conflict("107", "Sheoldred #291 showcase"));
        assert!(evidence("TG12/TG30", "Pikachu TG12 Lost Origin").partial);
    }
}
