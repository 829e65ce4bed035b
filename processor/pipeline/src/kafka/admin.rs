//! `tcgtracker topics create`: creates the topics; running it twice changes nothing. It returns
//! once every partition of every topic has a leader that answers, so that a processor started
//! right after it can read them.

use std::time::{Duration, Instant};

use rdkafka::{
    admin::{AdminClient, AdminOptions, NewTopic, TopicReplication, TopicResult},
    client::DefaultClientContext,
    consumer::{BaseConsumer, Consumer},
    types::RDKafkaErrorCode,
};

use crate::{
    config::{KafkaConfig, TopicConfig},
    error::{PipelineError, Result},
};

/// What happened to one topic.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TopicOutcome {
    Created(String),
    AlreadyExists(String),
}

/// How long [`ensure_topics`] waits for the topics' partition leaders.
const LEADERS_TIMEOUT: Duration = Duration::from_secs(60);

/// Creates every topic of `topics` that does not exist yet, and waits until all of them can be
/// read.
pub async fn ensure_topics(kafka: &KafkaConfig, topics: &TopicConfig) -> Result<Vec<TopicOutcome>> {
    let admin: AdminClient<DefaultClientContext> = super::base_config(kafka).create()?;
    let specs = topics.specs();
    let new_topics: Vec<NewTopic<'_>> = specs
        .iter()
        .map(|s| {
            let mut t = NewTopic::new(s.name, s.partitions, TopicReplication::Fixed(s.replication));
            for (k, v) in &s.configs {
                t = t.set(k, v);
            }
            t
        })
        .collect();
    let options = AdminOptions::new().operation_timeout(Some(Duration::from_secs(30)));
    let results = admin.create_topics(new_topics.iter(), &options).await?;
    let outcomes = outcomes(results)?;
    let kafka = kafka.clone();
    let names: Vec<&'static str> = specs.iter().map(|s| s.name).collect();
    tokio::task::spawn_blocking(move || wait_for_leaders(&kafka, &names, LEADERS_TIMEOUT))
        .await??;
    Ok(outcomes)
}

/// Each topic's outcome; an error other than "already exists" fails the whole.
fn outcomes(results: Vec<TopicResult>) -> Result<Vec<TopicOutcome>> {
    let mut outcomes = Vec::new();
    for r in results {
        match r {
            Ok(name) => outcomes.push(TopicOutcome::Created(name)),
            Err((name, RDKafkaErrorCode::TopicAlreadyExists)) => {
                outcomes.push(TopicOutcome::AlreadyExists(name))
            }
            Err((name, code)) => {
                return Err(PipelineError::TopicCreation { topic: name, code });
            }
        }
    }
    Ok(outcomes)
}

/// Waits until every partition of `topics` has a leader that answers a ListOffsets request.
/// Kafka answers CreateTopics before it has elected the new partitions' leaders, and a leader
/// named in the metadata may still answer NOT_LEADER_OR_FOLLOWER for a moment: reading at once
/// fails. Blocking.
fn wait_for_leaders(kafka: &KafkaConfig, topics: &[&str], timeout: Duration) -> Result<()> {
    let client: BaseConsumer = super::base_config(kafka).create()?;
    let deadline = Instant::now() + timeout;
    for topic in topics {
        while !readable(&client, topic) {
            if Instant::now() >= deadline {
                return Err(PipelineError::Timeout(format!(
                    "the partitions of {topic} to have a leader"
                )));
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }
    Ok(())
}

/// Whether the metadata lists `topic` with partitions, and each partition's leader answers.
fn readable(client: &BaseConsumer, topic: &str) -> bool {
    let timeout = Duration::from_secs(5);
    let Ok(metadata) = client.fetch_metadata(Some(topic), timeout) else {
        return false;
    };
    let Some(t) = metadata.topics().iter().find(|t| t.name() == topic) else {
        return false;
    };
    t.error().is_none()
        && !t.partitions().is_empty()
        && t.partitions().iter().all(|p| {
            p.leader() >= 0
                && p.error().is_none()
                && client.fetch_watermarks(topic, p.id(), timeout).is_ok()
        })
}
