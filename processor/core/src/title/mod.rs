//! eBay listing title classification: does a listing price the tracked card, and in which series?
//!
//! Pure and allocation-light: the title is folded once into a stack buffer (lower-case ASCII,
//! accents stripped), tokenised into spans, and every check is a pass over those spans.
//! Allocation happens only for the answer (series key, rejection detail).
//!
//! Checks, in order (the first failing one is the rejection reason):
//! 1. not a genuine card: proxy, custom, orica, replica, fake, reprint, digital, code card,
//!    PTCGO/PTCGL, art card, metal card … → `NotGenuine`;
//! 2. not a card at all: "empty slab", "slab only", "label only", "no card" → `Sealed` (the
//!    reason documented for empty slabs: packaging without the card), then sealed product:
//!    sealed, blister, booster, pack, tin, box, ETB, elite trainer, display → `Sealed`
//!    ("pack fresh", "box topper" and promos "from an ETB" are single cards);
//! 3. lots, bundles, bulk, playsets, "x4"/"4x", "complete set", "set of", "50 cards" → `Lot`;
//!    several different grades in one title → `Lot`;
//! 4. "you pick", "choose", "pick your card" → `MultipleChoice`;
//! 5. language: a language word other than the target's ("Japanese" for an English card,
//!    "English" for a Japanese one), CJK script for a Latin-script card, or a Yu-Gi-Oh! set code
//!    region (`FL1-JP003`) of another language → `WrongLanguage`. A non-English target whose
//!    title never states its language gets lower confidence (eBay search is loose);
//! 6. card number: a number in the title that is not the target's (`183/165` for `199/165`,
//!    `SDK-001` for `LOB-001`) and none that is → `WrongNumber`;
//! 7. name: fewer than half of the name's core words, or another mechanic/variant
//!    (`Charizard V` for `Charizard ex`, `Dark Charizard` for `Charizard`) unless the exact number
//!    pins the card → `NameMismatch`; then another of the products TCGplayer lists under the
//!    same name and number, told apart by the catalog's words for them (the product name's
//!    `(Showcase)`, `(Borderless)`, `(Extended Art)`, `(Retro Frame)`, `(Jumbo)`; the set's
//!    `Base Set (Shadowless)`, `Celebrations: Classic Collection`, `Base Set 2`, `Legendary
//!    Collection`, 25th Anniversary; 1st Edition against TCGplayer's Base Set, which is the
//!    Unlimited print): a title naming one the card is not → `NameMismatch` ("title names another
//!    TCGplayer product (Shadowless) …"), a title not naming one the card must show (Shadowless,
//!    Jumbo, a Magic treatment, the Classic Collection) → `LowConfidence`, capped (see
//!    [`variant`]);
//! 8. graded or raw, from the title and eBay's `conditionId` (2750 graded, 4000 ungraded):
//!    - a firm grade ("PSA 10", not "PSA 10 candidate"/"PSA 10?"/"ready for grading") on a
//!      2750 or unknown listing → graded series; on a 4000 listing the two disagree →
//!      `LowConfidence` (never priced as either);
//!    - a 2750 listing without a readable grade → `GradedForRaw` when raw is wanted, else
//!      `LowConfidence`; CGC "Perfect 10" (no grade label for it) → `LowConfidence`;
//!    - then `target.want`: Raw rejects graded (`GradedForRaw`), Graded rejects raw
//!      (`RawForGraded`) and other graders/grades (`WrongGrade`);
//! 9. confidence below `min_confidence` → `LowConfidence` with the confidence.
//!
//! `LowConfidence` rejections for an ambiguous listing (grade unreadable or contradicted,
//! printing contradicted) carry the identity confidence capped just below `min_confidence`.
//!
//! Confidence (0–100): name 55 (all words), 45 (subtitle missing), 25 (half the core words);
//! −10 per typo; number exact +35, partial +20, none in the title 0, target without a number +15;
//! set name/code seen +10; −15 for a missing or foreign suffix pinned by the exact number, −15
//! when the title also holds a conflicting number, −10 for an unconfirmed non-English language,
//! −10 for a missing distinguishing printing word ("1st Edition", "Reverse Holo"), −5 for a
//! graded listing without a `conditionId`. A title naming another printing than the tracked one
//! ("Reverse Holo" for Holofoil, "Foil" for a non-foil, "Unlimited" for 1st Edition) is
//! `LowConfidence`: the series would carry the tracked printing, so it is never priced.
//!
//! Grades: a BGS 10 is read as BGS "10 Pristine" (BGS' 10 is always Pristine or Black Label),
//! so "BGS 10" and "BGS Pristine 10" land in one series; wanted grades are read the same way.
//! Raw condition: from the title (NM, LP, MP, HP, DMG …; the worst named wins), else eBay's
//! condition text when it is a real condition, else "Ungraded" — never silently Near Mint.
//! Language: `target.language`, else Japanese for TCGplayer category 85 (Pokémon Japan), else
//! English.

