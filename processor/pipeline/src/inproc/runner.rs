//! The core's loop on the embedded bus: quotes in batches, rule changes and FX rates as they
//! come, every batch's output delivered to the sinks before the next batch is taken.

use std::{future::Future, sync::Arc, time::Duration};

use tcg_processor_core::{Output, Processor, Stats};
use tcg_schemas::{FxRates, RawQuote, RuleChange};
use tokio::sync::{mpsc, watch};

use crate::{error::Result, internal_events, kafka::producer::now, sink::OutputSink};

/// What the core reads on the embedded bus.
#[derive(Debug)]
pub struct Inputs {
    /// The collectors' quotes. The loop ends when every sender is gone (after the last quote).
    pub quotes: mpsc::Receiver<RawQuote>,
    /// Rule changes (the query API's); `None`: the rules the core holds stay as they are.
    pub rules: Option<mpsc::Receiver<RuleChange>>,
    /// Reference rates (the ECB collector's); `None`: the core keeps the rates it holds.
    pub fx: Option<watch::Receiver<FxRates>>,
}

impl Inputs {
    /// Quotes only.
    pub fn quotes(quotes: mpsc::Receiver<RawQuote>) -> Self {
        Inputs {
            quotes,
            rules: None,
            fx: None,
        }
    }
}

/// How quotes are gathered into batches.
#[derive(Debug, Clone, Copy)]
pub struct Batching {
    /// Most quotes in one batch.
    pub max: usize,
    /// Longest wait to fill a batch once its first quote is there.
    pub linger: Duration,
}

/// One received input.
enum Next {
    Quotes,
    Rule(RuleChange),
    Fx(FxRates),
    Stop,
}

/// Runs the core until the quote channel closes or `shutdown` resolves (then what the channel
/// already holds is processed too). `on_batch` sees each batch's output (statistics and
/// rejections) once its ticks and alerts are
/// delivered. Returns the totals.
pub async fn run(
    mut inputs: Inputs,
    core: &mut Processor,
    sink: Arc<dyn OutputSink>,
    batching: Batching,
    mut on_batch: impl FnMut(&Output),
    shutdown: impl Future<Output = ()>,
) -> Result<Stats> {
    tokio::pin!(shutdown);
    let max = batching.max.max(1);
    let mut totals = Stats::default();
    let mut batch = Vec::with_capacity(max);
    loop {
        batch.clear();
        match next(&mut inputs, &mut batch, max, &mut shutdown).await {
            Next::Rule(change) => {
                if let Err(e) = core.apply_rule_change(change) {
                    tracing::warn!(error = %e, "rule change refused by the core");
                }
                continue;
            }
            Next::Fx(rates) => {
                core.set_fx_rates(rates);
                continue;
            }
            Next::Stop => {
                // Process what the collectors already handed over, then stop.
                while let Ok(q) = inputs.quotes.try_recv() {
                    batch.push(q);
                }
                deliver(core, &batch, sink.as_ref(), &mut totals, &mut on_batch).await?;
                break;
            }
            Next::Quotes => {}
        }
        let deadline = tokio::time::Instant::now() + batching.linger;
        while batch.len() < max {
            match tokio::time::timeout_at(deadline, inputs.quotes.recv()).await {
                Ok(Some(q)) => batch.push(q),
                _ => break,
            }
        }
        deliver(core, &batch, sink.as_ref(), &mut totals, &mut on_batch).await?;
    }
    Ok(totals)
}

/// Waits for the next input; quotes land in `batch`.
async fn next(
    inputs: &mut Inputs,
    batch: &mut Vec<RawQuote>,
    max: usize,
    shutdown: &mut std::pin::Pin<&mut impl Future<Output = ()>>,
) -> Next {
    let Inputs { quotes, rules, fx } = inputs;
    tokio::select! {
        biased;
        () = shutdown.as_mut() => Next::Stop,
        Some(change) = recv_rule(rules) => Next::Rule(change),
        Some(rates) = changed_fx(fx) => Next::Fx(rates),
        n = quotes.recv_many(batch, max) => if n == 0 { Next::Stop } else { Next::Quotes },
    }
}

