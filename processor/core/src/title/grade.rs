//! Graders and grades in titles: `PSA 10`, `PSA10`, `psa-9`, `BGS 9.5`, `Beckett 9.5`,
//! `CGC Pristine 10`, `BGS 10 Black Label`, `Gem Mint 10 PSA`, and the hedges that make a
//! grade a wish rather than a slab (`PSA 10 candidate`, `PSA 10?`, `ready for grading`).

use tcg_schemas::{Grade, GradeLabel, Grader};

use super::kw::{Kw, lookup};
use super::text::{Tokens, digits_value};

/// A grader's name and whether it is strong: strong graders are read even without a grade
/// ("PSA graded"); the others (`tag`, `ace`, … also ordinary words) only count with a grade.
fn grader_of(kw: Kw) -> Option<(&'static str, bool)> {
    Some(match kw {
        Kw::Psa => ("PSA", true),
        Kw::Bgs | Kw::Beckett => ("BGS", true),
        Kw::Cgc => ("CGC", true),
        Kw::Sgc => ("SGC", true),
        Kw::Tag => ("TAG", false),
        Kw::Ace => ("ACE", false),
        Kw::Hga => ("HGA", false),
        Kw::Gma => ("GMA", false),
        Kw::Mnt => ("MNT", false),
        Kw::Pca => ("PCA", false),
        Kw::Ags => ("AGS", false),
        Kw::Ksa => ("KSA", false),
        Kw::Ars => ("ARS", false),
        _ => return None,
    })
}

/// True for a grader's name as a whole word (`psa`, `beckett`, `tag` …).
pub(crate) fn is_grader_word(w: &[u8]) -> bool {
    lookup(w).and_then(grader_of).is_some()
}

/// The grader of a name from [`grader_of`].
pub(crate) fn grader(name: &str) -> Grader {
    match name {
        "PSA" => Grader::Psa,
        "BGS" => Grader::Bgs,
        "CGC" => Grader::Cgc,
        "SGC" => Grader::Sgc,
        "TAG" => Grader::Tag,
        "ACE" => Grader::Ace,
        other => Grader::Other(other.to_owned()),
    }
}

/// The grade as one series: a BGS 10 is always a Pristine (gold label) 10 unless it is a Black
/// Label, so a bare "BGS 10" and "BGS Pristine 10" are the same series.
pub(crate) fn canonical(grader: &Grader, grade: Grade) -> Grade {
    if *grader == Grader::Bgs && grade.tenths() == 100 && grade.label().is_none() {
        Grade::from_tenths(100, Some(GradeLabel::Pristine)).unwrap_or(grade)
    } else {
        grade
    }
}

/// One grader + grade read from the title.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Mention {
    /// The grader's name ("PSA", "BGS", "HGA" …).
    pub grader: &'static str,
    /// The grade times ten.
    pub tenths: u8,
    pub label: Option<GradeLabel>,
    /// CGC "Perfect 10", which the grade vocabulary cannot express.
    pub perfect: bool,
    /// "PSA 10 candidate", "potential PSA 10", "PSA 10?": a hope, not a slab.
    pub hedged: bool,
    pub first: usize,
    pub last: usize,
}

impl Mention {
    fn new(first: usize, last: usize, tenths: u8) -> Mention {
        Mention {
            grader: "",
            tenths,
            label: None,
            perfect: false,
            hedged: false,
            first,
            last,
        }
    }

    /// The grade, canonical for the grader; `None` when the vocabulary cannot hold it.
    pub(crate) fn grade(&self) -> Option<Grade> {
        if self.perfect {
            return None;
        }
        let grade = Grade::from_tenths(self.tenths, self.label).ok()?;
        Some(canonical(&grader(self.grader), grade))
    }

    fn same_grade(&self, other: &Mention) -> bool {
        self.grader == other.grader
            && self.tenths == other.tenths
            && self.label == other.label
            && self.perfect == other.perfect
    }

    /// "PSA 10", "BGS 10 Black Label" for messages.
    pub(crate) fn describe(&self) -> String {
        if self.perfect {
            return format!("{} Perfect 10", self.grader);
        }
        match self.grade() {
            Some(g) => format!("{} {g}", self.grader),
            None => format!("{} {}", self.grader, self.tenths / 10),
        }
    }
}

const MAX_MENTIONS: usize = 4;

