//! Architecture boundaries, read from `cargo tree` and the source tree:
//! domain types (tcg-schemas) and ports (tcg-ports) → the pure core → adapters (store, pipeline,
//! collectors, simulator, webhooks) → the query API → the binary. The shared types, the ports and
//! the core stay free of I/O crates; no adapter links another adapter; command-line parsing
//! (clap) lives in the binary only; and no source file outside tests grows past 600 lines.

use std::{
    path::{Path, PathBuf},
    process::Command,
};

const IO_CRATES: &[&str] = &[
    "tokio",
    "rdkafka",
    "reqwest",
    "hyper",
    "axum",
    "rusqlite",
    "libsqlite3-sys",
    "tokio-postgres",
    "postgres",
    "questdb-rs",
    "mio",
];

/// Every package `package` depends on (normal and build dependencies only, or with `dev` too).
fn dependency_names(package: &str, with_dev: bool) -> Vec<String> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    let edges = if with_dev {
        "normal,build,dev"
    } else {
        "normal,build"
    };
    let out = Command::new(cargo)
        .args([
            "tree",
            "--offline",
            "-p",
            package,
            "-e",
            edges,
            "--prefix",
            "none",
            "--format",
            "{p}",
        ])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("cargo tree runs");
    assert!(
        out.status.success(),
        "cargo tree failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let names: Vec<String> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| l.split_whitespace().next().map(str::to_owned))
        .collect();
    assert!(
        names.len() > 3,
        "cargo tree listed too little for {package}: {names:?}"
    );
    names
}

fn assert_free_of(package: &str, with_dev: bool, forbidden: &[&str]) {
    let deps = dependency_names(package, with_dev);
    let bad: Vec<&String> = deps
        .iter()
        .filter(|d| forbidden.contains(&d.as_str()))
        .collect();
    assert!(bad.is_empty(), "{package} depends on {bad:?}");
}

#[test]
fn schemas_ports_and_core_have_no_io_dependencies() {
    for package in ["tcg-schemas", "tcg-ports", "tcg-processor-core"] {
        assert_free_of(package, true, IO_CRATES);
    }
}

#[test]
fn the_processor_runtime_links_no_collector_store_or_http_client() {
    assert_free_of(
        "tcg-pipeline",
        false,
        &[
            "tcg-collectors",
            "tcg-simulator",
            "tcg-webhooks",
            "tcg-query-api",
            "tcg-store",
            "rusqlite",
            "questdb-rs",
            "tokio-postgres",
            "reqwest",
            "indicatif",
            "governor",
            "sevenz-rust2",
        ],
    );
}

#[test]
fn no_adapter_links_another_adapter() {
    let adapters = [
        "tcg-store",
        "tcg-pipeline",
        "tcg-collectors",
        "tcg-simulator",
        "tcg-webhooks",
    ];
    for package in adapters {
        // Known exception: the store traits still live beside their SQLite and QuestDB
        // backends in tcg-store, so the webhook dispatcher (whose outbox is the store) links it.
        let store_user = package == "tcg-webhooks";
        let others: Vec<&str> = adapters
            .iter()
            .copied()
            .filter(|a| *a != package && !(store_user && *a == "tcg-store"))
            .chain(["tcg-query-api"])
            .collect();
        assert_free_of(package, false, &others);
    }
    // The query API reads the stores; it neither collects, nor delivers webhooks, nor links
    // Kafka (the binary hands it a rule publisher).
    assert_free_of(
        "tcg-query-api",
        false,
        &[
            "tcg-collectors",
            "tcg-simulator",
            "tcg-webhooks",
            "tcg-pipeline",
            "rdkafka",
        ],
    );
}

#[test]
fn command_line_parsing_lives_in_the_binary() {
    for package in [
        "tcg-schemas",
        "tcg-ports",
        "tcg-processor-core",
        "tcg-store",
        "tcg-pipeline",
        "tcg-collectors",
        "tcg-simulator",
        "tcg-webhooks",
        "tcg-address-guard",
        "tcg-query-api",
    ] {
        assert_free_of(package, false, &["clap", "clap_builder"]);
    }
}

/// The `.rs` files under `dir`, skipping test folders and test-only files.
fn source_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        let name = entry.file_name().to_string_lossy().into_owned();
        if path.is_dir() {
            if !matches!(
                name.as_str(),
                "tests" | "target" | "benches" | "examples" | "web"
            ) {
                source_files(&path, out);
            }
        } else if name.ends_with(".rs") && name != "tests.rs" {
            out.push(path);
        }
    }
}

#[test]
fn no_source_file_outside_tests_is_over_600_lines() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = Vec::new();
    for dir in [
        "src",
        "schemas/src",
        "schemas/ports/src",
        "processor",
        "collectors",
        "query-api/src",
    ] {
        source_files(&root.join(dir), &mut files);
    }
    assert!(files.len() > 50, "found too few files: {}", files.len());
    let mut long = Vec::new();
    for file in &files {
        let text = std::fs::read_to_string(file).expect("readable source");
        // Unit tests at the end of a file are tests.
        let code = text.split("\n#[cfg(test)]\nmod tests").next().unwrap_or("");
        let lines = code.lines().count();
        if lines > 600 {
            long.push(format!("{} ({lines} lines)", file.display()));
        }
    }
    assert!(long.is_empty(), "files over 600 lines: {long:?}");
}
