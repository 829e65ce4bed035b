//! Test harness: a seeded SQLite store, keys for three users, and a `call` that checks every
//! answer against the OpenAPI document (status documented, body valid against its schema).

#![allow(clippy::unwrap_used, dead_code)]

pub mod slow;

use std::sync::Arc;
use tcg_store::prelude::*;

use axum::{
    Router,
    body::Body,
    http::{Method, Request, StatusCode, header},
};
use http_body_util::BodyExt;
use serde_json::{Value, json};
use tcg_query_api::{ApiConfig, AppState, app, create_key, openapi};
use tcg_schemas::{
    CardSet, CategoryId, Condition, Currency, Game, Grade, Grader, GroupId, Language, Money,
    PriceKind, Printing, Product, ProductId, SeriesKey, Sku, SkuId, Source, Tick, Timestamp,
};
use tcg_store::SqliteStore;
use tower::ServiceExt;

pub const DAY: i64 = 86_400;
/// 2024-03-01T00:00:00Z
pub const T0: i64 = 1_709_251_200;
/// The app's "now": 30 days after T0, noon.
pub const NOW: i64 = T0 + 30 * DAY + 12 * 3600;

pub struct Ctx {
    pub dir: tempfile::TempDir,
    pub store: SqliteStore,
    pub state: AppState,
    pub app: Router,
    pub alice: String,
    pub bob: String,
    pub admin: String,
}

pub fn sku_series(pid: u64, printing: Printing, condition: Condition) -> SeriesKey {
    SeriesKey::Sku {
        product_id: ProductId(pid),
        printing,
        condition,
        language: Language::English,
    }
}

pub fn tick(series: &SeriesKey, source: Source, kind: PriceKind, at: i64, cents: i64) -> Tick {
    Tick {
        series_id: series.id(),
        series: series.clone(),
        game: Game::Pokemon,
        source,
        kind,
        observed_at: Timestamp::from_secs(at),
        price_usd: Money::usd_cents(cents),
        original: Money::new(cents, Currency::USD),
        shipping: None,
        listing_id: None,
        confidence: None,
        agreeing: Vec::new(),
        heartbeat: false,
    }
}

fn product(id: u64, group: u32, game: Game, name: &str, number: &str) -> Product {
    Product {
        product_id: ProductId(id),
        category_id: game.category_id(),
        group_id: GroupId(group),
        game,
        name: name.into(),
        clean_name: Some(name.into()),
        number: Some(number.into()),
        rarity: Some("Holo Rare".into()),
        image_url: None,
        url: None,
    }
}

#[allow(clippy::too_many_lines)] // one fixture, read top to bottom
pub async fn seed(store: &SqliteStore) {
    store
        .upsert_sets(&[
            CardSet {
                group_id: GroupId(100),
                category_id: CategoryId(3),
                game: Game::Pokemon,
                name: "Base Set".into(),
                abbreviation: Some("BS".into()),
                published_on: Some("1999-01-09".into()),
            },
            CardSet {
                group_id: GroupId(200),
                category_id: CategoryId(1),
                game: Game::Magic,
                name: "Alpha".into(),
                abbreviation: Some("LEA".into()),
                published_on: None,
            },
        ])
        .await
        .unwrap();
    store
        .upsert_products(&[
            product(1001, 100, Game::Pokemon, "Charizard", "4/102"),
            product(1002, 100, Game::Pokemon, "Blastoise", "2/102"),
            product(1003, 100, Game::Pokemon, "Venusaur", "15/102"),
            product(1004, 100, Game::Pokemon, "Charizard Jumbo", "4/102J"),
            product(2001, 200, Game::Magic, "Black Lotus", "232"),
        ])
        .await
        .unwrap();
    store
        .upsert_skus(&[
            Sku {
                sku_id: SkuId(5001),
                product_id: ProductId(1001),
                printing: Printing::Holofoil,
                condition: Condition::NearMint,
                language: Language::English,
            },
            Sku {
                sku_id: SkuId(5002),
                product_id: ProductId(1001),
                printing: Printing::Holofoil,
                condition: Condition::LightlyPlayed,
                language: Language::English,
            },
        ])
        .await
        .unwrap();
    let zard = sku_series(1001, Printing::Holofoil, Condition::NearMint);
    let blast = sku_series(1002, Printing::Holofoil, Condition::NearMint);
    let slab = SeriesKey::Graded {
        product_id: ProductId(1001),
        grader: Grader::Psa,
        grade: Grade::whole(10).unwrap(),
    };
    let mut ticks = Vec::new();
    for d in 0..=30 {
        let at = T0 + d * DAY + 3600;
        ticks.push(tick(
            &zard,
            Source::Tcgplayer,
            PriceKind::Market,
            at,
            10_000 + d * 100,
        ));
        ticks.push(tick(
            &blast,
            Source::Tcgplayer,
            PriceKind::Market,
            at,
            20_000 - d * 200,
        ));
    }
    ticks.push(tick(
        &slab,
        Source::EbaySold,
        PriceKind::Sold,
        T0 + 10 * DAY,
        250_000,
    ));
    ticks.push(tick(
        &slab,
        Source::EbaySold,
        PriceKind::Sold,
        T0 + 20 * DAY,
        260_000,
    ));
    store.write_ticks(&ticks).await.unwrap();
}