/// Everything the title says about grading.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct GradeScan {
    mentions: [Option<Mention>; MAX_MENTIONS],
    /// A strong grader named without a readable grade ("PSA graded", "PSA Authentic").
    pub grader_only: Option<&'static str>,
    /// "raw", "ungraded", "not graded", "ready for grading", "candidate": the card is not slabbed.
    pub raw_words: bool,
    /// "graded", "slab", "slabbed": something is slabbed.
    pub graded_words: bool,
}

impl GradeScan {
    /// Distinct grade mentions.
    pub(crate) fn mentions(&self) -> impl Iterator<Item = &Mention> {
        self.mentions.iter().flatten()
    }

    /// Distinct mentions that are not hedged (and the title does not call the card raw).
    pub(crate) fn firm(&self) -> impl Iterator<Item = &Mention> {
        let raw = self.raw_words;
        self.mentions().filter(move |m| !m.hedged && !raw)
    }

    fn add(&mut self, m: Mention) {
        for slot in &mut self.mentions {
            match slot {
                Some(old) if old.same_grade(&m) => {
                    old.hedged &= m.hedged;
                    return;
                }
                Some(_) => {}
                None => {
                    *slot = Some(m);
                    return;
                }
            }
        }
    }
}

fn is_filler(kw: Kw) -> bool {
    matches!(
        kw,
        Kw::Gem | Kw::Mint | Kw::Mt | Kw::Gm | Kw::Gemmint | Kw::Gemmt | Kw::Grade | Kw::Graded
    )
}

/// Words after a grade that make it a hope: "PSA 10 candidate".
fn is_post_hedge(kw: Kw) -> bool {
    matches!(
        kw,
        Kw::Candidate
            | Kw::Candidates
            | Kw::Ready
            | Kw::Potential
            | Kw::Possible
            | Kw::Worthy
            | Kw::Quality
            | Kw::Material
            | Kw::Contender
            | Kw::Maybe
            | Kw::Likely
            | Kw::Prospect
            | Kw::Condition
            | Kw::Cond
    )
}

/// Words before a grader that make the grade a hope: "potential PSA 10", "not PSA 10".
fn is_pre_hedge(kw: Kw) -> bool {
    matches!(
        kw,
        Kw::Potential
            | Kw::Possible
            | Kw::Future
            | Kw::Likely
            | Kw::Maybe
            | Kw::Ready
            | Kw::Could
            | Kw::Would
            | Kw::Should
            | Kw::Not
            | Kw::No
            | Kw::Non
            | Kw::Like
            | Kw::Vs
            | Kw::For
            | Kw::Submit
            | Kw::Send
            | Kw::Candidate
    )
}

/// Labels and fillers around a grade; returns false at the first other word.
fn read_label(
    t: &Tokens<'_>,
    j: &mut usize,
    label: &mut Option<GradeLabel>,
    perfect: &mut bool,
) -> bool {
    match t.kw(*j) {
        // A Black Label is also called "Pristine"; the black label wins.
        Kw::Pristine => {
            label.get_or_insert(GradeLabel::Pristine);
        }
        Kw::Black if t.kw(*j + 1) == Kw::Label => {
            *label = Some(GradeLabel::BlackLabel);
            *j += 1;
        }
        Kw::Bl => *label = Some(GradeLabel::BlackLabel),
        Kw::Perfect => *perfect = true,
        kw if is_filler(kw) => {}
        _ => return false,
    }
    *j += 1;
    true
}

/// Reads a grade starting after token `i` (the grader); `inline` is the digits glued to the
/// grader word ("10" in "psa10").
fn grade_after(t: &Tokens<'_>, i: usize, inline: &[u8]) -> Option<Mention> {
    let mut label = None;
    let mut perfect = false;
    let mut j = i + 1;
    let value_at = if inline.is_empty() {
        let mut skipped = 0;
        while j < t.len() && skipped < 4 && read_label(t, &mut j, &mut label, &mut perfect) {
            skipped += 1;
        }
        digits_value(t.word(j))
            .filter(|_| !t.joined(j + 1, b'/') && !t.joined(j, b'/'))
            .map(|v| (j, v))
    } else {
        digits_value(inline).map(|v| (i, v))
    };
    let Some((k, value)) = value_at else {
        // "BGS Black Label", "CGC Pristine": the label implies the 10.
        return (label.is_some() || perfect).then(|| {
            let mut m = Mention::new(i, j.saturating_sub(1).max(i), 100);
            m.label = label;
            m.perfect = perfect;
            m
        });
    };
    if !(1..=10).contains(&value) {
        return None;
    }
    let mut tenths = value as u8 * 10;
    let mut last = k;
    if t.joined(k + 1, b'.') {
        match t.word(k + 1) {
            b"5" => tenths += 5,
            b"0" => {}
            _ => return None,
        }
        last = k + 1;
    }
    if tenths > 100 {
        return None;
    }
    let mut m = last + 1;
    while m < t.len() && m <= last + 3 && read_label(t, &mut m, &mut label, &mut perfect) {}
    let mut out = Mention::new(i, last, tenths);
    if tenths == 100 {
        out.label = label;
        out.perfect = perfect;
    }
    Some(out)
}

