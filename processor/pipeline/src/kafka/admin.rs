//! `tcgtracker topics create`: creates the topics; running it twice changes nothing.

use std::time::Duration;

use rdkafka::{
    admin::{AdminClient, AdminOptions, NewTopic, TopicReplication},
    client::DefaultClientContext,
    types::RDKafkaErrorCode,
};

use crate::{
    config::{KafkaArgs, TopicArgs},
    error::{PipelineError, Result},
};

/// What happened to one topic.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TopicOutcome {
    Created(String),
    AlreadyExists(String),
}

/// Creates every topic of `topics` that does not exist yet.
pub async fn ensure_topics(kafka: &KafkaArgs, topics: &TopicArgs) -> Result<Vec<TopicOutcome>> {
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
    let mut outcomes = Vec::new();
    for r in results {
        match r {
            Ok(name) => outcomes.push(TopicOutcome::Created(name)),
            Err((name, RDKafkaErrorCode::TopicAlreadyExists)) => {
                outcomes.push(TopicOutcome::AlreadyExists(name))
            }
            Err((name, code)) => {
                return Err(PipelineError::TopicCreation {
                    topic: name,
                    message: code.to_string(),
                });
            }
        }
    }
    Ok(outcomes)
}
