//! The OpenAPI 3.1 document, generated from the code.
//!
//! Paths, parameters and responses come from the `#[utoipa::path]` annotations of the handlers.
//! Body schemas come from `schemars` (JSON Schema 2020-12, the dialect of OpenAPI 3.1), the same
//! derive the shared `tcg-schemas` types already carry, so `Money`, `Product`, `AlertRule`, … are
//! described once, by their own crate. utoipa refers to them by name (see [`api_schema!`]).

use std::{marker::PhantomData, sync::OnceLock};

use schemars::{JsonSchema, SchemaGenerator, generate::SchemaSettings};
use serde_json::{Map, Value, json};
use utoipa::OpenApi;

/// utoipa's view of a type that schemars describes: a reference to
/// `#/components/schemas/<Name>`. The one bridge between the two: local body types get it through
/// [`api_schema!`], the shared types of other crates through the aliases of [`doc`].
#[derive(Debug)]
pub struct Shared<T>(PhantomData<T>);

impl<T: JsonSchema> utoipa::PartialSchema for Shared<T> {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        utoipa::openapi::schema::Ref::from_schema_name(T::schema_name()).into()
    }
}

impl<T: JsonSchema> utoipa::ToSchema for Shared<T> {
    fn name() -> std::borrow::Cow<'static, str> {
        T::schema_name()
    }
}

/// Lets utoipa refer to a local schemars-described type by name (as [`Shared`]).
macro_rules! api_schema {
    ($($t:ty),* $(,)?) => {$(
        impl utoipa::PartialSchema for $t {
            fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
                <$crate::openapi::Shared<$t> as utoipa::PartialSchema>::schema()
            }
        }
        impl utoipa::ToSchema for $t {
            fn name() -> std::borrow::Cow<'static, str> {
                <$crate::openapi::Shared<$t> as utoipa::ToSchema>::name()
            }
        }
    )*};
}
pub(crate) use api_schema;

/// Types of other crates, as utoipa sees them: `body = doc::Portfolio`,
/// `#[param(value_type = Option<doc::Source>)]`.
pub mod doc {
    use super::Shared;

    pub type AlertRule = Shared<tcg_schemas::AlertRule>;
    pub type CsvFormat = Shared<crate::csv_import::CsvFormat>;
    pub type Grade = Shared<tcg_schemas::Grade>;
    pub type Holding = Shared<tcg_schemas::Holding>;
    pub type Condition = Shared<tcg_schemas::Condition>;
    pub type GroupId = Shared<tcg_schemas::GroupId>;
    pub type Grader = Shared<tcg_schemas::Grader>;
    pub type Language = Shared<tcg_schemas::Language>;
    pub type Portfolio = Shared<tcg_schemas::Portfolio>;
    pub type PortfolioEvent = Shared<tcg_schemas::PortfolioEvent>;
    pub type PriceKind = Shared<tcg_schemas::PriceKind>;
    pub type Printing = Shared<tcg_schemas::Printing>;
    pub type ProductId = Shared<tcg_schemas::ProductId>;
    pub type RuleId = Shared<tcg_schemas::RuleId>;
    pub type Source = Shared<tcg_schemas::Source>;
    pub type Timestamp = Shared<tcg_schemas::Timestamp>;
    pub type UserId = Shared<tcg_schemas::UserId>;
}

use crate::{
    problem::Problem,
    routes::{self, admin, cards, ops, params, portfolios, rules, sources, streams, webhooks},
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
    params::schemas(&mut g);
    cards::schemas(&mut g);
    sources::schemas(&mut g);
    portfolios::schemas(&mut g);
    rules::schemas(&mut g);
    webhooks::schemas(&mut g);
    streams::schemas(&mut g);
    admin::schemas(&mut g);
    let mut schemas = g.take_definitions(true);
    crate::wire::refine_components(&mut schemas, &crate::state::ApiConfig::default().core);
    schemas
}

