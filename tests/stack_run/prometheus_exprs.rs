//! Every PromQL expression of the dashboards (`grafana/dashboards/*.json`, targets with a
//! `prometheus` datasource) and of the alerting rules (`deploy/prometheus/alerts.yml`), run
//! against a real Prometheus that scrapes the stack: each must be valid and return data.
//!
//! Grafana's interval variables (`$__rate_interval`, `$__interval`, `$__range`) become
//! [`RANGE`], a window that holds enough 1 s scrapes early in a test of a minute or two.
//!
//! An alerting rule is usually a threshold comparison that is (rightly) empty on a healthy
//! system, so each rule gives two kinds of [`Expr`]: the whole expression, which must only be
//! valid ([`Expr::needs_data`] false), and its data parts ([`data_parts`]), which must return
//! series, which shows that the metrics exist and carry the labels the rule selects.

use std::{
    path::Path,
    time::{Duration, Instant},
};

use serde_json::Value;

/// What Grafana's `$__rate_interval`, `$__interval` and `$__range` stand for here.
pub const RANGE: &str = "30s";

/// A subquery resolution used for the data parts of a rule (see [`data_parts`]).
const SUBQUERY_STEP: &str = "5s";

/// One PromQL expression and where it comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Expr {
    /// `pipeline-health.json: <panel title> [<refId>]`, or `alerts.yml: <alert name>` (with
    /// ` (data part i/n)` for a part of a rule's expression).
    pub origin: String,
    /// The expression, Grafana's variables substituted.
    pub promql: String,
    /// Whether an empty result is a failure (false: the whole expression of an alerting rule,
    /// which only has to be valid).
    pub needs_data: bool,
}

/// A `prometheus.yml` that scrapes each `(job, ["host:port", …])` every second, evaluates
/// rules every second and loads `alerts.yml` from its own folder. Job names as in
/// `deploy/prometheus/prometheus.yml`: `tcg-processor`, `tcg-collector`, `tcg-dispatcher`,
/// `tcg-api`, `questdb`.
pub fn config(targets: &[(&str, Vec<String>)]) -> String {
    let mut s = String::from(
        "global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\n  evaluation_interval: 1s\n\
         rule_files:\n  - alerts.yml\n\
         scrape_configs:\n",
    );
    for (job, hosts) in targets {
        let list = hosts
            .iter()
            .map(|h| format!("{h:?}"))
            .collect::<Vec<_>>()
            .join(", ");
        s.push_str(&format!(
            "  - job_name: {job:?}\n    static_configs:\n      - targets: [{list}]\n"
        ));
    }
    s
}

/// Every expression of the dashboards and of the alerting rules under `repo_root`.
pub fn expressions(repo_root: &Path) -> Vec<Expr> {
    let mut out = Vec::new();
    let dir = repo_root.join("grafana/dashboards");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    files.sort();
    for path in files {
        let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{e}"));
        let name = path
            .file_name()
            .map_or_else(String::new, |n| n.to_string_lossy().into_owned());
        out.extend(dashboard_exprs(&name, &text));
    }
    let alerts = repo_root.join("deploy/prometheus/alerts.yml");
    let text =
        std::fs::read_to_string(&alerts).unwrap_or_else(|e| panic!("{}: {e}", alerts.display()));
    out.extend(alert_exprs("alerts.yml", &text));
    out
}

/// The PromQL targets of one dashboard: every target whose own datasource, or else its
/// panel's, is of type `prometheus` (rows' nested panels included).
pub fn dashboard_exprs(file: &str, json: &str) -> Vec<Expr> {
    let d: Value = serde_json::from_str(json).unwrap_or_else(|e| panic!("{file}: {e}"));
    let mut out = Vec::new();
    for panel in all_panels(&d) {
        let title = panel["title"].as_str().unwrap_or("(untitled)");
        for t in panel["targets"].as_array().into_iter().flatten() {
            let ds = if t["datasource"].is_object() {
                &t["datasource"]
            } else {
                &panel["datasource"]
            };
            let Some(expr) = t["expr"].as_str().filter(|_| ds["type"] == "prometheus") else {
                continue;
            };
            out.push(Expr {
                origin: format!("{file}: {title} [{}]", t["refId"].as_str().unwrap_or("?")),
                promql: substitute_intervals(expr),
                needs_data: true,
            });
        }
    }
    out
}

