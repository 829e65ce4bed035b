//! Everything of the QuestDB adapter that can be checked without a QuestDB server: DDL, the
//! client configuration, ILP row text, SQL text, and flush failure, retry and batching against a
//! local HTTP endpoint that answers 500, 204 or hangs.

#![allow(clippy::unwrap_used)] // tests may unwrap
#![allow(clippy::too_many_lines)] // a test reads best as one scenario, top to bottom

use std::{
    sync::{
        Arc, Mutex,
        atomic::{AtomicU8, AtomicUsize, Ordering},
    },
    time::{Duration, Instant},
};

use ::questdb::ingress::{Buffer, ProtocolVersion};
use tcg_schemas::{
    Condition, Currency, Game, Language, Money, PriceKind, Printing, ProductId, SeriesKey, Source,
    Tick, Timestamp,
};
use tcg_store::{questdb as q, *};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

fn tick(secs: i64, cents: i64, listing: Option<&str>) -> Tick {
    let series = SeriesKey::Sku {
        product_id: ProductId(451_784),
        printing: Printing::ReverseHolofoil,
        condition: Condition::NearMint,
        language: Language::English,
    };
    Tick {
        series_id: series.id(),
        series,
        game: Game::Pokemon,
        source: if listing.is_some() {
            Source::EbayBrowse
        } else {
            Source::Tcgplayer
        },
        kind: if listing.is_some() {
            PriceKind::Listing
        } else {
            PriceKind::Market
        },
        observed_at: Timestamp::from_secs(1_714_564_800 + secs),
        price_usd: Money::usd_cents(cents),
        original: if listing.is_some() {
            Money::new(cents - 100, Currency::EUR)
        } else {
            Money::usd_cents(cents)
        },
        shipping: listing.map(|_| Money::new(150, Currency::EUR)),
        listing_id: listing.map(str::to_owned),
        confidence: listing.map(|_| 87),
        agreeing: Vec::new(),
        heartbeat: false,
    }
}

#[test]
fn ddl_has_wal_partitioned_dedup_tables() {
    let stmts = q::ddl_statements();
    assert_eq!(stmts.len(), q::TABLES.len());
    for (stmt, table) in stmts.iter().zip(q::TABLES) {
        assert!(
            stmt.starts_with(&format!("CREATE TABLE IF NOT EXISTS {table} (")),
            "{stmt}"
        );
        assert!(stmt.contains(" WAL\nDEDUP UPSERT KEYS("), "{stmt}");
        assert!(!stmt.contains("--"), "comments are stripped: {stmt}");
    }
    let ticks = &stmts[0];
    assert!(ticks.contains("series        SYMBOL CAPACITY 262144 CACHE,"));
    assert!(ticks.ends_with(
        ") TIMESTAMP(observed_at) PARTITION BY DAY WAL\nDEDUP UPSERT KEYS(observed_at, series, source, kind, listing_id)"
    ));
    assert!(stmts[1].ends_with("DEDUP UPSERT KEYS(observed_at, alert_id)"));
    assert!(stmts[8].ends_with("DEDUP UPSERT KEYS(updated_at, rule_id)"));
}

#[test]
fn client_configuration_is_explicit() {
    let mut c = QuestDbConfig::from_urls(
        "http://127.0.0.1:9000/",
        "postgres://admin:quest@127.0.0.1:8812/qdb",
    )
    .unwrap();
    assert_eq!(
        c.ilp_conf(),
        "http::addr=127.0.0.1:9000;protocol_version=1;auto_flush=off;retry_timeout=10000;request_timeout=10000;request_min_throughput=102400;"
    );
    c.username = Some("admin".into());
    c.password = Some("p;w".into());
    c.retry_timeout = Duration::from_millis(250);
    assert!(c.ilp_conf().ends_with("retry_timeout=250;request_timeout=10000;request_min_throughput=102400;username=admin;password=p;;w;"));
    assert!(
        QuestDbConfig::from_urls("https://db.example:9000", "")
            .unwrap()
            .ilp_conf()
            .starts_with("https::addr=db.example:9000;")
    );
    assert!(QuestDbConfig::from_urls("http://", "").is_err());
    assert!(QuestDbConfig::from_urls("http://h:9000/x", "").is_err());
}

