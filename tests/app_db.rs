//! The app's own data in PostgreSQL, end to end on a real server (tcg-engines): an installation
//! made by `tcgtracker up` moves to PostgreSQL with `migrate-app-data` (twice: the second run
//! copies nothing), `serve --database-url postgres://…` then serves the same user the same
//! portfolio, rule and webhook; while PostgreSQL restarts the API answers 503 problem+json (no
//! 500, no hang) and recovers by itself.

#![allow(clippy::unwrap_used, clippy::expect_used)]
#![allow(clippy::too_many_lines)] // a test reads best as one scenario, top to bottom

mod common;

use std::{
    path::Path,
    process::{Command, Stdio},
    time::{Duration, Instant},
};

use common::{BIN, Killed, free_port};
use serde_json::{Value, json};

fn spawn(dir: &Path, log: &str, args: &[&str]) -> Killed {
    let log = std::fs::File::create(dir.join(log)).unwrap();
    Killed(
        Command::new(BIN)
            .args(args)
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .unwrap(),
    )
}

fn terminate(child: &mut Killed) {
    Command::new("kill")
        .args(["-TERM", &child.0.id().to_string()])
        .status()
        .unwrap();
    let status = child.0.wait().unwrap();
    assert!(status.success(), "exit {status}");
}

async fn wait_ready(base: &str, dir: &Path, log: &str) {
    let deadline = Instant::now() + Duration::from_secs(120);
    while Instant::now() < deadline {
        if reqwest::get(format!("{base}/readyz"))
            .await
            .is_ok_and(|r| r.status().is_success())
        {
            return;
        }
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    panic!(
        "{base} not ready; log:\n{}",
        std::fs::read_to_string(dir.join(log)).unwrap_or_default()
    );
}

/// The API as one user.
struct Api {
    base: String,
    key: String,
    http: reqwest::Client,
}

impl Api {
    async fn call(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> (u16, Value) {
        let mut req = self
            .http
            .request(method, format!("{}{path}", self.base))
            .bearer_auth(&self.key);
        if let Some(b) = body {
            req = req.json(&b);
        }
        let r = req.send().await.expect("an answer");
        let status = r.status().as_u16();
        let text = r.text().await.unwrap();
        (
            status,
            serde_json::from_str(&text).unwrap_or(Value::String(text)),
        )
    }

    async fn get(&self, path: &str) -> Value {
        let (status, v) = self.call(reqwest::Method::GET, path, None).await;
        assert_eq!(status, 200, "GET {path}: {v}");
        v
    }

    async fn post(&self, path: &str, body: Value) -> Value {
        let (status, v) = self.call(reqwest::Method::POST, path, Some(body)).await;
        assert!((200..300).contains(&status), "POST {path}: {status} {v}");
        v
    }
}

fn migrate(from: &str, to: &str) -> String {
    let out = Command::new(BIN)
        .args(["migrate-app-data", "--from", from, "--to", to])
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "migrate-app-data failed:\n{text}");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// What a user sees of their own data, for comparing two databases.
async fn own_data(api: &Api) -> Value {
    let portfolios = api.get("/v1/portfolios").await;
    let mut holdings = Vec::new();
    for p in portfolios["items"].as_array().unwrap() {
        let id = p["id"].as_str().unwrap();
        holdings.push(api.get(&format!("/v1/portfolios/{id}/holdings")).await["items"].clone());
    }
    let mut hooks = api.get("/v1/webhooks").await["items"].clone();
    // Delivery health is the dispatcher's running state, not data the copy moves.
    for h in hooks.as_array_mut().into_iter().flatten() {
        if let Some(o) = h.as_object_mut() {
            o.retain(|k, _| matches!(k.as_str(), "id" | "url" | "description" | "enabled"));
        }
    }
    json!({
        "portfolios": portfolios["items"],
        "holdings": holdings,
        "rules": api.get("/v1/alert-rules").await["items"],
        "webhooks": hooks,
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_up_installation_moves_to_postgres_and_survives_a_database_restart() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let data = d.join("data");

    // 1. An installation made by `up`, with a portfolio, a rule and a webhook of its user.
    let port = free_port();
    let base = format!("http://127.0.0.1:{port}");
    let data_dir = data.to_str().unwrap();
    let listen = format!("127.0.0.1:{port}");
    let mut up = spawn(
        d,
        "up.log",
        &[
            "up",
            "--data-dir",
            data_dir,
            "--listen",
            &listen,
            "--plain",
            "--allow-private-webhooks",
            "--history-days",
            "2",
        ],
    );
    wait_ready(&base, d, "up.log").await;
    let key = std::fs::read_to_string(data.join("demo-key.txt"))
        .unwrap()
        .trim()
        .to_owned();
    let api = Api {
        base: base.clone(),
        key,
        http: reqwest::Client::builder()
            .timeout(Duration::from_secs(30))
            .build()
            .unwrap(),
    };
    let card = api.get("/v1/cards?limit=5").await["items"][0]["product_id"]
        .as_u64()
        .expect("a card");
    let portfolio = api
        .post("/v1/portfolios", json!({ "name": "moving house" }))
        .await;
    let pid = portfolio["id"].as_str().unwrap();
    api.post(
        &format!("/v1/portfolios/{pid}/holdings"),
        json!({ "product_id": card, "quantity": 3,
                "cost_per_unit": { "amount": "4.25", "currency": "USD" }, "note": "binder p.3" }),
    )
    .await;
    api.post(
        "/v1/alert-rules",
        json!({ "name": "cheap", "product_id": card,
                "condition": { "type": "price_below", "threshold_usd": { "amount": "1.00", "currency": "USD" } },
                "cooldown_secs": 3600 }),
    )
    .await;
    api.post(
        "/v1/webhooks",
        json!({ "url": "http://127.0.0.1:9/hook", "description": "phone" }),
    )
    .await;
    let before = own_data(&api).await;
    terminate(&mut up);

    // 2. Into PostgreSQL, twice.
    let pg = tokio::task::spawn_blocking(tcg_engines::Postgres::start)
        .await
        .unwrap()
        .expect("postgres");
    let pg_url = pg.url();
    let from = format!("sqlite://{}", data.join("tcgtracker.db").display());
    let first = migrate(&from, &pg_url);
    eprintln!("first run:\n{first}");
    let second = migrate(&from, &pg_url);
    eprintln!("second run:\n{second}");
    assert_ne!(
        first, second,
        "the second run reports what was already there"
    );
    assert!(
        !second
            .lines()
            .any(|l| l.contains("copied") && !l.contains(" 0 copied")),
        "the second run copies nothing:\n{second}"
    );

    // 3. `serve` on PostgreSQL (prices still from the SQLite file): the same user sees the same.
    let port = free_port();
    let listen = format!("127.0.0.1:{port}");
    let sqlite = data.join("tcgtracker.db");
    let mut serve = spawn(
        d,
        "serve.log",
        &[
            "serve",
            "--listen",
            &listen,
            "--sqlite",
            sqlite.to_str().unwrap(),
            "--database-url",
            &pg_url,
        ],
    );
    let api = Api {
        base: format!("http://{listen}"),
        ..api
    };
    wait_ready(&api.base, d, "serve.log").await;
    assert_eq!(
        own_data(&api).await,
        before,
        "the user's data after the move"
    );

    // 4. PostgreSQL restarts: 503 problem+json while it is down, then answers by itself.
    let pg = tokio::task::spawn_blocking(move || {
        let mut pg = pg;
        pg.stop();
        pg
    })
    .await
    .unwrap();
    let t = Instant::now();
    let (status, problem) = api
        .call(reqwest::Method::GET, "/v1/alert-rules", None)
        .await;
    let waited = t.elapsed();
    assert_eq!(status, 503, "database down: {problem}");
    assert_eq!(problem["status"], 503, "problem+json: {problem}");
    assert!(waited < Duration::from_secs(20), "no hang: {waited:?}");
    let ready = reqwest::get(format!("{}/readyz", api.base)).await.unwrap();
    assert_eq!(
        ready.status().as_u16(),
        503,
        "readyz while the database is down"
    );
    let mut pg = tokio::task::spawn_blocking(move || {
        let mut pg = pg;
        pg.restart().expect("postgres restart");
        pg
    })
    .await
    .unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let (status, _) = api
            .call(reqwest::Method::GET, "/v1/alert-rules", None)
            .await;
        if status == 200 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "no recovery after the restart ({status}); log:\n{}",
            std::fs::read_to_string(d.join("serve.log")).unwrap_or_default()
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    eprintln!(
        "503 after {:.2} s while PostgreSQL was down; recovered after its restart",
        waited.as_secs_f64()
    );
    assert_eq!(
        own_data(&api).await,
        before,
        "the same data after the restart"
    );
    terminate(&mut serve);
    pg.stop();
}
