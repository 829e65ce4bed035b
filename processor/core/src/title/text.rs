//! Folding and tokenising: one pass over a text into a small caller-owned buffer, then token
//! spans over that buffer. No allocation for texts up to [`STACK_TEXT`] bytes.

use super::kw::{Kw, lookup};

/// Folded texts up to this many bytes live on the stack; longer ones use a heap buffer.
pub(crate) const STACK_TEXT: usize = 512;
/// Longest input folded; longer input is cut at a character boundary (eBay titles are ≤ 80
/// characters, so this only guards against garbage).
const MAX_INPUT: usize = 1024;
/// Most tokens kept from one text; an 80-character title has at most 40.
pub(crate) const MAX_TOKENS: usize = 48;

/// Scripts seen in a text that say something about its language.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Scripts {
    /// Hiragana or katakana: Japanese.
    pub kana: bool,
    /// Hangul: Korean.
    pub hangul: bool,
    /// CJK ideographs: Chinese or Japanese.
    pub han: bool,
}

struct Writer<'a> {
    out: &'a mut [u8],
    n: usize,
}

impl Writer<'_> {
    fn push(&mut self, b: u8) {
        if let Some(slot) = self.out.get_mut(self.n) {
            *slot = b;
            self.n += 1;
        }
    }

    fn push_all(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.push(b);
        }
    }
}

/// Folds `text` into `stack` (or `heap` when it does not fit) and returns the folded bytes.
/// `stack` should hold twice the expected text length.
///
/// Folding: ASCII letters are lower-cased; Latin letters with accents lose them (é → e,
/// ß → ss); full-width ASCII becomes ASCII; apostrophes vanish (Farfetch'd → farfetchd); `/ - . # ?
/// ( )` are kept because they join or qualify tokens; ★/☆ become the word "star"; everything else
/// becomes a space. CJK scripts are recorded in `scripts`.
pub(crate) fn fold<'b, const N: usize>(
    text: &str,
    stack: &'b mut [u8; N],
    heap: &'b mut Vec<u8>,
    scripts: &mut Scripts,
) -> &'b [u8] {
    let text = cut(text, MAX_INPUT);
    // Every char folds to at most twice its UTF-8 length, plus the padding spaces of " star ".
    let need = text.len() * 2 + 2;
    let out: &'b mut [u8] = if need <= N {
        &mut stack[..]
    } else {
        heap.clear();
        heap.resize(need, 0);
        &mut heap[..]
    };
    let mut w = Writer { out, n: 0 };
    let bytes = text.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        if b < 0x80 {
            match ASCII[b as usize] {
                0 => {}
                folded => w.push(folded),
            }
            i += 1;
        } else {
            let Some(c) = text[i..].chars().next() else {
                break;
            };
            fold_char(c, &mut w, scripts);
            i += c.len_utf8();
        }
    }
    let n = w.n;
    &w.out[..n]
}

/// How each ASCII byte folds: itself, lower-cased, a space, or 0 (dropped: apostrophes).
const ASCII: [u8; 128] = {
    let mut table = [b' '; 128];
    let mut b = 0;
    while b < 128 {
        let c = b as u8;
        table[b] = match c {
            b'a'..=b'z' | b'0'..=b'9' | b'/' | b'-' | b'.' | b'#' | b'?' | b'(' | b')' => c,
            b'A'..=b'Z' => c + 32,
            b'\'' | b'`' => 0,
            _ => b' ',
        };
        b += 1;
    }
    table
};

