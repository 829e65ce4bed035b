//! Every Grafana panel of `grafana/dashboards/*.json` that queries QuestDB, run over PGWire the
//! way Grafana and the QuestDB plugin (`questdb-questdb-datasource`) would run it: template
//! variables resolved and substituted by Grafana's rules, then the plugin's macros expanded.
//!
//! References (the plugin is github.com/questdb/grafana-questdb-datasource):
//!
//! - variables: `src/data/QuestDbDatasource.ts`: `metricFindQuery` (a one-column result gives
//!   values; with two or more, the first column is the value and the second the text) and
//!   `format` (a multi value is `'a','b'`, a single value is inserted as it is, so a quoted use
//!   is written `'$x'` in the SQL);
//! - macros: `pkg/macros/macros.go`: `$__timeFilter(c)` is
//!   `c >= cast(FROM_US as timestamp) AND c <= cast(TO_US as timestamp)` (microseconds since the
//!   epoch), `$__fromTime` / `$__toTime` are `cast(US as timestamp)`, and `$__sampleByInterval`
//!   is the query interval as `Nd` (whole days), `Nh` (at least an hour, truncated), `Ns` or
//!   `NT` (milliseconds). Newer plugin versions send the time bounds as bind parameters
//!   (`pkg/plugin/timeparam.go`); the literal form here is the plugin's fallback and the same
//!   SQL to the server;
//! - the interval: Grafana's `rangeutil.calculateInterval` (`(to - from) / maxDataPoints`,
//!   rounded by `roundInterval`, at least the panel's `interval`).

use std::{
    path::Path,
    sync::Arc,
    time::{Duration, SystemTime, UNIX_EPOCH},
};

use serde_json::Value;
use tokio_postgres::{Client, NoTls, SimpleQueryMessage};

/// The datasource type of the QuestDB plugin.
const QUESTDB: &str = "questdb-questdb-datasource";

/// Grafana's data points per panel when a panel sets no `maxDataPoints` (it uses the panel's
/// width in pixels; a typical one).
const DEFAULT_MAX_DATA_POINTS: u64 = 1000;

/// Candidate values tried per variable, and variable assignments (leaves) tried per dashboard,
/// while looking for values for which every panel returns rows.
const MAX_CANDIDATES: usize = 8;
const MAX_ASSIGNMENTS: usize = 64;

/// The outcome of one panel (one per repeated instance of a repeated panel).
#[derive(Debug, Clone)]
pub struct PanelOutcome {
    /// The dashboard's file name.
    pub dashboard: String,
    /// The panel's title, variables substituted.
    pub panel: String,
    /// The SQL as sent: variables substituted, macros expanded.
    pub sql: String,
    /// The variables' values the panel ran with (`name=value`).
    pub variables: Vec<String>,
    /// The number of rows with a value and the result's columns, or why the panel fails: the
    /// query failed, returned no row with a non-NULL value, or lacks a column the panel uses
    /// ([`used_columns`]).
    pub result: Result<(usize, Vec<String>), String>,
}

impl PanelOutcome {
    /// `dashboard: panel` and the verdict, for a test's failure message.
    pub fn describe(&self) -> String {
        match &self.result {
            Ok((rows, cols)) => format!(
                "{}: {}: ok, {rows} rows, columns {cols:?}",
                self.dashboard, self.panel
            ),
            Err(e) => format!(
                "{}: {}: FAILED: {e}\n  variables: {}\n  sql: {}",
                self.dashboard,
                self.panel,
                self.variables.join(", "),
                self.sql
            ),
        }
    }
}

/// Runs every QuestDB panel of every dashboard under `repo_root` over the PGWire server at
/// `pg_url` with the dashboard time range `from..to`. The template variables of each
/// dashboard are resolved as Grafana does (see [`Search`]); when a variable has several
/// values, values are tried in Grafana's order until every panel returns rows, and the
/// outcomes of the best assignment are returned (all ok, or the one with fewest failures).
///
/// `prefer` names values (`(variable, value)`, e.g.
/// `("card", "1001")`) first for the variables of every dashboard that has them, when the
/// variable offers that value: for a catalog larger than the [`MAX_CANDIDATES`] values tried
/// per variable, the test names the card it knows has every kind of tick.
pub async fn run_dashboards_preferring(
    pg_url: &str,
    repo_root: &Path,
    from: SystemTime,
    to: SystemTime,
    prefer: &[(&str, &str)],
) -> Vec<PanelOutcome> {
    let client = match connect(pg_url).await {
        Ok(c) => c,
        Err(e) => {
            return vec![PanelOutcome {
                dashboard: "(all)".into(),
                panel: "(connection)".into(),
                sql: String::new(),
                variables: Vec::new(),
                result: Err(format!("connecting to {pg_url}: {e}")),
            }];
        }
    };
    let range = TimeRange::new(from, to);
    let mut out = Vec::new();
    for (file, dashboard) in dashboards(repo_root) {
        out.extend(run_dashboard(&client, &file, &dashboard, range, prefer).await);
    }
    out
}

/// A connection with its driver task spawned.
async fn connect(pg_url: &str) -> Result<Client, tokio_postgres::Error> {
    let (client, conn) = tokio_postgres::connect(pg_url, NoTls).await?;
    tokio::spawn(async move {
        let _ = conn.await;
    });
    Ok(client)
}

/// Every `grafana/dashboards/*.json`, by file name, sorted.
pub fn dashboards(repo_root: &Path) -> Vec<(String, Value)> {
    let dir = repo_root.join("grafana/dashboards");
    let mut paths: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    paths.sort();
    paths
        .into_iter()
        .map(|p| {
            let text = std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{e}"));
            let name = p
                .file_name()
                .map_or_else(String::new, |n| n.to_string_lossy().into_owned());
            let json = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{name}: {e}"));
            (name, json)
        })
        .collect()
}

// ---------------------------------------------------------------------------------------------
// Time range and interval.

/// A dashboard's time range, in microseconds since the epoch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TimeRange {
    pub from_us: i64,
    pub to_us: i64,
}