/// The dashboard's panels, those inside rows too.
fn all_panels(d: &Value) -> Vec<&Value> {
    let mut out = Vec::new();
    for p in d["panels"].as_array().into_iter().flatten() {
        out.push(p);
        out.extend(p["panels"].as_array().into_iter().flatten());
    }
    out
}

/// Grafana's interval variables (`$__rate_interval`, `$__interval`, `$__range`, also in the
/// `${…}` form) as [`RANGE`].
pub fn substitute_intervals(expr: &str) -> String {
    let mut s = expr.to_owned();
    for v in ["__rate_interval", "__interval", "__range"] {
        s = s.replace(&format!("${{{v}}}"), RANGE);
        s = s.replace(&format!("${v}"), RANGE);
    }
    s
}

/// Each alerting rule's whole expression (to be valid) and its data parts (to return data);
/// recording rules' expressions must return data.
pub fn alert_exprs(file: &str, yaml: &str) -> Vec<Expr> {
    let doc: serde_yaml_ng::Value =
        serde_yaml_ng::from_str(yaml).unwrap_or_else(|e| panic!("{file}: {e}"));
    let mut out = Vec::new();
    let groups = doc["groups"].as_sequence().cloned().unwrap_or_default();
    for rule in groups
        .iter()
        .flat_map(|g| g["rules"].as_sequence().cloned().unwrap_or_default())
    {
        let Some(expr) = rule["expr"].as_str() else {
            continue;
        };
        let expr = expr.split_whitespace().collect::<Vec<_>>().join(" ");
        if let Some(name) = rule["record"].as_str() {
            out.push(Expr {
                origin: format!("{file}: record {name}"),
                promql: expr,
                needs_data: true,
            });
            continue;
        }
        let name = rule["alert"].as_str().unwrap_or("(unnamed)");
        let parts = data_parts(&expr);
        let n = parts.len();
        out.push(Expr {
            origin: format!("{file}: {name}"),
            promql: expr,
            needs_data: false,
        });
        out.extend(parts.into_iter().enumerate().map(|(i, p)| Expr {
            origin: format!("{file}: {name} (data part {}/{n})", i + 1),
            promql: p,
            needs_data: true,
        }));
    }
    out
}

/// The data parts of an alerting expression: what must return series on a healthy system for
/// the rule to be able to fire at all. The rule applied, on the expression's tokens outside
/// parentheses, brackets, braces and string literals:
///
/// 1. split on the set operators `and`, `or`, `unless`;
/// 2. split each operand on the comparison operators `==`, `!=`, `>=`, `<=`, `>`, `<`, and
///    drop the sides that are number literals (the thresholds);
/// 3. drop the vector-matching modifiers a side starts with (`bool`, `on(…)`, `ignoring(…)`,
///    `group_left(…)`, `group_right(…)`);
/// 4. `absent(X)` (empty exactly when X has data) becomes `X`;
/// 5. a subquery's resolution (`[15m:1m]`) becomes [`SUBQUERY_STEP`] (`[15m:5s]`), so that a
///    range function over it (`deriv`) has two points after seconds rather than minutes; the
///    range itself is kept.
///
/// Each part is distinct; their order is the expression's.
pub fn data_parts(expr: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for operand in split_top_level(expr, Split::SetOps) {
        for side in split_top_level(&operand, Split::Comparisons) {
            let side = strip_modifiers(&side);
            if side.is_empty() || is_number(&side) {
                continue;
            }
            let part = shorten_subquery_steps(&unwrap_absent(&side));
            if !out.contains(&part) {
                out.push(part);
            }
        }
    }
    out
}

/// Which top-level operators [`split_top_level`] splits on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Split {
    SetOps,
    Comparisons,
}

/// The pieces of `expr` between its top-level operators of kind `kind`, trimmed.
fn split_top_level(expr: &str, kind: Split) -> Vec<String> {
    let b = expr.as_bytes();
    let (mut depth, mut i, mut start) = (0usize, 0usize, 0usize);
    let mut out = Vec::new();
    while i < b.len() {
        match b[i] {
            b'"' | b'\'' | b'`' => {
                i = skip_string(b, i);
                continue;
            }
            b'(' | b'[' | b'{' => depth += 1,
            b')' | b']' | b'}' => depth = depth.saturating_sub(1),
            _ if depth == 0 => {
                if let Some(len) = operator_at(b, i, kind) {
                    out.push(expr[start..i].trim().to_owned());
                    i += len;
                    start = i;
                    continue;
                }
            }
            _ => {}
        }
        i += 1;
    }
    out.push(expr[start..].trim().to_owned());
    out
}

