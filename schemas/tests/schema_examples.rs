//! Real messages of every topic validate against the committed JSON Schemas, and broken ones
//! do not: the schemas describe what the code actually writes.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::PathBuf;

use tcg_schemas::*;

fn validator(topic: &str) -> jsonschema::Validator {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("json")
        .join(format!("{topic}.schema.json"));
    let schema: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    jsonschema::validator_for(&schema).unwrap()
}

fn assert_valid<T: TopicPayload>(payload: T) {
    let v = validator(T::TOPIC);
    let bytes = Envelope::new(Timestamp::from_secs(1_714_521_600), payload)
        .encode()
        .unwrap();
    let value: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
    let errors: Vec<String> = v.iter_errors(&value).map(|e| e.to_string()).collect();
    assert!(errors.is_empty(), "{}: {errors:?}\n{value:#}", T::TOPIC);
    // and it decodes back
    assert!(Envelope::<T>::decode(&bytes).is_ok());
}

fn ts(s: i64) -> Timestamp {
    Timestamp::from_secs(1_714_521_600 + s)
}

fn item(want: Wanted) -> EbayItem {
    EbayItem {
        item_id: "v1|334691749565|0".into(),
        title: "Charizard ex 199/165 PSA 10".into(),
        condition_id: Some("2750".into()),
        condition: Some("Graded".into()),
        buying_options: vec!["FIXED_PRICE".into()],
        seller: Some("cards4u".into()),
        url: Some("https://www.ebay.com/itm/334691749565".into()),
        item_country: Some("US".into()),
        quantity_sold: None,
        target: TrackedCard {
            product_id: ProductId(517045),
            category_id: CategoryId(3),
            name: "Charizard ex".into(),
            number: Some("199/165".into()),
            set_name: Some("Scarlet & Violet 151".into()),
            set_code: Some("MEW".into()),
            printing: None,
            language: None,
            want,
        },
    }
}

fn quotes() -> Vec<RawQuote> {
    vec![
        RawQuote {
            source: Source::Tcgcsv,
            observed_at: ts(0),
            kind: PriceKind::Market,
            price: Money::usd_cents(74),
            shipping: None,
            subject: Subject::TcgProduct {
                category_id: CategoryId(3),
                group_id: Some(GroupId(3170)),
                product_id: ProductId(451784),
                sub_type_name: "Reverse Holofoil".into(),
            },
        },
        RawQuote {
            source: Source::Tcgplayer,
            observed_at: ts(1),
            kind: PriceKind::LowestListing,
            price: Money::usd_cents(149),
            shipping: Some(Money::usd_cents(99)),
            subject: Subject::TcgSku {
                category_id: CategoryId(1),
                product_id: ProductId(1),
                sku_id: SkuId(1010),
                printing: "Foil".into(),
                condition_id: 1,
                language_id: 1,
            },
        },
        RawQuote {
            source: Source::EbayBrowse,
            observed_at: ts(2),
            kind: PriceKind::Listing,
            price: Money::new(18999, Currency::EUR),
            shipping: Some(Money::new(500, Currency::EUR)),
            subject: Subject::EbayItem(Box::new(item(Wanted::Graded {
                grader: Some(Grader::Psa),
                grade: Some(Grade::whole(10).unwrap()),
            }))),
        },
        RawQuote {
            source: Source::EbaySold,
            observed_at: ts(3),
            kind: PriceKind::Sold,
            price: Money::new(21000, Currency::JPY),
            shipping: None,
            subject: Subject::EbayItem(Box::new(item(Wanted::Raw))),
        },
    ]
}

fn graded() -> SeriesKey {
    SeriesKey::Graded {
        product_id: ProductId(517045),
        grader: Grader::Bgs,
        grade: Grade::parse("10 Black Label").unwrap(),
    }
}

fn rule(condition: RuleCondition) -> AlertRule {
    AlertRule {
        id: RuleId(uuid::Uuid::from_u128(7)),
        owner: UserId("misty".into()),
        name: "watch".into(),
        product_id: ProductId(517045),
        filter: SeriesFilter {
            graded: Some(true),
            grader: Some(Grader::Psa),
            source: Some(Source::EbayBrowse),
            ..SeriesFilter::default()
        },
        condition,
        cooldown_secs: 3600,
        paused: false,
        created_at: ts(0),
        updated_at: ts(5),
    }
}

#[test]
fn every_raw_quote_shape_validates() {
    for q in quotes() {
        assert_valid(q);
    }
}

#[test]
fn ticks_validate() {
    let sku = SeriesKey::Sku {
        product_id: ProductId(451784),
        printing: Printing::Other("Galaxy Foil".into()),
        condition: Condition::NearMint,
        language: Language::Japanese,
    };
    for (series, listing) in [(sku, None), (graded(), Some("v1|1|0".to_owned()))] {
        assert_valid(Tick {
            series_id: series.id(),
            series,
            game: Game::from_category(CategoryId(999)),
            source: Source::EbayBrowse,
            kind: PriceKind::Listing,
            observed_at: ts(9),
            price_usd: Money::usd_cents(20_500),
            original: Money::new(18_999, Currency::EUR),
            shipping: Some(Money::new(500, Currency::EUR)),
            listing_id: listing,
            confidence: Some(92),
            agreeing: Vec::new(),
            heartbeat: false,
        });
    }
    // tcgtracker's own fair value: confidence is the blend's.
    let series = graded();
    assert_valid(Tick {
        series_id: series.id(),
        series,
        game: Game::from_category(CategoryId(3)),
        source: Source::Tcgtracker,
        kind: PriceKind::Fair,
        observed_at: ts(10),
        price_usd: Money::usd_cents(20_100),
        original: Money::usd_cents(20_100),
        shipping: None,
        listing_id: None,
        confidence: Some(65),
        agreeing: Vec::new(),
        heartbeat: false,
    });
}

