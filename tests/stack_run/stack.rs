//! The docker-compose topology as plain processes on real engines: Apache Kafka, QuestDB and
//! PostgreSQL (tcg-engines), `tcgtracker sim`, two `collect`, two `process` in one consumer
//! group, two `webhook dispatch`, two `serve`, a local webhook receiver and a real Prometheus
//! scraping every process. Every service keeps the app's own data in the one PostgreSQL (the
//! SQLite path they are given is never created). Everything is checked from outside, through the
//! public interfaces only: what a client creates on one API instance is read on the other; a key
//! revoked on one stops working on the other within 5 s; the API's latest prices and history
//! (served from QuestDB) equal what one uninterrupted core per partition computes from the raw
//! topic; every fired alert reaches the receiver exactly once with a valid signature, although
//! one processor and one dispatcher are killed with SIGKILL mid-run;
//! every PromQL expression of the dashboards and alerting rules returns data from Prometheus;
//! every Grafana panel's SQL runs on QuestDB and returns the columns the panel uses.

use std::{
    collections::{BTreeMap, BTreeSet},
    time::{Duration, Instant},
};

use serde_json::{Value, json};
use tcg_engines::{Kafka, Postgres, Prometheus, QuestDb, QuestDbOptions};
use tcg_schemas::{RuleChange, SeriesKey, TopicPayload as _};

use crate::{
    expected::{self, Line, Owed},
    grafana, prometheus_exprs, receiver,
    topology::{self, Service, free_port, run, wait_for},
};

const PARTITIONS: &str = "4";
const SEED: u64 = 7;
/// Cards with an alert rule (the first of the simulated catalog); the webhook volume stays small.
const WATCHED: usize = 4;

/// The API with a key.
#[derive(Clone)]
struct Api {
    base: String,
    key: String,
    http: reqwest::Client,
}

impl Api {
    async fn get(&self, path: &str) -> Value {
        let r = self
            .http
            .get(format!("{}{path}", self.base))
            .bearer_auth(&self.key)
            .send()
            .await
            .expect("GET");
        let status = r.status();
        let body = r.text().await.expect("body");
        assert!(status.is_success(), "GET {path}: {status} {body}");
        serde_json::from_str(&body).expect("JSON")
    }

    async fn post(&self, path: &str, body: Value) -> Value {
        let r = self
            .http
            .post(format!("{}{path}", self.base))
            .bearer_auth(&self.key)
            .json(&body)
            .send()
            .await
            .expect("POST");
        let status = r.status();
        let text = r.text().await.expect("body");
        assert!(status.is_success(), "POST {path} {body}: {status} {text}");
        serde_json::from_str(&text).expect("JSON")
    }
}

/// One value from QuestDB over PGWire (as Grafana and psql read it).
async fn questdb_value(pg_url: &str, sql: &str) -> Option<String> {
    let (client, conn) = tokio_postgres::connect(pg_url, tokio_postgres::NoTls)
        .await
        .ok()?;
    tokio::spawn(conn);
    let rows = client.simple_query(sql).await.ok()?;
    rows.into_iter().find_map(|m| match m {
        tokio_postgres::SimpleQueryMessage::Row(r) => r.get(0).map(str::to_owned),
        _ => None,
    })
}

async fn questdb_count(pg_url: &str, sql: &str) -> i64 {
    questdb_value(pg_url, sql)
        .await
        .and_then(|v| v.parse().ok())
        .unwrap_or(-1)
}

fn cents(money: &Value) -> i64 {
    let amount: f64 = money["amount"]
        .as_str()
        .and_then(|a| a.parse().ok())
        .unwrap_or_else(|| panic!("money {money}"));
    (amount * 100.0).round() as i64
}

fn secs(instant: &Value) -> i64 {
    chrono::DateTime::parse_from_rfc3339(instant.as_str().expect("instant"))
        .expect("RFC 3339")
        .timestamp()
}

fn line_of(v: &Value) -> Line {
    (
        v["series_id"].as_str().expect("series_id").to_owned(),
        serde_json::from_value(v["source"].clone()).expect("source"),
        serde_json::from_value(v["kind"].clone()).expect("kind"),
    )
}

