//! The QuestDB adapter: writes with questdb-rs ILP over HTTP (batched by rows, bytes and age, flushed
//! on tokio's blocking pool), reads in QuestDB SQL over PGWire (tokio-postgres, bind parameters).
//!
//! Everything that builds text (DDL, ILP rows, SQL) is a pure function tested without a server:
//! [`ddl`] (the schema), [`config`] (the client configuration), [`ilp`] (one row encoder per
//! table), [`sql`] (the reads), [`writer`] (batching and flushing), [`store`] (the connection and the
//! helpers the store traits' modules share) and [`bench`] (`tcgtracker bench store --questdb-http …`).

mod alerts;
#[cfg(feature = "bench")]
pub mod bench;
mod candles;
mod catalog;
pub mod config;
pub mod ddl;
pub mod ilp;
mod pg;
mod portfolios;
pub mod rollups;
pub mod sql;
pub mod store;
mod ticks;
pub mod writer;

pub use config::QuestDbConfig;
pub use ddl::{QUESTDB_DDL, TABLES, ddl_statements};
pub use ilp::*;
pub use sql::*;
pub use store::QuestDbStore;
pub use writer::IlpWriter;