mod grade;
mod kw;
mod language;
mod name;
mod number;
mod printing;
mod scan;
mod series;
mod set;
mod text;
mod variant;

#[cfg(test)]
mod tests;

use tcg_schemas::{EbayItem, RejectReason, SeriesKey, TrackedCard};

use self::grade::{GradeScan, Mention};
use self::name::{Level, NameMatch, NameWords};
use self::number::{CardNo, NumberEvidence};
use self::printing::PrintingCheck;
use self::scan::Scan;
use self::series::Listed;
pub use self::series::{UNSTATED_CONDITION, is_unstated};
use self::text::{MAX_TOKENS, STACK_TEXT, Scripts, TokenBuf, Tokens};
use self::variant::VariantCheck;

/// A listing that prices the tracked card.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TitleMatch {
    /// The series the listing prices: the tracked card raw (SKU series) or graded.
    pub series: SeriesKey,
    /// 0–100.
    pub confidence: u8,
}

/// A listing that does not price the tracked card.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TitleReject {
    pub reason: RejectReason,
    pub detail: String,
    pub confidence: Option<u8>,
}

fn reject(reason: RejectReason, detail: String) -> TitleReject {
    TitleReject {
        reason,
        detail,
        confidence: None,
    }
}

/// A `LowConfidence` rejection carrying `confidence`.
fn low(detail: String, confidence: u8) -> TitleReject {
    TitleReject {
        reason: RejectReason::LowConfidence,
        detail,
        confidence: Some(confidence),
    }
}

/// Title token `i` as text, for rejection details.
fn word(title: &Tokens<'_>, i: usize) -> String {
    String::from_utf8_lossy(title.word(i)).into_owned()
}

/// Classifies one eBay item against the card the collector searched for.
pub fn classify(item: &EbayItem, min_confidence: u8) -> Result<TitleMatch, TitleReject> {
    let target = &item.target;

    let mut scripts = Scripts::default();
    let mut title_stack = [0u8; STACK_TEXT];
    let mut title_heap = Vec::new();
    let mut title_buf = TokenBuf::<MAX_TOKENS>::new();
    let title = title_buf.tokenize(
        text::fold(&item.title, &mut title_stack, &mut title_heap, &mut scripts),
        true,
    );

    let mut ignored = Scripts::default();
    let mut name_stack = [0u8; 128];
    let mut name_heap = Vec::new();
    let mut name_tokens_buf = TokenBuf::<16>::new();
    let name_tokens = name_tokens_buf.tokenize(
        text::fold(&target.name, &mut name_stack, &mut name_heap, &mut ignored),
        true,
    );
    let name = NameWords::new(&name_tokens);

    let mut set_stack = [0u8; 128];
    let mut set_heap = Vec::new();
    let set_text = target.set_name.as_deref().unwrap_or("");
    let mut set_tokens_buf = TokenBuf::<16>::new();
    let set_tokens = set_tokens_buf.tokenize(
        text::fold(set_text, &mut set_stack, &mut set_heap, &mut ignored),
        true,
    );

    judge(
        item,
        &Texts {
            title,
            scripts,
            name: &name,
            name_tokens,
            set: set_tokens,
        },
        min_confidence,
    )
}

/// The folded and tokenised texts of one item.
struct Texts<'a> {
    title: Tokens<'a>,
    /// Scripts seen in the title.
    scripts: Scripts,
    name: &'a NameWords<'a>,
    name_tokens: Tokens<'a>,
    set: Tokens<'a>,
}

