//! Reading a bulk file card by card, never holding more than one card object parsed: gzip or
//! not (told by its magic bytes, as Scryfall serves the JSON Lines file as `application/gzip`
//! without a `Content-Encoding`), JSON Lines (one card object per line) or one JSON array (the
//! older `download_uri` file), told by its first byte.

use std::{
    fmt,
    io::{BufRead, BufReader, Read},
};

use flate2::read::MultiGzDecoder;
use serde::de::{Deserializer as _, SeqAccess, Visitor};

use super::{SOURCE, model::Card};
use crate::CollectorError;

/// What [`read_cards`] read.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReadStats {
    /// Card objects handed over.
    pub cards: u64,
    /// JSON Lines lines that were not a card object (skipped).
    pub bad_lines: u64,
    /// Why the first of them was not.
    pub first_bad: Option<String>,
    /// The reader stopped because `each` asked it to.
    pub stopped: bool,
}

/// Whether [`read_cards`] goes on after a card.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Next {
    Continue,
    Stop,
}

/// Calls `each` with every card of a bulk file `body`. A JSON Lines line that is not a card is
/// skipped and counted; a file that cannot be read on (a cut gzip stream, a broken JSON array)
/// is an error after the cards read so far.
pub fn read_cards(
    body: &[u8],
    each: impl FnMut(Card) -> Next,
) -> Result<ReadStats, CollectorError> {
    if body.starts_with(&[0x1f, 0x8b]) {
        read_text(
            BufReader::with_capacity(1 << 16, MultiGzDecoder::new(body)),
            each,
        )
    } else {
        read_text(BufReader::new(body), each)
    }
}

fn io_error(e: std::io::Error) -> CollectorError {
    CollectorError::malformed_in(SOURCE, "bulk file", e)
}

fn read_text<R: BufRead>(
    mut reader: R,
    each: impl FnMut(Card) -> Next,
) -> Result<ReadStats, CollectorError> {
    let first = loop {
        let buf = reader.fill_buf().map_err(io_error)?;
        let Some(&b) = buf.first() else {
            return Err(CollectorError::malformed_because(SOURCE, "empty bulk file"));
        };
        if b.is_ascii_whitespace() {
            reader.consume(1);
            continue;
        }
        break b;
    };
    match first {
        b'[' => read_array(reader, each),
        b'{' => read_lines(reader, each),
        other => Err(CollectorError::malformed_because(
            SOURCE,
            format!(
                "bulk file starts with {:?}, not a JSON array or object",
                other as char
            ),
        )),
    }
}

/// JSON Lines: one card object per line; blank lines are skipped.
fn read_lines<R: BufRead>(
    mut reader: R,
    mut each: impl FnMut(Card) -> Next,
) -> Result<ReadStats, CollectorError> {
    let mut stats = ReadStats::default();
    let mut line = Vec::with_capacity(16 * 1024);
    loop {
        line.clear();
        if reader.read_until(b'\n', &mut line).map_err(io_error)? == 0 {
            return Ok(stats);
        }
        if line.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        match serde_json::from_slice::<Card>(&line) {
            Ok(card) => {
                stats.cards += 1;
                if each(card) == Next::Stop {
                    stats.stopped = true;
                    return Ok(stats);
                }
            }
            Err(e) => {
                stats.bad_lines += 1;
                if stats.first_bad.is_none() {
                    stats.first_bad = Some(format!("line after card {}: {e}", stats.cards));
                }
            }
        }
    }
}

/// The text serde_json gives a visitor that stopped early on purpose.
const STOPPED: &str = "tcgtracker: stopped reading";

/// One JSON array, read element by element.
fn read_array<R: Read>(
    reader: R,
    each: impl FnMut(Card) -> Next,
) -> Result<ReadStats, CollectorError> {
    let mut de = serde_json::Deserializer::from_reader(reader);
    let mut visitor = CardSeq {
        each,
        stats: ReadStats::default(),
    };
    match (&mut de).deserialize_seq(&mut visitor) {
        Ok(()) => {
            de.end()
                .map_err(|e| CollectorError::malformed_in(SOURCE, "bulk file", e))?;
            Ok(visitor.stats)
        }
        Err(e) if visitor.stats.stopped && e.to_string().starts_with(STOPPED) => Ok(visitor.stats),
        Err(e) => Err(CollectorError::malformed_in(
            SOURCE,
            format!("bulk file after card {}", visitor.stats.cards),
            e,
        )),
    }
}

struct CardSeq<F> {
    each: F,
    stats: ReadStats,
}

impl<'de, F: FnMut(Card) -> Next> Visitor<'de> for &mut CardSeq<F> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an array of card objects")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while let Some(card) = seq.next_element::<Card>()? {
            self.stats.cards += 1;
            if (self.each)(card) == Next::Stop {
                self.stats.stopped = true;
                return Err(serde::de::Error::custom(STOPPED));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use super::*;

    const A: &str = r#"{"object":"card","id":"a","name":"A","lang":"en","set":"mh3","set_name":"Modern Horizons 3","collector_number":"1","prices":{"usd":"1.00","tix":"0.02"}}"#;
    const B: &str = r#"{"object":"card","id":"b","name":"B","lang":"ja","set":"mh3","set_name":"Modern Horizons 3","collector_number":"2","prices":{}}"#;

    fn gzip(bytes: &[u8]) -> Vec<u8> {
        let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        enc.write_all(bytes).unwrap();
        enc.finish().unwrap()
    }

    fn ids(body: &[u8]) -> (Vec<String>, ReadStats) {
        let mut ids = Vec::new();
        let stats = read_cards(body, |c| {
            ids.push(c.id);
            Next::Continue
        })
        .unwrap();
        (ids, stats)
    }

    #[test]
    fn reads_lines_and_arrays_plain_or_gzipped() {
        let lines = format!("{A}\n\n{B}\n");
        let array = format!("[\n{A},\n{B}\n]\n");
        for body in [
            lines.clone().into_bytes(),
            gzip(lines.as_bytes()),
            array.clone().into_bytes(),
            gzip(array.as_bytes()),
        ] {
            let (ids, stats) = ids(&body);
            assert_eq!(ids, ["a", "b"]);
            assert_eq!(stats.cards, 2);
            assert_eq!(stats.bad_lines, 0);
        }
    }

    #[test]
    fn a_bad_line_is_skipped_a_cut_file_is_an_error() {
        let lines = format!("{A}\n{{\"object\":\"card\"}}\n{B}\n");
        let (ids, stats) = ids(lines.as_bytes());
        assert_eq!(ids, ["a", "b"]);
        assert_eq!(stats.bad_lines, 1);
        assert!(stats.first_bad.is_some());
        let gz = gzip(format!("{A}\n{B}\n").as_bytes());
        assert!(read_cards(&gz[..gz.len() / 2], |_| Next::Continue).is_err());
        let array = format!("[{A},{B}");
        let mut seen = 0;
        assert!(
            read_cards(array.as_bytes(), |_| {
                seen += 1;
                Next::Continue
            })
            .is_err()
        );
        assert_eq!(seen, 2, "the cards before the break were read");
        assert!(read_cards(b"", |_| Next::Continue).is_err());
        assert!(read_cards(b"<html>", |_| Next::Continue).is_err());
    }

    #[test]
    fn stopping_ends_the_read_without_an_error() {
        for body in [format!("{A}\n{B}\n"), format!("[{A},{B}]")] {
            let stats = read_cards(body.as_bytes(), |_| Next::Stop).unwrap();
            assert!(stats.stopped);
            assert_eq!(stats.cards, 1);
        }
    }
}
