//! The committed JSON Schemas under `schemas/json/` must match the types.
//! Regenerate after changing a type: `UPDATE_SCHEMAS=1 cargo test -p tcg-schemas --test json_schemas`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::PathBuf;

fn dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("json")
}

#[test]
fn committed_schemas_match_the_types() {
    let update = std::env::var_os("UPDATE_SCHEMAS").is_some();
    let mut drifted = Vec::new();
    for (topic, schema) in tcg_schemas::envelope::all_schemas() {
        let path = dir().join(format!("{topic}.schema.json"));
        let text = serde_json::to_string_pretty(&schema).unwrap() + "\n";
        if update {
            std::fs::write(&path, &text).unwrap();
            continue;
        }
        match std::fs::read_to_string(&path) {
            Ok(committed) if committed == text => {}
            _ => drifted.push(path.display().to_string()),
        }
    }
    assert!(
        drifted.is_empty(),
        "JSON Schemas drifted from the types: {drifted:?}\n\
         run `UPDATE_SCHEMAS=1 cargo test -p tcg-schemas --test json_schemas` and commit the result"
    );
}

#[test]
fn no_stray_schema_files() {
    let expected: Vec<String> = tcg_schemas::topics::ALL
        .iter()
        .map(|t| format!("{t}.schema.json"))
        .collect();
    for entry in std::fs::read_dir(dir()).unwrap() {
        let name = entry.unwrap().file_name().to_string_lossy().into_owned();
        assert!(
            expected.contains(&name),
            "unexpected file schemas/json/{name}"
        );
    }
}
