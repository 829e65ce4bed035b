//! Golden payloads in JustTCG's real shapes (`tests/data/justtcg/`).

use tcg_collectors::{
    CollectorError,
    identity::{CatalogEntry, ProductIndex},
    justtcg::{
        history_quotes,
        model::{
            Card, Claim, ErrorCode, GameRow, SetRow, Skip, claims, parse_envelope, parse_error,
            variant_quote,
        },
    },
};
use tcg_schemas::{
    CategoryId, Condition, Language, MappingMethod, Money, PriceKind, ProductId,
    Source as QuoteSource, Timestamp,
};

use super::{golden, market_row};

fn entry(id: u64, category: u32) -> CatalogEntry {
    CatalogEntry {
        product_id: ProductId(id),
        category_id: CategoryId(category),
        name: format!("product {id}"),
        number: None,
        set_name: None,
        set_code: None,
        sealed: false,
    }
}

#[test]
fn a_batch_answer_maps_stated_ids_and_reads_every_variant() {
    let env = parse_envelope::<Card>("justtcg", &golden("cards_batch.json")).unwrap();
    assert_eq!(env.data.len(), 2);
    let usage = env.usage.unwrap();
    assert_eq!(usage.api_plan.as_deref(), Some("Free Tier"));
    assert_eq!(usage.api_daily_requests_remaining, Some(97));
    assert_eq!(usage.api_rate_limit, Some(10));
    assert!(!usage.spent());
    assert!(env.meta.is_none(), "batch answers are not paged");

    // Our catalog has the stamped Fire Energy, not the Base Set Charizard.
    let index = ProductIndex::from_entries([entry(219_042, 3)]);
    let claimed = claims(&env.data, &index);
    assert_eq!(
        claimed,
        [
            Claim::Mapped {
                product_id: ProductId(219_042),
                category_id: CategoryId(3)
            },
            Claim::Unmapped
        ]
    );
    let card = &env.data[0];
    assert_eq!(card.set_name.as_deref(), Some("Battle Academy"));
    let at = Timestamp::from_secs(1_743_100_300);
    let nm = &card.variants[0];
    assert_eq!(nm.tcgplayer_sku_id.as_deref(), Some("4196345"));
    assert_eq!(nm.last_updated, Some(1_743_100_261));
    let q = variant_quote(nm, ProductId(219_042), CategoryId(3), nm.price, at).unwrap();
    assert_eq!(
        (q.source, q.kind, q.price, q.observed_at),
        (
            QuoteSource::Justtcg,
            PriceKind::Market,
            Money::usd_cents(499),
            at
        )
    );
    let row = market_row(&q);
    assert_eq!(row.external_id, nm.id);
    assert_eq!(row.printing, "Holofoil");
    assert_eq!(row.condition, Some(Condition::NearMint));
    assert_eq!(row.language, Some(Language::English));
    assert_eq!(
        (row.mapping.method, row.mapping.confidence),
        (MappingMethod::TcgplayerId, 100)
    );
    let lp = &card.variants[1];
    let q = variant_quote(lp, ProductId(219_042), CategoryId(3), lp.price, at).unwrap();
    assert_eq!(market_row(&q).condition, Some(Condition::LightlyPlayed));
    // A null price is no quote.
    let dmg = &card.variants[2];
    assert!(matches!(
        variant_quote(dmg, ProductId(219_042), CategoryId(3), dmg.price, at),
        Err(Skip::NoPrice(_))
    ));
    // No language stated: the game's default, decided by the processor.
    let first_ed = &env.data[1].variants[1];
    let q = variant_quote(
        first_ed,
        ProductId(42_382),
        CategoryId(3),
        first_ed.price,
        at,
    )
    .unwrap();
    assert_eq!(market_row(&q).language, None);
    assert_eq!(market_row(&q).printing, "1st Edition Holofoil");
    assert_eq!(q.price, Money::usd_cents(615_000));
}

#[test]
fn listings_sets_and_games_read_with_their_paging() {
    let env = parse_envelope::<Card>("justtcg", &golden("cards_list.json")).unwrap();
    let meta = env.meta.unwrap();
    assert_eq!(
        (meta.total, meta.limit, meta.has_more),
        (Some(212), Some(2), Some(true))
    );
    let sealed = &env.data[1];
    assert_eq!(sealed.number(), None, "N/A is no number");
    assert_eq!(sealed.tcgplayer_id, None);
    assert_eq!(
        Condition::parse(sealed.variants[0].condition.as_deref().unwrap()),
        Condition::Unopened
    );
    let sets = parse_envelope::<SetRow>("justtcg", &golden("sets.json")).unwrap();
    assert_eq!(sets.data[0].id, "base-set-pokemon");
    assert_eq!(sets.data[0].release_date.as_deref(), Some("1999-01-09"));
    let games = parse_envelope::<GameRow>("justtcg", &golden("games.json")).unwrap();
    assert_eq!(games.data[0].id, "pokemon");
    assert_eq!(games.data[0].last_updated, Some(1_743_100_261));
}

#[test]
fn error_answers_name_their_code() {
    let cases = [
        ("error_missing_key.json", ErrorCode::MissingApiKey),
        ("error_invalid_key.json", ErrorCode::InvalidApiKey),
        ("error_invalid_request.json", ErrorCode::InvalidRequest),
        ("error_rate_limit.json", ErrorCode::RateLimitExceeded),
        ("error_daily_limit.json", ErrorCode::DailyLimitExceeded),
        ("error_monthly_limit.json", ErrorCode::RequestLimitExceeded),
    ];
    for (file, code) in cases {
        let e = parse_error(&golden(file)).unwrap();
        assert_eq!(e.code(), code, "{file}");
        assert_eq!(e.code().is_quota(), file.contains("limit"), "{file}");
        assert_eq!(e.code().is_auth(), file.contains("key"), "{file}");
    }
    let not_found = parse_error(&golden("error_not_found.json")).unwrap();
    assert_eq!(not_found.code, None);
    // An error inside an otherwise normal answer is an upstream failure naming the code.
    let e = parse_envelope::<Card>("justtcg", &golden("error_in_answer.json")).unwrap_err();
    let named = |e: &CollectorError| match e {
        CollectorError::Upstream { errors, .. } => errors[0].starts_with("INVALID_REQUEST: "),
        _ => false,
    };
    assert!(named(&e), "{e}");
    // A cut answer is malformed.
    let e = parse_envelope::<Card>("justtcg", &golden("malformed.json")).unwrap_err();
    assert_eq!(e.kind(), "malformed");
}

#[test]
fn a_history_answer_gives_a_quote_per_point_at_its_time() {
    let env = parse_envelope::<Card>("justtcg", &golden("cards_history.json")).unwrap();
    let read = history_quotes(&env.data, ProductId(219_042), CategoryId(3));
    assert!(!read.ambiguous && !read.not_found);
    assert_eq!(read.quotes.len(), 5, "4 + 2 points, one without a price");
    assert_eq!(read.dropped, 1);
    assert_eq!(
        read.quotes[0].observed_at,
        Timestamp::from_secs(1_742_515_200)
    );
    assert_eq!(read.quotes[0].price, Money::usd_cents(475));
    assert!(
        read.quotes
            .windows(2)
            .all(|w| w[0].observed_at <= w[1].observed_at)
    );
    assert!(read.quotes.iter().all(|q| q.kind == PriceKind::Market));
    let other = history_quotes(&env.data, ProductId(1), CategoryId(3));
    assert!(other.not_found && other.quotes.is_empty());
}
