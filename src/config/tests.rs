//! The configuration's layering, validation and source selection, as `up` meets them.

use super::*;
use std::path::Path;

fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

fn file(text: &str) -> Result<Config, ConfigError> {
    load(Some((Path::new("my.toml"), text)), &[])
}

#[test]
fn no_file_and_no_environment_gives_the_defaults() {
    let c = load(None, &[]).unwrap();
    assert_eq!(c.data_dir, PathBuf::from("data"));
    assert_eq!(c.listen.to_string(), "127.0.0.1:8080");
    assert_eq!(c.upstream, Upstream::Auto);
    assert_eq!(c.simulator.seed, 7);
    assert_eq!(c.history_days(false), 30);
    assert_eq!(c.history_days(true), 0);
    assert_eq!(c.tcgcsv.daily_budget, 10_000);
    assert_eq!(c.ebay.daily_budget, 5_000);
}

/// The documented example holds every section, and its values are the defaults: the docs
/// cannot drift from the code.
#[test]
fn the_example_file_parses_and_documents_the_defaults() {
    let text = include_str!("../../tcgtracker.example.toml");
    let uncommented: String = text
        .lines()
        .map(|l| {
            l.strip_prefix("# ")
                .filter(|r| looks_like_toml(r))
                .unwrap_or(l)
        })
        .collect::<Vec<_>>()
        .join("\n");
    let from_example = file(&uncommented).unwrap();
    let defaults = load(None, &[]).unwrap();
    assert_eq!(format!("{from_example:?}"), format!("{defaults:?}"));
    for section in [
        "[simulator]",
        "[tcgplayer]",
        "[tcgcsv]",
        "[ebay]",
        "[ecb]",
        "[cardmarket]",
        "[scryfall]",
        "[cardkingdom]",
        "[pricecharting]",
        "[justtcg]",
        "[core]",
        "[webhooks]",
    ] {
        assert!(text.contains(section), "the example lacks {section}");
    }
}

fn looks_like_toml(line: &str) -> bool {
    let line = line.trim();
    (line.starts_with('[') && line.ends_with(']'))
        || line
            .split_once(" = ")
            .is_some_and(|(k, _)| k.chars().all(|c| c.is_ascii_lowercase() || c == '_'))
}

#[test]
fn file_values_override_defaults() {
    let c = file(
        "listen = \"0.0.0.0:9999\"\nupstream = \"simulator\"\npoll_secs = 2\n[simulator]\nseed = 99\n[tcgcsv]\ndaily_budget = 500\n[webhooks]\ntimeout = \"3s\"\n",
    )
    .unwrap();
    assert_eq!(c.listen.port(), 9999);
    assert_eq!(c.upstream, Upstream::Simulator);
    assert_eq!(c.simulator.seed, 99);
    assert_eq!(c.tcgcsv.daily_budget, 500);
    assert_eq!(c.webhooks.timeout, std::time::Duration::from_secs(3));
}

#[test]
fn an_unknown_key_is_refused_by_name() {
    let e = file("pol_secs = 3\n").unwrap_err().to_string();
    assert!(e.contains("`pol_secs`") && e.contains("my.toml"), "{e}");
    let e = file("[tcgcsv]\ndaily_budgt = 3\n").unwrap_err().to_string();
    assert!(e.contains("`tcgcsv.daily_budgt`"), "{e}");
    let e = file("[tcgplayer.http]\nburts = 3\n")
        .unwrap_err()
        .to_string();
    assert!(e.contains("`tcgplayer.http.burts`"), "{e}");
    let e = file("[nope]\n").unwrap_err().to_string();
    assert!(e.contains("`nope`"), "{e}");
}