#[test]
fn alerts_and_rule_changes_validate() {
    let triggers = vec![
        Trigger::PriceAbove {
            threshold_usd: Money::usd_cents(100),
        },
        Trigger::PriceBelow {
            threshold_usd: Money::usd_cents(100),
        },
        Trigger::PercentChange {
            from_usd: Money::usd_cents(100),
            since: ts(0),
            change_percent: "-12.5".parse().unwrap(),
            confirmed_by: Some(1),
            sources_priced: Some(2),
        },
        Trigger::NewLow {
            days: 30,
            previous_low_usd: Money::usd_cents(90),
        },
        Trigger::NewHigh {
            days: 30,
            previous_high_usd: Money::usd_cents(190),
        },
        Trigger::Deal {
            market_usd: Money::usd_cents(300),
            discount_percent: "20".parse().unwrap(),
        },
    ];
    for trigger in triggers {
        let series = graded();
        assert_valid(AlertEvent {
            id: AlertId::derive(
                RuleId(uuid::Uuid::from_u128(7)),
                &series.id(),
                ts(1),
                Source::EbayBrowse,
                PriceKind::Listing,
                None,
            ),
            rule_id: RuleId(uuid::Uuid::from_u128(7)),
            owner: UserId("misty".into()),
            rule_name: "watch".into(),
            product_id: ProductId(517045),
            series_id: series.id(),
            series,
            source: Source::EbayBrowse,
            kind: PriceKind::Listing,
            observed_at: ts(1),
            price_usd: Money::usd_cents(240),
            listing_id: Some("v1|2|0".into()),
            trigger,
            message: "watch: …".into(),
        });
    }
    let conditions = vec![
        RuleCondition::PriceAbove {
            threshold_usd: Money::usd_cents(100),
        },
        RuleCondition::PriceBelow {
            threshold_usd: Money::usd_cents(100),
        },
        RuleCondition::PercentChange {
            percent: "15".parse().unwrap(),
            window_secs: 86_400,
            direction: Direction::Either,
            // a move at least two independent sources confirm
            min_confirming_sources: Some(2),
        },
        RuleCondition::NewLow { days: 30 },
        RuleCondition::NewHigh { days: 90 },
        RuleCondition::Deal {
            percent: "20".parse().unwrap(),
        },
    ];
    for c in conditions {
        assert_valid(RuleChange::Upsert { rule: rule(c) });
    }
    assert_valid(RuleChange::Delete {
        rule_id: RuleId(uuid::Uuid::from_u128(7)),
        owner: UserId("misty".into()),
    });
}

#[test]
fn dead_letters_validate() {
    let mut dl = DeadLetter::new(
        RejectReason::Undecodable,
        "expected value at line 1",
        ts(0),
        b"\xff\xfenot json",
    );
    dl.origin = Some(Origin {
        topic: topics::QUOTES_RAW.into(),
        partition: 3,
        offset: 42,
    });
    dl.key = Some("451784".into());
    assert!(dl.payload_lossy);
    assert_valid(dl);
}

#[test]
fn broken_messages_fail_validation() {
    let v = validator(topics::QUOTES_RAW);
    let bytes = Envelope::new(ts(0), quotes().remove(0)).encode().unwrap();
    let good: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
    let mut bad = good.clone();
    bad["payload"]["price"]["amount"] = "1,50".into();
    assert!(!v.is_valid(&bad));
    let mut bad = good.clone();
    bad["schema"] = "tcg.ticks.v1".into();
    assert!(!v.is_valid(&bad));
    let mut bad = good.clone();
    bad["payload"]["kind"] = "bogus".into();
    assert!(!v.is_valid(&bad));
    let mut bad = good;
    bad["payload"]["surprise"] = 1.into();
    assert!(!v.is_valid(&bad));
    // and the decoder agrees with the schema on each
    assert!(
        Envelope::<RawQuote>::decode(
            br#"{"schema":"tcg.ticks.v1","produced_at":"2024-05-01T00:00:00Z","payload":{}}"#
        )
        .is_err()
    );
}

#[test]
fn the_hot_path_decoder_checks_the_envelope_as_strictly_as_the_full_one() {
    let good = Envelope::new(Timestamp::from_secs(1_714_521_600), quotes()[0].clone())
        .encode()
        .unwrap();
    let (produced_at, payload) = Envelope::<RawQuote>::decode_payload(&good).unwrap();
    let full = Envelope::<RawQuote>::decode(&good).unwrap();
    assert_eq!((produced_at, &payload), (full.produced_at, &full.payload));
    assert_eq!(full.schema, "tcg.quotes.raw.v1");

    let text = String::from_utf8(good).unwrap();
    // An escaped schema name is the same name.
    let escaped = text.replacen("tcg.quotes.raw.v1", "tcg.quotes.raw.\\u00761", 1);
    assert_eq!(
        Envelope::<RawQuote>::decode_payload(escaped.as_bytes()).unwrap(),
        (produced_at, payload)
    );
    let foreign = text.replacen("tcg.quotes.raw.v1", "tcg.ticks.v1", 1);
    assert!(matches!(
        Envelope::<RawQuote>::decode_payload(foreign.as_bytes()),
        Err(tcg_schemas::SchemaError::WrongSchema { found, .. }) if found == "tcg.ticks.v1"
    ));
    let extra = text.replacen('{', r#"{"extra":1,"#, 1);
    assert!(Envelope::<RawQuote>::decode_payload(extra.as_bytes()).is_err());
    assert!(Envelope::<RawQuote>::decode_payload(b"\xff\xfe").is_err());
}