/// The index just past the string literal that starts at `b[at]`.
fn skip_string(b: &[u8], at: usize) -> usize {
    let quote = b[at];
    let mut i = at + 1;
    while i < b.len() {
        match b[i] {
            b'\\' if quote != b'`' => i += 2,
            c if c == quote => return i + 1,
            _ => i += 1,
        }
    }
    b.len()
}

/// The length of the operator of kind `kind` that starts at `b[i]`, if one does.
fn operator_at(b: &[u8], i: usize, kind: Split) -> Option<usize> {
    match kind {
        Split::Comparisons => {
            let two = b.get(i..i + 2);
            if matches!(two, Some(b"==" | b"!=" | b">=" | b"<=")) {
                Some(2)
            } else if matches!(b[i], b'>' | b'<') {
                Some(1)
            } else {
                None
            }
        }
        Split::SetOps => ["and", "or", "unless"].iter().find_map(|w| {
            let end = i + w.len();
            let word = b.get(i..end)? == w.as_bytes();
            let before = i == 0 || !is_ident(b[i - 1]);
            let after = b.get(end).is_none_or(|c| !is_ident(*c));
            (word && before && after).then_some(w.len())
        }),
    }
}

fn is_ident(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'_' || c == b':'
}

/// A side of a binary operator without the modifiers it starts with.
fn strip_modifiers(side: &str) -> String {
    let re = regex::Regex::new(r"^(bool|on|ignoring|group_left|group_right)\b\s*(\([^)]*\))?\s*")
        .expect("regex");
    let mut s = side.trim().to_owned();
    while let Some(m) = re.find(&s) {
        if m.as_str().is_empty() {
            break;
        }
        s = s[m.end()..].trim().to_owned();
    }
    s
}

/// Whether a side is a number literal (a threshold).
fn is_number(s: &str) -> bool {
    let s = s
        .trim()
        .trim_start_matches(['(', '+', '-'])
        .trim_end_matches(')');
    s.parse::<f64>().is_ok() || s.eq_ignore_ascii_case("inf") || s.eq_ignore_ascii_case("nan")
}

/// `absent(X)` as `X`; anything else unchanged.
fn unwrap_absent(side: &str) -> String {
    let s = side.trim();
    match s.strip_prefix("absent").map(str::trim_start) {
        Some(rest) if rest.starts_with('(') && rest.ends_with(')') => {
            rest[1..rest.len() - 1].trim().to_owned()
        }
        _ => s.to_owned(),
    }
}

/// Every subquery `[RANGE:STEP]` as `[RANGE:SUBQUERY_STEP]`.
fn shorten_subquery_steps(expr: &str) -> String {
    let re = regex::Regex::new(r"\[(\s*\w+\s*):\s*\w*\s*\]").expect("regex");
    re.replace_all(expr, format!("[$1:{SUBQUERY_STEP}]"))
        .into_owned()
}

/// Runs every expression on the Prometheus at `prom_url` (`GET /api/v1/query`, evaluated now):
/// each with the number of series (or 1 for a scalar) it returned, or why it failed: a status
/// other than `success`, or no data for an expression that [`Expr::needs_data`]. The message
/// names the origin and the expression.
pub async fn check_all(prom_url: &str, exprs: &[Expr]) -> Vec<(Expr, Result<usize, String>)> {
    let http = reqwest::Client::new();
    let mut out = Vec::with_capacity(exprs.len());
    for e in exprs {
        let r = match query(&http, prom_url, &e.promql).await {
            Ok(0) if e.needs_data => Err(format!("{}: `{}` returned no data", e.origin, e.promql)),
            Ok(n) => Ok(n),
            Err(why) => Err(format!("{}: `{}` failed: {why}", e.origin, e.promql)),
        };
        out.push((e.clone(), r));
    }
    out
}

