//! The embedded bus: collectors publish into a bounded channel (backpressure, never a drop) and
//! one core takes the quotes in batches, hands the output to the sinks and goes on.

mod channel;
mod runner;

pub use channel::{ChannelSink, channel};
pub use runner::{Batching, Inputs, run};