pub fn test_config() -> ApiConfig {
    ApiConfig {
        auth_cache_ttl: std::time::Duration::ZERO,
        rate_per_sec: std::num::NonZeroU32::new(10_000).unwrap(),
        rate_burst: std::num::NonZeroU32::new(10_000).unwrap(),
        ..ApiConfig::default()
    }
}

impl Ctx {
    pub async fn new() -> Ctx {
        Self::with(test_config(), |s| s).await
    }

    pub async fn with(config: ApiConfig, f: impl FnOnce(AppState) -> AppState) -> Ctx {
        Self::with_prices(config, |s| Arc::new(s), f).await
    }

    /// A context whose price store is `prices(store)` (e.g. a [`slow::SlowPrices`] over it).
    pub async fn with_prices(
        config: ApiConfig,
        prices: impl FnOnce(SqliteStore) -> Arc<dyn tcg_store::PriceStore>,
        f: impl FnOnce(AppState) -> AppState,
    ) -> Ctx {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(dir.path().join("t.db")).unwrap();
        seed(&store).await;
        let alice = create_key(&store, "alice", false).await.unwrap().key;
        let bob = create_key(&store, "bob", false).await.unwrap().key;
        let admin = create_key(&store, "root", true).await.unwrap().key;
        let state = AppState::new(prices(store.clone()), Arc::new(store.clone()), config)
            .with_clock(|| Timestamp::from_secs(NOW));
        let state = f(state);
        Ctx {
            dir,
            store,
            app: app(state.clone()),
            state,
            alice,
            bob,
            admin,
        }
    }

    /// Calls the app; checks the answer against the spec; returns status, headers and body.
    pub async fn call(
        &self,
        method: Method,
        uri: &str,
        key: Option<&str>,
        body: Option<Value>,
    ) -> Resp {
        let mut b = Request::builder().method(method.clone()).uri(uri);
        if let Some(k) = key {
            b = b.header(header::AUTHORIZATION, format!("Bearer {k}"));
        }
        let req = match body {
            Some(v) => b
                .header(header::CONTENT_TYPE, "application/json")
                .body(Body::from(serde_json::to_vec(&v).unwrap()))
                .unwrap(),
            None => b.body(Body::empty()).unwrap(),
        };
        self.send(req).await
    }

    pub async fn send(&self, req: Request<Body>) -> Resp {
        let method = req.method().clone();
        let path = req.uri().path().to_owned();
        let resp = self.app.clone().oneshot(req).await.unwrap();
        let status = resp.status();
        let headers = resp.headers().clone();
        let bytes = resp.into_body().collect().await.unwrap().to_bytes();
        let r = Resp {
            status,
            content_type: headers
                .get(header::CONTENT_TYPE)
                .map(|v| v.to_str().unwrap().to_owned())
                .unwrap_or_default(),
            headers,
            bytes: bytes.to_vec(),
        };
        check_against_spec(&method, &path, &r);
        r
    }
}

#[derive(Debug)]
pub struct Resp {
    pub status: StatusCode,
    pub content_type: String,
    pub headers: axum::http::HeaderMap,
    pub bytes: Vec<u8>,
}

impl Resp {
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.bytes).unwrap_or(Value::Null)
    }
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.bytes).into_owned()
    }
    pub fn problem_field(&self) -> String {
        self.json()["errors"][0]["field"]
            .as_str()
            .unwrap_or("")
            .to_owned()
    }
}

