//! Collectors publishing to tcg.quotes.raw.v1 (key: product id, so a product's quotes stay in
//! order on one partition and one processor).

use tcg_ports::{BoxFuture, QuoteSink, SinkError};
use tcg_schemas::RawQuote;

use crate::kafka::producer::EnvelopeProducer;

/// A [`QuoteSink`] that resolves once every quote of the call is acknowledged by the brokers.
#[derive(Debug, Clone)]
pub struct KafkaQuoteSink(pub EnvelopeProducer);

impl QuoteSink for KafkaQuoteSink {
    fn publish<'a>(&'a self, quotes: Vec<RawQuote>) -> BoxFuture<'a, Result<(), SinkError>> {
        Box::pin(async move {
            let items = quotes
                .into_iter()
                .map(|q| (q.subject.product_id().to_string(), q))
                .collect();
            self.0.send_all(items).await.map_err(SinkError::failed)
        })
    }
}
