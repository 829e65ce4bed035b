//! Scryfall: the bulk-data list (`GET /bulk-data`, `GET /bulk-data/{type}`) as the API serves
//! it, and the files it names, served from the simulator's own address (the real ones live on
//! `data.scryfall.io`): `/{dir}/{dir}-{stamp}.jsonl.gz` (gzip-compressed JSON Lines, served as
//! `application/gzip` without a `Content-Encoding`, as Scryfall does since 2026) and the older
//! `/{dir}/{dir}-{stamp}.json` (one JSON array), built every 12 hours from the market model
//! (see [`crate::scryfall`]). API errors are Scryfall's error object.

use std::{io::Write, sync::Arc};

use axum::{
    Router,
    extract::{Path, State},
    http::{HeaderMap, StatusCode, header},
    response::{IntoResponse, Response},
};
use flate2::{Compression, write::GzEncoder};
use serde::Serialize;

use super::{St, body_response, json_response, preflight::Gate};
use crate::{
    scryfall::{cards, last_build, stamp, updated_at},
    state::SimState,
    stats::Endpoint,
};

/// The bulk files listed: (type, name, directory, description). Rulings hold no cards: their
/// file is empty here.
const FILES: &[(&str, &str, &str, &str)] = &[
    (
        "default_cards",
        "Default Cards",
        "default-cards",
        "A JSON file containing every card object on Scryfall in English or the printed language if the card is only available in one language.",
    ),
    (
        "all_cards",
        "All Cards",
        "all-cards",
        "A JSON file containing every card object on Scryfall in every language.",
    ),
    (
        "rulings",
        "Rulings",
        "rulings",
        "A JSON file containing all Rulings on Scryfall. Each ruling refers to cards via an `oracle_id`.",
    ),
];

pub(super) fn routes(state: &Arc<SimState>) -> Router<Arc<SimState>> {
    let api = Gate::new(state, Endpoint::Scryfall);
    let files = Gate::new(state, Endpoint::ScryfallFile);
    Router::new()
        .route("/bulk-data", api.get(list))
        .route("/bulk-data/{kind}", api.parsing::<Path<String>>().get(one))
        .route(
            "/default-cards/{file}",
            files.parsing::<Path<String>>().get(default_file),
        )
        .route(
            "/all-cards/{file}",
            files.parsing::<Path<String>>().get(all_file),
        )
        .route(
            "/rulings/{file}",
            files.parsing::<Path<String>>().get(rulings_file),
        )
}

#[derive(Serialize)]
struct ErrorOut<'a> {
    object: &'static str,
    code: &'a str,
    status: u16,
    details: &'a str,
}

/// Scryfall's error object.
fn error(code: StatusCode, label: &str, details: &str) -> Response {
    let body = ErrorOut {
        object: "error",
        code: label,
        status: code.as_u16(),
        details,
    };
    match serde_json::to_vec(&body) {
        Ok(body) => (
            code,
            [(header::CONTENT_TYPE, "application/json; charset=utf-8")],
            body,
        )
            .into_response(),
        Err(_) => code.into_response(),
    }
}

#[derive(Serialize)]
struct ItemOut {
    object: &'static str,
    id: String,
    #[serde(rename = "type")]
    kind: &'static str,
    updated_at: String,
    uri: String,
    name: &'static str,
    description: &'static str,
    size: u64,
    compressed_size: u64,
    jsonl_download_uri: String,
    download_uri: String,
    content_type: &'static str,
    content_encoding: &'static str,
}

#[derive(Serialize)]
struct ListOut {
    object: &'static str,
    has_more: bool,
    data: Vec<ItemOut>,
}

/// `http://HOST` of the request: where the files are.
fn origin(headers: &HeaderMap) -> String {
    let host = headers
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("127.0.0.1");
    format!("http://{host}")
}