/// Reads a grade written before the grader: "10 PSA", "9.5 BGS", "Gem Mint 10 PSA".
fn grade_before(t: &Tokens<'_>, i: usize) -> Option<Mention> {
    let k = i.checked_sub(1)?;
    let (first, tenths) = if t.joined(k, b'.') && t.word(k) == b"5" {
        let whole = digits_value(t.word(k - 1)).filter(|v| (1..=9).contains(v))?;
        (k - 1, whole as u8 * 10 + 5)
    } else {
        let whole = digits_value(t.word(k)).filter(|v| (1..=10).contains(v))?;
        (k, whole as u8 * 10)
    };
    if t.joined(first, b'/')
        || t.joined(first, b'-')
        || t.joined(first, b'.')
        || t.char_before(first) == b'#'
    {
        return None;
    }
    Some(Mention::new(first, i, tenths))
}

fn hedged(t: &Tokens<'_>, first: usize, last: usize) -> bool {
    let after = (last + 1..=last + 2).any(|j| is_post_hedge(t.kw(j)));
    let question = t.gap_before(last + 1).contains(&b'?');
    let before = (first.saturating_sub(2)..first).any(|j| is_pre_hedge(t.kw(j)));
    after || question || before
}

/// Scans a title for graders, grades and grading words. `target_has` says whether a word is part
/// of the tracked card's name or set ("Portgas D. Ace"), which then is not a grader.
pub(crate) fn scan(t: &Tokens<'_>, target_has: &dyn Fn(&[u8]) -> bool) -> GradeScan {
    let mut out = GradeScan::default();
    for i in 0..t.len() {
        let w = t.word(i);
        let kw = t.kw(i);
        match kw {
            Kw::Raw
            | Kw::Ungraded
            | Kw::Grading
            | Kw::Gradable
            | Kw::Gradeable
            | Kw::Candidate
            | Kw::Candidates => {
                if !target_has(w) {
                    out.raw_words = true;
                }
                continue;
            }
            Kw::Graded | Kw::Slab | Kw::Slabbed | Kw::Encapsulated => {
                if i > 0 && matches!(t.kw(i - 1), Kw::Not | Kw::Un | Kw::Non) {
                    out.raw_words = true;
                } else {
                    out.graded_words = true;
                }
                continue;
            }
            _ => {}
        }
        // "psa", or "psa10" with the grade glued on.
        let ((name, strong), inline) = match grader_of(kw) {
            Some(g) => (g, &[][..]),
            None if kw == Kw::None && w.len() > 3 && w[3..].iter().all(u8::is_ascii_digit) => {
                match lookup(&w[..3]).and_then(grader_of) {
                    Some(g) => (g, &w[3..]),
                    None => continue,
                }
            }
            None => continue,
        };
        if inline.is_empty() && (target_has(w) || matches!(t.kw(i + 1), Kw::Team | Kw::Spec)) {
            continue;
        }
        let reading = grade_after(t, i, inline).or_else(|| {
            if inline.is_empty() {
                grade_before(t, i)
            } else {
                None
            }
        });
        match reading {
            Some(mut m) => {
                m.grader = name;
                m.first = m.first.min(i);
                m.last = m.last.max(i);
                m.hedged = hedged(t, m.first, m.last);
                out.add(m);
            }
            None if strong && out.grader_only.is_none() => out.grader_only = Some(name),
            None => {}
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::super::text::{MAX_TOKENS, STACK_TEXT, Scripts, TokenBuf, fold};
    use super::*;

    fn read(title: &str) -> Vec<(String, bool)> {
        let mut stack = [0u8; STACK_TEXT];
        let mut heap = Vec::new();
        let mut scripts = Scripts::default();
        let mut t_buf = TokenBuf::<MAX_TOKENS>::new();
        let t = t_buf.tokenize(fold(title, &mut stack, &mut heap, &mut scripts), true);
        let scan = scan(&t, &|w: &[u8]| w == b"ace" && title.contains("Portgas"));
        scan.mentions()
            .map(|m| (m.describe(), m.hedged || scan.raw_words))
            .collect()
    }

    fn firm(title: &str) -> Vec<String> {
        read(title)
            .into_iter()
            .filter(|(_, h)| !h)
            .map(|(d, _)| d)
            .collect()
    }

    #[test]
    fn grades_in_their_many_spellings() {
        assert_eq!(firm("Charizard PSA 10 Gem Mint"), ["PSA 10"]);
        assert_eq!(firm("Charizard PSA10"), ["PSA 10"]);
        assert_eq!(firm("Charizard psa-9"), ["PSA 9"]);
        assert_eq!(firm("Charizard BGS 9.5"), ["BGS 9.5"]);
        assert_eq!(firm("Charizard BGS9.5 Gem Mint"), ["BGS 9.5"]);
        assert_eq!(
            firm("Charizard Beckett 9.5 subs 10 9.5 9.5 10"),
            ["BGS 9.5"]
        );
        assert_eq!(firm("Charizard CGC 9"), ["CGC 9"]);
        assert_eq!(firm("Charizard CGC Pristine 10"), ["CGC 10 Pristine"]);
        assert_eq!(firm("Charizard CGC 10 Pristine"), ["CGC 10 Pristine"]);
        assert_eq!(firm("Charizard BGS 10 Black Label"), ["BGS 10 Black Label"]);
        assert_eq!(firm("Charizard BGS Black Label 10"), ["BGS 10 Black Label"]);
        assert_eq!(
            firm("Charizard BGS 10 Black Label Pristine"),
            ["BGS 10 Black Label"]
        );
        assert_eq!(firm("Charizard BGS 10"), ["BGS 10 Pristine"]);
        assert_eq!(firm("Charizard SGC 10"), ["SGC 10"]);
        assert_eq!(firm("Charizard TAG 10"), ["TAG 10"]);
        assert_eq!(firm("Charizard ACE 10"), ["ACE 10"]);
        assert_eq!(firm("Charizard PSA GEM MINT 10"), ["PSA 10"]);
        assert_eq!(firm("Charizard GEM MINT 10 PSA"), ["PSA 10"]);
        assert_eq!(firm("Charizard 9.5 BGS"), ["BGS 9.5"]);
        assert_eq!(firm("Charizard PSA 8.5"), ["PSA 8.5"]);
        assert_eq!(firm("Charizard HGA 9.5"), ["HGA 9.5"]);
        assert_eq!(firm("Charizard CGC Perfect 10"), ["CGC Perfect 10"]);
    }

    #[test]
    fn not_grades() {
        assert!(firm("Pikachu & Zekrom GX Tag Team 33/181").is_empty());
        assert!(firm("Portgas D Ace 10 OP02-013").is_empty());
        assert!(firm("Charizard 4/102 PSA").is_empty());
        assert!(firm("Charizard PSA 11").is_empty());
        assert!(firm("Charizard 10/102 PSA").is_empty());
        assert!(firm("Ace Spec Prime Catcher 10").is_empty());
    }

    #[test]
    fn hedges() {
        for title in [
            "Charizard ex 199/165 PSA 10 candidate",
            "Charizard ex 199/165 PSA 10?",
            "Charizard ex 199/165 potential PSA 10",
            "Charizard ex PSA 10 ready",
            "Charizard ex NM raw ready for grading PSA 10",
            "Charizard ex not PSA 10",
            "Charizard ex PSA 10 worthy",
        ] {
            assert!(firm(title).is_empty(), "{title}");
            assert_eq!(read(title).len(), 1, "{title}");
        }
    }

    #[test]
    fn bgs_ten_is_pristine() {
        let g = Grade::whole(10).unwrap();
        assert_eq!(
            canonical(&Grader::Bgs, g).label(),
            Some(GradeLabel::Pristine)
        );
        assert_eq!(canonical(&Grader::Psa, g).label(), None);
    }
}
