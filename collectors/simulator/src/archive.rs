//! The writer of TCGCSV's daily price archive `prices-YYYY-MM-DD.ppmd.7z`: 7z with PPMd, in pure
//! Rust by `sevenz-rust2`. It unpacks to `YYYY-MM-DD/{categoryId}/{groupId}/prices`, each file the
//! same JSON as the live prices. The collectors read it (`tcg_collectors::tcgcsv::archive`).

use std::io::Cursor;

use sevenz_rust2::{
    ArchiveEntry, ArchiveWriter, EncoderConfiguration, EncoderMethod,
    encoder_options::{EncoderOptions, PpmdOptions},
};

use crate::SimError;

fn archive_err(name: &str, source: sevenz_rust2::Error) -> SimError {
    SimError::Archive {
        name: name.to_owned(),
        source,
    }
}

/// Writes a PPMd 7z archive of `(path inside the archive, file bytes)`.
pub fn write_ppmd_archive(files: &[(String, Vec<u8>)]) -> Result<Vec<u8>, SimError> {
    let name = "new archive";
    let mut writer =
        ArchiveWriter::new(Cursor::new(Vec::new())).map_err(|e| archive_err(name, e))?;
    writer.set_content_methods(vec![
        EncoderConfiguration::new(EncoderMethod::PPMD).with_options(EncoderOptions::Ppmd(
            PpmdOptions::from_order_memory_size(6, 1 << 20),
        )),
    ]);
    for (path, bytes) in files {
        writer
            .push_archive_entry(ArchiveEntry::new_file(path), Some(Cursor::new(bytes)))
            .map_err(|e| archive_err(name, e))?;
    }
    let cursor = writer.finish().map_err(|e| archive_err(name, e.into()))?;
    Ok(cursor.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn archives_start_with_the_7z_signature() {
        let bytes = write_ppmd_archive(&[("d/1/2/prices".into(), vec![b'a'; 1000])]).unwrap();
        assert_eq!(&bytes[..6], b"7z\xBC\xAF\x27\x1C");
    }
}