impl TimeRange {
    pub fn new(from: SystemTime, to: SystemTime) -> Self {
        let us = |t: SystemTime| {
            t.duration_since(UNIX_EPOCH)
                .map_or(0, |d| i64::try_from(d.as_micros()).unwrap_or(i64::MAX))
        };
        Self {
            from_us: us(from),
            to_us: us(to),
        }
    }

    fn span_ms(self) -> u64 {
        u64::try_from((self.to_us - self.from_us) / 1000).unwrap_or(0)
    }
}

/// Grafana's query interval for a panel: `(to - from) / maxDataPoints` rounded by
/// [`round_interval`], at least the panel's `interval` (its "min interval").
pub fn panel_interval(panel: &Value, range: TimeRange) -> Duration {
    let points = panel["maxDataPoints"]
        .as_u64()
        .filter(|n| *n > 0)
        .unwrap_or(DEFAULT_MAX_DATA_POINTS);
    let raw = round_interval(range.span_ms() / points);
    let min = panel["interval"]
        .as_str()
        .and_then(parse_grafana_duration)
        .unwrap_or(Duration::ZERO);
    raw.max(min)
}

/// Grafana's `roundInterval` (packages/grafana-data/src/datetime/rangeutil.ts): an interval in
/// milliseconds to a "nice" one.
pub fn round_interval(ms: u64) -> Duration {
    const STEPS: [(u64, u64); 29] = [
        (10, 1),
        (15, 10),
        (35, 20),
        (75, 50),
        (150, 100),
        (350, 200),
        (750, 500),
        (1_500, 1_000),
        (3_500, 2_000),
        (7_500, 5_000),
        (12_500, 10_000),
        (17_500, 15_000),
        (25_000, 20_000),
        (45_000, 30_000),
        (90_000, 60_000),
        (210_000, 120_000),
        (450_000, 300_000),
        (750_000, 600_000),
        (1_050_000, 900_000),
        (1_500_000, 1_200_000),
        (2_700_000, 1_800_000),
        (5_400_000, 3_600_000),
        (9_000_000, 7_200_000),
        (16_200_000, 10_800_000),
        (32_400_000, 21_600_000),
        (86_400_000, 43_200_000),
        (604_800_000, 86_400_000),
        (1_814_400_000, 604_800_000),
        (3_628_800_000, 2_592_000_000),
    ];
    let out = STEPS
        .iter()
        .find(|(below, _)| ms < *below)
        .map_or(31_536_000_000, |(_, r)| *r);
    Duration::from_millis(out)
}

/// `30s`, `1h`, `500ms`, `7d`, `1w` as a duration.
fn parse_grafana_duration(s: &str) -> Option<Duration> {
    let s = s.trim().trim_start_matches('>');
    let split = s.find(|c: char| !c.is_ascii_digit())?;
    let (n, unit) = s.split_at(split);
    let n: u64 = n.parse().ok()?;
    let secs = match unit {
        "ms" => return Some(Duration::from_millis(n)),
        "s" => 1,
        "m" => 60,
        "h" => 3_600,
        "d" => 86_400,
        "w" => 604_800,
        "y" => 31_536_000,
        _ => return None,
    };
    Some(Duration::from_secs(n * secs))
}

// ---------------------------------------------------------------------------------------------
// Macros (pkg/macros/macros.go of the plugin).

