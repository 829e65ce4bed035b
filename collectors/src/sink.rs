//! Quote sinks a collector run may use on its own: in memory (tests, one-off runs), counting
//! (load measurements) and JSON lines on standard output (`tcgtracker collect --stdout`). The
//! trait is the port in `tcg-ports`; the Kafka sink and the in-process channel live with the
//! pipeline.

use std::sync::Mutex;

use tcg_schemas::RawQuote;

pub use tcg_ports::{BoxFuture, QuoteSink, SinkError};

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
    fn publish<'a>(&'a self, quotes: Vec<RawQuote>) -> BoxFuture<'a, Result<(), SinkError>> {
        Box::pin(async move {
            self.quotes
                .lock()
                .map_err(|_| SinkError::Closed)?
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
    fn publish<'a>(&'a self, quotes: Vec<RawQuote>) -> BoxFuture<'a, Result<(), SinkError>> {
        self.count
            .fetch_add(quotes.len() as u64, std::sync::atomic::Ordering::Relaxed);
        Box::pin(async { Ok(()) })
    }
}

/// Writes each quote as one JSON line to standard output (`tcgtracker collect` on its own).
#[derive(Debug, Default)]
pub struct JsonLinesSink;

impl QuoteSink for JsonLinesSink {
    fn publish<'a>(&'a self, quotes: Vec<RawQuote>) -> BoxFuture<'a, Result<(), SinkError>> {
        Box::pin(async move {
            use std::io::Write;
            let mut out = String::new();
            for q in &quotes {
                let line = serde_json::to_string(q).map_err(SinkError::failed)?;
                out.push_str(&line);
                out.push('\n');
            }
            std::io::stdout()
                .lock()
                .write_all(out.as_bytes())
                .map_err(SinkError::failed)?;
            Ok(())
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tcg_schemas::{CategoryId, Money, PriceKind, ProductId, Source, Subject, Timestamp};

    fn quote(n: u64) -> RawQuote {
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
    async fn vec_sink_keeps_every_quote_in_order() {
        let sink = VecSink::new();
        sink.publish((0..3).map(quote).collect()).await.unwrap();
        sink.publish((3..5).map(quote).collect()).await.unwrap();
        assert_eq!(sink.len(), 5);
        let ids: Vec<u64> = sink
            .take()
            .iter()
            .map(|q| q.subject.product_id().0)
            .collect();
        assert_eq!(ids, vec![0, 1, 2, 3, 4]);
        assert!(sink.is_empty());
    }

    #[tokio::test]
    async fn counting_sink_counts() {
        let sink = CountingSink::default();
        sink.publish((0..7).map(quote).collect()).await.unwrap();
        assert_eq!(sink.count(), 7);
    }
}