/// Error responses every `/v1` operation can give, added to each operation.
fn common_problems() -> Vec<(&'static str, &'static str)> {
    vec![
        ("401", "Missing, malformed, unknown or revoked API key"),
        ("429", "Over the key's rate limit; see Retry-After"),
        (
            "503",
            "The store did not answer within the deadline, or every slot for store reads stayed taken; see Retry-After",
        ),
        ("default", "Any other error, as problem details"),
    ]
}

fn problem_response(description: &str) -> Value {
    json!({
        "description": description,
        "content": {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}
    })
}

/// Patterns that are built from the vocabularies (utoipa's attributes take literals only): the
/// `series` and `game` query parameters.
fn constrain_parameters(doc: &mut Value) {
    let Some(paths) = doc["paths"].as_object_mut() else {
        return;
    };
    for (path, item) in paths.iter_mut() {
        let Some(ops) = item.as_object_mut() else {
            continue;
        };
        for op in ops.values_mut() {
            let Some(params) = op.get_mut("parameters").and_then(Value::as_array_mut) else {
                continue;
            };
            for p in params {
                let pattern = match p["name"].as_str() {
                    Some("series") if path.ends_with("/history") => params::series_id_pattern(),
                    Some("series") => params::series_list_pattern(),
                    Some("game") => params::game_pattern(),
                    _ => continue,
                };
                if p["schema"]["type"] == "string" {
                    p["schema"]["pattern"] = Value::String(pattern);
                }
            }
        }
    }
}

/// Every optional query parameter reads an empty value as absent (`crate::query`):
/// `allowEmptyValue` says so. A required one must have a value.
fn allow_empty_values(doc: &mut Value) {
    let Some(paths) = doc["paths"].as_object_mut() else {
        return;
    };
    for op in paths
        .values_mut()
        .filter_map(Value::as_object_mut)
        .flat_map(|ops| ops.values_mut())
    {
        let Some(params) = op.get_mut("parameters").and_then(Value::as_array_mut) else {
            continue;
        };
        for p in params {
            if p["in"] == "query" && p["required"] != true {
                p["allowEmptyValue"] = Value::Bool(true);
            }
        }
    }
}

/// The range of an unsigned integer format (schemars writes `uint32`, …, with `minimum: 0`
/// only; tools know the bounds of `int32` and `int64`, not of these).
fn unsigned_max(format: &str) -> Option<u64> {
    match format {
        "uint8" => Some(u64::from(u8::MAX)),
        "uint16" => Some(u64::from(u16::MAX)),
        "uint32" => Some(u64::from(u32::MAX)),
        "uint64" => Some(u64::MAX),
        _ => None,
    }
}

/// Adds the maximum of its format to every unsigned integer schema that has none (a group id
/// is at most 4294967295: the server refuses more).
fn bound_integers(v: &mut Value) {
    match v {
        Value::Object(o) => {
            if let Some(max) = o
                .get("format")
                .and_then(Value::as_str)
                .and_then(unsigned_max)
                && !o.contains_key("maximum")
            {
                o.insert("maximum".into(), json!(max));
                o.entry("minimum").or_insert(json!(0));
            }
            o.values_mut().for_each(bound_integers);
        }
        Value::Array(a) => a.iter_mut().for_each(bound_integers),
        _ => {}
    }
}

fn build() -> Value {
    let mut api = ApiDoc::openapi();
    api.merge(routes::openapi_paths());
    let mut doc = serde_json::to_value(api).unwrap_or_else(|_| json!({}));
    doc["openapi"] = json!("3.1.0");
    doc["components"]["schemas"] = Value::Object(component_schemas());
    doc["components"]["securitySchemes"] = json!({
        "bearer": {"type": "http", "scheme": "bearer", "description": "tcg_<prefix>_<secret>"}
    });
    constrain_parameters(&mut doc);
    allow_empty_values(&mut doc);
    bound_integers(&mut doc);
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
