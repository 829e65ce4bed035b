//! Versioned envelopes for every Kafka topic, and the payload each topic carries.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize, de::DeserializeOwned};

use crate::{
    SchemaError, alert::AlertEvent, quote::RawQuote, reject::RejectReason, rule::RuleChange,
    tick::Tick, time::Timestamp,
};

/// Topic names. The version is part of the name: a breaking change is a new topic.
pub mod topics {
    pub const QUOTES_RAW: &str = "tcg.quotes.raw.v1";
    pub const TICKS: &str = "tcg.ticks.v1";
    pub const ALERTS: &str = "tcg.alerts.v1";
    pub const ALERT_RULES: &str = "tcg.alert-rules.v1";
    pub const QUOTES_DLQ: &str = "tcg.quotes.dlq.v1";
    pub const ALL: [&str; 5] = [QUOTES_RAW, TICKS, ALERTS, ALERT_RULES, QUOTES_DLQ];
}

/// A payload type bound to its topic.
pub trait TopicPayload: Serialize + DeserializeOwned + JsonSchema {
    /// The topic (and schema) name.
    const TOPIC: &'static str;
    /// One line for the generated JSON Schema.
    const DESCRIPTION: &'static str;
}

impl TopicPayload for RawQuote {
    const TOPIC: &'static str = topics::QUOTES_RAW;
    const DESCRIPTION: &'static str =
        "One raw price observation from a collector. Key: the product id.";
}
impl TopicPayload for Tick {
    const TOPIC: &'static str = topics::TICKS;
    const DESCRIPTION: &'static str = "One normalized price tick. Key: the series id.";
}
impl TopicPayload for AlertEvent {
    const TOPIC: &'static str = topics::ALERTS;
    const DESCRIPTION: &'static str = "One fired alert. Key: the owner's user id.";
}
impl TopicPayload for RuleChange {
    const TOPIC: &'static str = topics::ALERT_RULES;
    const DESCRIPTION: &'static str =
        "A change to an alert rule (compacted topic). Key: the rule id.";
}
impl TopicPayload for DeadLetter {
    const TOPIC: &'static str = topics::QUOTES_DLQ;
    const DESCRIPTION: &'static str =
        "A message the processor could not use, with the reason. Key: as the original.";
}

/// The envelope every message on every topic is wrapped in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Envelope<T> {
    /// The schema name, equal to the topic name, e.g. `tcg.quotes.raw.v1`.
    pub schema: String,
    /// When the producer wrote the message.
    pub produced_at: Timestamp,
    pub payload: T,
}

impl<T: TopicPayload> Envelope<T> {
    pub fn new(produced_at: Timestamp, payload: T) -> Self {
        Envelope {
            schema: T::TOPIC.to_owned(),
            produced_at,
            payload,
        }
    }

    /// JSON bytes of the envelope.
    pub fn encode(&self) -> Result<Vec<u8>, SchemaError> {
        serde_json::to_vec(self).map_err(|e| SchemaError::Encode(e.to_string()))
    }

    /// Decodes and checks that the envelope is of this topic's schema, keeping only what the
    /// hot path needs: `produced_at` and the payload (the schema name is checked in place,
    /// without a copy).
    pub fn decode_payload(bytes: &[u8]) -> Result<(Timestamp, T), SchemaError> {
        #[derive(Deserialize)]
        #[serde(deny_unknown_fields)]
        struct Borrowed<'a, T> {
            #[serde(borrow)]
            schema: std::borrow::Cow<'a, str>,
            produced_at: Timestamp,
            payload: T,
        }
        let text = std::str::from_utf8(bytes)
            .map_err(|e| SchemaError::Decode(format!("not UTF-8 text: {e}")))?;
        let envelope: Borrowed<'_, T> =
            serde_json::from_str(text).map_err(|e| SchemaError::Decode(e.to_string()))?;
        if envelope.schema != T::TOPIC {
            return Err(SchemaError::WrongSchema {
                expected: T::TOPIC,
                found: envelope.schema.into_owned(),
            });
        }
        Ok((envelope.produced_at, envelope.payload))
    }

    /// Decodes and checks that the envelope is of this topic's schema.
    pub fn decode(bytes: &[u8]) -> Result<Self, SchemaError> {
        let (produced_at, payload) = Self::decode_payload(bytes)?;
        Ok(Envelope {
            schema: T::TOPIC.to_owned(),
            produced_at,
            payload,
        })
    }
}

/// Where a dead-lettered message was read from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Origin {
    pub topic: String,
    pub partition: i32,
    pub offset: i64,
}

/// A message the pipeline could not use.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DeadLetter {
    pub reason: RejectReason,
    /// The decoder's or validator's own words.
    pub detail: String,
    pub failed_at: Timestamp,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub origin: Option<Origin>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
    /// The original message body (as UTF-8; invalid bytes replaced, see `payload_lossy`).
    pub payload: String,
    /// True when the original body was not valid UTF-8.
    #[serde(default)]
    pub payload_lossy: bool,
}

impl DeadLetter {
    /// A dead letter for `bytes`, which failed for `reason`.
    pub fn new(
        reason: RejectReason,
        detail: impl Into<String>,
        failed_at: Timestamp,
        bytes: &[u8],
    ) -> Self {
        let text = String::from_utf8_lossy(bytes);
        let lossy = matches!(text, std::borrow::Cow::Owned(_));
        DeadLetter {
            reason,
            detail: detail.into(),
            failed_at,
            origin: None,
            key: None,
            payload: text.into_owned(),
            payload_lossy: lossy,
        }
    }
}

/// The JSON Schema (draft 2020-12) of `Envelope<T>` as committed under `schemas/json/`.
pub fn envelope_schema<T: TopicPayload>() -> serde_json::Value {
    let mut schema = schemars::schema_for!(Envelope<T>);
    schema.insert(
        "$id".into(),
        format!("https://tcgtracker.dev/schemas/{}.schema.json", T::TOPIC).into(),
    );
    schema.insert("title".into(), T::TOPIC.into());
    schema.insert("description".into(), T::DESCRIPTION.into());
    if let Some(props) = schema
        .get_mut("properties")
        .and_then(|p| p.get_mut("schema"))
        .and_then(|s| s.as_object_mut())
    {
        props.insert("const".into(), T::TOPIC.into());
    }
    schema.to_value()
}

/// Every topic's (name, JSON Schema).
pub fn all_schemas() -> Vec<(&'static str, serde_json::Value)> {
    vec![
        (RawQuote::TOPIC, envelope_schema::<RawQuote>()),
        (Tick::TOPIC, envelope_schema::<Tick>()),
        (AlertEvent::TOPIC, envelope_schema::<AlertEvent>()),
        (RuleChange::TOPIC, envelope_schema::<RuleChange>()),
        (DeadLetter::TOPIC, envelope_schema::<DeadLetter>()),
    ]
}