/// The plugin's macros expanded in `sql`: `$__timeFilter(col)`, `$__fromTime`, `$__toTime`,
/// `$__sampleByInterval` (for `interval`). Other `$__name`s are left as they are (the
/// plugin's SQL data source would fail on them as unknown macros; the server then says so).
pub fn expand_macros(sql: &str, range: TimeRange, interval: Duration) -> String {
    let mut out = String::with_capacity(sql.len());
    let mut rest = sql;
    while let Some(at) = rest.find("$__") {
        out.push_str(&rest[..at]);
        let after = &rest[at + 3..];
        let name_len = after
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .unwrap_or(after.len());
        let name = &after[..name_len];
        let (args, used) = macro_args(&after[name_len..]);
        let expansion = match name {
            "timeFilter" => args.first().map(|col| {
                format!(
                    "{col} >= cast({} as timestamp) AND {col} <= cast({} as timestamp)",
                    range.from_us, range.to_us
                )
            }),
            "fromTime" => Some(format!("cast({} as timestamp)", range.from_us)),
            "toTime" => Some(format!("cast({} as timestamp)", range.to_us)),
            "sampleByInterval" => Some(sample_by_interval(interval)),
            _ => None,
        };
        match expansion {
            Some(e) => {
                out.push_str(&e);
                rest = &after[name_len + used..];
            }
            None => {
                out.push_str("$__");
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

/// A macro's arguments when `s` starts with `(…)` (balanced parentheses), and the bytes they
/// take; none and 0 otherwise.
fn macro_args(s: &str) -> (Vec<String>, usize) {
    if !s.starts_with('(') {
        return (Vec::new(), 0);
    }
    let mut depth = 0usize;
    for (i, c) in s.char_indices() {
        match c {
            '(' => depth += 1,
            ')' => {
                depth -= 1;
                if depth == 0 {
                    let args = s[1..i]
                        .split(',')
                        .map(|a| a.trim().to_owned())
                        .filter(|a| !a.is_empty())
                        .collect();
                    return (args, i + 1);
                }
            }
            _ => {}
        }
    }
    (Vec::new(), 0)
}

/// The plugin's `SampleByInterval`: a whole number of hours of at least 24 as `Nd` (hours / 24,
/// truncated as the plugin does: 36 h gives `1d`), else at least an hour as `Nh` (truncated),
/// else whole seconds as `Ns`, else milliseconds as `NT` (at least 1).
pub fn sample_by_interval(interval: Duration) -> String {
    let secs = interval.as_secs();
    let hours = secs / 3_600;
    if hours > 0 {
        if hours >= 24 && interval == Duration::from_secs(hours * 3_600) {
            return format!("{}d", hours / 24);
        }
        return format!("{hours}h");
    }
    if secs > 0 {
        return format!("{secs}s");
    }
    format!("{}T", interval.as_millis().max(1))
}

// ---------------------------------------------------------------------------------------------
// Template variables.

/// A variable's value as Grafana holds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum VarValue {
    /// A single-value variable (or one instance of a repeated panel): inserted as it is.
    Single(String),
    /// A multi-value variable (also with one value selected, and "All"): `'a','b'`.
    Multi(Vec<String>),
}

impl VarValue {
    /// The text the plugin's `format` inserts into SQL.
    fn sql(&self) -> String {
        match self {
            VarValue::Single(v) => v.clone(),
            VarValue::Multi(vs) => format!("'{}'", vs.join("','")),
        }
    }

    /// The text Grafana shows in a title.
    fn text(&self) -> String {
        match self {
            VarValue::Single(v) => v.clone(),
            VarValue::Multi(vs) => vs.join(" + "),
        }
    }

    /// The values a panel repeated by this variable is repeated for.
    fn each(&self) -> Vec<String> {
        match self {
            VarValue::Single(v) => vec![v.clone()],
            VarValue::Multi(vs) => vs.clone(),
        }
    }
}

/// Variables bound so far, in the dashboard's order.
type Bound = Vec<(String, VarValue)>;

/// Grafana's template-variable substitution: `$name`, `${name}`, `${name:format}` (the format
/// ignored) and `[[name]]` of a bound variable become its SQL text; `$__interval`,
/// `$__interval_ms`, `$__from` and `$__to` are Grafana's built-ins; anything else (the
/// plugin's macros) is left alone.
pub fn substitute(sql: &str, vars: &Bound, range: TimeRange, interval: Duration) -> String {
    let re = regex::Regex::new(r"\$\{(\w+)(?::[^}]*)?\}|\[\[(\w+)(?::[^\]]*)?\]\]|\$(\w+)")
        .expect("regex");
    re.replace_all(sql, |c: &regex::Captures<'_>| {
        let name = c
            .get(1)
            .or_else(|| c.get(2))
            .or_else(|| c.get(3))
            .map_or("", |m| m.as_str());
        builtin(name, range, interval)
            .or_else(|| {
                vars.iter()
                    .rev()
                    .find(|(n, _)| n == name)
                    .map(|(_, v)| v.sql())
            })
            .unwrap_or_else(|| c[0].to_owned())
    })
    .into_owned()
}

/// Grafana's built-in variables.
fn builtin(name: &str, range: TimeRange, interval: Duration) -> Option<String> {
    Some(match name {
        "__interval" => format_grafana_duration(interval),
        "__interval_ms" => interval.as_millis().to_string(),
        "__from" => (range.from_us / 1000).to_string(),
        "__to" => (range.to_us / 1000).to_string(),
        _ => return None,
    })
}

/// An interval as Grafana writes `$__interval`: `1h`, `30s`, `500ms`.
fn format_grafana_duration(d: Duration) -> String {
    let ms = d.as_millis();
    for (unit, n) in [
        ("d", 86_400_000),
        ("h", 3_600_000),
        ("m", 60_000),
        ("s", 1_000),
    ] {
        if ms >= n && ms.is_multiple_of(n) {
            return format!("{}{unit}", ms / n);
        }
    }
    format!("{ms}ms")
}

/// One template variable of a dashboard.
#[derive(Debug, Clone)]
struct Variable {
    name: String,
    json: Value,
}

impl Variable {
    fn kind(&self) -> &str {
        self.json["type"].as_str().unwrap_or("")
    }

    fn multi(&self) -> bool {
        self.json["multi"].as_bool().unwrap_or(false)
    }

    fn include_all(&self) -> bool {
        self.json["includeAll"].as_bool().unwrap_or(false)
    }

    /// The current value stored in the dashboard, as Grafana holds it.
    fn current(&self) -> Option<VarValue> {
        let v = &self.json["current"]["value"];
        match v {
            Value::Array(a) => Some(VarValue::Multi(
                a.iter()
                    .filter_map(|x| x.as_str().map(str::to_owned))
                    .collect(),
            )),
            Value::String(s) if self.multi() => Some(VarValue::Multi(vec![s.clone()])),
            Value::String(s) => Some(VarValue::Single(s.clone())),
            _ => None,
        }
    }

    /// A custom variable's options (`a,b,c`, or its `options`).
    fn custom_options(&self) -> Vec<String> {
        let from_opts: Vec<String> = self.json["options"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|o| o["value"].as_str().map(str::to_owned))
            .collect();
        if !from_opts.is_empty() {
            return from_opts;
        }
        self.json["query"]
            .as_str()
            .unwrap_or("")
            .split(',')
            .map(|s| s.trim().to_owned())
            .filter(|s| !s.is_empty())
            .collect()
    }

    /// The value candidates in the order tried: Grafana's default first (the stored current
    /// value; for a query variable without one, "All" when it includes All, else the first
    /// option), then the other options one at a time; a `preferred` value among the options
    /// comes before all of them.
    fn candidates(&self, options: Vec<String>, preferred: Option<&str>) -> Vec<VarValue> {
        let one = |o: &String| {
            if self.multi() {
                VarValue::Multi(vec![o.clone()])
            } else {
                VarValue::Single(o.clone())
            }
        };
        let mut out = Vec::new();
        if let Some(p) = preferred.and_then(|p| options.iter().find(|o| *o == p)) {
            out.push(one(p));
        }
        if let Some(c) = self.current().filter(|_| self.kind() != "query") {
            if !out.contains(&c) {
                out.push(c);
            }
        } else if self.include_all() && !options.is_empty() {
            out.push(VarValue::Multi(options.clone()));
        }
        for o in &options {
            let v = one(o);
            if !out.contains(&v) {
                out.push(v);
            }
        }
        out.truncate(MAX_CANDIDATES);
        out
    }
}

/// The dashboard's variables, in its order (which is their dependency order here: each one's
/// query only names variables before it).
fn variables(dashboard: &Value) -> Vec<Variable> {
    dashboard["templating"]["list"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|v| {
            Some(Variable {
                name: v["name"].as_str()?.to_owned(),
                json: v.clone(),
            })
        })
        .collect()
}

/// A variable's options, as Grafana computes them: a query variable runs its SQL (variables
/// before it substituted, macros expanded for the dashboard range) and takes the first column
/// as values, or with two or more columns the first as value and the second as text, sorted by
/// its `sort`; a custom variable lists its options; a textbox has its default.
async fn options(
    client: &Client,
    var: &Variable,
    bound: &Bound,
    range: TimeRange,
) -> Result<Vec<String>, String> {
    match var.kind() {
        "query" => {
            let raw = var.json["query"]["rawSql"]
                .as_str()
                .or_else(|| var.json["query"].as_str())
                .or_else(|| var.json["definition"].as_str())
                .unwrap_or("");
            let sql = expand_macros(
                &substitute(raw, bound, range, Duration::ZERO),
                range,
                Duration::ZERO,
            );
            let result = run_sql(client, &sql)
                .await
                .map_err(|e| format!("variable ${}: `{sql}`: {e}", var.name))?;
            Ok(query_options(
                &result,
                var.json["sort"].as_u64().unwrap_or(0),
            ))
        }
        "custom" => Ok(var.custom_options()),
        _ => Ok(var.current().map(|v| v.each()).unwrap_or_default()),
    }
}

/// Values of a query variable's result, deduplicated, sorted as Grafana's `sort` says (1, 2:
/// alphabetical asc / desc; 3, 4: numerical; 5, 6: alphabetical case-insensitive; 0: as
/// returned). The sort is by text.
fn query_options(result: &SqlResult, sort: u64) -> Vec<String> {
    let text_col = usize::from(result.columns.len() > 1);
    let mut pairs: Vec<(String, String)> = Vec::new();
    for row in &result.rows {
        let (Some(Some(value)), Some(text)) = (row.first(), row.get(text_col)) else {
            continue;
        };
        let text = text.clone().unwrap_or_default();
        if !pairs.iter().any(|(v, _)| v == value) {
            pairs.push((value.clone(), text));
        }
    }
    let num = |s: &str| s.parse::<f64>().unwrap_or(f64::NAN);
    match sort {
        1 | 2 => pairs.sort_by(|a, b| a.1.cmp(&b.1)),
        3 | 4 => pairs.sort_by(|a, b| num(&a.1).total_cmp(&num(&b.1))),
        5 | 6 => pairs.sort_by_key(|p| p.1.to_lowercase()),
        _ => {}
    }
    if matches!(sort, 2 | 4 | 6) {
        pairs.reverse();
    }
    pairs.into_iter().map(|(v, _)| v).collect()
}

// ---------------------------------------------------------------------------------------------
// Panels.

/// The QuestDB panels of a dashboard (rows' nested panels included) with their targets'
/// `rawSql`: a target counts when its own datasource, or else its panel's, is the plugin.
fn questdb_panels(dashboard: &Value) -> Vec<(&Value, Vec<String>)> {
    let mut panels = Vec::new();
    for p in dashboard["panels"].as_array().into_iter().flatten() {
        panels.push(p);
        panels.extend(p["panels"].as_array().into_iter().flatten());
    }
    panels
        .into_iter()
        .filter_map(|p| {
            let sqls: Vec<String> = p["targets"]
                .as_array()
                .into_iter()
                .flatten()
                .filter(|t| {
                    let ds = if t["datasource"].is_object() {
                        &t["datasource"]
                    } else {
                        &p["datasource"]
                    };
                    ds["type"] == QUESTDB
                })
                .filter_map(|t| t["rawSql"].as_str().map(str::to_owned))
                .collect();
            (!sqls.is_empty()).then_some((p, sqls))
        })
        .collect()
}

/// The columns a panel uses, which its query must return:
///
/// - every field named by a `byName` matcher of its `fieldConfig.overrides`;
/// - every field named by its transformations: `organize` (`renameByName`, `indexByName`,
///   `excludeByName`), `filterFieldsByName` (`include.names`), `sortBy` (`field`),
///   `groupBy` (`fields`), `calculateField` (`binary.left` / `binary.right`, `reduce.include`);
/// - the fields of its options: `sortBy[].displayName` (tables), `reduceOptions.fields` when
///   it is a plain name (stat, gauge), `fields` of a candlestick (the open/high/low/close/
///   volume mapping);
/// - by panel type: `time` for `timeseries`, `candlestick`, `state-timeline`, `barchart`
///   with a time axis, `trend` and `heatmap`; `open`, `high`, `low`, `close` for a candlestick
///   without its own mapping, and `volume` too when its mode shows volume.
pub fn used_columns(panel: &Value) -> Vec<String> {
    let mut cols: Vec<String> = Vec::new();
    let mut add = |s: &str| {
        if !s.is_empty() && !cols.iter().any(|c| c == s) {
            cols.push(s.to_owned());
        }
    };
    let ptype = panel["type"].as_str().unwrap_or("");
    if matches!(
        ptype,
        "timeseries" | "candlestick" | "state-timeline" | "trend" | "heatmap"
    ) {
        add("time");
    }
    for o in panel["fieldConfig"]["overrides"]
        .as_array()
        .into_iter()
        .flatten()
    {
        if o["matcher"]["id"] == "byName" {
            add(o["matcher"]["options"].as_str().unwrap_or(""));
        }
    }
    for t in panel["transformations"].as_array().into_iter().flatten() {
        let opts = &t["options"];
        match t["id"].as_str().unwrap_or("") {
            "organize" => {
                for key in ["renameByName", "indexByName", "excludeByName"] {
                    for name in opts[key].as_object().into_iter().flat_map(|m| m.keys()) {
                        add(name);
                    }
                }
            }
            "filterFieldsByName" => {
                for n in opts["include"]["names"].as_array().into_iter().flatten() {
                    add(n.as_str().unwrap_or(""));
                }
            }
            "sortBy" => {
                for s in opts["sort"].as_array().into_iter().flatten() {
                    add(s["field"].as_str().unwrap_or(""));
                }
            }
            "groupBy" => {
                for name in opts["fields"]
                    .as_object()
                    .into_iter()
                    .flat_map(|m| m.keys())
                {
                    add(name);
                }
            }
            "calculateField" => {
                add(opts["binary"]["left"].as_str().unwrap_or(""));
                add(opts["binary"]["right"].as_str().unwrap_or(""));
                for n in opts["reduce"]["include"].as_array().into_iter().flatten() {
                    add(n.as_str().unwrap_or(""));
                }
            }
            _ => {}
        }
    }
    let options = &panel["options"];
    for s in options["sortBy"].as_array().into_iter().flatten() {
        add(s["displayName"].as_str().unwrap_or(""));
    }
    if let Some(f) = options["reduceOptions"]["fields"].as_str() {
        let plain = f.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
        if plain {
            add(f);
        }
    }
    if ptype == "candlestick" {
        let mapping = options["fields"].as_object();
        let mode = options["mode"].as_str().unwrap_or("candles+volume");
        for key in ["open", "high", "low", "close", "volume"] {
            let wanted = key != "volume" || mode.contains("volume");
            match mapping.and_then(|m| m.get(key)).and_then(Value::as_str) {
                Some(name) => add(name),
                None if wanted => add(key),
                None => {}
            }
        }
    }
    cols
}

/// A panel's title with the variables substituted as Grafana shows them.
fn title(panel: &Value, vars: &Bound) -> String {
    let t = panel["title"].as_str().unwrap_or("(untitled)");
    let mut out = t.to_owned();
    for (name, v) in vars.iter().rev() {
        out = out.replace(&format!("${{{name}}}"), &v.text());
        out = out.replace(&format!("${name}"), &v.text());
    }
    out
}

/// Runs every QuestDB panel of one dashboard for one assignment of its variables; a repeated
/// panel once per value of its `repeat` variable (that value bound as a single value).
async fn run_panels(
    client: &Client,
    file: &str,
    dashboard: &Value,
    vars: &Bound,
    range: TimeRange,
) -> Vec<PanelOutcome> {
    let mut out = Vec::new();
    for (panel, sqls) in questdb_panels(dashboard) {
        for scoped in repeat_scopes(panel, vars) {
            let interval = panel_interval(panel, range);
            for raw in &sqls {
                let sql =
                    expand_macros(&substitute(raw, &scoped, range, interval), range, interval);
                let result = run_sql(client, &sql)
                    .await
                    .and_then(|r| check_result(&r, &used_columns(panel)));
                out.push(PanelOutcome {
                    dashboard: file.to_owned(),
                    panel: title(panel, &scoped),
                    sql,
                    variables: scoped
                        .iter()
                        .map(|(n, v)| format!("{n}={}", v.sql()))
                        .collect(),
                    result,
                });
            }
        }
    }
    out
}

/// The variable bindings of each instance of a panel: one per value of its `repeat` variable,
/// or the dashboard's as they are.
fn repeat_scopes(panel: &Value, vars: &Bound) -> Vec<Bound> {
    let Some(rep) = panel["repeat"].as_str().filter(|s| !s.is_empty()) else {
        return vec![vars.clone()];
    };
    let Some((_, value)) = vars.iter().find(|(n, _)| n == rep) else {
        return vec![vars.clone()];
    };
    value
        .each()
        .into_iter()
        .map(|v| {
            let mut b = vars.clone();
            b.push((rep.to_owned(), VarValue::Single(v)));
            b
        })
        .collect()
}

/// A panel's verdict on its result: rows with a non-NULL value, and every used column.
fn check_result(r: &SqlResult, used: &[String]) -> Result<(usize, Vec<String>), String> {
    let missing: Vec<&String> = used.iter().filter(|c| !r.columns.contains(c)).collect();
    if !missing.is_empty() {
        return Err(format!(
            "the result lacks the column(s) {missing:?} the panel uses (it has {:?})",
            r.columns
        ));
    }
    let rows = r
        .rows
        .iter()
        .filter(|row| row.iter().any(Option::is_some))
        .count();
    if rows == 0 {
        return Err(format!(
            "no row with a value ({} rows, all NULL; columns {:?})",
            r.rows.len(),
            r.columns
        ));
    }
    Ok((rows, r.columns.clone()))
}

/// One dashboard: its variables resolved (see [`Search`]) and its panels run.
async fn run_dashboard(
    client: &Client,
    file: &str,
    dashboard: &Value,
    range: TimeRange,
    prefer: &[(&str, &str)],
) -> Vec<PanelOutcome> {
    let vars = variables(dashboard);
    let mut search = Search {
        client,
        file,
        dashboard,
        range,
        vars: &vars,
        prefer,
        leaves: 0,
        best: None,
        last_var_error: None,
    };
    search.resolve(0, Vec::new()).await;
    match search.best {
        Some(best) => best,
        None => {
            let why = search
                .last_var_error
                .unwrap_or_else(|| "no value for the variables".into());
            questdb_panels(dashboard)
                .into_iter()
                .map(|(p, sqls)| PanelOutcome {
                    dashboard: file.to_owned(),
                    panel: title(p, &Vec::new()),
                    sql: sqls.join("; "),
                    variables: Vec::new(),
                    result: Err(format!("not run: {why}")),
                })
                .collect()
        }
    }
}

/// The search for variable values with which every panel returns rows: a depth-first walk
/// over each variable's candidates in Grafana's order ([`Variable::candidates`]), at most
/// [`MAX_ASSIGNMENTS`] complete assignments.
struct Search<'a> {
    client: &'a Client,
    file: &'a str,
    dashboard: &'a Value,
    range: TimeRange,
    vars: &'a [Variable],
    prefer: &'a [(&'a str, &'a str)],
    leaves: usize,
    best: Option<Vec<PanelOutcome>>,
    last_var_error: Option<String>,
}

impl Search<'_> {
    /// Whether the best assignment so far has every panel ok.
    fn done(&self) -> bool {
        self.best
            .as_ref()
            .is_some_and(|b| b.iter().all(|o| o.result.is_ok()))
    }

    /// Binds variable `idx` and those after it, recursively; records the outcomes of each
    /// complete assignment when they beat the best so far (fewer failing panels, then more ok).
    fn resolve(
        &mut self,
        idx: usize,
        bound: Bound,
    ) -> std::pin::Pin<Box<dyn std::future::Future<Output = ()> + Send + '_>> {
        Box::pin(async move {
            if self.done() || self.leaves >= MAX_ASSIGNMENTS {
                return;
            }
            let Some(var) = self.vars.get(idx) else {
                self.leaves += 1;
                let outcomes =
                    run_panels(self.client, self.file, self.dashboard, &bound, self.range).await;
                // Fewer failing panels is better; then more panels ok.
                let score = |o: &[PanelOutcome]| {
                    let failed = o.iter().filter(|x| x.result.is_err()).count();
                    (std::cmp::Reverse(failed), o.len() - failed)
                };
                if self
                    .best
                    .as_ref()
                    .is_none_or(|b| score(&outcomes) > score(b))
                {
                    self.best = Some(outcomes);
                }
                return;
            };
            let candidates = match options(self.client, var, &bound, self.range).await {
                Ok(opts) if !opts.is_empty() => {
                    let preferred = self.prefer.iter().find(|(n, _)| *n == var.name);
                    var.candidates(opts, preferred.map(|(_, v)| *v))
                }
                Ok(_) => {
                    self.last_var_error = Some(format!(
                        "variable ${} has no value (with {})",
                        var.name,
                        describe_bound(&bound)
                    ));
                    return;
                }
                Err(e) => {
                    self.last_var_error = Some(e);
                    return;
                }
            };
            for c in candidates {
                let mut next = bound.clone();
                next.push((var.name.clone(), c));
                self.resolve(idx + 1, next).await;
                if self.done() || self.leaves >= MAX_ASSIGNMENTS {
                    return;
                }
            }
        })
    }
}

