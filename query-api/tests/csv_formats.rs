//! The CSV import formats against their golden files (`tests/imports/<format>.csv`: realistic
//! rows with each format's own condition and finish words, a row that cannot match, quoted
//! fields with commas, a BOM): each file's header names its format, and it reads to the
//! expected rows. Then the import through the API: detection, matching (set codes, SKUs),
//! missing costs flagged, and undoing a whole import.

#![allow(clippy::unwrap_used)]
#![allow(clippy::too_many_lines)] // a test reads best as one scenario, top to bottom

mod common;
#[path = "csv_formats/golden.rs"]
mod golden;

use axum::{
    body::Body,
    http::{Method, Request, header},
};
use common::*;
use golden::{SHEOLDRED, expected, golden};
use serde_json::Value;
use tcg_query_api::{
    ApiError,
    csv_import::{self, CsvFormat},
};
use tcg_schemas::{CardSet, CategoryId, Game, GroupId, Product, ProductId};
use tcg_store::prelude::*;

#[test]
fn every_golden_file_is_detected_and_reads_to_its_rows() {
    for format in CsvFormat::ALL {
        let bytes = golden(format);
        assert!(bytes.starts_with(b"\xEF\xBB\xBF"), "{format:?} has a BOM");
        assert_eq!(csv_import::detect(&bytes).unwrap(), format);
        let (rows, unreadable) = expected(format);
        let parsed = csv_import::read(None, &bytes, 1000).unwrap();
        assert_eq!((parsed.format, parsed.detected), (format, true));
        for (got, want) in parsed.rows.iter().zip(&rows) {
            assert_eq!(got, want, "{format:?} row {}", want.row);
        }
        assert_eq!(parsed.rows.len(), rows.len(), "{format:?}");
        let problems: Vec<usize> = parsed.problems.iter().map(|p| p.row).collect();
        assert_eq!(problems, unreadable, "{format:?}: {:?}", parsed.problems);
        // Named, the same rows; `detected` says the format was given.
        let named = csv_import::read(Some(format), &bytes, 1000).unwrap();
        assert_eq!((named.rows, named.detected), (parsed.rows, false));
    }
}

#[test]
fn an_unknown_header_names_the_known_formats_and_their_columns() {
    let err = csv_import::read(None, "Card,Amount\nBlack Lotus,1\n".as_bytes(), 10).unwrap_err();
    let ApiError::Validation(errors) = err else {
        panic!("{err:?} is not a 422")
    };
    for f in CsvFormat::ALL {
        assert!(errors[0].message.contains(f.as_str()), "{f:?}");
    }
    assert!(
        errors[0].message.contains("Card Name"),
        "{}",
        errors[0].message
    );
    // A named format still needs its columns.
    let err = csv_import::read(Some(CsvFormat::Moxfield), &golden(CsvFormat::Manabox), 10);
    assert!(
        matches!(&err, Err(ApiError::Validation(e)) if e[0].message.contains("Count")),
        "{err:?}"
    );
}

fn set(group: u32, game: Game, name: &str, abbreviation: Option<&str>) -> CardSet {
    CardSet {
        group_id: GroupId(group),
        category_id: game.category_id(),
        game,
        name: name.into(),
        abbreviation: abbreviation.map(Into::into),
        published_on: None,
    }
}

fn card(id: u64, group: u32, name: &str, number: &str) -> Product {
    Product {
        product_id: ProductId(id),
        category_id: CategoryId(1),
        group_id: GroupId(group),
        game: Game::Magic,
        name: name.into(),
        clean_name: Some(name.into()),
        number: Some(number.into()),
        rarity: Some("Rare".into()),
        image_url: None,
        url: None,
    }
}

/// The seeded catalog (Base Set, Alpha) and the Magic cards of the golden files.
async fn catalog(c: &Ctx) {
    c.store
        .upsert_sets(&[
            set(300, Game::Magic, "Innistrad: Midnight Hunt", Some("MID")),
            set(301, Game::Magic, "Zendikar", Some("ZEN")),
            set(303, Game::Magic, "Commander Legends", Some("CMR")),
            // No abbreviation in the catalog: found by its name.
            set(304, Game::Magic, "Strixhaven Mystical Archive", None),
            set(305, Game::Magic, "Dominaria United", Some("DMU")),
        ])
        .await
        .unwrap();
    c.store
        .upsert_products(&[
            card(3001, 300, "Ambitious Farmhand // Seasoned Cathar", "2"),
            card(3002, 300, "Consider", "44"),
            card(3003, 301, "Verdant Catacombs", "229"),
            card(3004, 303, "Jeweled Lotus", "319"),
            card(3005, 304, "Lightning Bolt", "42"),
            card(3006, 305, SHEOLDRED, "107"),
        ])
        .await
        .unwrap();
}

