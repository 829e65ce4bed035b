//! Price series identity: a SKU series (product × printing × condition × language) or a graded
//! series (product × grader × grade). Each has a stable string id used as the storage key.

use std::{
    fmt::{self, Write as _},
    str::FromStr,
};

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::{
    SchemaError,
    ids::ProductId,
    vocab::{Condition, Grade, Grader, Language, Printing},
};

/// The identity of one price series.
#[derive(
    Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, JsonSchema,
)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum SeriesKey {
    /// A raw (ungraded) card: product × printing × condition × language.
    Sku {
        product_id: ProductId,
        printing: Printing,
        condition: Condition,
        language: Language,
    },
    /// A graded card: product × grader × grade.
    Graded {
        product_id: ProductId,
        grader: Grader,
        grade: Grade,
    },
}

impl SeriesKey {
    pub fn product_id(&self) -> ProductId {
        match self {
            SeriesKey::Sku { product_id, .. } | SeriesKey::Graded { product_id, .. } => *product_id,
        }
    }

    /// The stable id: `451784/reverse-holofoil/nm/en` or `451784/psa/10` (built once per tick).
    pub fn id(&self) -> String {
        let mut id = String::with_capacity(32);
        // Writing to a String cannot fail.
        let _ = write!(id, "{}", self.product_id().0);
        match self {
            SeriesKey::Sku {
                printing,
                condition,
                language,
                ..
            } => {
                for part in [printing.code(), condition.code(), language.code()] {
                    id.push('/');
                    id.push_str(&part);
                }
            }
            SeriesKey::Graded { grader, grade, .. } => {
                id.push('/');
                id.push_str(&grader.code());
                id.push('/');
                id.push_str(&grade.code());
            }
        }
        id
    }

    pub fn is_graded(&self) -> bool {
        matches!(self, SeriesKey::Graded { .. })
    }
}

impl fmt::Display for SeriesKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.id())
    }
}

impl FromStr for SeriesKey {
    type Err = SchemaError;

    /// Parses a series id as produced by [`SeriesKey::id`].
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = || SchemaError::InvalidSeriesId(s.to_owned());
        let parts: Vec<&str> = s.split('/').collect();
        let product_id = ProductId(parts.first().and_then(|p| p.parse().ok()).ok_or_else(bad)?);
        match parts.as_slice() {
            [_, printing, condition, language] => Ok(SeriesKey::Sku {
                product_id,
                printing: Printing::from_code(printing).ok_or_else(bad)?,
                condition: Condition::from_code(condition).ok_or_else(bad)?,
                language: Language::from_code(language).ok_or_else(bad)?,
            }),
            [_, grader, grade] => {
                let grade_text = grade
                    .replace("-black-label", " black label")
                    .replace("-pristine", " pristine");
                Ok(SeriesKey::Graded {
                    product_id,
                    grader: Grader::from_code(grader).ok_or_else(bad)?,
                    grade: Grade::parse(&grade_text).map_err(|_| bad())?,
                })
            }
            _ => Err(bad()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn ids_are_readable_and_parse_back() {
        let sku = SeriesKey::Sku {
            product_id: ProductId(451784),
            printing: Printing::ReverseHolofoil,
            condition: Condition::NearMint,
            language: Language::English,
        };
        assert_eq!(sku.id(), "451784/reverse-holofoil/nm/en");
        assert_eq!(sku.id().parse::<SeriesKey>().unwrap(), sku);
        let graded = SeriesKey::Graded {
            product_id: ProductId(7),
            grader: Grader::Bgs,
            grade: Grade::parse("10 Black Label").unwrap(),
        };
        assert_eq!(graded.id(), "7/bgs/10-black-label");
        assert_eq!(graded.id().parse::<SeriesKey>().unwrap(), graded);
        for bad in [
            "",
            "x/psa/10",
            "1/psa",
            "1/psa/11",
            "1/a/b/c/d",
            "1/nope/nm/en",
        ] {
            assert!(bad.parse::<SeriesKey>().is_err(), "{bad}");
        }
    }

    proptest! {
        #[test]
        fn any_series_round_trips(product in 0u64..u64::MAX, printing in ".{0,12}", condition in ".{0,12}", language in ".{0,12}", grader in ".{0,6}", half in 2u8..=20) {
            let sku = SeriesKey::Sku {
                product_id: ProductId(product),
                printing: Printing::parse(&printing),
                condition: Condition::parse(&condition),
                language: Language::parse(&language),
            };
            prop_assert_eq!(sku.id().parse::<SeriesKey>().unwrap(), sku.clone());
            if let SeriesKey::Sku { printing, condition, language, .. } = &sku {
                let formatted = format!("{product}/{}/{}/{}", printing.code(), condition.code(), language.code());
                prop_assert_eq!(sku.id(), formatted);
            }
            let graded = SeriesKey::Graded {
                product_id: ProductId(product),
                grader: Grader::parse(&grader),
                grade: Grade::from_tenths(half * 5, None).unwrap(),
            };
            prop_assert_eq!(graded.id().parse::<SeriesKey>().unwrap(), graded.clone());
            prop_assert_eq!(graded.to_string(), graded.id());
            if let SeriesKey::Graded { grader, grade, .. } = &graded {
                prop_assert_eq!(graded.id(), format!("{product}/{}/{}", grader.code(), grade.code()));
            }
        }
    }
}
