//! Checks of the production stack's files that run without Docker or Kubernetes:
//! - docker-compose.yml: valid against the Compose Specification's JSON Schema; every variable a
//!   service uses is in .env.example, no secret has a default
//!   (secrets are `${VAR:?…}` or passed through by name), health-check conditions point at
//!   services that have health checks, the processor can be scaled;
//! - grafana/: every dashboard is valid JSON whose SQL names only tables and columns of
//!   schemas/sql/questdb/ddl.sql and whose PromQL names only metrics the Rust code emits;
//! - deploy/: the Kubernetes manifests parse and have probes, PDBs and an HPA, secrets are
//!   referenced and never embedded; Prometheus config and alerting rules pass `promtool`
//!   (`check config`, `check rules`, `test rules`) and name only emitted metrics;
//! - a scan of every file git knows for secret-looking strings.

#![allow(clippy::unwrap_used, clippy::expect_used)]
#![allow(clippy::too_many_lines)] // a test reads best as one scenario, top to bottom

use std::{
    collections::{BTreeMap, BTreeSet},
    path::{Path, PathBuf},
    process::Command,
};

use regex::Regex;
use serde_json::Value as Json;
use serde_yaml_ng::Value as Yaml;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn read(rel: &str) -> String {
    std::fs::read_to_string(root().join(rel)).unwrap_or_else(|e| panic!("reading {rel}: {e}"))
}

fn yaml(rel: &str) -> Yaml {
    serde_yaml_ng::from_str(&read(rel)).unwrap_or_else(|e| panic!("{rel} is not valid YAML: {e}"))
}

fn report(what: &str, problems: &[String]) {
    assert!(
        problems.is_empty(),
        "{what}: {} problem(s):\n  {}",
        problems.len(),
        problems.join("\n  ")
    );
}

// ---------------------------------------------------------------------------------------------
// docker-compose.yml and .env.example

/// A variable name that holds a secret.
fn is_secret_name(name: &str) -> bool {
    let n = name.to_ascii_uppercase();
    [
        "PASSWORD",
        "PASSWD",
        "SECRET",
        "TOKEN",
        "API_KEY",
        "PRIVATE_KEY",
        "CREDENTIAL",
    ]
    .iter()
    .any(|w| n.contains(w))
}

/// Variables `.env.example` documents (set or commented out: `VAR=` or `# VAR=`).
fn documented_vars(env_example: &str) -> BTreeSet<String> {
    let re = Regex::new(r"^#?\s*([A-Z][A-Z0-9_]*)=").unwrap();
    env_example
        .lines()
        .filter_map(|l| re.captures(l).map(|c| c[1].to_owned()))
        .collect()
}

fn walk_strings<'a>(v: &'a Yaml, out: &mut Vec<&'a str>) {
    match v {
        Yaml::String(s) => out.push(s),
        Yaml::Sequence(items) => items.iter().for_each(|i| walk_strings(i, out)),
        Yaml::Mapping(m) => m.iter().for_each(|(k, v)| {
            walk_strings(k, out);
            walk_strings(v, out);
        }),
        Yaml::Tagged(t) => walk_strings(&t.value, out),
        _ => {}
    }
}

fn get<'a>(v: &'a Yaml, key: &str) -> Option<&'a Yaml> {
    v.as_mapping().and_then(|m| m.get(key))
}

/// Every problem of a compose file against the documented variables.
fn compose_problems(compose_text: &str, documented: &BTreeSet<String>) -> Vec<String> {
    let mut problems = Vec::new();
    let doc: Yaml = match serde_yaml_ng::from_str(compose_text) {
        Ok(d) => d,
        Err(e) => return vec![format!("not valid YAML: {e}")],
    };
    let Some(services) = get(&doc, "services").and_then(Yaml::as_mapping) else {
        return vec!["no services".into()];
    };
    let interp = Regex::new(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?+])([^}]*))?\}").unwrap();
    let bare = Regex::new(r"\$([A-Za-z_][A-Za-z0-9_]*)").unwrap();
    let mut strings = Vec::new();
    walk_strings(&doc, &mut strings);
    for s in &strings {
        let unescaped = s.replace("$$", "");
        for c in interp.captures_iter(&unescaped) {
            let name = &c[1];
            let op = c.get(2).map(|m| m.as_str());
            if !documented.contains(name) {
                problems.push(format!("${{{name}}} is not in .env.example"));
            }
            if is_secret_name(name) && op != Some(":?") {
                problems.push(format!(
                    "secret ${{{name}}} must be required (`${{{name}:?message}}`), not {}",
                    op.map_or("optional".to_owned(), |o| format!("`{o}`"))
                ));
            }
        }
        let without_braced = interp.replace_all(&unescaped, "");
        for c in bare.captures_iter(&without_braced) {
            problems.push(format!(
                "${} is unbraced: write ${{{}}} (with `:?` for secrets)",
                &c[1], &c[1]
            ));
        }
    }
    for (name, svc) in services {
        let name = name.as_str().unwrap_or_default();
        if let Some(env) = get(svc, "environment") {
            let pairs: Vec<(String, Option<String>)> = match env {
                Yaml::Mapping(m) => m
                    .iter()
                    .map(|(k, v)| {
                        let value = match v {
                            Yaml::Null => None,
                            Yaml::String(s) => Some(s.clone()),
                            other => Some(serde_yaml_ng::to_string(other).unwrap_or_default()),
                        };
                        (k.as_str().unwrap_or_default().to_owned(), value)
                    })
                    .collect(),
                Yaml::Sequence(items) => items
                    .iter()
                    .filter_map(Yaml::as_str)
                    .map(|s| match s.split_once('=') {
                        Some((k, v)) => (k.to_owned(), Some(v.to_owned())),
                        None => (s.to_owned(), None),
                    })
                    .collect(),
                _ => Vec::new(),
            };
            for (key, value) in pairs {
                match value {
                    // Passed through from .env / the environment by name.
                    None if !documented.contains(&key) => problems.push(format!(
                        "{name}: {key} is passed through but not in .env.example"
                    )),
                    Some(v) if is_secret_name(&key) && !v.contains("${") => problems.push(format!(
                        "{name}: {key} has a literal value; secrets come from .env"
                    )),
                    _ => {}
                }
            }
        }
        if let Some(deps) = get(svc, "depends_on").and_then(Yaml::as_mapping) {
            for (dep, cond) in deps {
                let dep = dep.as_str().unwrap_or_default();
                let Some(target) = services.get(dep) else {
                    problems.push(format!("{name} depends on unknown service {dep}"));
                    continue;
                };
                match get(cond, "condition").and_then(Yaml::as_str) {
                    Some("service_healthy") => {
                        let hc = get(target, "healthcheck");
                        let has_test = hc.and_then(|h| get(h, "test")).is_some();
                        let built_here = get(target, "build").is_some();
                        let disabled = hc
                            .and_then(|h| get(h, "disable"))
                            .and_then(Yaml::as_bool)
                            .unwrap_or(false);
                        if disabled || !(has_test || built_here) {
                            problems.push(format!(
                                "{name} waits for {dep} to be healthy, which has no health check"
                            ));
                        }
                    }
                    Some("service_completed_successfully") => {
                        if get(target, "restart").and_then(Yaml::as_str) != Some("no") {
                            problems.push(format!(
                                "{name} waits for {dep} to complete, but {dep} restarts"
                            ));
                        }
                    }
                    Some("service_started") => {}
                    other => problems.push(format!("{name} → {dep}: condition {other:?}")),
                }
            }
        }
    }
    problems
}