async fn import(c: &Ctx, key: &str, uri: &str, body: Vec<u8>) -> Resp {
    c.send(
        Request::post(uri)
            .header(header::AUTHORIZATION, format!("Bearer {key}"))
            .header(header::CONTENT_TYPE, "text/csv")
            .body(Body::from(body))
            .unwrap(),
    )
    .await
}

fn rows_of(v: &Value) -> Vec<u64> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|p| p.as_u64().or(p["row"].as_u64()).unwrap())
        .collect()
}

async fn holdings(c: &Ctx, pid: &str) -> Vec<Value> {
    let r = c
        .call(
            Method::GET,
            &format!("/v1/portfolios/{pid}/holdings"),
            Some(&c.alice),
            None,
        )
        .await;
    r.json()["items"].as_array().unwrap().clone()
}

#[tokio::test]
async fn every_format_imports_through_the_api_and_an_import_is_undone_whole() {
    let c = Ctx::new().await;
    catalog(&c).await;
    let p = c
        .call(
            Method::POST,
            "/v1/portfolios",
            Some(&c.alice),
            Some(serde_json::json!({"name": "Imports"})),
        )
        .await;
    let pid = p.json()["id"].as_str().unwrap().to_owned();
    let base = format!("/v1/portfolios/{pid}/import");
    // (format, rows, unmatched rows, rows without a cost)
    let want: [(CsvFormat, u64, &[u64], &[u64]); 10] = [
        (CsvFormat::Manabox, 6, &[5, 6], &[3]),
        (CsvFormat::Moxfield, 5, &[5], &[2]),
        (CsvFormat::Deckbox, 6, &[6], &[1, 2, 3, 4, 5]),
        (CsvFormat::DragonShield, 6, &[6], &[3]),
        (CsvFormat::Archidekt, 6, &[6], &[2]),
        (CsvFormat::DelverLens, 5, &[5], &[1, 2, 3, 4]),
        (CsvFormat::TcgplayerSeller, 7, &[6, 7], &[1, 2, 3, 4, 5]),
        (CsvFormat::Tcgplayer, 4, &[4], &[1, 2, 3]),
        (CsvFormat::Collectr, 5, &[4, 5], &[3]),
        (CsvFormat::Generic, 4, &[4], &[2]),
    ];
    let mut imports = Vec::new();
    let mut total = 0;
    for (format, rows, unmatched, missing) in want {
        let dry = import(
            &c,
            &c.alice,
            &format!("{base}?dry_run=true"),
            golden(format),
        )
        .await;
        assert_eq!(dry.status, 200, "{format:?}: {}", dry.text());
        let dry = dry.json();
        assert!(dry.get("import_id").is_none(), "{dry}");
        let r = import(&c, &c.alice, &base, golden(format)).await.json();
        assert_eq!(r["format"], format.as_str(), "{r}");
        assert_eq!(r["detected"], true);
        assert_eq!(r["rows"], rows, "{format:?}: {r}");
        assert_eq!(rows_of(&r["unmatched"]), unmatched, "{format:?}: {r}");
        assert_eq!(rows_of(&r["missing_cost"]), missing, "{format:?}: {r}");
        assert_eq!(dry["missing_cost"], r["missing_cost"]);
        let imported = rows - unmatched.len() as u64;
        assert_eq!(r["imported"], imported, "{format:?}: {r}");
        for m in missing {
            assert!(
                r["warnings"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .any(|w| w["row"] == *m && w["reason"].as_str().unwrap().contains("no cost")),
                "{format:?} row {m}: {r}"
            );
        }
        total += imported as usize;
        imports.push((format, r));
    }
    let all = holdings(&c, &pid).await;
    assert_eq!(all.len(), total);
    let has = |product: u64, printing: &str, field: &str, value: &str| {
        all.iter().any(|h| {
            h["product_id"] == product
                && h["printing"] == printing
                && (h[field] == value || h[field]["currency"] == value)
        })
    };
    // A set code names the set by its abbreviation; the cost's currency is kept.
    assert!(has(3004, "Normal", "cost_per_unit", "EUR"));
    // The seller export's SKU 5002 is the catalog's LP holofoil Charizard.
    assert!(has(1001, "Holofoil", "condition", "Lightly Played"));
    // SKU 7777 is not one of Charizard's: the row's own words, and a warning.
    assert!(has(1001, "1st Edition Holofoil", "language", "Japanese"));
    let seller = &imports
        .iter()
        .find(|(f, _)| *f == CsvFormat::TcgplayerSeller)
        .unwrap()
        .1;
    assert!(
        seller["warnings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|w| w["row"] == 3 && w["reason"].as_str().unwrap().contains("SKU 7777"))
    );
    // Strixhaven Mystical Archive has no abbreviation in the catalog: found by its name.
    assert!(has(3005, "Etched Foil", "condition", "Heavily Played"));

    // Undo the ManaBox import: its 4 holdings go, with their events; the others stay.
    let manabox = &imports[0].1;
    let undo = format!(
        "/v1/portfolios/{pid}/imports/{}",
        manabox["import_id"].as_str().unwrap()
    );
    let bob = c.call(Method::DELETE, &undo, Some(&c.bob), None).await;
    assert_eq!(bob.status, 404);
    let r = c.call(Method::DELETE, &undo, Some(&c.alice), None).await;
    assert_eq!(r.status, 204, "{}", r.text());
    let left = holdings(&c, &pid).await;
    assert_eq!(left.len(), total - 4);
    let gone: Vec<&Value> = manabox["holdings"].as_array().unwrap().iter().collect();
    assert!(left.iter().all(|h| !gone.contains(&&h["id"])));
    let events = c
        .call(
            Method::GET,
            &format!("/v1/portfolios/{pid}/events"),
            Some(&c.alice),
            None,
        )
        .await
        .json();
    let events = events["items"].as_array().unwrap();
    assert_eq!(events.len(), total - 4);
    assert!(events.iter().all(|e| !gone.contains(&&e["holding_id"])));
    // Again, or an import nobody made: 404 problem+json.
    let again = c.call(Method::DELETE, &undo, Some(&c.alice), None).await;
    assert_eq!(again.status, 404);
    assert!(again.content_type.starts_with("application/problem+json"));
    let unknown = format!("/v1/portfolios/{pid}/imports/{}", uuid::Uuid::new_v4());
    let r = c.call(Method::DELETE, &unknown, Some(&c.alice), None).await;
    assert_eq!(r.status, 404);
    let r = c
        .call(
            Method::DELETE,
            &format!("/v1/portfolios/{pid}/imports/not-a-uuid"),
            Some(&c.alice),
            None,
        )
        .await;
    assert_eq!(r.status, 404);
}

#[tokio::test]
async fn a_named_format_wins_and_an_unknown_header_is_a_422() {
    let c = Ctx::new().await;
    let p = c
        .call(
            Method::POST,
            "/v1/portfolios",
            Some(&c.alice),
            Some(serde_json::json!({"name": "P"})),
        )
        .await;
    let base = format!("/v1/portfolios/{}/import", p.json()["id"].as_str().unwrap());
    let r = import(
        &c,
        &c.alice,
        &format!("{base}?format=generic"),
        golden(CsvFormat::Generic),
    )
    .await;
    assert_eq!(r.json()["format"], "generic");
    assert_eq!(r.json()["detected"], false);
    let r = import(
        &c,
        &c.alice,
        &format!("{base}?format=moxfield"),
        golden(CsvFormat::Manabox),
    )
    .await;
    assert_eq!(r.status, 422, "{}", r.text());
    assert!(
        r.json()["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("Count")
    );
    let r = import(
        &c,
        &c.alice,
        &base,
        b"Card,Amount\nBlack Lotus,1\n".to_vec(),
    )
    .await;
    assert_eq!(r.status, 422);
    assert!(r.content_type.starts_with("application/problem+json"));
    let message = r.json()["errors"][0]["message"]
        .as_str()
        .unwrap()
        .to_owned();
    for f in CsvFormat::ALL {
        assert!(message.contains(f.as_str()), "{f:?}: {message}");
    }
    // Nothing imported: no import to undo.
    let r = import(
        &c,
        &c.alice,
        &base,
        b"quantity,product_id\n1,424242\n".to_vec(),
    )
    .await;
    assert_eq!(r.json()["imported"], 0);
    assert!(r.json().get("import_id").is_none());
}