fn item(s: &SimState, origin: &str, i: usize) -> ItemOut {
    let (kind, name, dir, description) = FILES[i];
    let build = last_build(s.now_secs());
    let id = format!("e2ef41e3-5778-4bc2-af3f-78eca4dd9c{:02}", 20 + i);
    ItemOut {
        object: "bulk_data",
        uri: format!("{origin}/bulk-data/{id}"),
        id,
        kind,
        updated_at: updated_at(build),
        name,
        description,
        size: 0,
        compressed_size: 0,
        jsonl_download_uri: format!("{origin}/{dir}/{dir}-{}.jsonl.gz", stamp(build)),
        download_uri: format!("{origin}/{dir}/{dir}-{}.json", stamp(build)),
        content_type: "application/json",
        content_encoding: "gzip",
    }
}

/// Scryfall wants an `Accept` header on its API.
fn refuse_without_accept(headers: &HeaderMap) -> Option<Response> {
    (!headers.contains_key(header::ACCEPT)).then(|| {
        error(
            StatusCode::BAD_REQUEST,
            "bad_request",
            "Your request must include an Accept header.",
        )
    })
}

async fn list(State(s): St, headers: HeaderMap) -> Response {
    if let Some(refused) = refuse_without_accept(&headers) {
        return refused;
    }
    let origin = origin(&headers);
    let data = (0..FILES.len()).map(|i| item(&s, &origin, i)).collect();
    json_response(&ListOut {
        object: "list",
        has_more: false,
        data,
    })
}

async fn one(State(s): St, Path(kind): Path<String>, headers: HeaderMap) -> Response {
    if let Some(refused) = refuse_without_accept(&headers) {
        return refused;
    }
    match FILES.iter().position(|f| f.0 == kind) {
        Some(i) => json_response(&item(&s, &origin(&headers), i)),
        None => error(
            StatusCode::NOT_FOUND,
            "not_found",
            &format!("No bulk data object found for type “{kind}”."),
        ),
    }
}

/// The build a file name `{dir}-{stamp}.{ext}` is of, if that build has happened.
fn build_of<'a>(s: &SimState, dir: &str, file: &'a str) -> Option<(i64, &'a str)> {
    let rest = file.strip_prefix(dir)?.strip_prefix('-')?;
    let (stamp_text, ext) = rest.split_once('.')?;
    let now = last_build(s.now_secs());
    let build = chrono::NaiveDateTime::parse_from_str(stamp_text, "%Y%m%d%H%M%S")
        .ok()?
        .and_utc()
        .timestamp();
    (last_build(build) == build && build <= now).then_some((build, ext))
}

/// A cards file: JSON Lines gzipped, or one JSON array.
fn cards_file(s: &SimState, dir: &str, file: &str, with_cards: bool) -> Response {
    let Some((build, ext)) = build_of(s, dir, file) else {
        return (StatusCode::NOT_FOUND, "Not Found").into_response();
    };
    let cards = if with_cards {
        cards(s.config.seed, &s.catalog, build, s.config.step_secs)
    } else {
        Vec::new()
    };
    match ext {
        "json" => json_response(&cards),
        "jsonl.gz" => {
            let mut gz = GzEncoder::new(Vec::new(), Compression::fast());
            for c in &cards {
                let written = serde_json::to_writer(&mut gz, c)
                    .map_err(std::io::Error::other)
                    .and_then(|()| gz.write_all(b"\n"));
                if written.is_err() {
                    return StatusCode::INTERNAL_SERVER_ERROR.into_response();
                }
            }
            match gz.finish() {
                Ok(body) => body_response("application/gzip", body),
                Err(_) => StatusCode::INTERNAL_SERVER_ERROR.into_response(),
            }
        }
        _ => (StatusCode::NOT_FOUND, "Not Found").into_response(),
    }
}

async fn default_file(State(s): St, Path(file): Path<String>) -> Response {
    cards_file(&s, "default-cards", &file, true)
}

async fn all_file(State(s): St, Path(file): Path<String>) -> Response {
    cards_file(&s, "all-cards", &file, true)
}

async fn rulings_file(State(s): St, Path(file): Path<String>) -> Response {
    cards_file(&s, "rulings", &file, false)
}