/// docker-compose.yml against the Compose Specification's JSON Schema
/// (deploy/compose-spec.schema.json: the compose-spec schema as shipped in docker-compose 1.29.2,
/// Apache-2.0). That schema predates the top-level `name` key (compose-spec, 2022), which is
/// checked here by hand. YAML merge keys (`<<: *anchor`) are applied first, as compose does.
#[test]
fn compose_file_matches_the_compose_specification() {
    let schema: Json = serde_json::from_str(&read("deploy/compose-spec.schema.json")).unwrap();
    let validator = jsonschema::validator_for(&schema).unwrap();
    let mut doc = yaml("docker-compose.yml");
    doc.apply_merge().unwrap();
    let mut json: Json = serde_json::to_value(&doc).unwrap();
    let name = json.as_object_mut().and_then(|o| o.remove("name"));
    let name_ok = Regex::new("^[a-z0-9][a-z0-9_-]*$").unwrap();
    assert!(
        name.as_ref()
            .and_then(Json::as_str)
            .is_some_and(|n| name_ok.is_match(n)),
        "the project name: {name:?}"
    );
    let errors: Vec<String> = validator
        .iter_errors(&json)
        .map(|e| format!("{}: {e}", e.instance_path()))
        .collect();
    report(
        "docker-compose.yml against the Compose Specification",
        &errors,
    );

    // The check is not vacuous: a misspelled key and a wrong type are caught.
    let mut bad = json.clone();
    bad["services"]["api"]["healthchek"] = serde_json::json!({"test": ["CMD", "true"]});
    assert!(!validator.is_valid(&bad), "a misspelled service key passes");
    let mut bad = json.clone();
    bad["services"]["processor"]["depends_on"] = serde_json::json!(7);
    assert!(!validator.is_valid(&bad), "a wrong type passes");
}

/// The app's own data is in the compose stack's PostgreSQL: every tcgtracker service that reads
/// or writes it names the database, none mounts a shared data volume, and the password comes
/// from `.env` only.
#[test]
fn compose_keeps_the_app_data_in_postgres_and_no_service_shares_a_volume() {
    let mut doc = yaml("docker-compose.yml");
    doc.apply_merge().unwrap();
    let services = get(&doc, "services").unwrap();
    let postgres = get(services, "postgres").expect("a postgres service");
    let pg_env = get(postgres, "environment").unwrap();
    assert!(
        get(pg_env, "POSTGRES_PASSWORD")
            .and_then(Yaml::as_str)
            .is_some_and(|v| v.starts_with("${POSTGRES_PASSWORD:?")),
        "the PostgreSQL password only from .env"
    );
    for name in [
        "collector",
        "collector-live",
        "processor",
        "dispatcher",
        "api",
    ] {
        let svc = get(services, name).unwrap_or_else(|| panic!("no service {name}"));
        let url = get(svc, "environment")
            .and_then(|e| get(e, "TCG_DATABASE_URL"))
            .and_then(Yaml::as_str)
            .unwrap_or_else(|| panic!("{name}: no TCG_DATABASE_URL"));
        assert!(
            url.starts_with("postgres://") && url.contains("@postgres:5432/"),
            "{name}: {url}"
        );
        assert!(get(svc, "volumes").is_none(), "{name} mounts a volume");
    }
}

