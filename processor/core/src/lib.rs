//! The pure processor core: a batch of raw quotes in; ticks, alert events and rejections out.
//!
//! No I/O and no clock reads: `now` is an argument, and the same state, `now` and batch always
//! give the same output. The runtime around it (consume, store, commit) lives elsewhere.
//!
//! ```
//! use tcg_processor_core::{CoreConfig, Processor};
//! use tcg_schemas::Timestamp;
//! let mut core = Processor::new(CoreConfig::default());
//! let out = core.process(Timestamp::from_secs(1_700_000_000), &[]);
//! assert!(out.ticks.is_empty());
//! ```

pub mod config;
pub mod engine;
pub mod fair;
pub mod normalize;
pub mod output;
pub mod rules;
pub mod state;
pub mod title;

pub use config::CoreConfig;
pub use engine::Processor;
pub use output::{Output, Rejection, Stats};
pub use rules::RuleError;
pub use state::Snapshot;
