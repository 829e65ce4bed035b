//! The batch in hand: messages of tcg.quotes.raw.v1 decoded as they arrive and grouped by
//! partition, in buffers kept from one batch to the next (a long-running processor then works in
//! memory it has already touched instead of asking the allocator for fresh pages every batch).
//!
//! No I/O here: the runtime feeds it (partition, offset, key, payload) and reads it back.

use std::ops::Range;

use tcg_schemas::{
    DeadLetter, Envelope, Origin, RawQuote, RejectReason, SchemaError, Timestamp, topics,
};

/// One partition's share of the batch.
#[derive(Debug, Default)]
pub struct PartitionBatch {
    pub partition: i32,
    /// Offset of the first message taken in this batch.
    pub first_offset: i64,
    /// Offset after the last message taken (what to store once the batch is delivered).
    pub next_offset: i64,
    /// Messages taken, decodable or not.
    pub messages: usize,
    /// The decoded quotes, in log order.
    pub quotes: Vec<RawQuote>,
    /// Each quote's `produced_at` (the core's `now` for it).
    pub produced: Vec<Timestamp>,
    /// Messages that could not be decoded, as dead letters.
    pub dead: Vec<DeadLetter>,
    /// Each quote's message as it came (key and body in `raw`), to dead-letter it unchanged if
    /// the core finds it invalid.
    sources: Vec<Source>,
    raw: Vec<u8>,
}

/// Where a decoded quote's message is kept.
#[derive(Debug, Clone)]
struct Source {
    offset: i64,
    key: Option<Range<usize>>,
    body: Range<usize>,
}

impl PartitionBatch {
    fn clear(&mut self) {
        self.messages = 0;
        self.quotes.clear();
        self.produced.clear();
        self.dead.clear();
        self.sources.clear();
        self.raw.clear();
    }

    fn keep(&mut self, bytes: &[u8]) -> Range<usize> {
        let start = self.raw.len();
        self.raw.extend_from_slice(bytes);
        start..self.raw.len()
    }

    /// A dead letter for the message of quote `index`, with its key and body as they came.
    pub fn dead_letter_for(
        &self,
        index: usize,
        reason: RejectReason,
        detail: String,
        failed_at: Timestamp,
    ) -> Option<DeadLetter> {
        let source = self.sources.get(index)?;
        let body = self.raw.get(source.body.clone())?;
        let key = source.key.clone().and_then(|k| self.raw.get(k));
        Some(letter(
            reason,
            detail,
            failed_at,
            self.partition,
            source.offset,
            key,
            body,
        ))
    }
}

/// The batch in hand, by partition.
#[derive(Debug, Default)]
pub struct Batch {
    /// One entry per partition seen since the runtime started; those with `messages == 0` take
    /// no part in this batch.
    parts: Vec<PartitionBatch>,
    messages: usize,
}

impl Batch {
    /// Messages taken into this batch.
    pub fn len(&self) -> usize {
        self.messages
    }

    pub fn is_empty(&self) -> bool {
        self.messages == 0
    }

    /// Takes one message: decodes it now, or makes it a dead letter with the reason.
    pub fn take(
        &mut self,
        partition: i32,
        offset: i64,
        key: Option<&[u8]>,
        payload: Option<&[u8]>,
        now: impl FnOnce() -> Timestamp,
    ) {
        let part = self.part_mut(partition);
        if part.messages == 0 {
            part.first_offset = offset;
        }
        part.messages += 1;
        part.next_offset = offset + 1;
        let body = payload.unwrap_or_default();
        match Envelope::<RawQuote>::decode_payload(body) {
            Ok((produced_at, quote)) => {
                part.produced.push(produced_at);
                part.quotes.push(quote);
                let key = key.map(|k| part.keep(k));
                let body = part.keep(body);
                part.sources.push(Source { offset, key, body });
            }
            Err(e) => {
                let reason = match e {
                    SchemaError::WrongSchema { .. } => RejectReason::WrongSchema,
                    _ => RejectReason::Undecodable,
                };
                let dead = letter(reason, e.to_string(), now(), partition, offset, key, body);
                part.dead.push(dead);
            }
        }
        self.messages += 1;
    }