#[test]
fn ilp_rows_of_a_tick_batch() {
    let mut buf = Buffer::new(ProtocolVersion::V1);
    q::encode_tick(&mut buf, &tick(0, 1899, None)).unwrap();
    q::encode_tick(&mut buf, &tick(60, 2150, Some("v1|12,3|0"))).unwrap();
    let text = String::from_utf8(buf.as_bytes().to_vec()).unwrap();
    assert_eq!(
        text,
        "ticks,series=451784/reverse-holofoil/nm/en,source=tcgplayer,kind=market,game=pokemon,orig_currency=USD \
listing_id=\"\",product_id=451784i,price_cents=1899i,orig_minor=1899i,heartbeat=f 1714564800000000000\n\
ticks,series=451784/reverse-holofoil/nm/en,source=ebay_browse,kind=listing,game=pokemon,orig_currency=EUR,ship_currency=EUR \
listing_id=\"v1|12,3|0\",product_id=451784i,price_cents=2150i,orig_minor=2050i,ship_minor=150i,confidence=87i,heartbeat=f 1714564860000000000\n"
    );
    // ILP v1: the designated timestamp goes out in nanoseconds (the microseconds × 1000).
    assert_eq!(buf.row_count(), 2);
    // A non-USD price is refused before anything is written.
    let mut bad = tick(0, 1, None);
    bad.price_usd = Money::new(1, Currency::EUR);
    let mut buf = Buffer::new(ProtocolVersion::V1);
    assert!(q::encode_tick(&mut buf, &bad).is_err());
    assert_eq!(buf.len(), 0);
}