fn rfc3339(unix: i64) -> String {
    chrono::DateTime::from_timestamp(unix, 0)
        .expect("instant")
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_compose_topology_as_processes_is_exact_from_the_outside() {
    let started = Instant::now();
    let kafka = tokio::task::spawn_blocking(Kafka::start);
    let questdb = tokio::task::spawn_blocking(|| {
        QuestDb::start_with(QuestDbOptions {
            // Prometheus metrics on the health port, as docker-compose.yml turns them on.
            extra_conf: vec!["metrics.enabled=true".into()],
            ..QuestDbOptions::default()
        })
    });
    let postgres = tokio::task::spawn_blocking(Postgres::start);
    let kafka = kafka.await.unwrap().expect("kafka");
    let questdb = questdb.await.unwrap().expect("questdb");
    let postgres = postgres.await.unwrap().expect("postgres");
    let database_url = postgres.url();
    eprintln!("engines up in {:.1} s", started.elapsed().as_secs_f64());
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let brokers = kafka.brokers();
    let (qhttp, qpg) = (questdb.http_url(), questdb.pg_url());
    // Given to every service, and never created: the app's data is in PostgreSQL.
    let unused_sqlite = d.join("never.db").to_str().unwrap().to_owned();
    let store = [
        "--sqlite",
        unused_sqlite.as_str(),
        "--database-url",
        database_url.as_str(),
        "--questdb-http",
        qhttp.as_str(),
        "--questdb-pg",
        qpg.as_str(),
    ];

    // The init job: topics and QuestDB tables; an API key.
    run(&[
        "topics",
        "create",
        "--brokers",
        &brokers,
        "--partitions",
        PARTITIONS,
    ]);
    run(&[
        "questdb",
        "init",
        "--questdb-http",
        &qhttp,
        "--questdb-pg",
        &qpg,
    ]);
    let keys = run(&[
        "keys",
        "create",
        "--user",
        "stack",
        "--database-url",
        &database_url,
    ]);
    let key = String::from_utf8(keys.stdout)
        .unwrap()
        .lines()
        .next()
        .unwrap()
        .trim()
        .to_owned();

    // The market simulator, and the catalog synced into the store by one collector pass.
    let sim_addr = format!("127.0.0.1:{}", free_port());
    let base_url = format!("http://{sim_addr}");
    let seed = SEED.to_string();
    let sim = Service::start(
        d,
        "sim",
        &[
            "sim",
            "--listen",
            &sim_addr,
            "--seed",
            &seed,
            "--categories",
            "3",
            "--sets-per-game",
            "2",
            "--cards-per-set",
            "12",
            "--sealed-per-set",
            "1",
            "--step-secs",
            "1",
            // Upstream faults: the collectors' errors, retries and 429 handling are exercised.
            "--fault-500",
            "0.03",
            "--fault-429",
            "0.03",
        ],
        &[],
    );
    wait_for(
        "the simulator",
        Duration::from_secs(30),
        || sim.log(),
        async || std::net::TcpStream::connect(&sim_addr).is_ok(),
    )
    .await;
    let mut catalog_args = vec![
        "collect",
        "--base-url",
        &base_url,
        "--sources",
        "tcgcsv",
        "--categories",
        "3",
        "--stdout",
        "--sync-catalog",
        "--passes",
        "1",
    ];
    catalog_args.extend(store);
    run(&catalog_args);

    // Two query API instances: QuestDB for prices, PostgreSQL for the app's data, Kafka for
    // rule changes.
    let listens: Vec<String> = (0..2)
        .map(|_| format!("127.0.0.1:{}", free_port()))
        .collect();
    let mut serves: Vec<Service> = listens
        .iter()
        .enumerate()
        .map(|(i, listen)| {
            let mut a = vec![
                "serve",
                "--listen",
                listen,
                "--kafka",
                "--brokers",
                &brokers,
            ];
            a.extend(store);
            a.push("--allow-private-webhooks");
            Service::start(d, &format!("serve-{}", i + 1), &a, &[])
        })
        .collect();
    let apis: Vec<Api> = listens
        .iter()
        .map(|listen| Api {
            base: format!("http://{listen}"),
            key: key.clone(),
            http: reqwest::Client::new(),
        })
        .collect();
    for (api, serve) in apis.iter().zip(&serves) {
        wait_for(
            "the API to be ready",
            Duration::from_secs(60),
            || serve.log(),
            async || {
                reqwest::get(format!("{}/readyz", api.base))
                    .await
                    .is_ok_and(|r| r.status().is_success())
            },
        )
        .await;
    }
    let (api, api_b) = (&apis[0], &apis[1]);
    let serve_log = || topology::logs(d, &["serve-1", "serve-2"]);

    // A webhook endpoint on the local receiver, rules on the first cards, a portfolio.
    // Beside the receiving endpoint, one that always fails (retried) and one that is gone
    // (disabled at once): the dashboards' and alert rules' webhook failure series have data.
    let hooks = receiver::start().await;
    let received = hooks.accepted.clone();
    let endpoint = api
        .post("/v1/webhooks", json!({ "url": hooks.url("hook") }))
        .await;
    let secret = endpoint["secret"].as_str().expect("secret").to_owned();
    for path in ["fail", "gone"] {
        api.post("/v1/webhooks", json!({ "url": hooks.url(path) }))
            .await;
    }
    let cards = api.get("/v1/cards?limit=100").await;
    let mut cards: Vec<u64> = cards["items"]
        .as_array()
        .expect("cards")
        .iter()
        .filter(|c| c["sealed"].as_bool() != Some(true))
        .filter_map(|c| c["product_id"].as_u64())
        .collect();
    // The dearest cards first: the rules watch cards whose price moves by a cent within the
    // test (a common at 15 cents drifts by far less than a cent in an hour, as real ones do).
    let sim = tcg_simulator::catalog::SimCatalog::generate(SEED, &[3], 2, 12, 1);
    let base = |id: u64| {
        sim.products
            .iter()
            .find(|p| p.product_id == id)
            .map_or(0, |p| p.base_cents)
    };
    cards.sort_by_key(|&id| std::cmp::Reverse(base(id)));
    assert!(
        cards.len() >= WATCHED + 2,
        "the catalog is in the store: {cards:?}"
    );
    for &product in &cards[..WATCHED] {
        api.post(
            "/v1/alert-rules",
            json!({
                "name": format!("moves of {product}"),
                "product_id": product,
                // a cent's move: the simulated prices drift by well under 1 % within an hour
                "condition": { "type": "percent_change", "percent": "0.01", "window_secs": 3600, "direction": "either" },
                "cooldown_secs": 60
            }),
        )
        .await;
    }
    let portfolio = api.post("/v1/portfolios", json!({ "name": "stack" })).await;
    let portfolio_id = portfolio["id"].as_str().expect("portfolio id").to_owned();
    let mut holdings = Vec::new();
    for &product in &cards[WATCHED..WATCHED + 2] {
        let h = api
            .post(
                &format!("/v1/portfolios/{portfolio_id}/holdings"),
                json!({ "product_id": product, "printing": "Holofoil", "quantity": 2,
                        "cost_per_unit": { "amount": "5.00", "currency": "USD" } }),
            )
            .await;
        holdings.push(h["id"].as_str().expect("holding id").to_owned());
    }
    // One copy sold: the dashboard's sales proceeds.
    api.post(
        &format!(
            "/v1/portfolios/{portfolio_id}/holdings/{}/sales",
            holdings[0]
        ),
        json!({ "quantity": 1, "price_per_unit": { "amount": "7.50", "currency": "USD" } }),
    )
    .await;
    // The rules are on their topic before a processor starts (each reads them all at start).
    wait_for(
        "the rules on their topic",
        Duration::from_secs(30),
        serve_log,
        async || expected::read_topic::<RuleChange>(&brokers).len() == WATCHED,
    )
    .await;
    across_instances(api, api_b, &portfolio_id, &database_url).await;

    // Two processors (one group), two dispatchers, then the collectors.
    let metrics: Vec<String> = (0..6)
        .map(|_| format!("127.0.0.1:{}", free_port()))
        .collect();
    let process_args = |m: &str| -> Vec<String> {
        let mut a: Vec<String> = [
            "process",
            "--brokers",
            &brokers,
            "--group",
            "tcg-processor",
            "--session-timeout-ms",
            "6000",
            "--batch-max",
            "200",
            "--batch-linger-ms",
            "50",
            "--publish",
            "true",
            "--metrics-listen",
            m,
        ]
        .iter()
        .map(|s| (*s).to_owned())
        .collect();
        a.extend(store.iter().map(|s| (*s).to_owned()));
        a
    };
    let (p1_args, p2_args) = (process_args(&metrics[0]), process_args(&metrics[1]));
    let mut p1 = Service::start(d, "processor-1", &as_strs(&p1_args), &[]);
    let mut p2 = Service::start(d, "processor-2", &as_strs(&p2_args), &[]);
    let mut dispatchers: Vec<Service> = [&metrics[2], &metrics[5]]
        .iter()
        .enumerate()
        .map(|(i, m)| {
            Service::start(
                d,
                &format!("dispatcher-{}", i + 1),
                &[
                    "webhook",
                    "dispatch",
                    "--database-url",
                    &database_url,
                    "--allow-private",
                    "--metrics-listen",
                    m,
                ],
                &[],
            )
        })
        .collect();
    let dispatch_log = || topology::logs(d, &["dispatcher-1", "dispatcher-2"]);
    let prometheus = Prometheus::start_with(
        &prometheus_exprs::config(&[
            (
                "tcg-processor",
                vec![metrics[0].clone(), metrics[1].clone()],
            ),
            (
                "tcg-collector",
                vec![metrics[3].clone(), metrics[4].clone()],
            ),
            (
                "tcg-dispatcher",
                vec![metrics[2].clone(), metrics[5].clone()],
            ),
            ("tcg-api", listens.clone()),
            (
                "questdb",
                vec![format!("127.0.0.1:{}", questdb.health_port())],
            ),
        ]),
        &[(
            "alerts.yml",
            &std::fs::read_to_string(repo_root().join("deploy/prometheus/alerts.yml")).unwrap(),
        )],
    )
    .expect("prometheus");
    let mut collectors = {
        let mut a = vec![
            "collect",
            "--base-url",
            &base_url,
            "--brokers",
            &brokers,
            "--sources",
            "tcgplayer,ebay",
            "--categories",
            "3",
            "--poll-secs",
            "2",
            "--track-from-store",
            "--track-refresh-secs",
            "5",
            "--metrics-listen",
            &metrics[3],
        ];
        a.extend(store);
        let b = vec![
            "collect",
            "--base-url",
            &base_url,
            "--brokers",
            &brokers,
            "--sources",
            "tcgcsv",
            "--categories",
            "3",
            "--poll-secs",
            "2",
            "--metrics-listen",
            &metrics[4],
        ];
        vec![
            Service::start(d, "collect-1", &a, &[]),
            Service::start(d, "collect-2", &b, &[]),
        ]
    };
    // One message on the quotes topic that is no quote at all: it must end in the dead-letter
    // topic, and the pipeline goes on.
    {
        use rdkafka::producer::{FutureProducer, FutureRecord};
        let producer: FutureProducer = rdkafka::ClientConfig::new()
            .set("bootstrap.servers", &brokers)
            .create()
            .unwrap();
        producer
            .send(
                FutureRecord::to(tcg_schemas::RawQuote::TOPIC)
                    .key("1")
                    .payload("this is not a quote envelope"),
                Duration::from_secs(10),
            )
            .await
            .unwrap();
    }
    let logs = || topology::logs(d, &["processor-1", "processor-2"]);

    // Ticks arrive in QuestDB; one processor dies with SIGKILL mid-run and comes back.
    let ticks_sql = "SELECT count() FROM ticks";
    wait_for(
        "ticks in QuestDB",
        Duration::from_secs(90),
        logs,
        async || questdb_count(&qpg, ticks_sql).await > 200,
    )
    .await;
    p1.kill9();
    let at_kill = questdb_count(&qpg, ticks_sql).await;
    eprintln!("kill -9 processor-1 at {at_kill} ticks");
    tokio::time::sleep(Duration::from_secs(2)).await;
    p1.restart();
    wait_for(
        "progress after the restart",
        Duration::from_secs(90),
        logs,
        async || questdb_count(&qpg, ticks_sql).await > at_kill + 200,
    )
    .await;
    wait_for(
        "delivered, failed and refused webhooks",
        Duration::from_secs(90),
        dispatch_log,
        async || {
            let (failed, gone) = hooks.refused();
            !received.lock().unwrap().is_empty() && failed > 0 && gone > 0
        },
    )
    .await;

    // Prometheus: every expression of the dashboards and the alerting rules has data.
    let exprs = prometheus_exprs::expressions(&repo_root());
    let mut failures: Vec<String>;
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let outcomes = prometheus_exprs::check_all(&prometheus.url(), &exprs).await;
        failures = outcomes
            .into_iter()
            .filter_map(|(e, r)| {
                r.err()
                    .map(|why| format!("{}: {} — {why}", e.origin, e.promql))
            })
            .collect::<Vec<_>>();
        if failures.is_empty() || Instant::now() > deadline {
            break;
        }
        tokio::time::sleep(Duration::from_secs(2)).await;
    }
    assert!(
        failures.is_empty(),
        "PromQL without data:\n{}",
        failures.join("\n")
    );
    eprintln!("{} PromQL expressions return data", exprs.len());

    // One dispatcher dies with SIGKILL while alerts still flow (after Prometheus has seen its
    // counters); the other goes on delivering, and the dead one's leases expire and are taken
    // over. It comes back later.
    dispatchers[0].kill9();
    let at_kill = received.lock().unwrap().len();
    eprintln!("kill -9 dispatcher-1 after {at_kill} deliveries");
    tokio::time::sleep(Duration::from_secs(5)).await;
    dispatchers[0].restart();

    // The collectors stop; the processors finish what is on the topic.
    for c in &mut collectors {
        let status = c.terminate();
        assert!(
            status.is_some_and(|s| s.success()),
            "{} exit: {status:?}\n{}",
            c.name,
            c.log()
        );
    }
    let owed: Owed = expected::owed(&brokers);
    eprintln!(
        "raw topic: {} quotes; owed: {} ticks on {} lines, {} alerts",
        owed.quotes,
        owed.ticks,
        owed.lines.len(),
        owed.alerts.len()
    );
    assert!(
        owed.ticks > 400 && !owed.alerts.is_empty(),
        "too little to matter"
    );
    let distinct_sql = "SELECT count() FROM (SELECT DISTINCT observed_at, series, source, kind, listing_id FROM ticks)";
    wait_for(
        "every owed tick in QuestDB",
        Duration::from_secs(120),
        logs,
        async || questdb_count(&qpg, ticks_sql).await >= owed.ticks as i64,
    )
    .await;
    wait_for(
        "every alert at the receiver",
        Duration::from_secs(120),
        dispatch_log,
        async || {
            let ids: BTreeSet<String> = received
                .lock()
                .unwrap()
                .iter()
                .filter_map(|(_, b)| serde_json::from_slice::<Value>(b).ok())
                .filter_map(|v| v["data"]["id"].as_str().map(str::to_owned))
                .collect();
            ids.len() >= owed.alerts.len()
        },
    )
    .await;
    // A moment for any late double to show up.
    tokio::time::sleep(Duration::from_secs(3)).await;
    let (rows, distinct) = (
        questdb_count(&qpg, ticks_sql).await,
        questdb_count(&qpg, distinct_sql).await,
    );
    assert_eq!(rows, distinct, "a tick stored twice in QuestDB");
    assert_eq!(
        rows, owed.ticks as i64,
        "QuestDB holds exactly the owed ticks"
    );
    // The dead-letter topic is at least once (a processor killed after producing a dead letter
    // and before committing produces it again): one distinct origin per message owed.
    let dead_letters = expected::read_topic::<tcg_schemas::DeadLetter>(&brokers);
    let origins: BTreeSet<(i32, i64)> = dead_letters
        .iter()
        .filter_map(|(_, e)| e.payload.origin.as_ref().map(|o| (o.partition, o.offset)))
        .collect();
    assert_eq!(
        origins.len(),
        owed.dead_letters,
        "dead letters (by origin): the garbage message and the invalid quotes; {} messages",
        dead_letters.len()
    );

    // Latest prices through the API equal the core's.
    let series: Vec<&String> = owed
        .lines
        .keys()
        .map(|(s, _, _)| s)
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let mut seen_lines = BTreeSet::new();
    for chunk in series.chunks(50) {
        let ids: Vec<&str> = chunk.iter().map(|s| s.as_str()).collect();
        let latest = api
            .get(&format!("/v1/prices/latest?series={}", ids.join(",")))
            .await;
        for item in latest["items"].as_array().expect("items") {
            let line = line_of(item);
            let (newest, prices) = owed
                .latest(&line)
                .unwrap_or_else(|| panic!("the API has a line the core never priced: {item}"));
            assert_eq!(secs(&item["observed_at"]), newest.as_secs(), "{item}");
            assert!(
                prices.contains(&cents(&item["price_usd"])),
                "{item} vs {prices:?}"
            );
            seen_lines.insert(line);
        }
    }
    assert_eq!(
        seen_lines.len(),
        owed.lines.len(),
        "every owed line has a latest price"
    );

    // History (hourly candles) through the API equals the core's ticks bucketed by hour.
    let first = owed
        .lines
        .values()
        .flatten()
        .map(|t| t.observed_at.as_secs())
        .min()
        .unwrap();
    let last = owed
        .lines
        .values()
        .flatten()
        .map(|t| t.observed_at.as_secs())
        .max()
        .unwrap();
    let (from, to) = (
        rfc3339(first - first.rem_euclid(3600)),
        rfc3339(last + 3600),
    );
    let products: BTreeSet<u64> = series
        .iter()
        .map(|s| s.parse::<SeriesKey>().expect("series id").product_id().0)
        .collect();
    let mut candles_checked = 0;
    for product in &products {
        let history = api
            .get(&format!(
                "/v1/cards/{product}/history?interval=1h&fill=empty&from={from}&to={to}"
            ))
            .await;
        let mut lines_here = BTreeSet::new();
        for s in history["series"].as_array().expect("series") {
            let line = line_of(s);
            // Column by column: start (Unix seconds), low and high (decimal strings), count.
            let c = &s["candles"];
            let col = |name: &str| c[name].as_array().expect("a candle column").clone();
            let (start, low, high, count) = (col("start"), col("low"), col("high"), col("count"));
            let decimal = |v: &Value| cents(&serde_json::json!({ "amount": v }));
            let got: BTreeMap<i64, (i64, i64, u64)> = (0..start.len())
                .filter(|&i| count[i].as_u64().unwrap_or(0) > 0)
                .map(|i| {
                    (
                        start[i].as_i64().expect("start"),
                        (
                            decimal(&low[i]),
                            decimal(&high[i]),
                            count[i].as_u64().unwrap(),
                        ),
                    )
                })
                .collect();
            if got.is_empty() {
                continue;
            }
            assert_eq!(got, owed.hourly(&line), "hourly candles of {line:?}");
            candles_checked += got.len();
            lines_here.insert(line);
        }
        let owed_here: BTreeSet<Line> = owed
            .lines
            .keys()
            .filter(|(s, _, _)| {
                s.parse::<SeriesKey>()
                    .is_ok_and(|k| k.product_id().0 == *product)
            })
            .cloned()
            .collect();
        assert_eq!(lines_here, owed_here, "the lines of card {product}");
    }

    // Every alert reached the receiver exactly once, signed with the endpoint's secret.
    let got = received.lock().unwrap().clone();
    let now = chrono::Utc::now().timestamp();
    let mut per_alert: BTreeMap<String, usize> = BTreeMap::new();
    for (headers, body) in &got {
        let wh = tcg_webhooks::WebhookHeaders {
            id: receiver::header(headers, "webhook-id"),
            timestamp: receiver::header(headers, "webhook-timestamp"),
            signature: receiver::header(headers, "webhook-signature"),
        };
        tcg_webhooks::verify(
            &[secret.as_str()],
            &wh,
            body,
            now,
            Some(Duration::from_secs(600)),
        )
        .expect("a valid signature");
        let v: Value = serde_json::from_slice(body).expect("JSON body");
        *per_alert
            .entry(v["data"]["id"].as_str().expect("alert id").to_owned())
            .or_default() += 1;
    }
    let doubled: Vec<_> = per_alert.iter().filter(|(_, n)| **n > 1).take(5).collect();
    assert!(
        doubled.is_empty(),
        "alerts delivered more than once: {doubled:?}\n{}",
        topology::logs(d, &["dispatcher-1", "dispatcher-2"])
    );
    let delivered: BTreeSet<&String> = per_alert.keys().collect();
    let owed_ids: BTreeSet<&String> = owed.alerts.keys().collect();
    assert_eq!(
        delivered, owed_ids,
        "each owed alert delivered, and no other"
    );

    // Grafana: every QuestDB panel of every dashboard, on this data.
    // The card variable prefers a card with eBay items (a watched one), as a user picks it.
    let ebay_card = owed
        .lines
        .keys()
        .find(|(_, source, _)| *source == tcg_schemas::Source::EbayBrowse)
        .and_then(|(s, _, _)| s.parse::<SeriesKey>().ok())
        .map(|k| k.product_id().0.to_string())
        .expect("eBay listings of a tracked card");
    let ebay_set = api.get(&format!("/v1/cards/{ebay_card}")).await["card"]["group_id"]
        .as_u64()
        .expect("the card's set")
        .to_string();
    let outcomes = grafana::run_dashboards_preferring(
        &qpg,
        &repo_root(),
        std::time::SystemTime::now() - Duration::from_secs(6 * 3600),
        std::time::SystemTime::now() + Duration::from_secs(60),
        &[("set", ebay_set.as_str()), ("card", ebay_card.as_str())],
    )
    .await;
    let bad: Vec<String> = outcomes
        .iter()
        .filter_map(|o| {
            o.result
                .as_ref()
                .err()
                .map(|e| format!("{} / {}: {e}\n  {}", o.dashboard, o.panel, o.sql))
        })
        .collect();
    assert!(
        bad.is_empty(),
        "dashboard queries that fail or return nothing:\n{}",
        bad.join("\n")
    );

    let [d1, d2] = &mut dispatchers[..] else {
        unreachable!("two dispatchers")
    };
    let [s1, s2] = &mut serves[..] else {
        unreachable!("two API instances")
    };
    assert!(
        !std::path::Path::new(&unused_sqlite).exists(),
        "a service opened the SQLite file although the app's data is in PostgreSQL"
    );
    for s in [&mut p1, &mut p2, d1, d2, s1, s2] {
        let status = s.terminate();
        assert!(
            status.is_some_and(|st| st.success()),
            "{} exit: {status:?}\n{}",
            s.name,
            s.log()
        );
    }
    eprintln!(
        "stack: {} quotes, {rows} ticks in QuestDB ({} lines, {candles_checked} hourly candles checked), {} alerts delivered once each ({} requests), {} panels and {} PromQL expressions with data; {:.0} s",
        owed.quotes,
        owed.lines.len(),
        per_alert.len(),
        got.len(),
        outcomes.len(),
        exprs.len(),
        started.elapsed().as_secs_f64()
    );
    drop(sim);
}

