//! The docker-compose topology as plain processes on the real engines (see `stack.rs`), and what
//! it needs: the processes (`topology`), what the pipeline owes (`expected`), a webhook receiver,
//! the dashboards' SQL as Grafana runs it (`grafana`) and the PromQL of the dashboards and the
//! alerting rules (`prometheus_exprs`).

#![allow(clippy::unwrap_used, clippy::expect_used)]
#![allow(clippy::too_many_lines)] // a test reads best as one scenario, top to bottom

mod expected;
mod grafana;
mod prometheus_exprs;
mod receiver;
mod stack;
mod topology;
