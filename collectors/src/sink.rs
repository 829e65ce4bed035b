//! Where collectors publish quotes. In-process: a bounded tokio channel; a full channel makes the
//! collector wait (backpressure), it never drops a quote.

use std::{future::Future, pin::Pin, sync::Mutex};

use tcg_schemas::RawQuote;
use tokio::sync::mpsc;

use crate::CollectorError;

/// A boxed, sendable future (the shape of the object-safe async methods here).
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// Receives the quotes of one fetch, in order.
pub trait QuoteSink: Send + Sync {
    /// Publishes `quotes`; waits while the sink is full. Fails only when the sink is gone.
    fn publish<'a>(&'a self, quotes: Vec<RawQuote>) -> BoxFuture<'a, Result<(), CollectorError>>;
}

/// The sending half of a bounded in-process channel of quotes.
#[derive(Debug, Clone)]
pub struct ChannelSink {
    tx: mpsc::Sender<RawQuote>,
}

/// A bounded channel of `capacity` quotes: the sink for collectors and the receiver for the
/// processor (which may take batches with `recv_many`).
pub fn channel(capacity: usize) -> (ChannelSink, mpsc::Receiver<RawQuote>) {
    let (tx, rx) = mpsc::channel(capacity.max(1));
    (ChannelSink { tx }, rx)
}

impl ChannelSink {
    pub fn new(tx: mpsc::Sender<RawQuote>) -> Self {
        ChannelSink { tx }
    }
}

impl QuoteSink for ChannelSink {
    fn publish<'a>(&'a self, quotes: Vec<RawQuote>) -> BoxFuture<'a, Result<(), CollectorError>> {
        Box::pin(async move {
            for q in quotes {
                self.tx
                    .send(q)
                    .await
                    .map_err(|_| CollectorError::SinkClosed)?;
            }
            Ok(())
        })
    }
}

/// Keeps every quote in memory (tests, one-off runs).
#[derive(Debug, Default)]
pub struct VecSink {
    quotes: Mutex<Vec<RawQuote>>,
}

impl VecSink {
    pub fn new() -> Self {
        Self::default()
    }

    /// Everything received so far.
    pub fn take(&self) -> Vec<RawQuote> {
        self.quotes
            .lock()
            .map(|mut q| std::mem::take(&mut *q))
            .unwrap_or_default()
    }

    pub fn len(&self) -> usize {
        self.quotes.lock().map(|q| q.len()).unwrap_or(0)
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl QuoteSink for VecSink {
    fn publish<'a>(&'a self, quotes: Vec<RawQuote>) -> BoxFuture<'a, Result<(), CollectorError>> {
        Box::pin(async move {
            self.quotes
                .lock()
                .map_err(|_| CollectorError::SinkClosed)?
                .extend(quotes);
            Ok(())
        })
    }
}

/// Counts quotes and throws them away (load measurements).
#[derive(Debug, Default)]
pub struct CountingSink {
    count: std::sync::atomic::AtomicU64,
}

impl CountingSink {
    pub fn count(&self) -> u64 {
        self.count.load(std::sync::atomic::Ordering::Relaxed)
    }
}

impl QuoteSink for CountingSink {
    fn publish<'a>(&'a self, quotes: Vec<RawQuote>) -> BoxFuture<'a, Result<(), CollectorError>> {
        self.count
            .fetch_add(quotes.len() as u64, std::sync::atomic::Ordering::Relaxed);
        Box::pin(async { Ok(()) })
    }
}

/// Writes each quote as one JSON line to standard output (`tcgtracker collect` on its own).
#[derive(Debug, Default)]
pub struct JsonLinesSink;

impl QuoteSink for JsonLinesSink {
    fn publish<'a>(&'a self, quotes: Vec<RawQuote>) -> BoxFuture<'a, Result<(), CollectorError>> {
        Box::pin(async move {
            use std::io::Write;
            let mut out = String::new();
            for q in &quotes {
                let line = serde_json::to_string(q)
                    .map_err(|e| CollectorError::Config(format!("cannot encode quote: {e}")))?;
                out.push_str(&line);
                out.push('\n');
            }
            std::io::stdout().lock().write_all(out.as_bytes())?;
            Ok(())
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tcg_schemas::{CategoryId, Money, PriceKind, ProductId, Source, Subject, Timestamp};

    pub(crate) fn quote(n: u64) -> RawQuote {
        RawQuote {
            source: Source::Tcgcsv,
            observed_at: Timestamp::from_secs(1_700_000_000),
            kind: PriceKind::Market,
            price: Money::usd_cents(100),
            shipping: None,
            subject: Subject::TcgProduct {
                category_id: CategoryId(3),
                group_id: None,
                product_id: ProductId(n),
                sub_type_name: "Normal".into(),
            },
        }
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
            Err(CollectorError::SinkClosed)
        ));
    }
}