/// Checks 1–9 over the item's texts.
fn judge(
    item: &EbayItem,
    texts: &Texts<'_>,
    min_confidence: u8,
) -> Result<TitleMatch, TitleReject> {
    let target = &item.target;
    let title = &texts.title;
    let target_has = |w: &[u8]| texts.name.has(w) || texts.set.contains(w);

    // 1–4: one genuine card.
    let scan = scan::scan(title, &target_has);
    let grades = grade::scan(title, &target_has);
    let firm = one_card(title, &scan, &grades)?;

    // 5: language.
    let language = language::of_target(target);
    let number = target.number.as_deref().and_then(CardNo::parse);
    let numbers = number.as_ref().map(|n| number::compare(n, title));
    let language_confirmed = language::check(
        title,
        &language,
        &scan,
        texts.scripts,
        numbers.and_then(|n| n.region),
    )?;

    // 6, 7: number and name, and which of the products under that name and number.
    let fit = check_number(title, target, numbers)?;
    let names = check_name(texts, target, fit.exact)?;
    let printing = printing::of_target(target.printing.as_deref());
    let variant_check = check_variant(texts, target, &printing, scan.print)?;

    let printing_check = printing::check(&printing, scan.print);
    let listed = Listed::of(item.condition_id.as_deref());
    let confidence = confidence(&Evidence {
        names,
        has_number: number.is_some(),
        number: fit,
        set_seen: set::seen(title, &texts.set, target.set_code.as_deref(), texts.name),
        language_confirmed,
        lacks_printing: printing_check == PrintingCheck::Lacks,
        grade_unlisted: listed == Listed::Unknown && firm.is_some(),
    });

    // 8: graded or raw. An ambiguous listing carries the confidence capped below the threshold.
    let capped = confidence.min(min_confidence.saturating_sub(1));
    if let PrintingCheck::Contradicts(said) = printing_check {
        return Err(low(
            format!("title says {said}, the tracked printing is {printing}"),
            capped,
        ));
    }
    if let VariantCheck::Lacks(what) = variant_check {
        return Err(low(
            format!("title does not say {what}, and the card is {what}"),
            capped,
        ));
    }
    let series = series::decide(
        item,
        firm,
        listed,
        &grades,
        &scan,
        series::Raw { printing, language },
        capped,
    )?;

    // 9: threshold.
    if confidence < min_confidence {
        return Err(low(
            format!("confidence {confidence} is below {min_confidence}"),
            confidence,
        ));
    }
    Ok(TitleMatch { series, confidence })
}

/// Checks 1–4: a genuine card, not an empty slab, not sealed product, one copy, not the buyer's
/// choice among several. Gives the title's firm grade, if any.
fn one_card<'g>(
    title: &Tokens<'_>,
    scan: &Scan,
    grades: &'g GradeScan,
) -> Result<Option<&'g Mention>, TitleReject> {
    if let Some(i) = scan.not_genuine {
        return Err(reject(
            RejectReason::NotGenuine,
            format!("not a genuine card: \"{}\"", word(title, i)),
        ));
    }
    if let Some(i) = scan.empty_slab {
        return Err(reject(
            RejectReason::Sealed,
            format!("a slab or label without the card: \"{}\"", word(title, i)),
        ));
    }
    if let Some(i) = scan
        .sealed
        .or(scan.sealed_unless_promo.filter(|_| !scan.promo))
    {
        return Err(reject(
            RejectReason::Sealed,
            format!("sealed product: \"{}\"", word(title, i)),
        ));
    }
    if let Some(i) = scan.lot {
        return Err(reject(
            RejectReason::Lot,
            format!("more than one card: \"{}\"", word(title, i)),
        ));
    }
    let mut firm = grades.firm();
    let first = firm.next();
    if let (Some(a), Some(b)) = (first, firm.next()) {
        return Err(reject(
            RejectReason::Lot,
            format!(
                "several graded copies: {} and {}",
                a.describe(),
                b.describe()
            ),
        ));
    }
    if let Some(i) = scan.choice {
        return Err(reject(
            RejectReason::MultipleChoice,
            format!("buyer chooses the card: \"{}\"", word(title, i)),
        ));
    }
    Ok(first)
}