/// Polls `promql` until it returns at least one series (the number of series), or says what
/// it last got when `timeout` has passed.
pub async fn wait_for_series(
    prom_url: &str,
    promql: &str,
    timeout: Duration,
) -> Result<usize, String> {
    let http = reqwest::Client::new();
    let deadline = Instant::now() + timeout;
    loop {
        let last = query(&http, prom_url, promql).await;
        if let Ok(n @ 1..) = last {
            return Ok(n);
        }
        if Instant::now() >= deadline {
            return Err(format!(
                "`{promql}` returned no series within {timeout:?} (last: {last:?})"
            ));
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

/// One instant query: the number of series (a scalar or string counts as one), or the error.
pub async fn query(http: &reqwest::Client, prom_url: &str, promql: &str) -> Result<usize, String> {
    let resp = http
        .get(format!("{}/api/v1/query", prom_url.trim_end_matches('/')))
        .query(&[("query", promql)])
        .send()
        .await
        .map_err(|e| format!("request: {e}"))?;
    let code = resp.status();
    let body: Value = resp
        .json()
        .await
        .map_err(|e| format!("HTTP {code}, body not JSON: {e}"))?;
    if body["status"] != "success" {
        return Err(format!(
            "HTTP {code}, {}: {}",
            body["errorType"].as_str().unwrap_or("?"),
            body["error"].as_str().unwrap_or("?")
        ));
    }
    let data = &body["data"];
    match data["resultType"].as_str() {
        Some("vector" | "matrix") => Ok(data["result"].as_array().map_or(0, Vec::len)),
        Some("scalar" | "string") => Ok(1),
        other => Err(format!("unexpected resultType {other:?}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn repo_root() -> &'static Path {
        Path::new(env!("CARGO_MANIFEST_DIR"))
    }

    #[test]
    fn comparisons_give_their_data_side() {
        assert_eq!(
            data_parts(r#"up{job=~"tcg-.*"} == 0"#),
            [r#"up{job=~"tcg-.*"}"#]
        );
        assert_eq!(
            data_parts("max by (source) (tcg_collector_breaker_state) == 1"),
            ["max by (source) (tcg_collector_breaker_state)"]
        );
        assert_eq!(
            data_parts(r#"min by (source) (x{source=~"ebay.*", a!="b>c"}) < 50"#),
            [r#"min by (source) (x{source=~"ebay.*", a!="b>c"})"#]
        );
        assert_eq!(data_parts("a > bool 0.5"), ["a"]);
        assert_eq!(data_parts("a > on(x) group_left b"), ["a", "b"]);
        assert_eq!(data_parts("a == online_total"), ["a", "online_total"]);
    }

    #[test]
    fn set_operators_split_and_absent_unwraps() {
        assert_eq!(
            data_parts(
                "sum(rate(tcg_processor_ticks_total[15m])) == 0 or absent(tcg_processor_ticks_total)"
            ),
            [
                "sum(rate(tcg_processor_ticks_total[15m]))",
                "tcg_processor_ticks_total"
            ]
        );
        // `or` inside a name or a label value is not an operator.
        assert_eq!(
            data_parts(r#"errors_total{kind="or"} > 1 unless vendor_info"#),
            [r#"errors_total{kind="or"}"#, "vendor_info"]
        );
    }

    #[test]
    fn subquery_steps_are_shortened_and_parts_are_distinct() {
        assert_eq!(
            data_parts("max(b) > 1000 and deriv(max(b)[15m:1m]) > 0"),
            ["max(b)", "deriv(max(b)[15m:5s])"]
        );
        assert_eq!(data_parts("x > 1 and x > 2"), ["x"]);
    }

    #[test]
    fn every_alert_of_the_repo_has_data_parts_without_comparisons() {
        let text = std::fs::read_to_string(repo_root().join("deploy/prometheus/alerts.yml"))
            .expect("alerts.yml");
        let exprs = alert_exprs("alerts.yml", &text);
        let rules: Vec<_> = exprs.iter().filter(|e| !e.needs_data).collect();
        assert!(rules.len() >= 8, "{rules:#?}");
        for rule in rules {
            let parts: Vec<_> = exprs
                .iter()
                .filter(|e| e.needs_data && e.origin.starts_with(&format!("{} (", rule.origin)))
                .collect();
            assert!(!parts.is_empty(), "{} has no data part", rule.origin);
            for p in parts {
                for sub in [Split::SetOps, Split::Comparisons] {
                    assert_eq!(
                        split_top_level(&p.promql, sub).len(),
                        1,
                        "{}: {}",
                        p.origin,
                        p.promql
                    );
                }
                assert!(!p.promql.contains("absent"), "{}", p.promql);
            }
        }
        let lag = exprs
            .iter()
            .filter(|e| e.origin.starts_with("alerts.yml: TcgConsumerLagGrowing ("))
            .map(|e| e.promql.as_str())
            .collect::<Vec<_>>();
        assert_eq!(
            lag,
            [
                r#"sum(tcg_consumer_lag{topic="tcg.quotes.raw.v1"})"#,
                r#"deriv(sum(tcg_consumer_lag{topic="tcg.quotes.raw.v1"})[15m:5s])"#
            ]
        );
    }

    #[test]
    fn every_dashboard_expression_is_found_substituted_and_comparison_free() {
        let exprs = expressions(repo_root());
        let dash: Vec<_> = exprs
            .iter()
            .filter(|e| e.origin.starts_with("pipeline-health.json: "))
            .collect();
        assert!(dash.len() >= 25, "{dash:#?}");
        for e in &dash {
            assert!(!e.promql.contains('$'), "{}: {}", e.origin, e.promql);
            assert!(e.needs_data);
            assert_eq!(
                data_parts(&e.promql),
                std::slice::from_ref(&e.promql),
                "{}: a comparison in a panel",
                e.origin
            );
        }
        assert!(dash.iter().any(|e| e.promql.contains("[30s]")));
        // Only the pipeline-health dashboard queries Prometheus.
        assert!(
            exprs
                .iter()
                .all(|e| e.origin.starts_with("pipeline-health.json: ")
                    || e.origin.starts_with("alerts.yml: "))
        );
    }

    /// Every expression parses on the real Prometheus (empty results allowed: nothing is
    /// scraped) and `alerts.yml` loads as the rule file of [`config`].
    /// `cargo test --test stack_run -- --ignored every_expression_is_valid_promql`
    #[tokio::test(flavor = "multi_thread")]
    #[ignore = "starts Prometheus; run with --ignored"]
    async fn every_expression_is_valid_promql() {
        let alerts = std::fs::read_to_string(repo_root().join("deploy/prometheus/alerts.yml"))
            .expect("alerts.yml");
        let prom = tcg_engines::Prometheus::start_with(
            &config(&[("tcg-api", vec!["127.0.0.1:9".into()])]),
            &[("alerts.yml", &alerts)],
        )
        .unwrap_or_else(|e| panic!("{e}"));
        let exprs: Vec<Expr> = expressions(repo_root())
            .into_iter()
            .map(|e| Expr {
                needs_data: false,
                ..e
            })
            .collect();
        let failed: Vec<String> = check_all(&prom.url(), &exprs)
            .await
            .into_iter()
            .filter_map(|(_, r)| r.err())
            .collect();
        assert!(failed.is_empty(), "{failed:#?}");
        // The rule file is loaded: its alerting rules are listed.
        let rules = wait_for_series(
            &prom.url(),
            r#"up{job="tcg-api"} == 0"#,
            Duration::from_secs(30),
        )
        .await;
        assert_eq!(rules, Ok(1), "{}", prom.log());
        let body: Value = reqwest::get(format!("{}/api/v1/rules", prom.url()))
            .await
            .expect("rules")
            .json()
            .await
            .expect("json");
        let names = body.to_string();
        assert!(names.contains("TcgNoTicks"), "{names}");
    }

    #[test]
    fn config_lists_every_job() {
        let c = config(&[
            (
                "tcg-processor",
                vec!["127.0.0.1:1".into(), "127.0.0.1:2".into()],
            ),
            ("questdb", vec!["127.0.0.1:3".into()]),
        ]);
        let y: serde_yaml_ng::Value = serde_yaml_ng::from_str(&c).expect(&c);
        assert_eq!(y["global"]["scrape_interval"].as_str(), Some("1s"));
        assert_eq!(y["rule_files"][0].as_str(), Some("alerts.yml"));
        assert_eq!(
            y["scrape_configs"][0]["job_name"].as_str(),
            Some("tcg-processor")
        );
        assert_eq!(
            y["scrape_configs"][0]["static_configs"][0]["targets"][1].as_str(),
            Some("127.0.0.1:2")
        );
        assert_eq!(y["scrape_configs"][1]["job_name"].as_str(), Some("questdb"));
    }
}
