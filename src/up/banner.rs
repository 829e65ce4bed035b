//! What `up` prints once it is up: where the page, the API, the key and the data are, and
//! where prices come from.

use std::{net::SocketAddr, path::Path};

use tcg_schemas::SourceHealth;

use super::{DemoKey, parts::Upstream};
use crate::config::Config;

/// Everything the banner names.
#[derive(Debug)]
pub struct Banner<'a> {
    pub cfg: &'a Config,
    pub config_file: Option<&'a Path>,
    pub api_addr: SocketAddr,
    pub demo: &'a DemoKey,
    pub upstream: &'a Upstream,
    /// Whether the TCGplayer API and eBay are read live (credentials set).
    pub live_tcgplayer: bool,
    pub live_ebay: bool,
}

pub fn print(b: &Banner<'_>) {
    eprintln!("{}", lines(b).join("\n"));
}

fn lines(b: &Banner<'_>) -> Vec<String> {
    let (cfg, addr) = (b.cfg, b.api_addr);
    let file = b.demo.file.display();
    // The key is shown once, when it is created (as `keys create` does); later starts name the
    // file. It is a user key: no admin endpoint answers it.
    let (page, key) = if b.demo.created {
        (
            format!("  web page   http://{addr}/#key={}", b.demo.key),
            format!("  demo key   a user key, shown this once (kept in {file})"),
        )
    } else {
        (
            format!("  web page   http://{addr}/"),
            format!("  demo key   in {file} (a user key; open the page with /#key=<it> once)"),
        )
    };
    let mut out = vec![
        "tcgtracker is up".to_owned(),
        page,
        format!("  API        http://{addr}/v1  (Authorization: Bearer <key>; docs at /docs)"),
        key,
        format!("  data       {}", cfg.data_dir.display()),
        format!(
            "  config     {}",
            b.config_file.map_or_else(
                || "defaults (see tcgtracker.example.toml)".to_owned(),
                |p| p.display().to_string()
            )
        ),
    ];
    let products = b.upstream.catalog.len();
    match &b.upstream.sim {
        Some(sim) => out.push(format!(
            "  upstream   built-in simulator at {} (seed {}); {products} products in the catalog",
            sim.base_url, cfg.simulator.seed
        )),
        None => {
            out.push(format!(
                "  upstream   live: TCGCSV {} and ECB {}; {products} products in the catalog",
                cfg.tcgcsv.base_url, cfg.ecb.base_url
            ));
            let state = |on: bool, url: &str| {
                if on {
                    format!("on, reading {url}")
                } else {
                    "off (no credentials)".to_owned()
                }
            };
            out.push(format!(
                "             TCGplayer API {}; eBay {}",
                state(b.live_tcgplayer, &cfg.tcgplayer.base_url),
                state(b.live_ebay, &cfg.ebay.base_url)
            ));
        }
    }
    out.push(
        "  sources    each one's state follows its first pass (and is at /v1/sources)".to_owned(),
    );
    out.push("  Ctrl-C stops (and keeps everything for the next start)".to_owned());
    out
}

/// What the sources did in their first pass: printed once every source has finished one, so
/// that a source that fails (or works only in part) is named as such.
pub fn print_sources(sources: &[SourceHealth]) {
    eprintln!("{}", source_lines(sources).join("\n"));
}

fn source_lines(sources: &[SourceHealth]) -> Vec<String> {
    let width = sources.iter().map(|h| h.source.len()).max().unwrap_or(0);
    let mut out = vec!["sources after their first pass:".to_owned()];
    for h in sources {
        let summary = h.summary();
        let rest = summary.strip_prefix(h.source.as_str()).unwrap_or(&summary);
        out.push(format!("  {:<width$}{rest}", h.source));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn live_without_credentials_says_which_sources_are_off() {
        let cfg = Config::default();
        let demo = DemoKey {
            key: "tcg_demo".into(),
            file: "data/demo-key.txt".into(),
            first_start: true,
            created: true,
        };
        let upstream = Upstream {
            sim: None,
            sim_url: None,
            tcgcsv_url: cfg.tcgcsv.base_url.clone(),
            catalog: Vec::new(),
        };
        let text = lines(&Banner {
            cfg: &cfg,
            config_file: None,
            api_addr: "127.0.0.1:8080".parse().unwrap(),
            demo: &demo,
            upstream: &upstream,
            live_tcgplayer: false,
            live_ebay: true,
        })
        .join("\n");
        assert!(
            text.contains("web page   http://127.0.0.1:8080/#key=tcg_demo"),
            "{text}"
        );
        assert_eq!(text.matches("tcg_demo").count(), 1, "the key once: {text}");
        assert!(
            text.contains(
                "TCGplayer API off (no credentials); eBay on, reading https://api.ebay.com"
            ),
            "{text}"
        );
        assert!(text.contains("live: TCGCSV https://tcgcsv.com"), "{text}");
        // A later start names the file, not the key.
        let later = DemoKey {
            created: false,
            first_start: false,
            ..demo
        };
        let text = lines(&Banner {
            cfg: &cfg,
            config_file: None,
            api_addr: "127.0.0.1:8080".parse().unwrap(),
            demo: &later,
            upstream: &upstream,
            live_tcgplayer: false,
            live_ebay: true,
        })
        .join("\n");
        assert!(!text.contains("tcg_demo"), "{text}");
        assert!(text.contains("demo key   in data/demo-key.txt"), "{text}");
        assert!(
            !text.contains(" live at "),
            "no source is called live before it works: {text}"
        );
    }

    #[test]
    fn the_sources_line_names_what_failed() {
        use tcg_schemas::{HealthError, HealthStatus, Timestamp};
        let mut tcgplayer = SourceHealth::starting("tcgplayer");
        tcgplayer.status = HealthStatus::Down;
        tcgplayer.last_error = Some(HealthError {
            at: Timestamp::from_secs(1),
            kind: "client_error".into(),
            message: "HTTP 404 from https://api.tcgplayer.com/catalog/categories/3/printings"
                .into(),
            during: "pass".into(),
        });
        let mut tcgcsv = SourceHealth::starting("tcgcsv");
        tcgcsv.status = HealthStatus::Ok;
        tcgcsv.up = true;
        tcgcsv.quotes_last_pass = 1234;
        let text = source_lines(&[tcgcsv, tcgplayer]).join("\n");
        assert_eq!(
            text,
            "sources after their first pass:\n  tcgcsv    ok, 1234 quotes\n  tcgplayer down, 0 quotes \
             (pass: HTTP 404 from https://api.tcgplayer.com/catalog/categories/3/printings)"
        );
    }
}
