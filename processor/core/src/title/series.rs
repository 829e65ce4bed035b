//! Check 8, graded or raw: the series a listing prices, from the title's grade and eBay's
//! `conditionId`, against what the target wants.

use tcg_schemas::{
    Condition, EbayItem, Language, Printing, RejectReason, SeriesKey, TrackedCard, Wanted,
};

use super::grade::{self, GradeScan, Mention};
use super::scan::Scan;
use super::{TitleReject, low, reject};

/// What eBay's `conditionId` says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Listed {
    Graded,
    Ungraded,
    Unknown,
}

impl Listed {
    /// From eBay's `conditionId`: 2750 graded, 4000 ungraded.
    pub(super) fn of(condition_id: Option<&str>) -> Listed {
        match condition_id {
            Some("2750") => Listed::Graded,
            Some("4000") => Listed::Ungraded,
            _ => Listed::Unknown,
        }
    }
}

/// The raw series' printing and language.
#[derive(Debug)]
pub(super) struct Raw {
    pub printing: Printing,
    pub language: Language,
}

/// The series the item prices given its first firm grade (`firm`); an ambiguous listing is
/// `LowConfidence` with `capped` as its confidence.
pub(super) fn decide(
    item: &EbayItem,
    firm: Option<&Mention>,
    listed: Listed,
    grades: &GradeScan,
    scan: &Scan,
    raw: Raw,
    capped: u8,
) -> Result<SeriesKey, TitleReject> {
    let target = &item.target;
    let wants_raw = target.want == Wanted::Raw;
    match (firm, listed) {
        (Some(m), Listed::Ungraded) => Err(low(
            format!(
                "title says {} but eBay lists the item as ungraded",
                m.describe()
            ),
            capped,
        )),
        (Some(m), _) if m.grade().is_none() => Err(low(
            format!("{} has no grade in the vocabulary", m.describe()),
            capped,
        )),
        (Some(m), _) => graded(target, m),
        (None, Listed::Graded) => {
            if wants_raw {
                return Err(reject(
                    RejectReason::GradedForRaw,
                    "eBay lists the item as graded".to_owned(),
                ));
            }
            Err(low(unreadable_grade(grades), capped))
        }
        (None, Listed::Unknown) if grades.grader_only.is_some() && !grades.raw_words => {
            if wants_raw {
                return Err(reject(
                    RejectReason::GradedForRaw,
                    format!("title names grader {}", grades.grader_only.unwrap_or("?")),
                ));
            }
            Err(low(unreadable_grade(grades), capped))
        }
        (None, _) => {
            if matches!(target.want, Wanted::Graded { .. }) {
                return Err(reject(
                    RejectReason::RawForGraded,
                    "an ungraded copy, graded ones were wanted".to_owned(),
                ));
            }
            Ok(SeriesKey::Sku {
                product_id: target.product_id,
                printing: raw.printing,
                condition: raw_condition(scan, item.condition.as_deref()),
                language: raw.language,
            })
        }
    }
}

fn unreadable_grade(grades: &GradeScan) -> String {
    if let Some(m) = grades.mentions().find(|m| m.perfect) {
        return format!("{} has no grade in the vocabulary", m.describe());
    }
    match grades.grader_only {
        Some(g) => format!("graded by {g} but no readable grade"),
        None => "graded listing without a readable grader and grade".to_owned(),
    }
}

/// The graded series of a firm grade, if the target wants it.
fn graded(target: &TrackedCard, m: &Mention) -> Result<SeriesKey, TitleReject> {
    let Some(grade) = m.grade() else {
        return Err(TitleReject {
            reason: RejectReason::LowConfidence,
            detail: format!("{} has no grade in the vocabulary", m.describe()),
            confidence: None,
        });
    };
    let grader = grade::grader(m.grader);
    match &target.want {
        Wanted::Raw => {
            return Err(reject(
                RejectReason::GradedForRaw,
                format!("graded {}, raw copies were wanted", m.describe()),
            ));
        }
        Wanted::Graded {
            grader: want_grader,
            grade: want_grade,
        } => {
            let grader_ok = want_grader.as_ref().is_none_or(|g| *g == grader);
            let grade_ok = want_grade.is_none_or(|g| {
                grade::canonical(want_grader.as_ref().unwrap_or(&grader), g) == grade
            });
            if !grader_ok || !grade_ok {
                let wanted = format!(
                    "{} {}",
                    want_grader.as_ref().map_or("any grader", |g| g.as_str()),
                    want_grade.map_or("any grade".to_owned(), |g| g.to_string())
                );
                return Err(reject(
                    RejectReason::WrongGrade,
                    format!("graded {}, {wanted} was wanted", m.describe()),
                ));
            }
        }
        Wanted::Any => {}
    }
    Ok(SeriesKey::Graded {
        product_id: target.product_id,
        grader,
        grade,
    })
}

/// The condition of a raw listing that states none (neither in the title nor as a real eBay
/// condition): its own series, never silently Near Mint.
pub const UNSTATED_CONDITION: &str = "Ungraded";

/// Whether `condition` is [`UNSTATED_CONDITION`].
pub fn is_unstated(condition: &Condition) -> bool {
    matches!(condition, Condition::Other(c) if c == UNSTATED_CONDITION)
}

/// The raw condition: the worst named in the title, else eBay's condition text when it is a
/// real condition, else [`UNSTATED_CONDITION`] (never silently Near Mint).
fn raw_condition(scan: &Scan, listed: Option<&str>) -> Condition {
    if let Some(c) = scan.condition {
        return c.condition();
    }
    match listed.map(Condition::parse) {
        Some(c) if !c.is_other() => c,
        _ => Condition::Other(UNSTATED_CONDITION.to_owned()),
    }
}
