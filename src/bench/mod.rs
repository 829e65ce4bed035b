//! Benchmarks. Each prints one JSON object (with `--json`) or a short table, and gives every
//! throughput also as a ratio to a baseline measured in the same run.

pub mod api;
pub mod core;
pub mod pipeline;
pub mod store;
pub mod synth;