fn as_strs(v: &[String]) -> Vec<&str> {
    v.iter().map(String::as_str).collect()
}

fn repo_root() -> std::path::PathBuf {
    std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// What a client made on instance A is what instance B serves; a key revoked through the app
/// database stops working on B (which has just verified it) within 5 s.
async fn across_instances(a: &Api, b: &Api, portfolio_id: &str, database_url: &str) {
    for path in [
        "/v1/portfolios".to_owned(),
        format!("/v1/portfolios/{portfolio_id}/holdings"),
        "/v1/alert-rules".to_owned(),
        "/v1/webhooks".to_owned(),
    ] {
        assert_eq!(
            a.get(&path).await["items"],
            b.get(&path).await["items"],
            "{path} on both API instances"
        );
    }
    let created = run(&[
        "keys",
        "create",
        "--user",
        "revoked-soon",
        "--database-url",
        database_url,
    ]);
    let key = String::from_utf8(created.stdout)
        .unwrap()
        .lines()
        .next()
        .unwrap()
        .trim()
        .to_owned();
    let with_key = Api {
        base: b.base.clone(),
        key: key.clone(),
        http: b.http.clone(),
    };
    with_key.get("/v1/portfolios").await;
    run(&["keys", "revoke", &key, "--database-url", database_url]);
    let revoked = Instant::now();
    loop {
        let status = with_key
            .http
            .get(format!("{}/v1/portfolios", b.base))
            .bearer_auth(&key)
            .send()
            .await
            .expect("an answer")
            .status();
        if status == reqwest::StatusCode::UNAUTHORIZED {
            break;
        }
        assert!(
            revoked.elapsed() < Duration::from_secs(5),
            "a revoked key still answers {status} on the other instance after 5 s"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    eprintln!(
        "instance B refused the key revoked through the database after {:.1} s",
        revoked.elapsed().as_secs_f64()
    );
}