fn cut(text: &str, max: usize) -> &str {
    if text.len() <= max {
        return text;
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

fn fold_char(c: char, w: &mut Writer<'_>, scripts: &mut Scripts) {
    match c {
        'a'..='z' | '0'..='9' | '/' | '-' | '.' | '#' | '?' | '(' | ')' => w.push(c as u8),
        'A'..='Z' => w.push(c.to_ascii_lowercase() as u8),
        '\'' | '`' | '\u{2018}' | '\u{2019}' | '\u{00b4}' => {}
        '\u{2010}'..='\u{2015}' => w.push(b'-'),
        '\u{00d7}' => w.push(b'x'),
        '\u{2605}' | '\u{2606}' => w.push_all(b" star "),
        // Full-width ASCII (common in Japanese titles): fold as the ASCII character.
        '\u{ff01}'..='\u{ff5e}' => {
            let ascii = char::from_u32(c as u32 - 0xfee0).unwrap_or(' ');
            fold_char(ascii, w, scripts);
        }
        '\u{3040}'..='\u{30ff}' | '\u{ff66}'..='\u{ff9f}' => {
            scripts.kana = true;
            w.push(b' ');
        }
        '\u{1100}'..='\u{11ff}' | '\u{3130}'..='\u{318f}' | '\u{ac00}'..='\u{d7af}' => {
            scripts.hangul = true;
            w.push(b' ');
        }
        '\u{3400}'..='\u{4dbf}' | '\u{4e00}'..='\u{9fff}' => {
            scripts.han = true;
            w.push(b' ');
        }
        c if c.is_ascii() => w.push(b' '),
        c => match latin(c) {
            Some(bytes) => w.push_all(bytes),
            None => w.push(b' '),
        },
    }
}

/// The base letters of an accented Latin letter.
fn latin(c: char) -> Option<&'static [u8]> {
    Some(match c {
        'à'..='å' | 'À'..='Å' | 'ā' => b"a",
        'æ' | 'Æ' => b"ae",
        'ç' | 'Ç' => b"c",
        'è'..='ë' | 'È'..='Ë' | 'ē' => b"e",
        'ì'..='ï' | 'Ì'..='Ï' | 'ī' => b"i",
        'ñ' | 'Ñ' => b"n",
        'ò'..='ö' | 'ø' | 'Ò'..='Ö' | 'Ø' | 'ō' => b"o",
        'ù'..='ü' | 'Ù'..='Ü' | 'ū' => b"u",
        'ý' | 'ÿ' | 'Ý' => b"y",
        'ß' => b"ss",
        'œ' | 'Œ' => b"oe",
        _ => return None,
    })
}

/// One token: a maximal run of ASCII letters and digits in the folded text.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Span {
    pub start: u16,
    pub end: u16,
}

/// Storage for up to `N` tokens; [`TokenBuf::tokenize`] fills it and hands out a [`Tokens`]
/// view, so nothing large is moved around.
#[derive(Debug)]
pub(crate) struct TokenBuf<const N: usize> {
    spans: [Span; N],
    kws: [Kw; N],
}

impl<const N: usize> TokenBuf<N> {
    pub(crate) fn new() -> TokenBuf<N> {
        TokenBuf {
            spans: [Span::default(); N],
            kws: [Kw::None; N],
        }
    }

    /// Tokenises `text` (folded); with `keywords`, each whole token is also looked up in the
    /// keyword table (titles and names need that, set names and numbers do not).
    pub(crate) fn tokenize<'a>(&'a mut self, text: &'a [u8], keywords: bool) -> Tokens<'a> {
        let mut len = 0;
        let mut i = 0;
        while i < text.len() && len < N {
            if text[i].is_ascii_alphanumeric() {
                let start = i;
                while i < text.len() && text[i].is_ascii_alphanumeric() {
                    i += 1;
                }
                self.spans[len] = Span {
                    start: start as u16,
                    end: i as u16,
                };
                if keywords {
                    self.kws[len] = lookup(&text[start..i]).unwrap_or(Kw::None);
                }
                len += 1;
            } else {
                i += 1;
            }
        }
        Tokens {
            text,
            spans: &self.spans[..len],
            kws: if keywords { &self.kws[..len] } else { &[] },
            len,
        }
    }
}

/// The tokens of one folded text. Punctuation stays in `text`, so callers can ask how two
/// neighbouring tokens are joined (`199/165`, `FL1-EN003`, `9.5`). Each token carries (when
/// asked for) its keyword.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Tokens<'a> {
    text: &'a [u8],
    spans: &'a [Span],
    kws: &'a [Kw],
    len: usize,
}

impl<'a> Tokens<'a> {
    /// The keyword of token `i` (`Kw::None` past the end or without keywords).
    pub(crate) fn kw(&self, i: usize) -> Kw {
        self.kws.get(i).copied().unwrap_or(Kw::None)
    }

    /// True when token `i` is exactly `word`.
    pub(crate) fn is(&self, i: usize, word: &[u8]) -> bool {
        i < self.len && self.word(i) == word
    }

    pub(crate) fn len(&self) -> usize {
        self.len
    }