fn describe_bound(bound: &Bound) -> String {
    if bound.is_empty() {
        return "no other variable".into();
    }
    bound
        .iter()
        .map(|(n, v)| format!("{n}={}", v.sql()))
        .collect::<Vec<_>>()
        .join(", ")
}

// ---------------------------------------------------------------------------------------------
// SQL over PGWire.

/// A result as text: column names and rows of optional values.
#[derive(Debug, Clone, Default)]
pub struct SqlResult {
    pub columns: Vec<String>,
    pub rows: Vec<Vec<Option<String>>>,
}

/// Runs `sql` with the simple query protocol (plain SQL, as the plugin sends it), values as
/// text.
pub async fn run_sql(client: &Client, sql: &str) -> Result<SqlResult, String> {
    let messages = client.simple_query(sql).await.map_err(|e| pg_error(&e))?;
    let mut out = SqlResult::default();
    for m in messages {
        match m {
            SimpleQueryMessage::RowDescription(cols) => {
                out.columns = column_names(&cols);
            }
            SimpleQueryMessage::Row(row) => {
                if out.columns.is_empty() {
                    out.columns = row.columns().iter().map(|c| c.name().to_owned()).collect();
                }
                out.rows.push(
                    (0..row.len())
                        .map(|i| row.get(i).map(str::to_owned))
                        .collect(),
                );
            }
            _ => {}
        }
    }
    Ok(out)
}

