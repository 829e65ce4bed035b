//! The ports: traits that join tcgtracker's parts without either side knowing the other's
//! adapters. A collector publishes to a [`QuoteSink`] whether quotes go to Kafka, an in-process
//! channel or standard output; the processor never links a collector and a collector never
//! links Kafka. No I/O and no async runtime here: the futures are plain `std` futures.

pub mod quote_sink;

pub use quote_sink::{BoxFuture, QuoteSink, SinkError};