#[test]
fn a_bad_value_is_refused_by_name() {
    let e = file("poll_secs = \"soon\"\n").unwrap_err().to_string();
    assert!(e.contains("`poll_secs`"), "{e}");
    let e = file("listen = \"here\"\n").unwrap_err().to_string();
    assert!(e.contains("`listen`"), "{e}");
    let e = file("upstream = \"cloud\"\n").unwrap_err().to_string();
    assert!(e.contains("`upstream`") && e.contains("cloud"), "{e}");
    let e = file("[webhooks]\ntimeout = \"fortnight\"\n")
        .unwrap_err()
        .to_string();
    assert!(e.contains("`webhooks.timeout`"), "{e}");
    let e = file("[ebay]\nbase_url = \"api.ebay.com\"\n")
        .unwrap_err()
        .to_string();
    assert!(e.contains("`ebay.base_url`"), "{e}");
    let e = file("poll_secs = 0\n").unwrap_err().to_string();
    assert!(e.contains("`poll_secs`"), "{e}");
    let e = file("listen = [").unwrap_err().to_string();
    assert!(e.contains("my.toml is not valid TOML"), "{e}");
}

#[test]
fn secrets_in_the_file_are_refused() {
    let e = file("[ebay]\nclient_secret = \"abc\"\n")
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("`ebay.client_secret`") && e.contains("EBAY_CLIENT_SECRET"),
        "{e}"
    );
    let e = load(None, &env(&[("TCG__TCGPLAYER__CLIENT_ID", "x")]))
        .unwrap_err()
        .to_string();
    assert!(e.contains("TCGPLAYER_CLIENT_ID"), "{e}");
}

#[test]
fn environment_overrides_beat_the_file_and_are_named_in_errors() {
    let text = "[tcgcsv]\ndaily_budget = 500\n";
    let c = load(
        Some((Path::new("my.toml"), text)),
        &env(&[
            ("TCG__TCGCSV__DAILY_BUDGET", "700"),
            ("TCG__EBAY__INSIGHTS__ENABLED", "true"),
            ("TCG__CATEGORIES", "[1, 3]"),
            ("TCG__EBAY__MARKETPLACE_ID", "EBAY_GB"),
            ("TCG_KAFKA_BROKERS", "ignored: not a TCG__ override"),
        ]),
    )
    .unwrap();
    assert_eq!(c.tcgcsv.daily_budget, 700);
    assert!(c.ebay.insights.enabled);
    assert_eq!(c.categories, vec![1, 3]);
    assert_eq!(c.ebay.marketplace_id, "EBAY_GB");

    let e = load(None, &env(&[("TCG__TCGCSV__DAILY_BUDGET", "lots")]))
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("`tcgcsv.daily_budget`") && e.contains("TCG__TCGCSV__DAILY_BUDGET"),
        "{e}"
    );
    let e = load(None, &env(&[("TCG__TCGCSV__BUDGET", "1")]))
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("`tcgcsv.budget`") && e.contains("TCG__TCGCSV__BUDGET"),
        "{e}"
    );
}

#[test]
fn credentials_switch_auto_to_the_live_services() {
    let c = load(None, &[]).unwrap();
    let none = Credentials::from_env(&[]);
    assert!(!c.is_live(&none));
    // Half a pair is not a credential.
    let half = Credentials::from_env(&env(&[("EBAY_CLIENT_ID", "id")]));
    assert!(!c.is_live(&half));
    let ebay = Credentials::from_env(&env(&[
        ("EBAY_CLIENT_ID", "id"),
        ("EBAY_CLIENT_SECRET", "s"),
    ]));
    assert!(c.is_live(&ebay));
    let live = c.collect_config(&ebay, None);
    assert!(live.tcgplayer.is_none(), "no TCGplayer credentials");
    let e = live.ebay.unwrap();
    assert_eq!(
        (e.base_url.as_str(), e.client_id.as_str()),
        ("https://api.ebay.com", "id")
    );
    assert_eq!(live.tcgcsv.unwrap().base_url, "https://tcgcsv.com");
    assert_eq!(live.ecb.unwrap().base_url, "https://www.ecb.europa.eu");

    let forced = file("upstream = \"simulator\"\n").unwrap();
    assert!(!forced.is_live(&ebay));
    let sim = forced.collect_config(&ebay, Some("http://127.0.0.1:1"));
    assert_eq!(sim.ebay.unwrap().base_url, "http://127.0.0.1:1");
    assert_eq!(sim.tcgcsv.unwrap().poll_interval_secs, 5);
}