#[test]
fn sql_text_of_each_read() {
    let from = Timestamp::parse("2024-01-01T00:00:00Z").unwrap();
    let to = Timestamp::parse("2024-02-01T00:00:00Z").unwrap();
    assert_eq!(
        q::sql_latest(2, &PriceFilter::only(Source::Tcgplayer, PriceKind::Market)),
        "SELECT series, source, kind, observed_at, listing_id, price_cents, orig_minor, orig_currency, confidence, agreeing FROM ticks \
WHERE series IN ($1, $2) AND source IN ('tcgplayer') AND kind IN ('market') LATEST ON observed_at PARTITION BY series, source, kind"
    );
    assert_eq!(
        q::sql_candles(Interval::DAY, from, to),
        "SELECT observed_at, first(price_cents) open, max(price_cents) high, min(price_cents) low, last(price_cents) close, count() n \
FROM ticks WHERE series = $1 AND source = $2 AND kind = $3 AND observed_at >= '2024-01-01T00:00:00.000000Z' AND observed_at < '2024-02-01T00:00:00.000000Z' \
SAMPLE BY 1d FROM '2024-01-01T00:00:00.000000Z' TO '2024-02-01T00:00:00.000000Z' FILL(NULL) ALIGN TO CALENDAR"
    );
    assert!(q::sql_candles(Interval::Month, from, to).contains("SAMPLE BY 1M FROM"));
    assert!(q::sql_candles(Interval::Seconds(900), from, to).contains("SAMPLE BY 15m FROM"));
    assert_eq!(
        q::sql_prev_close(from),
        "SELECT observed_at, price_cents FROM ticks WHERE series = $1 AND source = $2 AND kind = $3 AND observed_at < '2024-01-01T00:00:00.000000Z' LIMIT -1"
    );
    assert_eq!(
        q::sql_product_series(&PriceFilter::any(), to),
        "SELECT series, source, kind FROM ticks WHERE product_id = $1 AND observed_at < '2024-02-01T00:00:00.000000Z' LATEST ON observed_at PARTITION BY series, source, kind"
    );
    let mq = MoversQuery {
        since: from,
        as_of: to,
        game: Some(Game::OnePiece),
        group_id: None,
        prices: PriceFilter {
            sources: vec![],
            kinds: vec![PriceKind::Market],
        },
        limit: 10,
        min_start_cents: 0,
        start_lookback_secs: 7 * 86_400,
    };
    assert_eq!(
        q::sql_movers(&mq),
        "WITH now_px AS (SELECT series, source, kind, product_id, observed_at, price_cents FROM ticks WHERE observed_at <= '2024-02-01T00:00:00.000000Z' AND kind IN ('market') AND game = 'one-piece' LATEST ON observed_at PARTITION BY series, source, kind), \
then_px AS (SELECT series, source, kind, observed_at, price_cents FROM ticks WHERE observed_at > '2023-12-25T00:00:00.000000Z' AND observed_at <= '2024-01-01T00:00:00.000000Z' AND kind IN ('market') AND game = 'one-piece' LATEST ON observed_at PARTITION BY series, source, kind) \
SELECT n.series, n.product_id, n.source, n.kind, t.observed_at start_at, t.price_cents start_cents, n.observed_at end_at, n.price_cents end_cents \
FROM now_px n JOIN then_px t ON n.series = t.series AND n.source = t.source AND n.kind = t.kind"
    );
    let days: Vec<Timestamp> = (1..=3)
        .map(|d| Timestamp::from_micros(from.as_micros() + d * 86_400_000_000 - 1))
        .collect();
    assert_eq!(
        q::sql_valuation_asof(&days, &ValuationPrice::default().prices),
        "SELECT g.ts, p.observed_at, p.price_cents FROM ((SELECT CAST(1704153599999999 + (x - 1) * 86400000000 AS TIMESTAMP) ts FROM long_sequence(3)) timestamp(ts)) g \
ASOF JOIN (SELECT observed_at, price_cents FROM ticks WHERE series = $1 AND kind IN ('market')) p"
    );
    let months = [from, to, Timestamp::parse("2024-03-01T00:00:00Z").unwrap()];
    assert!(q::sql_valuation_asof(&months, &PriceFilter::any()).contains(
        "(SELECT CAST(1704067200000000 AS TIMESTAMP) ts FROM long_sequence(1) UNION ALL SELECT CAST(1706745600000000 AS TIMESTAMP) ts FROM long_sequence(1) UNION ALL"
    ));
    let (sql, params) = q::sql_search(&CatalogQuery {
        name: Some("lugia_v".into()),
        number: Some("139".into()),
        group_id: Some(tcg_schemas::GroupId(3170)),
        game: Some(Game::Pokemon),
        limit: 20,
        cursor: Some("42:Lugia V".into()),
    })
    .unwrap();
    assert_eq!(
        sql,
        "SELECT product_id, category_id, group_id, game, name, clean_name, number, rarity, image_url, url \
FROM (SELECT * FROM products LATEST ON updated_at PARTITION BY product_id) WHERE name IS NOT NULL \
AND name ILIKE $1 AND (lower(number) = lower($2) OR number ILIKE $3) AND group_id = $4 AND game = 'pokemon' \
AND (lower(name) > lower($5) OR (lower(name) = lower($6) AND product_id > $7)) ORDER BY lower(name), product_id LIMIT 21"
    );
    assert_eq!(
        params,
        vec![
            q::Param::Text("%lugia\\_v%".into()),
            q::Param::Text("139".into()),
            q::Param::Text("139/%".into()),
            q::Param::Long(3170),
            q::Param::Text("Lugia V".into()),
            q::Param::Text("Lugia V".into()),
            q::Param::Long(42),
        ]
    );
    assert_eq!(
        q::sql_newest("alert_rules", "rule_id", "body", " AND owner = $1"),
        "SELECT body FROM (SELECT * FROM alert_rules LATEST ON updated_at PARTITION BY rule_id) WHERE deleted = false AND owner = $1"
    );
    assert!(q::sql_wal_state().starts_with(
        "SELECT name, suspended, writerTxn, sequencerTxn, errorMessage FROM wal_tables() WHERE name IN ('ticks', 'alerts', "
    ));
    assert!(q::sql_wal_state().ends_with(", 'alert_rules')"));
}