    fn part_mut(&mut self, partition: i32) -> &mut PartitionBatch {
        // A handful of partitions per processor: a scan beats a map.
        let at = match self.parts.iter().position(|p| p.partition == partition) {
            Some(at) => at,
            None => {
                self.parts.push(PartitionBatch {
                    partition,
                    ..PartitionBatch::default()
                });
                self.parts.len() - 1
            }
        };
        &mut self.parts[at]
    }

    /// The partitions taking part in this batch, in the order they were first seen.
    pub fn parts(&self) -> impl Iterator<Item = &PartitionBatch> {
        self.parts.iter().filter(|p| p.messages > 0)
    }

    /// Partition `partition`'s share, if it takes part in this batch.
    pub fn part(&self, partition: i32) -> Option<&PartitionBatch> {
        self.parts().find(|p| p.partition == partition)
    }

    /// Partitions taking part in this batch.
    pub fn partitions(&self) -> Vec<i32> {
        self.parts().map(|p| p.partition).collect()
    }

    /// Forgets the messages of `partition` (revoked: they are its next owner's).
    pub fn drop_partition(&mut self, partition: i32) {
        if let Some(p) = self.parts.iter_mut().find(|p| p.partition == partition) {
            self.messages -= p.messages;
            p.clear();
        }
    }

    /// Empties the batch, keeping the buffers.
    pub fn clear(&mut self) {
        for p in &mut self.parts {
            p.clear();
        }
        self.messages = 0;
    }
}

fn letter(
    reason: RejectReason,
    detail: String,
    failed_at: Timestamp,
    partition: i32,
    offset: i64,
    key: Option<&[u8]>,
    body: &[u8],
) -> DeadLetter {
    let mut letter = DeadLetter::new(reason, detail, failed_at, body);
    letter.origin = Some(Origin {
        topic: topics::QUOTES_RAW.to_owned(),
        partition,
        offset,
    });
    letter.key = key.map(|k| String::from_utf8_lossy(k).into_owned());
    letter
}

#[cfg(test)]
mod tests {
    use super::*;

    fn quote(product: u64, cents: i64) -> RawQuote {
        crate::testkit::market_quote(product, Timestamp::from_secs(1_714_521_600), cents)
    }

    fn encoded(product: u64, cents: i64, produced_secs: i64) -> Vec<u8> {
        Envelope::new(Timestamp::from_secs(produced_secs), quote(product, cents))
            .encode()
            .unwrap()
    }

    fn at() -> Timestamp {
        Timestamp::from_secs(1_800_000_000)
    }

    #[test]
    fn quotes_are_decoded_on_arrival_and_grouped_by_partition_in_log_order() {
        let mut batch = Batch::default();
        batch.take(1, 10, Some(b"7"), Some(&encoded(7, 100, 1)), at);
        batch.take(0, 3, Some(b"8"), Some(&encoded(8, 200, 2)), at);
        batch.take(1, 11, Some(b"7"), Some(&encoded(7, 150, 3)), at);
        assert_eq!(batch.len(), 3);
        assert_eq!(batch.partitions(), vec![1, 0]);
        let p1 = batch.part(1).unwrap();
        assert_eq!((p1.first_offset, p1.next_offset, p1.messages), (10, 12, 2));
        assert_eq!(p1.quotes, vec![quote(7, 100), quote(7, 150)]);
        assert_eq!(
            p1.produced,
            vec![Timestamp::from_secs(1), Timestamp::from_secs(3)]
        );
        let p0 = batch.part(0).unwrap();
        assert_eq!((p0.first_offset, p0.next_offset), (3, 4));
        assert_eq!(p0.quotes, vec![quote(8, 200)]);
    }