/// The next rule change; pending forever without a channel (or once it closed).
async fn recv_rule(rules: &mut Option<mpsc::Receiver<RuleChange>>) -> Option<RuleChange> {
    match rules {
        Some(rx) => match rx.recv().await {
            Some(change) => Some(change),
            None => {
                *rules = None;
                None
            }
        },
        None => std::future::pending().await,
    }
}

/// The new rates; pending forever without a channel (or once its sender is gone).
async fn changed_fx(fx: &mut Option<watch::Receiver<FxRates>>) -> Option<FxRates> {
    match fx {
        Some(rx) => match rx.changed().await {
            Ok(()) => Some(rx.borrow_and_update().clone()),
            Err(_) => {
                *fx = None;
                None
            }
        },
        None => std::future::pending().await,
    }
}

async fn deliver(
    core: &mut Processor,
    batch: &[RawQuote],
    sink: &dyn OutputSink,
    totals: &mut Stats,
    on_batch: &mut impl FnMut(&Output),
) -> Result<()> {
    if batch.is_empty() {
        return Ok(());
    }
    let out = core.process(now(), batch);
    for r in &out.rejected {
        internal_events::count_rejection(r.quote.source.as_str(), r.reason);
    }
    sink.deliver(&out.ticks, &out.alerts).await?;
    metrics::counter!(internal_events::PROCESSOR_QUOTES).increment(out.stats.quotes);
    totals.add(&out.stats);
    on_batch(&out);
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use tcg_processor_core::CoreConfig;
    use tcg_schemas::{
        AlertEvent, AlertRule, Money, ProductId, RuleCondition, RuleId, SeriesFilter, Tick, UserId,
    };

    use super::*;
    use crate::testkit::market_quote;

    #[derive(Debug, Default)]
    struct Recorder {
        ticks: Mutex<usize>,
        alerts: Mutex<usize>,
    }

    impl OutputSink for Recorder {
        fn deliver<'a>(
            &'a self,
            ticks: &'a [Tick],
            alerts: &'a [AlertEvent],
        ) -> tcg_ports::BoxFuture<'a, std::result::Result<(), tcg_ports::SinkError>> {
            // quoted prices only (the fair values the core adds beside them left out)
            *self.ticks.lock().unwrap() += ticks.iter().filter(|t| !t.source.is_computed()).count();
            *self.alerts.lock().unwrap() += alerts.len();
            Box::pin(std::future::ready(Ok(())))
        }
    }

    const BATCHING: Batching = Batching {
        max: 4,
        linger: Duration::from_millis(5),
    };

    fn rule_above(product: u64, cents: i64) -> AlertRule {
        let at = now();
        AlertRule {
            id: RuleId(uuid::Uuid::from_u128(1)),
            owner: UserId("ash".into()),
            name: "above".into(),
            product_id: ProductId(product),
            filter: SeriesFilter::default(),
            condition: RuleCondition::PriceAbove {
                threshold_usd: Money::usd_cents(cents),
            },
            cooldown_secs: 0,
            paused: false,
            created_at: at,
            updated_at: at,
        }
    }

    #[tokio::test]
    async fn every_quote_is_processed_in_batches_until_the_channel_closes() {
        let (tx, rx) = mpsc::channel(100);
        let t0 = now().minus_secs(60);
        for p in 0..10 {
            tx.send(market_quote(p, t0, 100)).await.unwrap();
        }
        drop(tx);
        let sink = Arc::new(Recorder::default());
        let mut core = Processor::new(CoreConfig::default());
        let mut batches = Vec::new();
        let totals = run(
            Inputs::quotes(rx),
            &mut core,
            sink.clone(),
            BATCHING,
            |s| batches.push(s.stats.quotes),
            std::future::pending(),
        )
        .await
        .unwrap();
        assert_eq!(totals.quotes, 10);
        assert_eq!(batches, vec![4, 4, 2], "batches of at most 4");
        assert_eq!(*sink.ticks.lock().unwrap(), 10);
    }

    #[tokio::test(start_paused = true)]
    async fn rule_changes_reach_the_core_between_batches() {
        let (qtx, qrx) = mpsc::channel(100);
        let (rtx, rrx) = mpsc::channel(10);
        let sink = Arc::new(Recorder::default());
        let mut core = Processor::new(CoreConfig::default());
        let inputs = Inputs {
            quotes: qrx,
            rules: Some(rrx),
            fx: None,
        };
        let t0 = now().minus_secs(60);
        let feed = async move {
            // Before the rule: no alert.
            qtx.send(market_quote(7, t0, 500)).await.unwrap();
            tokio::time::sleep(Duration::from_millis(50)).await;
            rtx.send(RuleChange::Upsert {
                rule: rule_above(7, 600),
            })
            .await
            .unwrap();
            tokio::time::sleep(Duration::from_millis(50)).await;
            // After it: the price crosses the threshold.
            qtx.send(market_quote(7, t0.plus_secs(1), 700))
                .await
                .unwrap();
        };
        let (totals, ()) = tokio::join!(
            run(
                inputs,
                &mut core,
                sink.clone(),
                BATCHING,
                |_| {},
                std::future::pending()
            ),
            feed
        );
        let totals = totals.unwrap();
        assert_eq!(totals.quotes, 2);
        assert_eq!(totals.alerts, 1);
        assert_eq!(*sink.alerts.lock().unwrap(), 1);
    }

    #[tokio::test]
    async fn shutdown_processes_what_the_channel_holds() {
        let (tx, rx) = mpsc::channel(100);
        let t0 = now().minus_secs(60);
        for p in 0..3 {
            tx.send(market_quote(p, t0, 100)).await.unwrap();
        }
        let sink = Arc::new(Recorder::default());
        let mut core = Processor::new(CoreConfig::default());
        // The sender stays open: only the shutdown ends the loop.
        let totals = run(
            Inputs::quotes(rx),
            &mut core,
            sink,
            BATCHING,
            |_| {},
            std::future::ready(()),
        )
        .await
        .unwrap();
        assert_eq!(totals.quotes, 3);
        drop(tx);
    }

    #[derive(Debug)]
    struct Refusing;

    impl OutputSink for Refusing {
        fn deliver<'a>(
            &'a self,
            _: &'a [Tick],
            _: &'a [AlertEvent],
        ) -> tcg_ports::BoxFuture<'a, std::result::Result<(), tcg_ports::SinkError>> {
            let cause = std::io::Error::other("disk full");
            Box::pin(std::future::ready(Err(tcg_ports::SinkError::failed(cause))))
        }
    }

    #[tokio::test]
    async fn a_sink_that_refuses_stops_the_run_with_its_cause() {
        let (tx, rx) = mpsc::channel(10);
        tx.send(market_quote(1, now().minus_secs(60), 100))
            .await
            .unwrap();
        let mut core = Processor::new(CoreConfig::default());
        let err = run(
            Inputs::quotes(rx),
            &mut core,
            Arc::new(Refusing),
            BATCHING,
            |_| {},
            std::future::pending(),
        )
        .await
        .unwrap_err();
        assert!(matches!(err, crate::PipelineError::Sink(_)), "{err}");
        let mut chain = Vec::new();
        let mut cause: Option<&dyn std::error::Error> = Some(&err);
        while let Some(e) = cause {
            chain.push(e.to_string());
            cause = e.source();
        }
        assert_eq!(
            chain.last().map(String::as_str),
            Some("disk full"),
            "{chain:?}"
        );
        drop(tx);
    }
}
