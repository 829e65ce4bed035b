//! ECB reference rates against the simulator.

mod common;

use chrono::NaiveDate;
use common::{paused_http, small_sim, start_sim};
use tcg_collectors::{
    CollectorError,
    ecb::{EcbClient, EcbConfig, parse_rates},
};
use tcg_schemas::{Currency, Money};
use tcg_simulator::fx::{FX_BASES, business_days_back, ecb_document};

#[test]
fn simulated_documents_parse_back() {
    let days = business_days_back(NaiveDate::from_ymd_opt(2024, 5, 5).unwrap_or_default(), 3);
    assert_eq!(days[0].to_string(), "2024-05-03");
    let parsed = parse_rates(&ecb_document(&days, 1)).unwrap();
    assert_eq!(parsed.len(), 3);
    assert_eq!(parsed[0].rates.len(), FX_BASES.len());
}

#[tokio::test]
async fn daily_and_history_parse_into_fx_rates() {
    let sim = start_sim(small_sim(2));
    let client = EcbClient::new(&EcbConfig {
        base_url: sim.base_url.clone(),
        http: paused_http(),
        ..EcbConfig::default()
    })
    .unwrap();
    let latest = client.latest().await.unwrap();
    // small_sim's clock is Friday 2024-03-01.
    assert_eq!(latest.as_of, "2024-03-01");
    assert_eq!(latest.base, Currency::EUR);
    assert!(latest.rates.contains_key(&Currency::USD) && latest.rates.contains_key(&Currency::JPY));
    let usd = latest.to_usd(Money::new(10_000, Currency::EUR)).unwrap();
    assert!(usd.minor > 10_000 && usd.minor < 12_000, "{usd}");
    let hist = client.history().await.unwrap();
    assert_eq!(hist.len(), 60);
    assert_eq!(hist[0], latest);
    assert_eq!(hist[1].as_of, "2024-02-29");
}

#[tokio::test]
async fn truncated_xml_is_an_error() {
    let mut cfg = small_sim(2);
    cfg.faults.first_malformed = 1;
    let sim = start_sim(cfg);
    let client = EcbClient::new(&EcbConfig {
        base_url: sim.base_url.clone(),
        http: paused_http(),
        ..EcbConfig::default()
    })
    .unwrap();
    // Half a document still has whole days in it, so use the history's cut too.
    match client.latest().await {
        Err(CollectorError::Malformed { .. }) => {}
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn spawned_simulator_serves_on_a_free_port() {
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let sim = tcg_simulator::spawn("127.0.0.1:0".parse().unwrap(), small_sim(2), async {
        let _ = stopped.await;
    })
    .await
    .unwrap();
    let client = EcbClient::new(&EcbConfig {
        base_url: sim.base_url.clone(),
        ..EcbConfig::default()
    })
    .unwrap();
    assert_eq!(client.latest().await.unwrap().as_of, "2024-03-01");
    assert_eq!(sim.handle.stats().ecb_requests, 1);
    stop.send(()).unwrap();
    sim.task.await.unwrap().unwrap();
}