// ---- a tiny HTTP endpoint standing in for QuestDB's /write ----

const ANSWER_500: u8 = 0;
const ANSWER_204: u8 = 1;
const HANG: u8 = 2;

struct FakeQuestDb {
    addr: String,
    mode: Arc<AtomicU8>,
    requests: Arc<AtomicUsize>,
    bodies: Arc<Mutex<Vec<String>>>,
}

async fn fake_questdb(mode: u8) -> FakeQuestDb {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    let mode = Arc::new(AtomicU8::new(mode));
    let requests = Arc::new(AtomicUsize::new(0));
    let bodies = Arc::new(Mutex::new(Vec::new()));
    let (m, r, b) = (mode.clone(), requests.clone(), bodies.clone());
    tokio::spawn(async move {
        loop {
            let Ok((mut sock, _)) = listener.accept().await else {
                return;
            };
            let (m, r, b) = (m.clone(), r.clone(), b.clone());
            tokio::spawn(async move {
                let mut data = Vec::new();
                let mut chunk = [0u8; 8192];
                loop {
                    // One request: headers, then Content-Length bytes of body.
                    let (head_end, len) = loop {
                        if let Some(pos) = data.windows(4).position(|w| w == b"\r\n\r\n") {
                            let head = String::from_utf8_lossy(&data[..pos]).to_ascii_lowercase();
                            let len = head
                                .lines()
                                .find_map(|l| {
                                    l.strip_prefix("content-length:")
                                        .map(|v| v.trim().parse::<usize>().unwrap_or(0))
                                })
                                .unwrap_or(0);
                            break (pos + 4, len);
                        }
                        match sock.read(&mut chunk).await {
                            Ok(0) | Err(_) => return,
                            Ok(n) => data.extend_from_slice(&chunk[..n]),
                        }
                    };
                    while data.len() < head_end + len {
                        match sock.read(&mut chunk).await {
                            Ok(0) | Err(_) => return,
                            Ok(n) => data.extend_from_slice(&chunk[..n]),
                        }
                    }
                    let body =
                        String::from_utf8_lossy(&data[head_end..head_end + len]).into_owned();
                    data.drain(..head_end + len);
                    r.fetch_add(1, Ordering::SeqCst);
                    match m.load(Ordering::SeqCst) {
                        ANSWER_204 => {
                            b.lock().unwrap().push(body);
                            let _ = sock.write_all(b"HTTP/1.1 204 No Content\r\n\r\n").await;
                        }
                        ANSWER_500 => {
                            let msg = r#"{"code":"internal error","message":"disk full","line":1,"errorId":"x-1"}"#;
                            let resp = format!(
                                "HTTP/1.1 500 Internal Server Error\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{msg}",
                                msg.len()
                            );
                            let _ = sock.write_all(resp.as_bytes()).await;
                        }
                        _ => {
                            tokio::time::sleep(Duration::from_secs(30)).await;
                            return;
                        }
                    }
                }
            });
        }
    });
    FakeQuestDb {
        addr,
        mode,
        requests,
        bodies,
    }
}

fn config(addr: &str) -> QuestDbConfig {
    let mut c = QuestDbConfig::from_urls(&format!("http://{addr}"), "postgres://unused").unwrap();
    c.retry_timeout = Duration::from_millis(300);
    c.request_timeout = Duration::from_millis(400);
    c.max_rows = 1000;
    c.max_age = Duration::from_secs(3600);
    c
}