/// The spec's template for a concrete path (`/v1/cards/1001` → `/v1/cards/{product_id}`).
pub fn template_of(path: &str) -> Option<String> {
    let spec = openapi::spec();
    let parts: Vec<&str> = path.split('/').collect();
    spec["paths"]
        .as_object()
        .unwrap()
        .keys()
        .find_map(|t| {
            let tp: Vec<&str> = t.split('/').collect();
            (tp.len() == parts.len()
                && tp
                    .iter()
                    .zip(&parts)
                    .all(|(a, b)| a == b || (a.starts_with('{') && a.ends_with('}'))))
            .then(|| t.clone())
        })
        .filter(|t| {
            // Prefer literal segments over parameters (none of our paths clash).
            !t.is_empty()
        })
}

/// Every answer must be documented (its status or `default`) and a JSON body must be valid
/// against the documented schema of its media type.
pub fn check_against_spec(method: &Method, path: &str, r: &Resp) {
    let spec = openapi::spec();
    let Some(template) = template_of(path) else {
        // Unknown paths answer 404 problem+json; check the problem shape.
        assert_eq!(r.status, StatusCode::NOT_FOUND, "{path}");
        validate(
            &json!({"$ref": "#/components/schemas/Problem"}),
            &r.json(),
            path,
        );
        return;
    };
    let op = &spec["paths"][&template][method.as_str().to_ascii_lowercase()];
    if op.is_null() {
        assert_eq!(r.status, StatusCode::METHOD_NOT_ALLOWED, "{method} {path}");
        assert!(r.content_type.starts_with("application/problem+json"));
        return;
    }
    let code = r.status.as_u16().to_string();
    let resp = if op["responses"][&code].is_null() {
        &op["responses"]["default"]
    } else {
        &op["responses"][&code]
    };
    assert!(
        !resp.is_null(),
        "{method} {path}: status {code} is not documented"
    );
    let content = &resp["content"];
    if content.is_null() || content.as_object().is_some_and(|c| c.is_empty()) {
        assert!(
            r.bytes.is_empty(),
            "{method} {path}: undocumented body {}",
            r.text()
        );
        return;
    }
    let media = r.content_type.split(';').next().unwrap_or("").trim();
    let doc = &content[media];
    assert!(
        !doc.is_null(),
        "{method} {path} {code}: media type {media:?} not documented ({content})"
    );
    if media.ends_with("json") {
        validate(
            &doc["schema"],
            &r.json(),
            &format!("{method} {path} {code}"),
        );
    }
}

pub fn compile(schema: &Value) -> jsonschema::Validator {
    let mut root = schema.clone();
    if let Some(obj) = root.as_object_mut() {
        obj.insert("components".into(), openapi::spec()["components"].clone());
    }
    jsonschema::validator_for(&root).unwrap()
}

pub fn validate(schema: &Value, instance: &Value, what: &str) {
    let v = compile(schema);
    let errors: Vec<String> = v
        .iter_errors(instance)
        .map(|e| format!("{e} at {}", e.instance_path()))
        .collect();
    assert!(
        errors.is_empty(),
        "{what}: body does not match the spec: {errors:?}\n{instance}"
    );
}

/// A portfolio of alice's with one holding of card 1001; (portfolio, holding) ids.
pub async fn portfolio_with_holding(c: &Ctx) -> (String, String) {
    let p = c
        .call(
            Method::POST,
            "/v1/portfolios",
            Some(&c.alice),
            Some(json!({"name": "p"})),
        )
        .await;
    assert_eq!(p.status, StatusCode::CREATED, "{}", p.text());
    let pid = p.json()["id"].as_str().unwrap().to_owned();
    let h = c
        .call(
            Method::POST,
            &format!("/v1/portfolios/{pid}/holdings"),
            Some(&c.alice),
            Some(json!({"product_id": 1001, "quantity": 3,
                        "cost_per_unit": {"amount": "10", "currency": "USD"}})),
        )
        .await;
    assert_eq!(h.status, StatusCode::CREATED, "{}", h.text());
    (pid, h.json()["id"].as_str().unwrap().to_owned())
}

/// Whether `value` is valid against the component schema `name`.
pub fn admits(name: &str, value: &Value) -> bool {
    compile(&json!({"$ref": format!("#/components/schemas/{name}")})).is_valid(value)
}
