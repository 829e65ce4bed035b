//! The in-process quote sink: a bounded tokio channel. A full channel makes the collector wait
//! (backpressure); it never drops a quote.

use tcg_ports::{BoxFuture, QuoteSink, SinkError};
use tcg_schemas::RawQuote;
use tokio::sync::mpsc;

/// The sending half of a bounded in-process channel of quotes.
#[derive(Debug, Clone)]
pub struct ChannelSink {
    tx: mpsc::Sender<RawQuote>,
}

/// A bounded channel of `capacity` quotes: the sink for collectors and the receiver for the
/// processor (which takes batches with `recv_many`).
pub fn channel(capacity: usize) -> (ChannelSink, mpsc::Receiver<RawQuote>) {
    let (tx, rx) = mpsc::channel(capacity.max(1));
    (ChannelSink { tx }, rx)
}

impl QuoteSink for ChannelSink {
    fn publish<'a>(&'a self, quotes: Vec<RawQuote>) -> BoxFuture<'a, Result<(), SinkError>> {
        Box::pin(async move {
            for q in quotes {
                self.tx.send(q).await.map_err(|_| SinkError::Closed)?;
            }
            Ok(())
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tcg_schemas::Timestamp;

    fn quote(n: u64) -> RawQuote {
        crate::testkit::market_quote(n, Timestamp::from_secs(1_700_000_000), 100)
    }

    #[tokio::test]
    async fn full_channel_applies_backpressure_and_drops_nothing() {
        let (sink, mut rx) = channel(2);
        let producer =
            tokio::spawn(async move { sink.publish((0..10).map(quote).collect()).await });
        tokio::task::yield_now().await;
        // Only two fit: the producer waits.
        assert!(!producer.is_finished());
        let mut got = Vec::new();
        while got.len() < 10 {
            let Some(q) = rx.recv().await else { break };
            got.push(q.subject.product_id().0);
        }
        producer.await.unwrap().unwrap();
        assert_eq!(got, (0..10).collect::<Vec<_>>());
    }

    #[tokio::test]
    async fn closed_channel_is_an_error() {
        let (sink, rx) = channel(1);
        drop(rx);
        assert!(matches!(
            sink.publish(vec![quote(1)]).await,
            Err(SinkError::Closed)
        ));
    }
}