async fn append_ticks(w: &IlpWriter, ticks: Vec<Tick>, flush_now: bool) -> Result<(), StoreError> {
    let n = ticks.len();
    w.append(n, flush_now, move |buf| {
        ticks.iter().try_for_each(|t| q::encode_tick(buf, t))
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_error_is_reported_rows_are_kept_and_sent_on_retry() {
    let server = fake_questdb(ANSWER_500).await;
    let w = IlpWriter::new(&config(&server.addr)).unwrap();
    append_ticks(&w, vec![tick(0, 100, None), tick(1, 101, None)], false)
        .await
        .unwrap();
    assert_eq!(w.pending_rows(), 2);
    let pending = w.pending_bytes();
    let t = Instant::now();
    let err = w.flush().await.unwrap_err();
    let took = t.elapsed();
    assert!(
        matches!(
            err,
            StoreError::FlushFailed {
                pending_rows: 2,
                ..
            }
        ),
        "{err}"
    );
    assert!(err.to_string().contains("disk full"), "{err}");
    assert!(
        took < Duration::from_secs(5),
        "flush gave up after {took:?}"
    );
    // 500 is retried until retry_timeout: more than one request went out.
    assert!(server.requests.load(Ordering::SeqCst) >= 2, "no retry");
    assert_eq!(w.pending_rows(), 2);
    assert_eq!(w.pending_bytes(), pending, "rows are kept byte for byte");
    // More rows can still be added; then the server recovers and everything goes out once.
    append_ticks(&w, vec![tick(2, 102, None)], false)
        .await
        .unwrap();
    server.mode.store(ANSWER_204, Ordering::SeqCst);
    w.flush().await.unwrap();
    assert_eq!(w.pending_rows(), 0);
    let bodies = server.bodies.lock().unwrap().clone();
    assert_eq!(bodies.len(), 1);
    assert_eq!(bodies[0].lines().count(), 3);
    assert!(bodies[0].starts_with("ticks,series=451784/reverse-holofoil/nm/en,source=tcgplayer"));
    // Nothing left: a further flush sends nothing.
    w.flush().await.unwrap();
    assert_eq!(server.bodies.lock().unwrap().len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hanging_server_times_out_and_rows_are_kept() {
    let server = fake_questdb(HANG).await;
    let w = IlpWriter::new(&config(&server.addr)).unwrap();
    let t = Instant::now();
    let err = append_ticks(&w, vec![tick(0, 100, None)], true)
        .await
        .unwrap_err();
    let took = t.elapsed();
    assert!(
        matches!(
            err,
            StoreError::FlushFailed {
                pending_rows: 1,
                ..
            }
        ),
        "{err}"
    );
    assert!(
        took >= Duration::from_millis(350) && took < Duration::from_secs(6),
        "took {took:?}"
    );
    assert_eq!(w.pending_rows(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unreachable_server_fails_within_retry_timeout() {
    // Bind then drop: nothing listens on this port.
    let addr = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .to_string();
    let w = IlpWriter::new(&config(&addr)).unwrap();
    let t = Instant::now();
    let err = append_ticks(&w, vec![tick(0, 100, None)], true)
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            StoreError::FlushFailed {
                pending_rows: 1,
                ..
            }
        ),
        "{err}"
    );
    assert!(t.elapsed() < Duration::from_secs(5));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn batches_flush_by_rows_bytes_and_age() {
    let server = fake_questdb(ANSWER_204).await;
    let mut c = config(&server.addr);
    c.max_rows = 3;
    let w = IlpWriter::new(&c).unwrap();
    append_ticks(&w, vec![tick(0, 1, None), tick(1, 2, None)], false)
        .await
        .unwrap();
    assert_eq!(
        (w.pending_rows(), server.requests.load(Ordering::SeqCst)),
        (2, 0)
    );
    append_ticks(&w, vec![tick(2, 3, None)], false)
        .await
        .unwrap();
    assert_eq!(
        (w.pending_rows(), server.requests.load(Ordering::SeqCst)),
        (0, 1)
    );

    let mut c = config(&server.addr);
    c.max_bytes = 1024;
    let w = IlpWriter::new(&c).unwrap();
    let many: Vec<Tick> = (0..20).map(|i| tick(i, 100 + i, None)).collect();
    append_ticks(&w, many, false).await.unwrap();
    assert_eq!(w.pending_rows(), 0, "the byte limit flushed");

    let mut c = config(&server.addr);
    c.max_age = Duration::from_millis(100);
    let w = IlpWriter::new(&c).unwrap();
    let _flusher = w.spawn_age_flusher();
    append_ticks(&w, vec![tick(0, 1, None)], false)
        .await
        .unwrap();
    assert_eq!(w.pending_rows(), 1);
    let t = Instant::now();
    while w.pending_rows() > 0 && t.elapsed() < Duration::from_secs(3) {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(w.pending_rows(), 0, "the age flusher sent the row");
    assert!(w.last_background_error().is_none());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn background_flush_failure_is_kept_for_the_caller() {
    let server = fake_questdb(ANSWER_500).await;
    let mut c = config(&server.addr);
    c.max_age = Duration::from_millis(50);
    c.retry_timeout = Duration::from_millis(0);
    let w = IlpWriter::new(&c).unwrap();
    let _flusher = w.spawn_age_flusher();
    append_ticks(&w, vec![tick(0, 1, None)], false)
        .await
        .unwrap();
    let t = Instant::now();
    while w.last_background_error().is_none() && t.elapsed() < Duration::from_secs(3) {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(
        w.last_background_error()
            .is_some_and(|e| e.contains("kept for retry"))
    );
    assert_eq!(w.pending_rows(), 1);
    // The next explicit flush reports the failure to its caller.
    assert!(w.flush().await.is_err());
}

#[test]
fn refusals_are_read_from_both_shapes_of_the_answer() {
    // QuestDB 9.3 answers `application/json; charset=utf-8`; questdb-rs 7.2 then passes the raw body.
    let raw = r#"Could not flush buffer: {"code":"invalid","message":"failed to parse line protocol:errors encountered on line(s):\nerror in line 1: table: ticks, column: price_cents; cast error from protocol type: STRING to column type: LONG","line":1,"errorId":"185222dcf350-1"}"#;
    assert_eq!(
        q::parse_refusal(raw),
        Some(q::Refusal {
            table: Some("ticks".into()),
            column: Some("price_cents".into()),
            reason: "cast error from protocol type: STRING to column type: LONG".into(),
        })
    );
    // With `application/json` exactly, questdb-rs formats the message and its details.
    let formatted = "Could not flush buffer: failed to parse line protocol:errors encountered on line(s):\nerror in line 3: table: drift, column: listing_id; cast error from protocol type: STRING to column type: LONG [id: x-5, code: invalid, line: 3]";
    let r = q::parse_refusal(formatted).unwrap();
    assert_eq!(
        (r.table.as_deref(), r.column.as_deref()),
        (Some("drift"), Some("listing_id"))
    );
    // Without a table in it, the whole message is the reason.
    let bare = "Could not flush buffer: failed to parse line protocol: invalid field format [id: A-2, code: invalid, line: 2]";
    assert_eq!(
        q::parse_refusal(bare).unwrap().reason,
        "failed to parse line protocol: invalid field format"
    );
    // A 5xx or a network error is no refusal: those are retried as they are.
    assert_eq!(
        q::parse_refusal(
            "Could not flush buffer: disk full [id: x-1, code: internal error, line: 1]"
        ),
        None
    );
    assert_eq!(
        q::parse_refusal(
            "Could not flush buffer: http://127.0.0.1:1/write: io: Connection refused"
        ),
        None
    );
}