    pub(crate) fn text(&self) -> &'a [u8] {
        self.text
    }

    pub(crate) fn span(&self, i: usize) -> Span {
        if i < self.len {
            self.spans[i]
        } else {
            Span::default()
        }
    }

    /// Token `i`, or an empty slice past the end.
    pub(crate) fn word(&self, i: usize) -> &'a [u8] {
        if i < self.len {
            let s = self.spans[i];
            &self.text[s.start as usize..s.end as usize]
        } else {
            &[]
        }
    }

    /// The text between token `i - 1` (or the start) and token `i` (or the end).
    pub(crate) fn gap_before(&self, i: usize) -> &'a [u8] {
        let from = match i.min(self.len) {
            0 => 0,
            k => self.spans[k - 1].end as usize,
        };
        let to = if i < self.len {
            self.spans[i].start as usize
        } else {
            self.text.len()
        };
        &self.text[from.min(to)..to]
    }

    /// True when token `i` follows token `i - 1` with exactly `sep` between them (`199/165`).
    pub(crate) fn joined(&self, i: usize, sep: u8) -> bool {
        i > 0 && i < self.len && self.gap_before(i) == [sep]
    }

    /// The character right before token `i` (a space at the start).
    pub(crate) fn char_before(&self, i: usize) -> u8 {
        if i < self.len && self.spans[i].start > 0 {
            self.text[self.spans[i].start as usize - 1]
        } else {
            b' '
        }
    }

    /// The character right after token `i` (a space at the end).
    pub(crate) fn char_after(&self, i: usize) -> u8 {
        if i < self.len {
            self.text
                .get(self.spans[i].end as usize)
                .copied()
                .unwrap_or(b' ')
        } else {
            b' '
        }
    }

    /// True when any token equals `word`.
    pub(crate) fn contains(&self, word: &[u8]) -> bool {
        (0..self.len).any(|i| self.is(i, word))
    }
}

pub(crate) fn is_digits(w: &[u8]) -> bool {
    !w.is_empty() && w.iter().all(u8::is_ascii_digit)
}

pub(crate) fn is_letters(w: &[u8]) -> bool {
    !w.is_empty() && w.iter().all(u8::is_ascii_lowercase)
}

/// The value of an all-digit token (up to 9 digits).
pub(crate) fn digits_value(w: &[u8]) -> Option<u32> {
    if !is_digits(w) || w.len() > 9 {
        return None;
    }
    Some(
        w.iter()
            .fold(0u32, |acc, &b| acc * 10 + u32::from(b - b'0')),
    )
}