#[test]
fn compose_uses_only_documented_variables_and_secrets_have_no_default() {
    let documented = documented_vars(&read(".env.example"));
    let text = read("docker-compose.yml");
    report("docker-compose.yml", &compose_problems(&text, &documented));

    let doc: Yaml = serde_yaml_ng::from_str(&text).unwrap();
    let services = get(&doc, "services").and_then(Yaml::as_mapping).unwrap();
    for s in [
        "kafka",
        "questdb",
        "prometheus",
        "grafana",
        "init",
        "collector",
        "processor",
        "dispatcher",
        "api",
    ] {
        assert!(services.contains_key(s), "service {s} is missing");
    }
    let kafka = &services["kafka"];
    assert!(
        get(kafka, "image")
            .and_then(Yaml::as_str)
            .unwrap()
            .starts_with("apache/kafka:"),
        "Kafka is the official apache/kafka image"
    );
    // `--scale processor=3` needs no fixed name and no host port.
    let processor = &services["processor"];
    assert!(get(processor, "container_name").is_none());
    assert!(get(processor, "ports").is_none());
    // Every named volume a service mounts is declared.
    let declared: BTreeSet<String> = get(&doc, "volumes")
        .and_then(Yaml::as_mapping)
        .map(|m| {
            m.keys()
                .filter_map(|k| k.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default();
    for (name, svc) in services {
        for v in get(svc, "volumes")
            .and_then(Yaml::as_sequence)
            .into_iter()
            .flatten()
        {
            let src = v.as_str().unwrap_or_default().split(':').next().unwrap();
            if src.starts_with('.') || src.starts_with('/') {
                assert!(
                    root().join(src).exists(),
                    "{name:?} mounts {src}, which does not exist"
                );
            } else {
                assert!(
                    declared.contains(src),
                    "{name:?}: volume {src} is not declared"
                );
            }
        }
    }
    // .env holds the secrets and is never committed.
    assert!(
        read(".gitignore").lines().any(|l| l.trim() == ".env"),
        ".env must be git-ignored"
    );
    // The Dockerfile the services build exists, runs as non-root and has a HEALTHCHECK.
    let dockerfile = read("deploy/Dockerfile");
    assert!(dockerfile.contains("HEALTHCHECK"));
    assert!(dockerfile.contains("USER 10001"));
    assert!(dockerfile.matches("\nFROM ").count() >= 3, "multi-stage");
}

#[test]
fn the_compose_check_catches_undocumented_variables_and_secret_defaults() {
    let documented: BTreeSet<String> = ["A_PASSWORD", "PORT"].map(String::from).into();
    let bad = "services:\n  x:\n    image: i\n    environment:\n      P: ${A_PASSWORD:-hunter2}\n      Q: ${MISSING:-1}\n      R: ${PORT}\n      DB_PASSWORD: literal\n      UNDOC:\n";
    let problems = compose_problems(bad, &documented);
    assert_eq!(problems.len(), 4, "{problems:#?}");
    let good = "services:\n  x:\n    image: i\n    environment:\n      P: ${A_PASSWORD:?set it}\n      R: ${PORT:-80}\n";
    assert!(compose_problems(good, &documented).is_empty());
}

// ---------------------------------------------------------------------------------------------
// The QuestDB schema and the metrics the code emits

/// Tables and their columns, from schemas/sql/questdb/ddl.sql.
fn questdb_schema() -> BTreeMap<String, BTreeSet<String>> {
    let ddl = read("schemas/sql/questdb/ddl.sql");
    let table = Regex::new(r"(?s)CREATE TABLE IF NOT EXISTS (\w+) \((.*?)\)\s*TIMESTAMP").unwrap();
    let mut schema = BTreeMap::new();
    for c in table.captures_iter(&ddl) {
        let cols: BTreeSet<String> = c[2]
            .lines()
            .filter_map(|l| l.split_whitespace().next())
            .map(|w| w.trim_end_matches(',').to_owned())
            .filter(|w| !w.is_empty())
            .collect();
        schema.insert(c[1].to_owned(), cols);
    }
    assert!(schema.len() >= 9, "DDL parsed: {schema:?}");
    assert!(schema["ticks"].contains("price_cents"));
    schema
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        let p = e.path();
        let name = e.file_name();
        if p.is_dir() {
            if name != "target" && name != ".git" && name != "node_modules" {
                rust_files(&p, out);
            }
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

/// The crate directory of a source file (its nearest ancestor with a Cargo.toml).
fn crate_of(file: &Path) -> PathBuf {
    let mut d = file.parent().unwrap();
    while !d.join("Cargo.toml").exists() {
        d = d.parent().unwrap();
    }
    d.to_owned()
}

/// Every series name Prometheus can see from the code: `metrics::counter!/gauge!/histogram!`
/// (literal names or `const` names of the same crate) and the query API's own registry; a
/// histogram adds `_bucket`, `_sum` and `_count` (both recorders configure buckets).
fn emitted_metrics() -> BTreeSet<String> {
    let mut files = Vec::new();
    for d in ["src", "collectors", "processor", "query-api", "schemas"] {
        rust_files(&root().join(d), &mut files);
    }
    let konst =
        Regex::new(r#"const\s+([A-Z][A-Z0-9_]*)\s*:\s*&(?:'static\s+)?str\s*=\s*"([^"]+)""#)
            .unwrap();
    let mac = Regex::new(
        r#"\b(counter|gauge|histogram)!\(\s*(?:"([^"]+)"|([A-Za-z_][A-Za-z0-9_]*(?:::[A-Za-z_][A-Za-z0-9_]*)*))"#,
    )
    .unwrap();
    let reg = Regex::new(
        r"register_(counter|gauge|histogram)\(\s*&Key::from_(?:parts|name)\(\s*([A-Z][A-Z0-9_:]*)\b",
    )
    .unwrap();
    // The query API's registry helpers: `self.count(CONST, …)`, `self.count_by(CONST, …)` and
    // `self.gauge(CONST, …)`.
    let helper = Regex::new(r"\bself\.(count|count_by|gauge)\(\s*([A-Z][A-Z0-9_]*)\b").unwrap();
    let mut consts: BTreeMap<(PathBuf, String), String> = BTreeMap::new();
    let sources: Vec<(PathBuf, String)> = files
        .iter()
        .map(|f| (crate_of(f), std::fs::read_to_string(f).unwrap()))
        .collect();
    for (krate, text) in &sources {
        for c in konst.captures_iter(text) {
            consts.insert((krate.clone(), c[1].to_owned()), c[2].to_owned());
        }
    }
    let mut out = BTreeSet::new();
    let mut add = |kind: &str, name: String| {
        if kind == "histogram" {
            for suffix in ["_bucket", "_sum", "_count"] {
                out.insert(format!("{name}{suffix}"));
            }
        } else {
            out.insert(name);
        }
    };
    for (krate, text) in &sources {
        let resolve = |path: &str| -> String {
            let last = path.rsplit("::").next().unwrap();
            consts
                .get(&(krate.clone(), last.to_owned()))
                .cloned()
                .unwrap_or_else(|| panic!("metric name {path} in {} not resolved", krate.display()))
        };
        for c in mac.captures_iter(text) {
            let name = match (c.get(2), c.get(3)) {
                (Some(lit), _) => lit.as_str().to_owned(),
                (None, Some(path)) => resolve(path.as_str()),
                _ => unreachable!(),
            };
            add(&c[1], name);
        }
        for c in reg.captures_iter(text) {
            add(&c[1], resolve(&c[2]));
        }
        for c in helper.captures_iter(text) {
            let kind = if c[1].starts_with("count") {
                "counter"
            } else {
                "gauge"
            };
            add(kind, resolve(&c[2]));
        }
    }
    out
}

#[test]
fn the_metric_scan_finds_what_the_dashboards_need() {
    let m = emitted_metrics();
    for name in [
        "tcg_collector_quotes_total",
        "tcg_collector_breaker_state",
        "tcg_collector_budget_remaining",
        "tcg_consumer_lag",
        "tcg_processor_dlq_total",
        "tcg_processor_ticks_total",
        "tcg_processor_batch_seconds_bucket",
        "tcg_webhook_deliveries_total",
        "tcg_api_requests_total",
        "tcg_api_request_duration_seconds_bucket",
        "tcg_build_info",
    ] {
        assert!(m.contains(name), "{name} not found among {m:#?}");
    }
    assert!(
        !m.contains("tcg_processor_batch_seconds"),
        "histograms export suffixed series"
    );
}

// ---------------------------------------------------------------------------------------------
// SQL (QuestDB) and PromQL checks

const SQL_WORDS: &[&str] = &[
    "select",
    "distinct",
    "from",
    "where",
    "and",
    "or",
    "not",
    "null",
    "is",
    "as",
    "on",
    "join",
    "left",
    "inner",
    "outer",
    "cross",
    "asof",
    "lt",
    "splice",
    "order",
    "by",
    "asc",
    "desc",
    "limit",
    "latest",
    "partition",
    "sample",
    "fill",
    "prev",
    "linear",
    "none",
    "align",
    "to",
    "calendar",
    "time",
    "zone",
    "with",
    "offset",
    "case",
    "when",
    "then",
    "else",
    "end",
    "in",
    "group",
    "union",
    "all",
    "between",
    "true",
    "false",
    "like",
    "ilike",
    "long",
    "double",
    "string",
    "varchar",
    "symbol",
    "int",
    "boolean",
    "timestamp",
    "date",
    "float",
    "observation",
    "first",
];

/// Problems of one QuestDB query against the schema: unknown tables, unknown columns.
fn sql_problems(sql: &str, schema: &BTreeMap<String, BTreeSet<String>>) -> Vec<String> {
    let mut problems = Vec::new();
    // Literals, Grafana macros and variables, casts.
    let s = Regex::new(r"'(?:[^']|'')*'")
        .unwrap()
        .replace_all(sql, " 0 ");
    let s = s
        .replace("$__timeFilter", "")
        .replace("$__sampleByInterval", "1h");
    let s = Regex::new(r"\$\{?\w+\}?").unwrap().replace_all(&s, " 0 ");
    let s = Regex::new(r"::\s*\w+").unwrap().replace_all(&s, " ");
    let s = s.to_string();
    let lower = s.to_ascii_lowercase();

    let ctes: BTreeSet<String> = Regex::new(r"(\w+)\s+as\s*\(")
        .unwrap()
        .captures_iter(&lower)
        .map(|c| c[1].to_owned())
        .collect();
    let aliases: BTreeSet<String> = Regex::new(r"\bas\s+(\w+)")
        .unwrap()
        .captures_iter(&lower)
        .map(|c| c[1].to_owned())
        .collect();
    let mut tables = BTreeSet::new();
    let mut table_aliases = BTreeSet::new();
    for c in Regex::new(r"\b(?:from|join)\s+(\w+)(?:\s+(\w+))?")
        .unwrap()
        .captures_iter(&lower)
    {
        let t = c[1].to_owned();
        if schema.contains_key(&t) {
            tables.insert(t);
        } else if !ctes.contains(&t) {
            problems.push(format!("unknown table {t}"));
        }
        if let Some(a) = c.get(2)
            && !SQL_WORDS.contains(&a.as_str())
        {
            table_aliases.insert(a.as_str().to_owned());
        }
    }
    // Subquery aliases: `) m`, `) p ON`.
    for c in Regex::new(r"\)\s+(\w+)").unwrap().captures_iter(&lower) {
        if !SQL_WORDS.contains(&&c[1]) {
            table_aliases.insert(c[1].to_owned());
        }
    }
    if tables.is_empty() {
        problems.push("names no table of the schema".into());
    }
    let columns: BTreeSet<&String> = tables.iter().flat_map(|t| &schema[t]).collect();
    let known_column = |w: &str| columns.iter().any(|c| c.as_str() == w);

    let token =
        Regex::new(r"[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)?|[0-9][A-Za-z0-9_.]*")
            .unwrap();
    for m in token.find_iter(&s) {
        let w = m.as_str().to_ascii_lowercase();
        if w.starts_with(|c: char| c.is_ascii_digit()) {
            continue;
        }
        let next = s[m.end()..].trim_start().chars().next();
        if next == Some('(') && !w.contains('.') {
            continue; // a function
        }
        if let Some((q, col)) = w.split_once('.') {
            if !(table_aliases.contains(q) || ctes.contains(q) || tables.contains(q)) {
                problems.push(format!("unknown qualifier {q} in {w}"));
            }
            if !(known_column(col) || aliases.contains(col)) {
                problems.push(format!("unknown column {col} in {w}"));
            }
            continue;
        }
        if SQL_WORDS.contains(&w.as_str())
            || tables.contains(&w)
            || ctes.contains(&w)
            || aliases.contains(&w)
            || table_aliases.contains(&w)
            || known_column(&w)
        {
            continue;
        }
        problems.push(format!("unknown column {w}"));
    }
    problems
}

/// Problems of one PromQL expression: metric names (`tcg_*`) the code does not emit; an
/// expression must name at least one metric.
fn promql_problems(expr: &str, metrics: &BTreeSet<String>) -> Vec<String> {
    let mut problems = Vec::new();
    let s = Regex::new(r#""(?:[^"\\]|\\.)*""#)
        .unwrap()
        .replace_all(expr, "\"\"");
    let mut named = 0;
    for m in Regex::new(r"\b[a-zA-Z_:][a-zA-Z0-9_:]*\b")
        .unwrap()
        .find_iter(&s)
    {
        let w = m.as_str();
        if w.starts_with("tcg_") {
            named += 1;
            if !metrics.contains(w) {
                problems.push(format!("metric {w} is not emitted by the code"));
            }
        } else if w == "up" {
            named += 1;
        }
    }
    if named == 0 {
        problems.push(format!("names no metric: {expr}"));
    }
    problems
}

#[test]
fn the_sql_and_promql_checks_catch_wrong_names() {
    let schema = questdb_schema();
    assert!(sql_problems("SELECT observed_at AS time, last(price_cents) / 100.0 AS close FROM ticks WHERE series = '$series' AND $__timeFilter(observed_at) SAMPLE BY $__sampleByInterval", &schema).is_empty());
    assert_eq!(
        sql_problems("SELECT price_usd FROM ticks", &schema),
        vec!["unknown column price_usd".to_owned()]
    );
    assert!(!sql_problems("SELECT series FROM tickz", &schema).is_empty());
    assert!(!sql_problems("SELECT t.nope FROM ticks t", &schema).is_empty());
    let metrics = emitted_metrics();
    assert!(promql_problems("sum(rate(tcg_collector_quotes_total[5m]))", &metrics).is_empty());
    assert_eq!(
        promql_problems("rate(tcg_no_such_metric[5m])", &metrics).len(),
        1
    );
    assert_eq!(promql_problems("vector(1)", &metrics).len(), 1);
}

fn datasource_uid(v: &Json) -> Option<&str> {
    v.get("datasource")
        .and_then(|d| d.get("uid"))
        .and_then(Json::as_str)
}

/// Panels, nested panels of rows included.
fn all_panels(panels: &[Json]) -> Vec<&Json> {
    let mut out = Vec::new();
    for p in panels {
        out.push(p);
        if let Some(inner) = p.get("panels").and_then(Json::as_array) {
            out.extend(all_panels(inner));
        }
    }
    out
}

#[test]
fn dashboards_are_valid_json_naming_only_known_tables_columns_and_metrics() {
    let schema = questdb_schema();
    let metrics = emitted_metrics();
    let provisioned = yaml("grafana/provisioning/datasources/datasources.yml");
    let uids: BTreeSet<String> = get(&provisioned, "datasources")
        .and_then(Yaml::as_sequence)
        .unwrap()
        .iter()
        .map(|d| get(d, "uid").and_then(Yaml::as_str).unwrap().to_owned())
        .collect();
    assert_eq!(uids, ["prometheus", "questdb"].map(String::from).into());
    yaml("grafana/provisioning/dashboards/dashboards.yml");

    let mut problems = Vec::new();
    let mut seen_uids = BTreeSet::new();
    let mut checked = (0, 0);
    let dir = root().join("grafana/dashboards");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .collect();
    files.sort();
    assert!(files.len() >= 4, "dashboards: {files:?}");
    let var_ref = Regex::new(r"\$\{?([A-Za-z_]\w*)").unwrap();
    for f in files {
        let name = f.file_name().unwrap().to_string_lossy().into_owned();
        let d: Json = serde_json::from_str(&std::fs::read_to_string(&f).unwrap())
            .unwrap_or_else(|e| panic!("{name} is not valid JSON: {e}"));
        let uid = d["uid"]
            .as_str()
            .unwrap_or_else(|| panic!("{name}: no uid"));
        assert!(
            seen_uids.insert(uid.to_owned()),
            "{name}: uid {uid} used twice"
        );
        assert!(d["title"].is_string(), "{name}: no title");
        let vars: Vec<&Json> = d["templating"]["list"].as_array().unwrap().iter().collect();
        let var_names: BTreeSet<&str> = vars.iter().filter_map(|v| v["name"].as_str()).collect();
        let check_vars = |what: &str, q: &str, problems: &mut Vec<String>| {
            for c in var_ref.captures_iter(q) {
                let v = &c[1];
                if !v.starts_with("__") && !var_names.contains(v) {
                    problems.push(format!("{name}: {what}: unknown variable ${v}"));
                }
            }
        };
        let mut sql = |what: String, q: &str, problems: &mut Vec<String>| {
            checked.0 += 1;
            check_vars(&what, q, problems);
            for p in sql_problems(q, &schema) {
                problems.push(format!("{name}: {what}: {p}\n      in {q}"));
            }
        };
        for v in &vars {
            if datasource_uid(v) == Some("questdb") {
                let q = v["query"]["rawSql"].as_str().unwrap();
                sql(format!("variable {}", v["name"]), q, &mut problems);
            }
        }
        for p in all_panels(d["panels"].as_array().unwrap()) {
            let title = p["title"].as_str().unwrap_or("?").to_owned();
            if let Some(r) = p.get("repeat").and_then(Json::as_str) {
                assert!(
                    var_names.contains(r),
                    "{name}: {title} repeats by unknown ${r}"
                );
            }
            for t in p["targets"].as_array().into_iter().flatten() {
                let ds = datasource_uid(t).or(datasource_uid(p));
                assert!(
                    ds.is_some_and(|u| uids.contains(u)),
                    "{name}: {title}: datasource {ds:?} is not provisioned"
                );
                match ds {
                    Some("questdb") => {
                        let q = t["rawSql"].as_str().unwrap();
                        sql(format!("panel {title:?}"), q, &mut problems);
                    }
                    Some("prometheus") => {
                        checked.1 += 1;
                        let e = t["expr"].as_str().unwrap();
                        for pr in promql_problems(e, &metrics) {
                            problems.push(format!("{name}: panel {title:?}: {pr}"));
                        }
                    }
                    _ => {}
                }
            }
        }
    }
    report("grafana/dashboards", &problems);
    assert!(
        checked.0 >= 10 && checked.1 >= 15,
        "checked {checked:?} queries"
    );
}

// ---------------------------------------------------------------------------------------------
// Prometheus and Kubernetes

#[test]
fn alerting_rules_name_only_emitted_metrics_and_cover_the_pipeline() {
    let metrics = emitted_metrics();
    let rules = yaml("deploy/prometheus/alerts.yml");
    let mut names = BTreeSet::new();
    let mut problems = Vec::new();
    for g in get(&rules, "groups").and_then(Yaml::as_sequence).unwrap() {
        for r in get(g, "rules").and_then(Yaml::as_sequence).unwrap() {
            let alert = get(r, "alert").and_then(Yaml::as_str).unwrap();
            names.insert(alert.to_owned());
            let expr = get(r, "expr").and_then(Yaml::as_str).unwrap();
            for p in promql_problems(expr, &metrics) {
                problems.push(format!("{alert}: {p}"));
            }
        }
    }
    report("deploy/prometheus/alerts.yml", &problems);
    for a in [
        "TcgConsumerLagGrowing",
        "TcgDeadLetterRateHigh",
        "TcgCollectorBreakerOpen",
        "TcgWebhookFailures",
        "TcgNoTicks",
    ] {
        assert!(names.contains(a), "alert {a} is missing");
    }
    // Every scrape job of the compose config names a service of docker-compose.yml.
    let compose: Yaml = serde_yaml_ng::from_str(&read("docker-compose.yml")).unwrap();
    let services = get(&compose, "services")
        .and_then(Yaml::as_mapping)
        .unwrap();
    let prom = yaml("deploy/prometheus/prometheus.yml");
    let text = serde_yaml_ng::to_string(get(&prom, "scrape_configs").unwrap()).unwrap();
    for s in [
        "processor",
        "collector",
        "dispatcher",
        "api",
        "questdb",
        "grafana",
    ] {
        assert!(services.contains_key(s));
        assert!(text.contains(s), "prometheus.yml does not scrape {s}");
    }
    let k8s = yaml("deploy/prometheus/prometheus-k8s.yml");
    assert!(get(&k8s, "scrape_configs").is_some() && get(&k8s, "rule_files").is_some());
}

/// Runs promtool, or says why not: missing under CI fails, missing elsewhere skips.
fn promtool() -> Option<PathBuf> {
    let found = std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|p| p.join("promtool"))
            .find(|p| p.is_file())
    });
    if found.is_none() {
        assert!(
            std::env::var("CI").map_or(true, |v| v != "true"),
            "promtool is missing under CI: .ci/run installs Debian's `prometheus` package"
        );
        eprintln!(
            "SKIPPED: promtool not installed (apt-get install prometheus); the Prometheus files were only parsed"
        );
    }
    found
}

#[test]
fn promtool_checks_config_and_rules_and_runs_the_rule_tests() {
    let Some(promtool) = promtool() else { return };
    let dir = root().join("deploy/prometheus");
    let run = |args: &[&str]| {
        let out = Command::new(&promtool)
            .args(args)
            .current_dir(&dir)
            .output()
            .expect("running promtool");
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        (out.status.success(), text)
    };
    for args in [
        &["check", "config", "prometheus.yml"][..],
        &["check", "rules", "alerts.yml"],
        &["test", "rules", "alerts.test.yml"],
    ] {
        let (ok, text) = run(args);
        assert!(ok, "promtool {}:\n{text}", args.join(" "));
    }
    // Debian's promtool is built without the Kubernetes service discovery: accept only that.
    let (ok, text) = run(&["check", "config", "prometheus-k8s.yml"]);
    if !ok {
        assert!(
            text.contains("kubernetes_sd_configs not found"),
            "promtool check config prometheus-k8s.yml:\n{text}"
        );
        eprintln!(
            "note: this promtool has no Kubernetes service discovery; prometheus-k8s.yml was parsed only"
        );
    }
}

#[test]
fn kubernetes_manifests_parse_and_have_probes_budgets_and_no_embedded_secrets() {
    let dir = root().join("deploy/k8s");
    let kustomization = yaml("deploy/k8s/kustomization.yaml");
    let resources: Vec<&str> = get(&kustomization, "resources")
        .and_then(Yaml::as_sequence)
        .unwrap()
        .iter()
        .map(|r| r.as_str().unwrap())
        .collect();
    let mut kinds: BTreeMap<String, Vec<Yaml>> = BTreeMap::new();
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .collect();
    files.sort();
    for f in &files {
        let name = f.file_name().unwrap().to_string_lossy().into_owned();
        if name == "kustomization.yaml" {
            continue;
        }
        assert!(
            resources.contains(&name.as_str()),
            "{name} is not in kustomization.yaml"
        );
        let text = std::fs::read_to_string(f).unwrap();
        for doc in serde_yaml_ng::Deserializer::from_str(&text) {
            let v = <Yaml as serde::Deserialize>::deserialize(doc)
                .unwrap_or_else(|e| panic!("{name} is not valid YAML: {e}"));
            let kind = get(&v, "kind")
                .and_then(Yaml::as_str)
                .unwrap_or_else(|| panic!("{name}: a document without kind"));
            assert!(
                get(&v, "apiVersion").is_some(),
                "{name}: {kind} without apiVersion"
            );
            assert!(
                get(&v, "metadata").and_then(|m| get(m, "name")).is_some(),
                "{name}: {kind} without a name"
            );
            kinds.entry(kind.to_owned()).or_default().push(v);
        }
    }
    for r in &resources {
        assert!(dir.join(r).exists(), "kustomization names missing {r}");
    }
    assert!(
        !kinds.contains_key("Secret"),
        "Secrets are created out of band, never committed"
    );
    for k in [
        "Deployment",
        "Service",
        "ConfigMap",
        "HorizontalPodAutoscaler",
        "PodDisruptionBudget",
        "Job",
    ] {
        assert!(kinds.contains_key(k), "no {k}");
    }
    let hpa = &kinds["HorizontalPodAutoscaler"][0];
    assert_eq!(
        get(
            get(get(hpa, "spec").unwrap(), "scaleTargetRef").unwrap(),
            "name"
        )
        .and_then(Yaml::as_str),
        Some("processor")
    );
    let pdb_names: Vec<&str> = kinds["PodDisruptionBudget"]
        .iter()
        .map(|p| {
            get(get(p, "metadata").unwrap(), "name")
                .and_then(Yaml::as_str)
                .unwrap()
        })
        .collect();
    assert!(pdb_names.contains(&"processor"));
    // Many machines: no pod keeps state or is pinned beside another (the app's data is in
    // PostgreSQL, an external dependency named by a Secret), and the API and the dispatchers run
    // twice.
    assert!(
        !kinds.contains_key("PersistentVolumeClaim"),
        "no pod needs a volume"
    );
    for d in &kinds["Deployment"] {
        let name = get(get(d, "metadata").unwrap(), "name")
            .and_then(Yaml::as_str)
            .unwrap();
        let spec = get(d, "spec").unwrap();
        let pod = get(get(spec, "template").unwrap(), "spec").unwrap();
        assert!(
            get(pod, "affinity").is_none() && get(pod, "volumes").is_none(),
            "{name}: pinned to other pods or to a volume"
        );
        if matches!(name, "api" | "dispatcher") {
            let replicas = get(spec, "replicas").and_then(Yaml::as_u64);
            assert!(replicas >= Some(2), "{name}: {replicas:?} replicas");
        }
        let env_names: Vec<&str> = get(pod, "containers")
            .and_then(Yaml::as_sequence)
            .into_iter()
            .flatten()
            .flat_map(|c| {
                get(c, "env")
                    .and_then(Yaml::as_sequence)
                    .into_iter()
                    .flatten()
            })
            .filter_map(|e| get(e, "name").and_then(Yaml::as_str))
            .collect();
        assert!(
            env_names.contains(&"TCG_DATABASE_URL"),
            "{name}: no TCG_DATABASE_URL (the app database)"
        );
        for c in get(pod, "containers").and_then(Yaml::as_sequence).unwrap() {
            let path = |probe: &str| {
                get(c, probe)
                    .and_then(|p| get(p, "httpGet"))
                    .and_then(|h| get(h, "path"))
                    .and_then(Yaml::as_str)
                    .map(str::to_owned)
            };
            assert_eq!(path("livenessProbe").as_deref(), Some("/healthz"), "{name}");
            assert_eq!(path("readinessProbe").as_deref(), Some("/readyz"), "{name}");
            // Secrets only by reference.
            for e in get(c, "env")
                .and_then(Yaml::as_sequence)
                .into_iter()
                .flatten()
            {
                let var = get(e, "name").and_then(Yaml::as_str).unwrap();
                if is_secret_name(var) || var == "QUESTDB_PG" || var == "TCG_DATABASE_URL" {
                    assert!(
                        get(e, "valueFrom")
                            .and_then(|v| get(v, "secretKeyRef"))
                            .is_some(),
                        "{name}: {var} must come from a Secret"
                    );
                }
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// The secret scan

/// Known values that look like secrets and are not, each with the reason.
const ALLOWED: &[(&str, &str)] = &[
    (
        // Split so that this file does not carry it whole.
        concat!("whsec_MfKQ9r8", "GKYqrTwjUPD8ILPZIo2LaLaSw"),
        "the published test-vector secret of the Standard Webhooks specification, used by the signature tests",
    ),
    (
        concat!("whsec_QUJDREVG", "R0hJSktMTU5PUFFSU1RVVldYWVo="),
        "a test fixture: base64 of the alphabet A–Z (processor/webhooks/tests/delivery.rs, secret rotation)",
    ),
];

fn entropy(s: &str) -> f64 {
    let mut counts = BTreeMap::new();
    for c in s.chars() {
        *counts.entry(c).or_insert(0usize) += 1;
    }
    let n = s.chars().count() as f64;
    counts
        .values()
        .map(|&c| {
            let p = c as f64 / n;
            -p * p.log2()
        })
        .sum()
}

fn is_placeholder(v: &str) -> bool {
    let l = v.to_ascii_lowercase();
    [
        "example",
        "placeholder",
        "changeme",
        "change-me",
        "xxxx",
        "dummy",
        "redacted",
        "your",
        "${",
        "<",
        "…",
        "...",
    ]
    .iter()
    .any(|w| l.contains(w))
}

/// Secret-looking strings of one file: (line, what).
fn secret_findings(path: &str, text: &str) -> Vec<(usize, String)> {
    let rules: Vec<(&str, Regex)> = vec![
        (
            "private key",
            Regex::new(r"-----BEGIN[A-Z ]{0,20} PRIVATE KEY( BLOCK)?-----").unwrap(),
        ),
        (
            "AWS access key id",
            Regex::new(r"\b(?:AKIA|ASIA)[0-9A-Z]{16}\b").unwrap(),
        ),
        (
            "GitHub token",
            Regex::new(r"\bgh[pousr]_[A-Za-z0-9]{36,}\b").unwrap(),
        ),
        (
            "Slack token",
            Regex::new(r"\bxox[abposr]-[A-Za-z0-9-]{10,}").unwrap(),
        ),
        (
            "Google API key",
            Regex::new(r"\bAIza[0-9A-Za-z_-]{35}\b").unwrap(),
        ),
        (
            "Stripe live key",
            Regex::new(r"\b[sr]k_live_[0-9A-Za-z]{16,}").unwrap(),
        ),
        (
            "webhook secret",
            Regex::new(r"whsec_[A-Za-z0-9+/=_-]{16,}").unwrap(),
        ),
    ];
    let assign = Regex::new(
        r#"(?i)([A-Za-z0-9_.-]*(?:password|passwd|secret|token|api_?key|private_?key|credential)[A-Za-z0-9_]*)["']?\s*[:=]\s*(?:"([^"\s]{16,})"|'([^'\s]{16,})'|([^\s"'#,;]{16,})\s*$)"#,
    )
    .unwrap();
    let rust = path.ends_with(".rs");
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let before = out.len();
        for (what, re) in &rules {
            for m in re.find_iter(line) {
                let v = m.as_str();
                let low_entropy = *what == "webhook secret" && entropy(&v[6..]) < 3.0;
                if !ALLOWED.iter().any(|(a, _)| *a == v) && !is_placeholder(v) && !low_entropy {
                    out.push((i + 1, format!("{what}: {v}")));
                }
            }
        }
        if out.len() > before {
            continue; // one finding per line is enough
        }
        for c in assign.captures_iter(line) {
            let quoted = c.get(2).or(c.get(3));
            // Unquoted values count outside Rust only (there they are expressions, not values).
            let Some(v) = quoted.or(if rust { None } else { c.get(4) }) else {
                continue;
            };
            let v = v.as_str();
            let has_digit = v.chars().any(|c| c.is_ascii_digit());
            let has_alpha = v.chars().any(|c| c.is_ascii_alphabetic());
            if has_digit
                && has_alpha
                && entropy(v) >= 3.5
                && !is_placeholder(v)
                && !v.contains("://")
                && !ALLOWED.iter().any(|(a, _)| *a == v || v.contains(a))
            {
                out.push((i + 1, format!("high-entropy value of {}: {v}", &c[1])));
            }
        }
    }
    out
}

#[test]
fn the_secret_scan_flags_secrets_and_passes_placeholders() {
    let aws = ["AKIA", "Q3EGRIJ7WJ5OZXN4"].concat();
    let key = ["-----BEGIN RSA ", "PRIVATE KEY-----"].concat();
    let tok = ["API_TOKEN=", "hT7q9Zp2LmX4vR8sK1nW6yB3"].concat();
    let wh = ["secret: \"whsec_", "9fK2mQ7xR4tL8pZ1vB6nC3yH\""].concat();
    for bad in [&aws, &key, &tok, &wh] {
        assert_eq!(secret_findings("x.env", bad).len(), 1, "{bad}");
    }
    for fine in [
        "QUESTDB_PG_PASSWORD=",
        "password: ${QUESTDB_READONLY_PASSWORD}",
        "`tcgtracker webhook verify --secret whsec_…`",
        "QUESTDB_PG=postgres://USER:PASSWORD@127.0.0.1:8812/qdb",
        "let token = self.fetch_access_token_with_retries(now);",
        "whsec_AAAAAAAAAAAAAAAAAAAAAAAA",
    ] {
        assert!(secret_findings("x.rs", fine).is_empty(), "{fine}");
    }
    assert!(secret_findings("x.env", ALLOWED[0].0).is_empty());
}

#[test]
fn no_secret_is_committed() {
    let out = Command::new("git")
        .args([
            "ls-files",
            "-z",
            "--cached",
            "--others",
            "--exclude-standard",
        ])
        .current_dir(root())
        .output()
        .expect("git");
    assert!(out.status.success(), "git ls-files failed");
    let mut findings = Vec::new();
    let mut scanned = 0;
    for path in String::from_utf8(out.stdout)
        .unwrap()
        .split('\0')
        .filter(|p| !p.is_empty())
    {
        let Ok(bytes) = std::fs::read(root().join(path)) else {
            continue;
        };
        let Ok(text) = String::from_utf8(bytes) else {
            continue;
        }; // binary
        scanned += 1;
        for (line, what) in secret_findings(path, &text) {
            findings.push(format!("{path}:{line}: {what}"));
        }
    }
    assert!(scanned > 100, "scanned {scanned} files");
    report(
        "secret-looking strings (remove them, or allow-list a known non-secret in tests/stack.rs with the reason)",
        &findings,
    );
}