#[test]
fn live_sources_use_the_configured_urls_and_categories() {
    let c = file(
        "upstream = \"live\"\ncategories = [1, 86]\n[tcgplayer]\nbase_url = \"http://tcgp.test\"\n[tcgcsv]\nbase_url = \"http://csv.test\"\n",
    )
    .unwrap();
    let creds = Credentials::from_env(&env(&[
        ("TCGPLAYER_CLIENT_ID", "id"),
        ("TCGPLAYER_CLIENT_SECRET", "secret"),
    ]));
    let live = c.collect_config(&creds, None);
    let t = live.tcgplayer.unwrap();
    assert_eq!(t.base_url, "http://tcgp.test");
    assert_eq!(t.categories, vec![1, 86]);
    assert_eq!(t.client_secret, "secret");
    let csv = live.tcgcsv.unwrap();
    assert_eq!(csv.base_url, "http://csv.test");
    assert_eq!(csv.poll_interval_secs, 1800, "live keeps its own interval");
    assert!(live.ebay.is_none());
}

#[test]
fn other_markets_follow_the_categories_and_their_keys() {
    let mut c = load(None, &[]).unwrap();
    let none = Credentials::default();
    // Pokémon only: Cardmarket's Pokémon guide; Scryfall and Card Kingdom price Magic only;
    // PriceCharting and JustTCG need their keys.
    let live = c.collect_config(&none, None);
    assert_eq!(live.cardmarket.as_ref().unwrap().games, vec![6]);
    assert!(live.scryfall.is_none() && live.cardkingdom.is_none());
    assert!(live.pricecharting.is_none() && live.justtcg.is_none());
    let creds = Credentials::from_env(&env(&[
        ("PRICECHARTING_TOKEN", "pc-token"),
        ("JUSTTCG_API_KEY", "jt-key"),
    ]));
    assert!(creds.any(), "a market key alone switches auto to live");
    c.categories = vec![1, 3];
    let live = c.collect_config(&creds, None);
    assert!(live.scryfall.is_some() && live.cardkingdom.is_some());
    assert_eq!(live.pricecharting.as_ref().unwrap().token, "pc-token");
    assert_eq!(live.pricecharting.as_ref().unwrap().categories, vec![1, 3]);
    assert_eq!(live.justtcg.as_ref().unwrap().api_key, "jt-key");
    // `markets` switches them off, live and simulated.
    c.markets = vec!["scryfall".into()];
    let live = c.collect_config(&creds, None);
    assert!(live.scryfall.is_some());
    assert!(live.cardmarket.is_none() && live.justtcg.is_none() && live.pricecharting.is_none());
    let sim = c.collect_config(&none, Some("http://127.0.0.1:9"));
    assert!(sim.scryfall.is_some() && sim.cardkingdom.is_none() && sim.cardmarket.is_none());
    let sim = load(None, &[])
        .unwrap()
        .collect_config(&none, Some("http://127.0.0.1:9"));
    assert_eq!(sim.source_names().len(), 9, "{:?}", sim.source_names());
}

#[test]
fn an_unknown_market_and_market_secrets_in_the_file_are_refused() {
    let e = file("markets = [\"cardmarket\", \"tcgmarket\"]\n")
        .unwrap_err()
        .to_string();
    assert!(e.contains("`markets`") && e.contains("tcgmarket"), "{e}");
    let e = file("[justtcg]\napi_key = \"abc\"\n")
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("`justtcg.api_key`") && e.contains("JUSTTCG_API_KEY"),
        "{e}"
    );
    let e = file("[pricecharting]\ntoken = \"abc\"\n")
        .unwrap_err()
        .to_string();
    assert!(e.contains("PRICECHARTING_TOKEN"), "{e}");
}