/// Optimal-string-alignment distance ≤ 1: one substitution, insertion, deletion or swap of two
/// neighbours.
pub(crate) fn within_one_edit(a: &[u8], b: &[u8]) -> bool {
    let (short, long) = if a.len() <= b.len() { (a, b) } else { (b, a) };
    match long.len() - short.len() {
        0 => {
            let mut diffs = (0..a.len()).filter(|&i| a[i] != b[i]);
            match (diffs.next(), diffs.next(), diffs.next()) {
                (None, _, _) | (Some(_), None, _) => true,
                (Some(i), Some(j), None) => j == i + 1 && a[i] == b[j] && a[j] == b[i],
                _ => false,
            }
        }
        1 => {
            let skip = short
                .iter()
                .zip(long)
                .position(|(x, y)| x != y)
                .unwrap_or(short.len());
            short[skip..] == long[skip + 1..]
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn folded(text: &str) -> String {
        let mut stack = [0u8; STACK_TEXT];
        let mut heap = Vec::new();
        let mut scripts = Scripts::default();
        String::from_utf8(fold(text, &mut stack, &mut heap, &mut scripts).to_vec()).unwrap()
    }

    fn words(text: &str) -> Vec<String> {
        let mut stack = [0u8; STACK_TEXT];
        let mut heap = Vec::new();
        let mut scripts = Scripts::default();
        let mut t_buf = TokenBuf::<MAX_TOKENS>::new();
        let t = t_buf.tokenize(fold(text, &mut stack, &mut heap, &mut scripts), true);
        (0..t.len())
            .map(|i| String::from_utf8(t.word(i).to_vec()).unwrap())
            .collect()
    }

    #[test]
    fn folding_lowercases_strips_accents_and_keeps_joiners() {
        assert_eq!(folded("Pokémon FLABÉBÉ"), "pokemon flabebe");
        assert_eq!(folded("Farfetch’d #4/102"), "farfetchd #4/102");
        assert_eq!(
            folded("Charizard ex [SIR] 199/165!"),
            "charizard ex  sir  199/165 "
        );
        assert_eq!(folded("Gold ★ Rayquaza"), "gold  star  rayquaza");
        assert_eq!(folded("ＰＳＡ１０"), "psa10");
        assert_eq!(folded("Straße"), "strasse");
    }

    #[test]
    fn scripts_are_recorded() {
        let mut stack = [0u8; STACK_TEXT];
        let mut heap = Vec::new();
        let mut s = Scripts::default();
        fold("ピカチュウ PSA10", &mut stack, &mut heap, &mut s);
        assert!(s.kana && !s.hangul);
        let mut s = Scripts::default();
        fold("피카츄", &mut stack, &mut heap, &mut s);
        assert!(s.hangul && !s.kana);
        let mut s = Scripts::default();
        fold("皮卡丘", &mut stack, &mut heap, &mut s);
        assert!(s.han);
    }

    #[test]
    fn tokens_and_joins() {
        assert_eq!(
            words("Charizard-EX #4/102 FL1-EN003 BGS 9.5"),
            [
                "charizard",
                "ex",
                "4",
                "102",
                "fl1",
                "en003",
                "bgs",
                "9",
                "5"
            ]
        );
        let mut stack = [0u8; STACK_TEXT];
        let mut heap = Vec::new();
        let mut s = Scripts::default();
        let mut t_buf = TokenBuf::<MAX_TOKENS>::new();
        let t = t_buf.tokenize(
            fold("#4/102 psa-9 bgs 9.5 a / b", &mut stack, &mut heap, &mut s),
            true,
        );
        assert_eq!(t.char_before(0), b'#');
        assert!(t.joined(1, b'/'));
        assert!(t.joined(3, b'-'));
        assert!(t.joined(6, b'.'));
        assert!(!t.joined(8, b'/'));
        assert!(!t.joined(0, b'/'));
        assert_eq!(t.gap_before(8), b" / ");
        assert_eq!(t.word(99), b"");
    }

    #[test]
    fn long_texts_use_the_heap_and_token_count_is_capped() {
        let long = "word ".repeat(300);
        assert_eq!(words(&long).len(), MAX_TOKENS);
        assert_eq!(folded(&"é".repeat(400)).len(), 400);
    }

    #[test]
    fn tokens_carry_the_keyword_of_the_whole_word() {
        let text = b"a psa candidates reproduction 1stedition abcdefgh abcdefghi 199 \
            counterpart counterfeit reproductive candidacy";
        let mut buf = TokenBuf::<MAX_TOKENS>::new();
        let t = buf.tokenize(text, true);
        for i in 0..t.len() {
            assert!(t.is(i, t.word(i)));
        }
        assert!(!t.is(8, b"counterfeit"), "counterpart is not counterfeit");
        assert!(t.contains(b"counterfeit") && !t.contains(b"counterf"));
        assert_eq!(t.kw(1), Kw::Psa);
        assert_eq!(t.kw(2), Kw::Candidates);
        assert_eq!(t.kw(3), Kw::Reproduction);
        assert_eq!(t.kw(4), Kw::OneStEdition);
        assert_eq!(t.kw(5), Kw::None);
        assert_eq!(t.kw(8), Kw::None, "counterpart");
        assert_eq!(t.kw(9), Kw::Counterfeit);
        assert_eq!(t.kw(10), Kw::None, "reproductive");
        assert_eq!(t.kw(11), Kw::None, "candidacy");
    }

    #[test]
    fn edit_distance_one() {
        assert!(within_one_edit(b"charizard", b"charzard"));
        assert!(within_one_edit(b"charizard", b"charizrad"));
        assert!(within_one_edit(b"charizard", b"charizarb"));
        assert!(within_one_edit(b"charizard", b"charizards"));
        assert!(within_one_edit(b"pikachu", b"pikachu"));
        assert!(!within_one_edit(b"charizard", b"chrzard"));
        assert!(!within_one_edit(b"charizard", b"blastoise"));
        assert!(!within_one_edit(b"abcd", b"badc"));
    }

    #[test]
    fn digits() {
        assert_eq!(digits_value(b"004"), Some(4));
        assert_eq!(digits_value(b"4a"), None);
        assert_eq!(digits_value(b""), None);
        assert!(is_letters(b"swsh") && !is_letters(b"sv3"));
    }
}
