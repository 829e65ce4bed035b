//! Rebuilding a partition's core: the quotes topic read again from the lookback horizon up to
//! where this processor takes over, the output thrown away (the previous owner stored it).

use std::time::{Duration, Instant};

use rdkafka::{
    Message, Offset, TopicPartitionList,
    consumer::{BaseConsumer, Consumer},
};
use tcg_processor_core::Processor;
use tcg_schemas::{Envelope, RawQuote, Timestamp, topics};

use super::{consumer::usable, producer::now};
use crate::{
    config::KafkaConfig,
    error::{PipelineError, Result},
};

/// Reads `partition` of the quotes topic from the lookback horizon to `upto` and feeds the quotes
/// to `core`, discarding the output. Blocking.
pub(super) fn replay_partition(
    kafka: &KafkaConfig,
    partition: i32,
    upto: i64,
    lookback_ms: i64,
    core: &mut Processor,
) -> Result<u64> {
    if upto <= 0 {
        return Ok(0);
    }
    let consumer: BaseConsumer = super::base_config(kafka)
        .set("group.id", "tcg-replay")
        .set("enable.auto.commit", "false")
        .set("enable.partition.eof", "false")
        .create()?;
    let (low, _) =
        consumer.fetch_watermarks(topics::QUOTES_RAW, partition, Duration::from_secs(10))?;
    let horizon = now().as_micros() / 1000 - lookback_ms;
    let mut tpl = TopicPartitionList::new();
    tpl.add_partition_offset(topics::QUOTES_RAW, partition, Offset::Offset(horizon))?;
    let start = consumer
        .offsets_for_times(tpl, Duration::from_secs(10))
        .ok()
        .and_then(|t| t.elements().first().map(|e| e.offset()))
        .and_then(|o| match o {
            Offset::Offset(o) => Some(o),
            _ => None,
        })
        .unwrap_or(low)
        .max(low);
    if start >= upto {
        return Ok(0);
    }
    let mut tpl = TopicPartitionList::new();
    tpl.add_partition_offset(topics::QUOTES_RAW, partition, Offset::Offset(start))?;
    consumer.assign(&tpl)?;
    let mut replayed = 0u64;
    let mut quotes = Vec::new();
    let mut produced: Vec<Timestamp> = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(300);
    let mut next = start;
    while next < upto {
        if Instant::now() > deadline {
            return Err(PipelineError::Timeout(format!(
                "replaying partition {partition}"
            )));
        }
        let Some(msg) = consumer.poll(Duration::from_millis(500)) else {
            continue;
        };
        let Some(msg) = usable(msg, "replay")? else {
            continue;
        };
        next = msg.offset() + 1;
        if msg.offset() >= upto {
            break;
        }
        replayed += 1;
        if let Some(Ok((produced_at, quote))) =
            msg.payload().map(Envelope::<RawQuote>::decode_payload)
        {
            produced.push(produced_at);
            quotes.push(quote);
        }
        if quotes.len() >= 5_000 {
            core.process_at(&quotes, |i| produced[i]);
            quotes.clear();
            produced.clear();
        }
    }
    if !quotes.is_empty() {
        core.process_at(&quotes, |i| produced[i]);
    }
    Ok(replayed)
}
