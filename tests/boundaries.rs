//! Architecture boundaries: the shared types and the processor core stay free of I/O crates.

use std::process::Command;

const FORBIDDEN: &[&str] = &[
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

fn dependency_names(package: &str) -> Vec<String> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    let out = Command::new(cargo)
        .args([
            "tree",
            "--offline",
            "-p",
            package,
            "-e",
            "normal,build,dev",
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
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| l.split_whitespace().next().map(str::to_owned))
        .collect()
}

#[test]
fn schemas_and_core_have_no_io_dependencies() {
    for package in ["tcg-schemas", "tcg-processor-core"] {
        let deps = dependency_names(package);
        assert!(
            deps.len() > 5,
            "cargo tree listed too little for {package}: {deps:?}"
        );
        let bad: Vec<&String> = deps
            .iter()
            .filter(|d| FORBIDDEN.contains(&d.as_str()))
            .collect();
        assert!(bad.is_empty(), "{package} depends on {bad:?}");
    }
}
