//! The OpenAPI 3.1 document, generated from the code.
//!
//! Paths, parameters and responses come from the `#[utoipa::path]` annotations of the handlers.
//! Body schemas come from `schemars` (JSON Schema 2020-12, the dialect of OpenAPI 3.1), the same
//! derive the shared `tcg-schemas` types already carry, so `Money`, `Product`, `AlertRule`, … are
//! described once, by their own crate. utoipa refers to them by name (see [`api_schema!`]).

use std::sync::OnceLock;

use schemars::{JsonSchema, SchemaGenerator, generate::SchemaSettings};
use serde_json::{Map, Value, json};
use utoipa::OpenApi;

/// Lets utoipa refer to a schemars-described type by name: `#/components/schemas/<Name>`.
macro_rules! api_schema {
    ($($t:ty),* $(,)?) => {$(
        impl utoipa::PartialSchema for $t {
            fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
                utoipa::openapi::schema::Ref::from_schema_name(
                    <$t as schemars::JsonSchema>::schema_name(),
                )
                .into()
            }
        }
        impl utoipa::ToSchema for $t {
            fn name() -> std::borrow::Cow<'static, str> {
                <$t as schemars::JsonSchema>::schema_name()
            }
        }
    )*};
}
pub(crate) use api_schema;

use crate::{
    problem::Problem,
    routes::{admin, cards, ops, portfolios, rules, streams, web, webhooks},
};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "tcgtracker query API",
        description = "Prices, history, movers, portfolios and alert rules of trading cards. \
Every /v1 endpoint needs `Authorization: Bearer <key>` (create one with \
`tcgtracker keys create --user NAME`). Errors are RFC 9457 problem details \
(`application/problem+json`); validation problems list the invalid fields in `errors`.",
        license(name = "Apache-2.0")
    ),
    paths(
        ops::healthz, ops::readyz, ops::metrics, ops::openapi_json, ops::docs, web::index, web::asset,
        cards::search, cards::sets, cards::card, cards::history, cards::latest, cards::movers,
        portfolios::list, portfolios::create, portfolios::get_one, portfolios::rename,
        portfolios::delete,
        portfolios::holdings, portfolios::add_holding, portfolios::get_holding,
        portfolios::update_holding, portfolios::delete_holding, portfolios::record_sale,
        portfolios::events, portfolios::valuation, portfolios::history,
        portfolios::import, portfolios::export,
        rules::list, rules::create, rules::get_one, rules::replace, rules::patch, rules::pause,
        rules::resume, rules::delete, rules::alerts,
        webhooks::list, webhooks::create, webhooks::get_one, webhooks::update, webhooks::delete,
        webhooks::deliveries, webhooks::rotate_secret,
        streams::ticks, streams::alerts,
        admin::users, admin::keys, admin::revoke,
    ),
    tags(
        (name = "cards", description = "Catalog, prices, history and movers"),
        (name = "portfolios", description = "Portfolios, holdings, sales, valuation, CSV"),
        (name = "alerts", description = "Alert rules and fired alerts"),
        (name = "webhooks", description = "Webhook endpoints for alerts"),
        (name = "streams", description = "Server-Sent Events"),
        (name = "admin", description = "Operational endpoints (admin keys)"),
        (name = "ops", description = "Health, readiness, metrics, this document, the web page"),
    )
)]
struct ApiDoc;

/// Adds the schemas of `T` (and everything it refers to) to the generator.
fn add<T: JsonSchema>(g: &mut SchemaGenerator) {
    g.subschema_for::<T>();
}

/// Every body type of the API.
fn component_schemas() -> Map<String, Value> {
    let mut settings = SchemaSettings::draft2020_12();
    settings.definitions_path = "/components/schemas/".into();
    settings.meta_schema = None;
    let mut g = SchemaGenerator::new(settings);
    add::<Problem>(&mut g);
    ops::schemas(&mut g);
    cards::schemas(&mut g);
    portfolios::schemas(&mut g);
    rules::schemas(&mut g);
    webhooks::schemas(&mut g);
    streams::schemas(&mut g);
    admin::schemas(&mut g);
    g.take_definitions(true)
}

/// Error responses every `/v1` operation can give, added to each operation.
fn common_problems() -> Vec<(&'static str, &'static str)> {
    vec![
        ("401", "Missing, malformed, unknown or revoked API key"),
        ("429", "Over the key's rate limit; see Retry-After"),
        ("default", "Any other error, as problem details"),
    ]
}

fn problem_response(description: &str) -> Value {
    json!({
        "description": description,
        "content": {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}
    })
}

fn build() -> Value {
    let mut doc = serde_json::to_value(ApiDoc::openapi()).unwrap_or_else(|_| json!({}));
    doc["openapi"] = json!("3.1.0");
    doc["components"]["schemas"] = Value::Object(component_schemas());
    doc["components"]["securitySchemes"] = json!({
        "bearer": {"type": "http", "scheme": "bearer", "description": "tcg_<prefix>_<secret>"}
    });
    if let Some(paths) = doc["paths"].as_object_mut() {
        for (path, item) in paths.iter_mut() {
            let Some(ops) = item.as_object_mut() else {
                continue;
            };
            for (_, op) in ops.iter_mut() {
                let Some(op) = op.as_object_mut() else {
                    continue;
                };
                let responses = op.entry("responses").or_insert_with(|| json!({}));
                for (code, text) in common_problems() {
                    if code != "default" && !path.starts_with("/v1") {
                        continue;
                    }
                    if responses.get(code).is_none() {
                        responses[code] = problem_response(text);
                    }
                }
                // Problem bodies are application/problem+json, whatever utoipa guessed.
                if let Some(rs) = responses.as_object_mut() {
                    for (code, r) in rs.iter_mut() {
                        if code.starts_with('2') || code.starts_with('3') {
                            continue;
                        }
                        if let Some(content) = r.get_mut("content").and_then(Value::as_object_mut)
                            && let Some(v) = content.remove("application/json")
                        {
                            content.insert("application/problem+json".into(), v);
                        }
                    }
                }
                if path.starts_with("/v1") {
                    op.insert("security".into(), json!([{"bearer": []}]));
                }
            }
        }
    }
    doc
}

/// The document served at `/openapi.json` (built once).
pub fn spec() -> &'static Value {
    static SPEC: OnceLock<Value> = OnceLock::new();
    SPEC.get_or_init(build)
}

/// A self-contained docs page (no external scripts, works offline): it reads `/openapi.json`
/// and lists every operation with its parameters, bodies and responses.
pub const DOCS_HTML: &str = include_str!("docs.html");
