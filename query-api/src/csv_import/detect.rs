//! Which format a file is in, from its header; what each format needs.

use super::{
    CsvFormat, ImportRow, archidekt, cells,
    cells::{Cells, Header},
    collectr, deckbox, delver_lens, dragon_shield, generic, manabox, moxfield, tcgplayer,
    tcgplayer_seller,
};
use crate::error::ApiError;

/// How one format is recognised and read. Column names are written as the vendor spells them
/// and compared case-insensitively.
#[derive(Debug)]
pub(crate) struct Layout {
    pub format: CsvFormat,
    /// The vendor's name for it.
    pub title: &'static str,
    /// The columns a file of this format needs, each as the names it may have.
    pub needs: &'static [&'static [&'static str]],
    /// The header is this format's when it has every column of one of these sets.
    pub signatures: &'static [&'static [&'static str]],
    /// As `signatures`, for a tab-separated header only.
    pub tab_signatures: &'static [&'static [&'static str]],
    /// The columns that name the card (lower case), for the report of a row that cannot be read.
    pub card: &'static [&'static str],
    /// Reads one row.
    pub read: fn(&Cells<'_>) -> Result<ImportRow, String>,
}

impl Layout {
    /// 422 naming the columns this format needs that the header lacks.
    pub(crate) fn check(&self, header: &Header) -> Result<(), ApiError> {
        let missing: Vec<String> = self
            .needs
            .iter()
            .filter(|names| !names.iter().any(|n| header.has(&n.to_lowercase())))
            .map(|names| names.join(" or "))
            .collect();
        if missing.is_empty() {
            return Ok(());
        }
        Err(ApiError::field(
            "body",
            format!(
                "the {} CSV (format={}) needs the column{} {}",
                self.title,
                self.format.as_str(),
                if missing.len() == 1 { "" } else { "s" },
                missing.join(", ")
            ),
        ))
    }

    fn recognises(&self, header: &Header, delimiter: u8) -> bool {
        let has_all = |set: &&[&str]| set.iter().all(|n| header.has(&n.to_lowercase()));
        self.signatures.iter().any(has_all)
            || (delimiter == b'\t' && self.tab_signatures.iter().any(has_all))
    }

    /// `manabox (ManaBox): needs Name, Quantity; recognised by ManaBox ID, or Set code + …`.
    fn describe(&self) -> String {
        let needs: Vec<String> = self.needs.iter().map(|n| n.join(" or ")).collect();
        let mut by: Vec<String> = self.signatures.iter().map(|s| s.join(" + ")).collect();
        by.extend(
            self.tab_signatures
                .iter()
                .map(|s| format!("{} (tab-separated)", s.join(" + "))),
        );
        format!(
            "{} ({}): needs {}; recognised by {}",
            self.format.as_str(),
            self.title,
            needs.join(", "),
            by.join(", or ")
        )
    }
}

/// The layout of a format.
pub(crate) fn layout(format: CsvFormat) -> &'static Layout {
    match format {
        CsvFormat::Collectr => &collectr::LAYOUT,
        CsvFormat::Tcgplayer => &tcgplayer::LAYOUT,
        CsvFormat::TcgplayerSeller => &tcgplayer_seller::LAYOUT,
        CsvFormat::Manabox => &manabox::LAYOUT,
        CsvFormat::Moxfield => &moxfield::LAYOUT,
        CsvFormat::Deckbox => &deckbox::LAYOUT,
        CsvFormat::DragonShield => &dragon_shield::LAYOUT,
        CsvFormat::Archidekt => &archidekt::LAYOUT,
        CsvFormat::DelverLens => &delver_lens::LAYOUT,
        CsvFormat::Generic => &generic::LAYOUT,
    }
}

/// The first format, in [`CsvFormat::ALL`]'s order, that recognises the header; a
/// tab-separated header is tried as Delver Lens (the one tab-separated format) first.
pub(crate) fn detect_header(header: &Header, delimiter: u8) -> Option<CsvFormat> {
    let tab_first = (delimiter == b'\t').then_some(CsvFormat::DelverLens);
    tab_first
        .into_iter()
        .chain(CsvFormat::ALL)
        .find(|f| layout(*f).recognises(header, delimiter))
}

/// The format of a file, from its header (after a BOM and a `sep=` line), or the 422 an
/// unknown header answers.
pub fn detect(raw: &[u8]) -> Result<CsvFormat, ApiError> {
    let body = cells::body(raw);
    let mut reader = csv::ReaderBuilder::new()
        .flexible(true)
        .delimiter(body.delimiter)
        .from_reader(body.bytes);
    let header = Header::new(reader.headers()?.iter());
    detect_header(&header, body.delimiter).ok_or_else(unknown_header)
}

/// 422: the header is no known format's; lists each format, what it needs and what
/// identifies it.
pub(crate) fn unknown_header() -> ApiError {
    let known: Vec<String> = CsvFormat::ALL
        .into_iter()
        .map(|f| layout(f).describe())
        .collect();
    ApiError::field(
        "body",
        format!(
            "the header is not one of a format this import knows; name the format with \
             ?format= or export with one of these layouts: {}",
            known.join("; ")
        ),
    )
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    /// A typical header of each format (the golden files under `tests/imports/` have them all).
    const HEADERS: [(&str, CsvFormat); 11] = [
        (
            "TCGplayer Id,Product Line,Set Name,Product Name,Title,Number,Rarity,Condition,TCG Market Price,TCG Direct Low,TCG Low Price With Shipping,TCG Low Price,Total Quantity,Add to Quantity,TCG Marketplace Price,Photo URL",
            CsvFormat::TcgplayerSeller,
        ),
        (
            "Portfolio Name,Category,Set,Product Name,Card Number,Rarity,Variance,Grade,Card Condition,Average Cost Paid,Quantity,Market Price (As of 2026-02-03),Price Override,Watchlist,Date Added,Notes",
            CsvFormat::Collectr,
        ),
        (
            "Quantity,Name,Simple Name,Set,Card Number,Set Code,Printing,Condition,Language,Rarity,Product ID,SKU",
            CsvFormat::Tcgplayer,
        ),
        (
            "Name,Set code,Set name,Collector number,Foil,Rarity,Quantity,ManaBox ID,Scryfall ID,Purchase price,Misprint,Altered,Condition,Language,Purchase price currency",
            CsvFormat::Manabox,
        ),
        (
            "Count,Tradelist Count,Name,Edition,Condition,Language,Foil,Tags,Last Modified,Collector Number,Alter,Proxy,Purchase Price",
            CsvFormat::Moxfield,
        ),
        (
            "Count,Tradelist Count,Name,Edition,Edition Code,Card Number,Condition,Language,Foil,Signed,Artist Proof,Altered Art,Misprint,Promo,Textless,Printing Id,Printing Note,Tags,My Price",
            CsvFormat::Deckbox,
        ),
        (
            "\"sep=,\"\nFolder Name,Quantity,Trade Quantity,Card Name,Set Code,Set Name,Card Number,Condition,Printing,Language,Price Bought,Date Bought,LOW,MID,MARKET",
            CsvFormat::DragonShield,
        ),
        (
            "Quantity,Name,Finish,Condition,Date Added,Language,Purchase Price,Tags,Edition Name,Edition Code,Multiverse Id,Scryfall ID,MTGO ID,Collector Number",
            CsvFormat::Archidekt,
        ),
        (
            "Name\tEdition\tQuantityX\tFoil\tCondition\tLanguage\tCollector's number\tPrice",
            CsvFormat::DelverLens,
        ),
        (
            "holding_id,product_id,name,set,number,game,printing,condition,language,grader,grade,quantity,cost_per_unit,currency,acquired_on,note",
            CsvFormat::Generic,
        ),
        ("quantity,name,cost_per_unit", CsvFormat::Generic),
    ];

    #[test]
    fn each_header_is_its_format_and_meets_its_needs() {
        for (header, want) in HEADERS {
            assert_eq!(detect(header.as_bytes()).unwrap(), want, "{header}");
            let body = cells::body(header.as_bytes());
            let mut r = csv::ReaderBuilder::new()
                .delimiter(body.delimiter)
                .from_reader(body.bytes);
            layout(want)
                .check(&Header::new(r.headers().unwrap().iter()))
                .unwrap();
        }
    }

    #[test]
    fn the_delimiter_matters_for_delver_lens_only() {
        assert_eq!(
            detect(b"Name\tQuantity\tEdition\n").unwrap(),
            CsvFormat::DelverLens
        );
        // Comma-separated, the same columns are a generic file.
        assert_eq!(
            detect(b"Name,Quantity,Edition\n").unwrap(),
            CsvFormat::Generic
        );
        assert_eq!(
            detect(b"Name,QuantityX,Edition\n").unwrap(),
            CsvFormat::DelverLens
        );
        // Archidekt's columns, tab-separated: Delver Lens's.
        assert_eq!(
            detect(b"Quantity\tName\tEdition Code\n").unwrap(),
            CsvFormat::DelverLens
        );
    }

    #[test]
    fn an_unknown_header_names_every_format_and_its_columns() {
        let ApiError::Validation(errors) = detect(b"Card,Amount\nx,1\n").unwrap_err() else {
            panic!("not a 422")
        };
        let message = &errors[0].message;
        for f in CsvFormat::ALL {
            assert!(message.contains(f.as_str()), "{f:?} in {message}");
        }
        assert!(message.contains("needs Name, Quantity"), "{message}");
        assert!(message.contains("ManaBox ID"), "{message}");
        assert!(detect(b"").is_err());
    }

    #[test]
    fn missing_columns_are_named() {
        let header = Header::new(["Name", "Set code"]);
        let ApiError::Validation(errors) = layout(CsvFormat::Manabox).check(&header).unwrap_err()
        else {
            panic!("not a 422")
        };
        assert!(errors[0].message.contains("Quantity"), "{errors:?}");
    }
}