fn column_names(cols: &Arc<[tokio_postgres::SimpleColumn]>) -> Vec<String> {
    cols.iter().map(|c| c.name().to_owned()).collect()
}

/// The server's message (with its position) rather than tokio-postgres' "db error".
fn pg_error(e: &tokio_postgres::Error) -> String {
    match e.as_db_error() {
        Some(db) => match db.position() {
            Some(p) => format!("{} (at {p:?})", db.message()),
            None => db.message().to_owned(),
        },
        None => e.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn macros_expand_as_the_plugin_does() {
        let range = TimeRange {
            from_us: 1_000_000,
            to_us: 2_000_000,
        };
        let sql = expand_macros(
            "WHERE $__timeFilter(t.observed_at) AND x > $__fromTime AND y < $__toTime() SAMPLE BY $__sampleByInterval $__unknown",
            range,
            Duration::from_secs(3_600),
        );
        assert_eq!(
            sql,
            "WHERE t.observed_at >= cast(1000000 as timestamp) AND t.observed_at <= cast(2000000 as timestamp) \
             AND x > cast(1000000 as timestamp) AND y < cast(2000000 as timestamp) SAMPLE BY 1h $__unknown"
        );
        assert_eq!(sample_by_interval(Duration::from_secs(2 * 86_400)), "2d");
        assert_eq!(sample_by_interval(Duration::from_secs(36 * 3_600)), "1d");
        assert_eq!(sample_by_interval(Duration::from_secs(90 * 60)), "1h");
        assert_eq!(sample_by_interval(Duration::from_secs(900)), "900s");
        assert_eq!(sample_by_interval(Duration::from_millis(200)), "200T");
    }

    #[test]
    fn variables_are_formatted_as_grafana_does() {
        let range = TimeRange {
            from_us: 0,
            to_us: 60_000_000,
        };
        let vars: Bound = vec![
            ("card".into(), VarValue::Single("42".into())),
            (
                "source".into(),
                VarValue::Multi(vec!["a".into(), "b".into()]),
            ),
            ("kind".into(), VarValue::Single("market".into())),
        ];
        let sql = substitute(
            "id = $card AND s IN ($source) AND k = '${kind}' AND $__timeFilter(x) [[card]] $__interval_ms $nope",
            &vars,
            range,
            Duration::from_secs(60),
        );
        assert_eq!(
            sql,
            "id = 42 AND s IN ('a','b') AND k = 'market' AND $__timeFilter(x) 42 60000 $nope"
        );
    }

    #[test]
    fn intervals_follow_grafana() {
        let day = TimeRange {
            from_us: 0,
            to_us: 86_400_000_000,
        };
        let panel = serde_json::json!({"interval": "1h", "maxDataPoints": 200});
        assert_eq!(panel_interval(&panel, day), Duration::from_secs(3_600));
        let wide = TimeRange {
            from_us: 0,
            to_us: 90 * 86_400_000_000,
        };
        // 90 d / 200 = 10.8 h, rounded to 12 h.
        assert_eq!(
            panel_interval(&panel, wide),
            Duration::from_secs(12 * 3_600)
        );
        assert_eq!(
            panel_interval(&serde_json::json!({}), day),
            Duration::from_secs(60)
        );
    }

    #[test]
    fn used_columns_come_from_the_panel_json() {
        let p = serde_json::json!({
            "type": "candlestick",
            "options": {"mode": "candles+volume", "fields": {"volume": "ticks"}},
            "fieldConfig": {"overrides": [{"matcher": {"id": "byName", "options": "close"}}]},
            "transformations": [{"id": "organize", "options": {"renameByName": {"ticks": "Ticks"}}}]
        });
        assert_eq!(
            used_columns(&p),
            ["time", "close", "ticks", "open", "high", "low"]
        );
        let every_dashboard = dashboards(Path::new(env!("CARGO_MANIFEST_DIR")));
        let panels: usize = every_dashboard
            .iter()
            .map(|(_, d)| questdb_panels(d).len())
            .sum();
        assert!(panels >= 14, "{panels} QuestDB panels");
    }

    /// The fixture: a few rows in every table the dashboards read, bodies as the processor
    /// writes them (the schema types serialized).
    mod fixture {
        use std::time::{Duration, SystemTime};

        use tcg_schemas::{
            ids::{HoldingId, PortfolioEventId, PortfolioId, ProductId},
            money::Money,
            portfolio::{Grading, Holding, HoldingChange, PortfolioEvent},
            time::Timestamp,
            vocab::{Condition, Grade, Grader, Language, Printing},
        };
        use tokio_postgres::Client;

        use super::super::run_sql;

        /// `2024-05-01T00:00:00.000000Z` for `at`.
        pub fn iso(at: SystemTime) -> String {
            chrono::DateTime::<chrono::Utc>::from(at)
                .to_rfc3339_opts(chrono::SecondsFormat::Micros, true)
        }

        fn q(s: &str) -> String {
            format!("'{}'", s.replace('\'', "''"))
        }

        /// The DDL statements of `schemas/sql/questdb/ddl.sql` (split on `;;` lines, or on `;`
        /// for a file written that way), comments dropped.
        pub fn ddl(text: &str) -> Vec<String> {
            let body: String = text
                .lines()
                .filter(|l| !l.trim_start().starts_with("--"))
                .map(|l| format!("{l}\n"))
                .collect();
            let parts: Vec<&str> = if body.lines().any(|l| l.trim() == ";;") {
                body.split("\n;;").collect()
            } else {
                body.split(';').collect()
            };
            parts
                .into_iter()
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
                .collect()
        }

        /// Inserts `rows` (each a parenthesized VALUES tuple) into `table` (with `columns`),
        /// 100 rows per statement.
        async fn insert(client: &Client, table: &str, columns: &str, rows: &[String]) {
            for chunk in rows.chunks(100) {
                let sql = format!(
                    "INSERT INTO {table} ({columns}) VALUES {}",
                    chunk.join(", ")
                );
                run_sql(client, &sql)
                    .await
                    .unwrap_or_else(|e| panic!("{e}: {sql}"));
            }
        }

        /// The portfolio, its holdings (a raw and a graded one) and a sale.
        pub async fn portfolio(client: &Client, now: SystemTime) -> usize {
            let pid = PortfolioId(uuid::Uuid::new_v4());
            let at = |ago: u64| iso(now - Duration::from_secs(ago));
            insert(
                client,
                "portfolios",
                "updated_at, portfolio_id, owner, name, created_at, deleted",
                &[format!(
                    "({}, {}, 'alice', 'Main binder', {}, false)",
                    q(&at(86_400 * 5)),
                    q(&pid.to_string()),
                    q(&at(86_400 * 5))
                )],
            )
            .await;
            let raw = Holding {
                id: HoldingId(uuid::Uuid::new_v4()),
                portfolio_id: pid,
                product_id: ProductId(1001),
                printing: Printing::Holofoil,
                condition: Condition::NearMint,
                language: Language::English,
                grading: None,
                quantity: 2,
                cost_per_unit: Money::usd_cents(15_000),
                acquired_on: "2024-01-02".into(),
                note: None,
            };
            let graded = Holding {
                id: HoldingId(uuid::Uuid::new_v4()),
                grading: Some(Grading {
                    grader: Grader::Psa,
                    grade: Grade::parse("10").expect("grade"),
                }),
                quantity: 1,
                cost_per_unit: Money::usd_cents(80_000),
                ..raw.clone()
            };
            let rows: Vec<String> = [&raw, &graded]
                .iter()
                .map(|h| {
                    format!(
                        "({}, {}, {}, {}, false)",
                        q(&at(86_400 * 4)),
                        q(&h.id.to_string()),
                        q(&pid.to_string()),
                        q(&serde_json::to_string(h).expect("json"))
                    )
                })
                .collect();
            insert(
                client,
                "holdings",
                "updated_at, holding_id, portfolio_id, body, deleted",
                &rows,
            )
            .await;
            let sale = PortfolioEvent {
                id: PortfolioEventId(uuid::Uuid::new_v4()),
                portfolio_id: pid,
                holding_id: raw.id,
                at: Timestamp::from_micros(
                    super::super::TimeRange::new(now - Duration::from_secs(86_400), now).from_us,
                ),
                change: HoldingChange::Sold {
                    quantity: 1,
                    price_per_unit: Money::usd_cents(21_000),
                    fees: None,
                },
            };
            insert(
                client,
                "portfolio_events",
                "at, portfolio_id, holding_id, event_id, body",
                &[format!(
                    "({}, {}, {}, {}, {})",
                    q(&at(86_400)),
                    q(&pid.to_string()),
                    q(&raw.id.to_string()),
                    q(&sale.id.to_string()),
                    q(&serde_json::to_string(&sale).expect("json"))
                )],
            )
            .await;
            2
        }

        /// Three sets (the first by name without cards), three cards (the first by name
        /// without ticks); returns the rows written per table.
        pub async fn catalog(client: &Client, now: SystemTime) {
            let at = q(&iso(now - Duration::from_secs(86_400 * 10)));
            let sets = [(99, "Aaa Promos"), (100, "Base Set"), (101, "Jungle")]
                .map(|(g, n)| format!("({at}, 'pokemon', {g}, 3, {}, 'BS', '1999-01-09')", q(n)));
            insert(
                client,
                "card_sets",
                "updated_at, game, group_id, category_id, name, abbreviation, published_on",
                &sets,
            )
            .await;
            let products =
                [(1001, "Charizard"), (1002, "Blastoise"), (1003, "Venusaur")].map(|(p, n)| {
                    format!(
                        "({at}, 'pokemon', {p}, 3, 100, {}, {}, '4/102', 'Holo Rare', '', '')",
                        q(n),
                        q(&n.to_lowercase())
                    )
                });
            insert(
                client,
                "products",
                "updated_at, game, product_id, category_id, group_id, name, clean_name, number, rarity, image_url, url",
                &products,
            )
            .await;
        }

        /// Hourly ticks over the last 48 h for two cards (two sources, two kinds), and eBay
        /// items of one graded series; returns the number of rows.
        pub async fn ticks(client: &Client, now: SystemTime) -> usize {
            let mut rows = Vec::new();
            for hour in 0..48u64 {
                let at = q(&iso(now - Duration::from_secs(3_600 * (48 - hour))));
                for (product, base) in [(1001u64, 20_000i64), (1003, 5_000)] {
                    for (source, kind, delta) in [
                        ("tcgcsv", "market", 0i64),
                        ("tcgcsv", "low", -500),
                        ("tcgplayer", "market", 100),
                        ("tcgplayer", "lowest_listing", -300),
                    ] {
                        let price = base + delta + i64::try_from(hour).unwrap_or(0) * 25;
                        rows.push(format!(
                            "({at}, '{product}/holofoil/nm/en', '{source}', '{kind}', 'pokemon', 'USD', NULL, '', {product}, {price}, {price}, NULL, NULL, false)"
                        ));
                    }
                }
                if hour % 6 == 0 {
                    for (source, kind) in [("ebay_sold", "sold"), ("ebay_browse", "listing")] {
                        rows.push(format!(
                            "({at}, '1001/psa/10', '{source}', '{kind}', 'pokemon', 'USD', 'USD', 'v1|{hour}|0', 1001, 90000, 90000, 500, 87, false)"
                        ));
                    }
                }
            }
            insert(
                client,
                "ticks",
                "observed_at, series, source, kind, game, orig_currency, ship_currency, listing_id, product_id, price_cents, orig_minor, ship_minor, confidence, heartbeat",
                &rows,
            )
            .await;
            rows.len()
        }

        /// A few fired alerts.
        pub async fn alerts(client: &Client, now: SystemTime) -> usize {
            let rows: Vec<String> = (1..=3u64)
                .map(|i| {
                    format!(
                        "({}, 'alice', '1001/holofoil/nm/en', {}, {}, '{{}}')",
                        q(&iso(now - Duration::from_secs(3_600 * 5 * i))),
                        q(&uuid::Uuid::new_v4().to_string()),
                        q(&uuid::Uuid::new_v4().to_string())
                    )
                })
                .collect();
            insert(
                client,
                "alerts",
                "observed_at, owner, series, alert_id, rule_id, body",
                &rows,
            )
            .await;
            rows.len()
        }
    }

    /// Polls `SELECT count() FROM table` until it is `n` (WAL tables apply their writes a moment
    /// after the INSERT returns).
    async fn wait_rows(client: &Client, table: &str, n: usize) {
        let deadline = std::time::Instant::now() + Duration::from_secs(60);
        loop {
            let r = run_sql(client, &format!("SELECT count() FROM {table}")).await;
            let got = r
                .as_ref()
                .ok()
                .and_then(|r| r.rows.first()?.first()?.clone()?.parse::<usize>().ok());
            if got == Some(n) {
                return;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "{table}: {got:?} rows, want {n} ({r:?})"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// The development harness: a real QuestDB with the repository's schema and a small
    /// fixture; every QuestDB panel of every dashboard must return rows with its columns.
    /// `cargo test --test stack_run -- --ignored dashboards_run_against_a_fixture --nocapture`
    #[tokio::test(flavor = "multi_thread")]
    #[ignore = "starts QuestDB (Java); run with --ignored"]
    async fn dashboards_run_against_a_fixture() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        let qdb = tcg_engines::QuestDb::start().unwrap_or_else(|e| panic!("{e}"));
        let client = connect(&qdb.pg_url()).await.expect("pgwire");
        let ddl = std::fs::read_to_string(root.join("schemas/sql/questdb/ddl.sql")).expect("ddl");
        for stmt in fixture::ddl(&ddl) {
            run_sql(&client, &stmt)
                .await
                .unwrap_or_else(|e| panic!("{e}: {stmt}"));
        }
        let now = SystemTime::now();
        fixture::catalog(&client, now).await;
        let ticks = fixture::ticks(&client, now).await;
        let holdings = fixture::portfolio(&client, now).await;
        let alerts = fixture::alerts(&client, now).await;
        for (table, n) in [
            ("card_sets", 3),
            ("products", 3),
            ("ticks", ticks),
            ("portfolios", 1),
            ("holdings", holdings),
            ("portfolio_events", 1),
            ("alerts", alerts),
        ] {
            wait_rows(&client, table, n).await;
        }
        let from = now - Duration::from_secs(3 * 86_400);
        // A preferred value that is not offered is ignored.
        let prefer = [("card", "1001"), ("portfolio", "not-a-portfolio")];
        let outcomes = run_dashboards_preferring(&qdb.pg_url(), root, from, now, &prefer).await;
        let report: Vec<String> = outcomes.iter().map(PanelOutcome::describe).collect();
        println!("{}", report.join("\n"));
        let failed: Vec<&String> = outcomes
            .iter()
            .zip(&report)
            .filter(|(o, _)| o.result.is_err())
            .map(|(_, r)| r)
            .collect();
        assert!(failed.is_empty(), "failing panels:\n{failed:#?}");
        assert!(outcomes.len() >= 14, "{report:#?}");
    }
}
