//! Drives a scenario with wrk (a separate process, so the load generator's CPU is not the
//! server's) and reads its report.
//!
//! Each request takes the next of the scenario's paths (each wrk thread starts at its own
//! offset) and the next API key; a path holding `{to}` gets a timestamp one second earlier on
//! every request, so no two requests are alike (the cache-cold scenario).

use std::{
    fmt::Write as _,
    path::Path,
    process::{Command, Stdio},
};

use anyhow::{Context, Result, bail};
use serde::Serialize;

/// What wrk measured.
#[derive(Debug, Clone, Serialize)]
pub struct Measured {
    pub requests_per_sec: f64,
    pub p50_ms: f64,
    pub p99_ms: f64,
    /// Answers that were not 2xx or 3xx.
    pub non_2xx: u64,
    /// Connect, read, write errors and timeouts.
    pub socket_errors: u64,
}

/// The load: connections, wrk threads and seconds.
#[derive(Debug, Clone, Copy)]
pub struct Load {
    pub conns: u32,
    pub threads: u32,
    pub secs: u64,
}

/// A Lua string literal of `s` (paths and keys hold no quotes or backslashes, but be safe).
fn lua_string(s: &str) -> String {
    format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\""))
}

fn script(paths: &[String], keys: &[String], to_base_secs: i64) -> String {
    let list = |items: &[String]| {
        items.iter().fold(String::new(), |mut out, s| {
            let _ = write!(out, "{},", lua_string(s));
            out
        })
    };
    format!(
        r#"local paths = {{{paths}}}
local keys = {{{keys}}}
local to_base = {to_base_secs}
local counter = 0
function setup(thread)
  thread:set("tid", counter)
  counter = counter + 1
end
local id = 0
local n = 0
function init(args)
  id = tonumber(tid) or 0
end
function request()
  n = n + 1
  local p = paths[((n + id * 7919) % #paths) + 1]
  if string.find(p, "{{to}}", 1, true) then
    local at = os.date("!%Y-%m-%dT%H:%M:%SZ", to_base - id * 10000000 - n)
    p = string.gsub(p, "{{to}}", at)
  end
  local k = keys[((n + id) % #keys) + 1]
  return wrk.format("GET", p, {{["Authorization"] = "Bearer " .. k}})
end
"#,
        paths = list(paths),
        keys = list(keys),
    )
}

/// The scenario: its paths, the API keys to take turns with, and the `{to}` of its first request.
#[derive(Debug, Clone)]
pub struct Requests<'a> {
    pub paths: &'a [String],
    pub keys: &'a [String],
    pub to_base_secs: i64,
}

/// Runs wrk against `base` (e.g. `http://127.0.0.1:8080`); its script is written to `lua`.
pub fn run(wrk: &Path, lua: &Path, base: &str, r: &Requests<'_>, load: Load) -> Result<Measured> {
    std::fs::write(lua, script(r.paths, r.keys, r.to_base_secs))
        .with_context(|| format!("writing {}", lua.display()))?;
    let out = Command::new(wrk)
        .args([
            "--latency",
            "-t",
            &load.threads.to_string(),
            "-c",
            &load.conns.to_string(),
            "-d",
            &format!("{}s", load.secs),
            "--timeout",
            "10s",
            "-s",
        ])
        .arg(lua)
        .arg(base)
        .stdin(Stdio::null())
        .output()
        .with_context(|| {
            format!(
                "running {} (install it: apt-get install wrk)",
                wrk.display()
            )
        })?;
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    if !out.status.success() {
        bail!(
            "wrk failed ({}): {}{}",
            out.status,
            text,
            String::from_utf8_lossy(&out.stderr)
        );
    }
    parse(&text).with_context(|| format!("reading wrk's report:\n{text}"))
}

/// A duration as wrk prints it (`812.00us`, `1.23ms`, `2.01s`, `1.00m`), in milliseconds.
fn millis(text: &str) -> Option<f64> {
    let units = [("us", 0.001), ("ms", 1.0), ("s", 1000.0), ("m", 60_000.0)];
    units.iter().find_map(|(unit, scale)| {
        let number = text.strip_suffix(unit)?;
        number.parse::<f64>().ok().map(|n| n * scale)
    })
}

/// Reads wrk's `--latency` report.
fn parse(report: &str) -> Result<Measured> {
    let mut m = Measured {
        requests_per_sec: f64::NAN,
        p50_ms: f64::NAN,
        p99_ms: f64::NAN,
        non_2xx: 0,
        socket_errors: 0,
    };
    for line in report.lines().map(str::trim) {
        let words: Vec<&str> = line.split_whitespace().collect();
        match words.as_slice() {
            ["Requests/sec:", n] => m.requests_per_sec = n.parse()?,
            ["50%", t] => m.p50_ms = millis(t).context("p50")?,
            ["99%", t] => m.p99_ms = millis(t).context("p99")?,
            ["Non-2xx", "or", "3xx", "responses:", n] => m.non_2xx = n.parse()?,
            ["Socket", "errors:", rest @ ..] => {
                m.socket_errors = rest
                    .iter()
                    .filter_map(|w| w.trim_end_matches(',').parse::<u64>().ok())
                    .sum();
            }
            _ => {}
        }
    }
    if m.requests_per_sec.is_nan() || m.p50_ms.is_nan() || m.p99_ms.is_nan() {
        bail!("no Requests/sec or latency distribution");
    }
    Ok(m)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn reads_a_wrk_report() {
        let report = "Running 2s test @ http://127.0.0.1:8080
  2 threads and 64 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency     5.10ms    2.00ms  40.00ms   80.00%
    Req/Sec     6.30k   500.00     7.00k    70.00%
  Latency Distribution
     50%  812.00us
     75%    5.00ms
     90%    7.00ms
     99%    1.20s
  25000 requests in 2.00s, 10.00MB read
  Socket errors: connect 0, read 2, write 0, timeout 3
  Non-2xx or 3xx responses: 7
Requests/sec:  12500.50
Transfer/sec:      5.00MB
";
        let m = parse(report).unwrap();
        assert!((m.requests_per_sec - 12_500.5).abs() < 1e-9);
        assert!((m.p50_ms - 0.812).abs() < 1e-9);
        assert!((m.p99_ms - 1200.0).abs() < 1e-9);
        assert_eq!((m.non_2xx, m.socket_errors), (7, 5));
        assert!(parse("nothing").is_err());
    }

    #[test]
    fn the_script_lists_paths_and_keys() {
        let s = script(&["/a".into(), "/b?to={to}".into()], &["k1".into()], 5);
        assert!(s.contains(r#"local paths = {"/a","/b?to={to}",}"#), "{s}");
        assert!(s.contains(r#"local keys = {"k1",}"#), "{s}");
        assert!(s.contains("local to_base = 5"));
    }
}
