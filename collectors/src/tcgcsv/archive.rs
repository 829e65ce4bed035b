//! The daily price archive `prices-YYYY-MM-DD.ppmd.7z`: 7z with PPMd, read in pure Rust by
//! `sevenz-rust2` (the simulator writes it: `tcg_simulator::archive`). It unpacks to
//! `YYYY-MM-DD/{categoryId}/{groupId}/prices`, each file the same JSON as the live prices.

use std::io::Cursor;

use sevenz_rust2::{ArchiveReader, Password};

use crate::{
    CollectorError,
    error::ArchiveError,
    tcgplayer::model::{ProductPriceRow, parse_envelope},
};

/// The prices of one group on one day.
#[derive(Debug, Clone, PartialEq)]
pub struct GroupPrices {
    pub category_id: u32,
    pub group_id: u32,
    pub rows: Vec<ProductPriceRow>,
}

/// What an archive held.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ArchiveContents {
    pub groups: Vec<GroupPrices>,
    /// Files that were not `…/{cat}/{group}/prices` or whose JSON could not be read.
    pub bad_files: usize,
}

/// `2024-02-08/3/3170/prices` → (3, 3170).
pub fn parse_entry_name(name: &str) -> Option<(u32, u32)> {
    let parts: Vec<&str> = name.split(['/', '\\']).filter(|p| !p.is_empty()).collect();
    match parts.as_slice() {
        [.., cat, group, "prices"] => Some((cat.parse().ok()?, group.parse().ok()?)),
        _ => None,
    }
}

fn archive_err(name: &str, e: impl Into<sevenz_rust2::Error>) -> CollectorError {
    CollectorError::Archive {
        name: name.to_owned(),
        source: ArchiveError::SevenZ(e.into()),
    }
}

/// Reads an archive held in memory. A corrupt archive is an error; a bad file inside is counted.
pub fn read_price_archive(name: &str, bytes: &[u8]) -> Result<ArchiveContents, CollectorError> {
    let mut reader = ArchiveReader::new(Cursor::new(bytes), Password::empty())
        .map_err(|e| archive_err(name, e))?;
    let mut contents = ArchiveContents::default();
    reader
        .for_each_entries(|entry, data| {
            if entry.is_directory() {
                return Ok(true);
            }
            let mut buf = Vec::new();
            data.read_to_end(&mut buf)?;
            match parse_entry_name(entry.name())
                .map(|ids| (ids, parse_envelope::<ProductPriceRow>("tcgcsv", &buf)))
            {
                Some(((category_id, group_id), Ok(page))) => contents.groups.push(GroupPrices {
                    category_id,
                    group_id,
                    rows: page.results,
                }),
                _ => contents.bad_files += 1,
            }
            Ok(true)
        })
        .map_err(|e| archive_err(name, e))?;
    Ok(contents)
}

#[cfg(test)]
mod tests {
    use tcg_simulator::archive::write_ppmd_archive;

    use super::*;

    #[test]
    fn entry_names() {
        assert_eq!(
            parse_entry_name("2024-02-08/3/3170/prices"),
            Some((3, 3170))
        );
        assert_eq!(
            parse_entry_name("2024-02-08\\3\\3170\\prices"),
            Some((3, 3170))
        );
        assert_eq!(parse_entry_name("2024-02-08/3/prices"), None);
        assert_eq!(parse_entry_name("2024-02-08/x/1/prices"), None);
    }

    #[test]
    fn ppmd_round_trip() {
        let good = br#"{"success":true,"errors":[],"results":[{"productId":1,"lowPrice":0.35,"midPrice":null,"highPrice":null,"marketPrice":0.74,"directLowPrice":null,"subTypeName":"Normal"}]}"#;
        let files = vec![
            ("2024-02-08/3/3170/prices".to_owned(), good.to_vec()),
            ("2024-02-08/3/3171/prices".to_owned(), b"{not json".to_vec()),
        ];
        let bytes = write_ppmd_archive(&files).unwrap();
        assert_eq!(&bytes[..6], b"7z\xBC\xAF\x27\x1C");
        let c = read_price_archive("x", &bytes).unwrap();
        assert_eq!(c.groups.len(), 1);
        assert_eq!(c.groups[0].group_id, 3170);
        assert_eq!(c.groups[0].rows[0].market_price, Some(0.74));
        assert_eq!(c.bad_files, 1);
    }

    #[test]
    fn garbage_is_an_error_not_a_panic() {
        assert!(read_price_archive("x", b"not a 7z archive").is_err());
        let mut bytes = write_ppmd_archive(&[("d/1/2/prices".into(), vec![b'a'; 1000])]).unwrap();
        let n = bytes.len();
        bytes.truncate(n / 2);
        assert!(read_price_archive("x", &bytes).is_err());
    }
}
