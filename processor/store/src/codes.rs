//! Stable integer codes of sources and price kinds in the SQLite store. Append-only: a code is never
//! reused or renumbered (stored data depends on them).

use tcg_schemas::{PriceKind, Source};

use crate::StoreError;

pub fn source_code(s: Source) -> i64 {
    match s {
        Source::Tcgplayer => 1,
        Source::Tcgcsv => 2,
        Source::EbayBrowse => 3,
        Source::EbaySold => 4,
        Source::Tcgtracker => 5,
        Source::Cardmarket => 6,
        Source::Scryfall => 7,
        Source::Pricecharting => 8,
        Source::Justtcg => 9,
        Source::Cardkingdom => 10,
    }
}

pub fn source_from_code(c: i64) -> Result<Source, StoreError> {
    Source::ALL
        .into_iter()
        .find(|s| source_code(*s) == c)
        .ok_or_else(|| StoreError::Corrupt(format!("unknown source code {c}")))
}

pub fn kind_code(k: PriceKind) -> i64 {
    match k {
        PriceKind::Market => 1,
        PriceKind::Low => 2,
        PriceKind::Mid => 3,
        PriceKind::High => 4,
        PriceKind::DirectLow => 5,
        PriceKind::LowestListing => 6,
        PriceKind::Listing => 7,
        PriceKind::Sold => 8,
        PriceKind::Fair => 9,
        PriceKind::Trend => 10,
        PriceKind::Avg => 11,
        PriceKind::Avg1 => 12,
        PriceKind::Avg7 => 13,
        PriceKind::Avg30 => 14,
        PriceKind::Sales => 15,
        PriceKind::Retail => 16,
        PriceKind::Buylist => 17,
    }
}

pub fn kind_from_code(c: i64) -> Result<PriceKind, StoreError> {
    PriceKind::ALL
        .into_iter()
        .find(|k| kind_code(*k) == c)
        .ok_or_else(|| StoreError::Corrupt(format!("unknown kind code {c}")))
}

/// Sources as stored beside a fair value: names joined by commas, `None` for none.
pub fn sources_text(sources: &[Source]) -> Option<String> {
    (!sources.is_empty()).then(|| {
        sources
            .iter()
            .map(Source::as_str)
            .collect::<Vec<_>>()
            .join(",")
    })
}

/// The inverse of [`sources_text`]; a name this build does not know is an error.
pub fn sources_from_text(text: Option<&str>) -> Result<Vec<Source>, StoreError> {
    text.filter(|t| !t.is_empty())
        .map(|t| {
            t.split(',')
                .map(|s| {
                    Source::parse(s)
                        .ok_or_else(|| StoreError::Corrupt(format!("unknown source {s:?}")))
                })
                .collect()
        })
        .unwrap_or_else(|| Ok(Vec::new()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_round_trip_and_are_distinct() {
        for s in Source::ALL {
            assert_eq!(source_from_code(source_code(s)).unwrap(), s);
        }
        for k in PriceKind::ALL {
            assert_eq!(kind_from_code(kind_code(k)).unwrap(), k);
        }
        assert!(source_from_code(0).is_err() && kind_from_code(99).is_err());
        let agreeing = [Source::EbaySold, Source::Tcgplayer];
        let text = sources_text(&agreeing);
        assert_eq!(text.as_deref(), Some("ebay_sold,tcgplayer"));
        assert_eq!(sources_from_text(text.as_deref()).unwrap(), agreeing);
        assert_eq!(sources_text(&[]), None);
        assert!(sources_from_text(None).unwrap().is_empty());
        assert!(sources_from_text(Some("nowhere")).is_err());
    }
}