    #[test]
    fn undecodable_and_foreign_messages_become_dead_letters_with_their_origin() {
        let mut batch = Batch::default();
        batch.take(2, 40, Some(b"k"), Some(b"{not json"), at);
        // A quote in another topic's envelope.
        let foreign = String::from_utf8(encoded(9, 300, 4))
            .unwrap()
            .replace(topics::QUOTES_RAW, "tcg.ticks.v1");
        batch.take(2, 41, None, Some(foreign.as_bytes()), at);
        batch.take(2, 42, None, None, at);
        batch.take(2, 43, None, Some(&encoded(9, 300, 4)), at);
        let p = batch.part(2).unwrap();
        assert_eq!(p.messages, 4);
        assert_eq!(p.next_offset, 44, "dead letters advance the offset too");
        assert_eq!(p.quotes.len(), 1);
        let reasons: Vec<_> = p.dead.iter().map(|d| d.reason).collect();
        assert_eq!(
            reasons,
            vec![
                RejectReason::Undecodable,
                RejectReason::WrongSchema,
                RejectReason::Undecodable
            ]
        );
        let first = &p.dead[0];
        assert_eq!(first.payload, "{not json");
        assert_eq!(first.key.as_deref(), Some("k"));
        assert_eq!(first.failed_at, at());
        let origin = first.origin.as_ref().unwrap();
        assert_eq!(
            (origin.topic.as_str(), origin.partition, origin.offset),
            (topics::QUOTES_RAW, 2, 40)
        );
        assert_eq!(p.dead[1].origin.as_ref().unwrap().offset, 41);
    }

    #[test]
    fn a_quote_the_core_refuses_is_dead_lettered_with_its_message_unchanged() {
        let mut batch = Batch::default();
        let first = encoded(5, 100, 1);
        // Whitespace and field order as some other producer wrote them: kept byte for byte.
        let second = b" {\"produced_at\":\"2024-05-01T00:00:00Z\",\"schema\":\"tcg.quotes.raw.v1\",\"payload\":{\"source\":\"tcgcsv\",\"observed_at\":\"2024-05-01T00:00:00Z\",\"kind\":\"market\",\"price\":{\"amount\":\"-1.00\",\"currency\":\"USD\"},\"subject\":{\"tcg_product\":{\"category_id\":3,\"product_id\":5,\"sub_type_name\":\"Normal\"}}}}";
        batch.take(0, 7, Some(b"5"), Some(&first), at);
        batch.take(0, 8, None, Some(second), at);
        let p = batch.part(0).unwrap();
        assert_eq!(p.quotes.len(), 2, "{:?}", p.dead);
        let letter = p
            .dead_letter_for(1, RejectReason::ImplausiblePrice, "below zero".into(), at())
            .unwrap();
        assert_eq!(letter.payload.as_bytes(), second);
        assert_eq!(letter.key, None);
        assert_eq!(letter.origin.as_ref().unwrap().offset, 8);
        let letter = p
            .dead_letter_for(0, RejectReason::ImplausiblePrice, "x".into(), at())
            .unwrap();
        assert_eq!(letter.payload.as_bytes(), first.as_slice());
        assert_eq!(letter.key.as_deref(), Some("5"));
        assert!(
            p.dead_letter_for(2, RejectReason::ImplausiblePrice, "x".into(), at())
                .is_none()
        );
    }

    #[test]
    fn clearing_keeps_the_buffers_and_forgets_the_messages() {
        let mut batch = Batch::default();
        for o in 0..100 {
            batch.take(0, o, Some(b"1"), Some(&encoded(1, 100 + o, 1)), at);
        }
        let capacity = batch.part(0).unwrap().quotes.capacity();
        batch.clear();
        assert!(batch.is_empty());
        assert_eq!(batch.parts().count(), 0);
        assert!(batch.part(0).is_none());
        batch.take(0, 100, None, Some(&encoded(1, 1, 1)), at);
        let p = batch.part(0).unwrap();
        assert_eq!(
            (p.first_offset, p.next_offset, p.quotes.len()),
            (100, 101, 1)
        );
        assert_eq!(p.quotes.capacity(), capacity, "the buffer was kept");
        assert_eq!(
            p.dead_letter_for(0, RejectReason::ImplausiblePrice, "x".into(), at())
                .unwrap()
                .origin
                .unwrap()
                .offset,
            100
        );
    }

    #[test]
    fn a_dropped_partition_leaves_the_others_alone() {
        let mut batch = Batch::default();
        batch.take(0, 1, None, Some(&encoded(1, 1, 1)), at);
        batch.take(1, 1, None, Some(&encoded(2, 1, 1)), at);
        batch.take(1, 2, None, Some(b"junk"), at);
        batch.drop_partition(1);
        batch.drop_partition(9);
        assert_eq!(batch.len(), 1);
        assert_eq!(batch.partitions(), vec![0]);
    }
}
