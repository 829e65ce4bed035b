//! The tracked card's set in the title: its name or code seen (confidence), and the run of
//! title tokens that spell the set's full name (not the card's name).

use super::name::NameWords;
use super::text::{self, Scripts, TokenBuf, Tokens};

/// Words of set names too common to say which set a listing is from.
const GENERIC_SET_WORDS: &[&[u8]] = &[
    b"scarlet",
    b"violet",
    b"sword",
    b"shield",
    b"sun",
    b"moon",
    b"black",
    b"white",
    b"promo",
    b"promos",
    b"star",
    b"cards",
    b"card",
    b"set",
    b"series",
    b"edition",
    b"collection",
    b"the",
    b"and",
    b"pokemon",
    b"magic",
    b"gathering",
    b"yugioh",
    b"one",
    b"piece",
    b"disney",
    b"lorcana",
    b"expansion",
    b"core",
    b"trainer",
    b"gallery",
    b"special",
    b"deck",
    b"starter",
];

/// True when the title holds a distinctive word of the set's name (not generic, not of the
/// card's name) or the set code.
pub(super) fn seen(
    title: &Tokens<'_>,
    set: &Tokens<'_>,
    code: Option<&str>,
    name: &NameWords<'_>,
) -> bool {
    let by_name = (0..set.len()).any(|i| {
        let w = set.word(i);
        w.len() >= 3 && !GENERIC_SET_WORDS.contains(&w) && !name.has(w) && title.contains(w)
    });
    by_name
        || code.is_some_and(|code| {
            let mut stack = [0u8; 32];
            let mut heap = Vec::new();
            let mut ignored = Scripts::default();
            let folded = text::fold(code, &mut stack, &mut heap, &mut ignored);
            let mut code_buf = TokenBuf::<4>::new();
            let code = code_buf.tokenize(folded, false);
            code.len() == 1 && title.contains(code.word(0))
        })
}

/// Title tokens (a bit each) where the set's full name is written, when it has two or more words.
pub(super) fn name_run(title: &Tokens<'_>, set: &Tokens<'_>) -> u64 {
    let n = set.len();
    if n < 2 || n > title.len() {
        return 0;
    }
    let mut mask = 0u64;
    for start in 0..=title.len() - n {
        if (0..n).all(|k| title.word(start + k) == set.word(k)) {
            mask |= ((1u64 << n) - 1) << start;
        }
    }
    mask
}