/// How the title's numbers fit the target's.
#[derive(Debug, Clone, Copy, Default)]
struct NumberFit {
    exact: bool,
    partial: bool,
    /// The title also holds a number that is not the target's.
    mixed: bool,
}

/// Check 6: a number in the title that is not the target's, and none that is, rejects.
fn check_number(
    title: &Tokens<'_>,
    target: &TrackedCard,
    numbers: Option<NumberEvidence>,
) -> Result<NumberFit, TitleReject> {
    let Some(n) = numbers else {
        return Ok(NumberFit::default());
    };
    if let Some((first, last)) = n.conflict
        && !n.exact
        && !n.partial
    {
        let span_text =
            &title.text()[title.span(first).start as usize..title.span(last).end as usize];
        return Err(reject(
            RejectReason::WrongNumber,
            format!(
                "title has number \"{}\", the card is {}",
                String::from_utf8_lossy(span_text),
                target.number.as_deref().unwrap_or("")
            ),
        ));
    }
    Ok(NumberFit {
        exact: n.exact,
        partial: n.partial,
        mixed: n.conflict.is_some(),
    })
}

/// Check 7: the title names the card, without another mechanic or variant unless the exact
/// number pins the card.
fn check_name(
    texts: &Texts<'_>,
    target: &TrackedCard,
    number_exact: bool,
) -> Result<NameMatch, TitleReject> {
    let title = &texts.title;
    let names = name::match_name(texts.name, title, set::name_run(title, &texts.set));
    if names.level() == Level::None {
        return Err(reject(
            RejectReason::NameMismatch,
            format!("title does not name \"{}\"", target.name),
        ));
    }
    if !number_exact {
        if let Some(suffix) = names.missing_suffix {
            return Err(reject(
                RejectReason::NameMismatch,
                format!("title lacks \"{suffix}\" of \"{}\"", target.name),
            ));
        }
        if let Some(j) = names.foreign {
            return Err(reject(
                RejectReason::NameMismatch,
                format!(
                    "title names another card: \"{}\" is not in \"{}\"",
                    word(title, j),
                    target.name
                ),
            ));
        }
    }
    Ok(names)
}

/// Check 7b: the title does not name another product TCGplayer lists under the same name and
/// number (another print, a reprint set, a jumbo card, a Magic treatment); see [`variant`].
fn check_variant(
    texts: &Texts<'_>,
    target: &TrackedCard,
    printing: &tcg_schemas::Printing,
    print: u8,
) -> Result<VariantCheck, TitleReject> {
    let v = variant::of_target(&texts.name_tokens, &texts.set, printing);
    let seen = variant::marks(&texts.title, &|w| texts.name.names(w));
    match variant::check(&v, seen, print) {
        VariantCheck::Foreign(what) => Err(reject(
            RejectReason::NameMismatch,
            format!(
                "title names another TCGplayer product ({what}) than \"{}\" of {}",
                target.name,
                target.set_name.as_deref().unwrap_or("its set")
            ),
        )),
        other => Ok(other),
    }
}

/// What the confidence is made of.
#[derive(Debug, Clone, Copy)]
struct Evidence {
    names: NameMatch,
    /// The target has a card number.
    has_number: bool,
    number: NumberFit,
    set_seen: bool,
    language_confirmed: bool,
    /// A distinguishing printing word is missing.
    lacks_printing: bool,
    /// A graded listing without a `conditionId`.
    grade_unlisted: bool,
}

/// The confidence (0–100), as the module documentation tells.
fn confidence(e: &Evidence) -> u8 {
    let mut confidence: i32 = match e.names.level() {
        Level::Full => 55,
        Level::Partial => 45,
        _ => 25,
    };
    confidence -= 10 * i32::from(e.names.typos);
    if e.names.missing_suffix.is_some() || e.names.foreign.is_some() {
        confidence -= 15;
    }
    confidence += if !e.has_number {
        15
    } else if e.number.exact {
        35
    } else if e.number.partial {
        20
    } else {
        0
    };
    if e.number.mixed {
        confidence -= 15;
    }
    if e.set_seen {
        confidence += 10;
    }
    if !e.language_confirmed {
        confidence -= 10;
    }
    if e.lacks_printing {
        confidence -= 10;
    }
    if e.grade_unlisted {
        confidence -= 5;
    }
    confidence.clamp(0, 100) as u8
}
