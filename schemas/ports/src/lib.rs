//! The ports: traits that join tcgtracker's parts without either side knowing the other's
//! adapters. A collector publishes to a [`QuoteSink`] whether quotes go to Kafka, an in-process
//! channel or standard output, so the processor never links a collector and a collector never
//! links Kafka; the processor hands its output to [`OutputSink`]s whether they are a store, the
//! Kafka output topics or the live streams, so the processor's runtime never links a database
//! driver; the query API reads the sources' health and rejections through [`SourceReports`]. No I/O and no async runtime here: the futures are plain `std` futures.

pub mod output_sink;
pub mod quote_sink;
pub mod source_reports;

pub use output_sink::OutputSink;
pub use quote_sink::{BoxFuture, QuoteSink, SinkError};
pub use source_reports::SourceReports;
