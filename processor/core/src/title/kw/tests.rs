use proptest::prelude::*;

use super::words::WORDS;
use super::{Kw, lookup};

/// The keyword list itself, searched word by word: what [`lookup`] must agree with.
fn listed(w: &[u8]) -> Option<Kw> {
    WORDS
        .entries()
        .find(|(word, _)| **word == w)
        .map(|(_, kw)| *kw)
}

#[test]
fn every_entry_is_found_and_others_are_not() {
    for (word, kw) in WORDS.entries() {
        assert_eq!(lookup(word), Some(*kw), "{}", String::from_utf8_lossy(word));
        assert_ne!(*kw, Kw::None, "{}", String::from_utf8_lossy(word));
        // Tokens are runs of lower-case ASCII letters and digits: any other byte never matches.
        assert!(
            word.iter()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit()),
            "{}",
            String::from_utf8_lossy(word)
        );
    }
    for other in [
        &b"charizard"[..],
        b"pokemon",
        b"199",
        b"",
        b"proxyy",
        b"prox",
        b"reproductive!",
        b"PSA",
    ] {
        assert_eq!(lookup(other), None, "{}", String::from_utf8_lossy(other));
    }
}

/// The old table keyed long words by their first 7 bytes and length only: these all shared a
/// key with a keyword and were read as it.
#[test]
fn long_words_are_compared_whole() {
    for (word, like) in [
        ("counterpart", "counterfeit"),
        ("reproductive", "reproduction"),
        ("candidacy", "candidate"),
        ("portuguesa", "portuguese"),
        ("moderation", "moderately"),
        ("borderline", "borderless"),
    ] {
        assert_eq!(word.len(), like.len());
        assert_eq!(word.as_bytes()[..7], like.as_bytes()[..7]);
        assert!(lookup(like.as_bytes()).is_some(), "{like}");
        assert_eq!(lookup(word.as_bytes()), None, "{word} read as {like}");
    }
}

/// Every keyword longer than 8 bytes with its last byte changed is no keyword, unless that
/// word is itself one.
#[test]
fn long_keywords_with_another_last_byte_are_not_that_keyword() {
    let mut checked = 0;
    for (word, _) in WORDS.entries().filter(|(w, _)| w.len() > 8) {
        for b in (b'a'..=b'z').chain(b'0'..=b'9') {
            let last = word.len() - 1;
            if word[last] == b {
                continue;
            }
            let mut other = word.to_vec();
            other[last] = b;
            assert_eq!(
                lookup(&other),
                listed(&other),
                "{}",
                String::from_utf8_lossy(&other)
            );
            checked += 1;
        }
    }
    assert!(checked > 500, "{checked}");
}

const ALPHABET: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";

/// Every word one edit from `w`: a byte changed, inserted or removed, or two neighbours swapped.
fn neighbours(w: &[u8]) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    for at in 0..=w.len() {
        for &b in ALPHABET {
            let mut inserted = w.to_vec();
            inserted.insert(at, b);
            out.push(inserted);
            if at < w.len() && w[at] != b {
                let mut changed = w.to_vec();
                changed[at] = b;
                out.push(changed);
            }
        }
        if at < w.len() {
            let mut removed = w.to_vec();
            removed.remove(at);
            out.push(removed);
        }
        if at + 1 < w.len() {
            let mut swapped = w.to_vec();
            swapped.swap(at, at + 1);
            out.push(swapped);
        }
    }
    out
}

/// No keyword's neighbour is read as a keyword it is not: every word one edit away from any
/// keyword is found exactly when it is itself listed (so "counterpart" is never "counterfeit",
/// "oversize" is itself and not "oversized").
#[test]
fn no_neighbour_of_a_keyword_collides() {
    let mut checked = 0usize;
    for (word, _) in WORDS.entries() {
        for n in neighbours(word) {
            assert_eq!(lookup(&n), listed(&n), "{}", String::from_utf8_lossy(&n));
            checked += 1;
        }
    }
    assert!(checked > 50_000, "{checked}");
}

/// Long keywords with their ending (after the first 7 bytes) replaced by any two bytes, the
/// collisions of the old prefix-and-length key ("candidacy" for "candidate").
#[test]
fn long_keywords_with_another_ending_are_not_that_keyword() {
    let mut checked = 0usize;
    for (word, _) in WORDS.entries().filter(|(w, _)| w.len() >= 9) {
        for &a in ALPHABET {
            for &b in ALPHABET {
                let mut other = word[..word.len() - 2].to_vec();
                other.extend([a, b]);
                assert_eq!(
                    lookup(&other),
                    listed(&other),
                    "{}",
                    String::from_utf8_lossy(&other)
                );
                checked += 1;
            }
        }
    }
    assert!(lookup(b"candidacy").is_none() && lookup(b"counterpart").is_none());
    assert!(checked > 10_000, "{checked}");
}

/// A keyword with one byte changed, inserted or removed, or cut short.
fn near_keyword() -> impl Strategy<Value = Vec<u8>> {
    let words: Vec<&'static [u8]> = WORDS.keys().copied().collect();
    (
        prop::sample::select(words),
        any::<prop::sample::Index>(),
        prop::sample::select(ALPHABET),
        0u8..4,
    )
        .prop_map(|(word, at, b, edit)| {
            let mut w = word.to_vec();
            let at = at.index(w.len() + 1);
            match edit {
                0 if at < w.len() => w[at] = b,
                1 => w.insert(at, b),
                2 if at < w.len() => {
                    w.remove(at);
                }
                _ => w.truncate(at),
            }
            w
        })
}

fn any_word() -> impl Strategy<Value = Vec<u8>> {
    prop::collection::vec(prop::sample::select(ALPHABET), 0..16)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn lookup_finds_exactly_the_listed_words(
        w in prop_oneof![
            near_keyword(),
            any_word(),
            prop::sample::select(WORDS.keys().map(|w| w.to_vec()).collect::<Vec<_>>()),
        ],
    ) {
        prop_assert_eq!(lookup(&w), listed(&w), "{}", String::from_utf8_lossy(&w));
    }
}
