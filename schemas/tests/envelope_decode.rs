//! `Envelope::<RawQuote>::decode_payload` on arbitrary quotes: what a producer encodes decodes to
//! the same quote, in any form serde accepts (whitespace, another field order, escapes, explicit
//! nulls), and damaged text is refused or read exactly as serde_json reads it by another route.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use proptest::prelude::*;
use tcg_schemas::{
    CategoryId, Currency, EbayItem, Envelope, Grade, GradeLabel, Grader, GroupId, Money, PriceKind,
    ProductId, RawQuote, SchemaError, SkuId, Source, Subject, Timestamp, TrackedCard, Wanted,
    topics,
};

/// The reference: serde_json's reading of the text through a `serde_json::Value` (another
/// deserializer than the one `decode_payload` drives), with the schema name checked.
fn via_value(text: &str) -> Option<(Timestamp, RawQuote)> {
    let value: serde_json::Value = serde_json::from_str(text).ok()?;
    let envelope: Envelope<RawQuote> = serde_json::from_value(value).ok()?;
    (envelope.schema == topics::QUOTES_RAW).then_some((envelope.produced_at, envelope.payload))
}

fn decode(text: &str) -> Result<(Timestamp, RawQuote), SchemaError> {
    Envelope::<RawQuote>::decode_payload(text.as_bytes())
}

fn encode(produced_at: Timestamp, quote: &RawQuote) -> String {
    let bytes = Envelope::new(produced_at, quote.clone())
        .encode()
        .expect("a quote encodes");
    String::from_utf8(bytes).expect("JSON is UTF-8")
}

/// Text as sources send it: mostly plain, sometimes with quotes, backslashes, control
/// characters or non-ASCII letters (which serde escapes or keeps as UTF-8).
fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => "[A-Za-z0-9 &/|.#-]{0,40}",
        1 => "[A-Za-zé漢字 \"\\\\\u{1}\u{7f}]{0,12}",
    ]
}

fn timestamp() -> impl Strategy<Value = Timestamp> {
    // 1970 to 2100, to the microsecond.
    (0i64..4_102_444_800_000_000).prop_map(Timestamp::from_micros)
}

fn money() -> impl Strategy<Value = Money> {
    let currency = prop::sample::select(vec![Currency::USD, Currency::EUR, Currency::JPY]);
    (-10_000_000i64..10_000_000, currency).prop_map(|(minor, currency)| Money { minor, currency })
}

fn wanted() -> impl Strategy<Value = Wanted> {
    let grader = prop::option::of(prop_oneof![
        Just(Grader::Psa),
        Just(Grader::Bgs),
        "[A-Z]{2,5}".prop_map(|t| Grader::parse(&t)),
    ]);
    let grade = prop::option::of(prop_oneof![
        (2u8..=20).prop_map(|half| Grade::from_tenths(half * 5, None).expect("valid")),
        Just(Grade::from_tenths(100, Some(GradeLabel::BlackLabel)).expect("valid")),
    ]);
    prop_oneof![
        Just(Wanted::Any),
        Just(Wanted::Raw),
        (grader, grade).prop_map(|(grader, grade)| Wanted::Graded { grader, grade }),
    ]
}

fn tracked_card() -> impl Strategy<Value = TrackedCard> {
    (
        any::<u64>(),
        any::<u32>(),
        text(),
        [
            prop::option::of(text()),
            prop::option::of(text()),
            prop::option::of(text()),
            prop::option::of(text()),
            prop::option::of(text()),
        ],
        wanted(),
    )
        .prop_map(
            |(
                product_id,
                category_id,
                name,
                [number, set_name, set_code, printing, language],
                want,
            )| {
                TrackedCard {
                    product_id: ProductId(product_id),
                    category_id: CategoryId(category_id),
                    name,
                    number,
                    set_name,
                    set_code,
                    printing,
                    language,
                    want,
                }
            },
        )
}

fn ebay_item() -> impl Strategy<Value = EbayItem> {
    (
        (text(), text()),
        [
            prop::option::of(text()),
            prop::option::of(text()),
            prop::option::of(text()),
            prop::option::of(text()),
            prop::option::of(text()),
        ],
        prop::collection::vec(text(), 0..3),
        prop::option::of(any::<u32>()),
        tracked_card(),
    )
        .prop_map(
            |(
                (item_id, title),
                [condition_id, condition, seller, url, item_country],
                buying_options,
                quantity_sold,
                target,
            )| {
                EbayItem {
                    item_id,
                    title,
                    condition_id,
                    condition,
                    buying_options,
                    seller,
                    url,
                    item_country,
                    quantity_sold,
                    target,
                }
            },
        )
}

fn subject() -> impl Strategy<Value = Subject> {
    prop_oneof![
        (
            any::<u32>(),
            prop::option::of(any::<u32>()),
            any::<u64>(),
            text()
        )
            .prop_map(|(category_id, group_id, product_id, sub_type_name)| {
                Subject::TcgProduct {
                    category_id: CategoryId(category_id),
                    group_id: group_id.map(GroupId),
                    product_id: ProductId(product_id),
                    sub_type_name,
                }
            }),
        (
            any::<u32>(),
            any::<u64>(),
            any::<u64>(),
            text(),
            any::<u32>(),
            any::<u32>()
        )
            .prop_map(
                |(category_id, product_id, sku_id, printing, condition_id, language_id)| {
                    Subject::TcgSku {
                        category_id: CategoryId(category_id),
                        product_id: ProductId(product_id),
                        sku_id: SkuId(sku_id),
                        printing,
                        condition_id,
                        language_id,
                    }
                }
            ),
        ebay_item().prop_map(|item| Subject::EbayItem(Box::new(item))),
    ]
}

fn quote() -> impl Strategy<Value = RawQuote> {
    (
        prop::sample::select(Source::ALL.to_vec()),
        timestamp(),
        prop::sample::select(PriceKind::ALL.to_vec()),
        money(),
        prop::option::of(money()),
        subject(),
    )
        .prop_map(
            |(source, observed_at, kind, price, shipping, subject)| RawQuote {
                source,
                observed_at,
                kind,
                price,
                shipping,
                subject,
            },
        )
}

/// One edit of the text: the kind of damage a broken producer or a hand-written message
/// does. `Place` picks where: anywhere, or right after a `:`, `,` or `"`, where values and
/// keys start and end (so that edits hit numbers and strings often).
#[derive(Debug, Clone)]
enum Edit {
    Delete(Place),
    Insert(Place, char),
    Replace(Place, char),
    Duplicate(Place, Place),
}

#[derive(Debug, Clone)]
struct Place {
    index: prop::sample::Index,
    after_punctuation: bool,
}

impl Place {
    /// An index into `chars`, or `len` itself when `past_end` allows it.
    fn pick(&self, chars: &[char], past_end: bool) -> Option<usize> {
        let candidates: Vec<usize> = if self.after_punctuation {
            (1..=chars.len())
                .filter(|&i| matches!(chars[i - 1], ':' | ',' | '"'))
                .filter(|&i| past_end || i < chars.len())
                .collect()
        } else {
            (0..chars.len() + usize::from(past_end)).collect()
        };
        (!candidates.is_empty()).then(|| candidates[self.index.index(candidates.len())])
    }
}

fn place() -> impl Strategy<Value = Place> {
    (any::<prop::sample::Index>(), any::<bool>()).prop_map(|(index, after_punctuation)| Place {
        index,
        after_punctuation,
    })
}

fn edit() -> impl Strategy<Value = Edit> {
    let ch = prop::sample::select(vec![
        '"', ',', ':', '{', '}', '[', ']', ' ', '\\', '0', '1', '9', '-', '+', '.', 'e', 'n', 'a',
        'Z', 'x', 'é', '\n', '\t', '\u{1}', '\u{7f}',
    ]);
    prop_oneof![
        place().prop_map(Edit::Delete),
        (place(), ch.clone()).prop_map(|(p, c)| Edit::Insert(p, c)),
        (place(), ch).prop_map(|(p, c)| Edit::Replace(p, c)),
        (place(), place()).prop_map(|(a, b)| Edit::Duplicate(a, b)),
    ]
}

fn apply(text: &str, edit: &Edit) -> String {
    let chars: Vec<char> = text.chars().collect();
    let mut out = chars.clone();
    match edit {
        Edit::Delete(p) => {
            if let Some(i) = p.pick(&chars, false) {
                out.remove(i);
            }
        }
        Edit::Insert(p, c) => {
            if let Some(i) = p.pick(&chars, true) {
                out.insert(i, *c);
            }
        }
        Edit::Replace(p, c) => {
            if let Some(i) = p.pick(&chars, false) {
                out[i] = *c;
            }
        }
        Edit::Duplicate(from, to) => {
            // Copies a stretch of the text elsewhere (a repeated field, a repeated value).
            if let (Some(a), Some(at)) = (from.pick(&chars, false), to.pick(&chars, true)) {
                let end = (a + 24).min(chars.len());
                out.splice(at..at, chars[a..end].iter().copied());
            }
        }
    }
    out.into_iter().collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn every_encoded_quote_decodes_to_itself(produced_at in timestamp(), quote in quote()) {
        let compact = encode(produced_at, &quote);
        prop_assert_eq!(decode(&compact), Ok((produced_at, quote.clone())));
        let pretty = serde_json::to_string_pretty(&Envelope::new(produced_at, quote.clone()))
            .expect("a quote encodes");
        prop_assert_eq!(decode(&pretty), Ok((produced_at, quote)));
    }

    #[test]
    fn damaged_text_never_decodes_to_something_else(
        produced_at in timestamp(),
        quote in quote(),
        edits in prop::collection::vec(edit(), 1..4),
    ) {
        let mut text = encode(produced_at, &quote);
        for edit in &edits {
            text = apply(&text, edit);
        }
        if let Ok(decoded) = decode(&text) {
            prop_assert_eq!(Some(decoded.clone()), via_value(&text), "text: {}", text);
            // What was read is a quote, and encodes and decodes to itself.
            prop_assert_eq!(decode(&encode(decoded.0, &decoded.1)), Ok(decoded));
        }
    }
}

fn sample() -> (Timestamp, RawQuote) {
    let at = Timestamp::from_micros(1_714_521_600_000_000);
    let quote = RawQuote {
        source: Source::Tcgcsv,
        observed_at: at,
        kind: PriceKind::Market,
        price: Money {
            minor: 1540,
            currency: Currency::USD,
        },
        shipping: None,
        subject: Subject::TcgProduct {
            category_id: CategoryId(3),
            group_id: Some(GroupId(3000)),
            product_id: ProductId(100_000),
            sub_type_name: "Normal".into(),
        },
    };
    (at, quote)
}

#[test]
fn reads_every_form_serde_accepts() {
    let (at, quote) = sample();
    let canonical = encode(at, &quote);
    let variants = [
        // Whitespace between tokens.
        canonical.replacen(",\"kind\"", ", \"kind\"", 1),
        // Trailing whitespace.
        format!("{canonical}\n"),
        // An explicit null for an absent optional field.
        canonical.replacen(",\"subject\"", ",\"shipping\":null,\"subject\"", 1),
        // Another field order.
        canonical.replacen(
            "\"source\":\"tcgcsv\",\"observed_at\":\"2024-05-01T00:00:00Z\"",
            "\"observed_at\":\"2024-05-01T00:00:00Z\",\"source\":\"tcgcsv\"",
            1,
        ),
        // Escaped characters in strings.
        canonical.replacen("\"Normal\"", "\"Norm\\u0061l\"", 1),
        canonical.replacen("\"USD\"", "\"\\u0055SD\"", 1),
        canonical.replacen("2024-05-01T00:00:00Z", "2024-05-01T00:00:00\\u005a", 1),
    ];
    for text in variants {
        assert_ne!(text, canonical);
        assert_eq!(decode(&text), Ok((at, quote.clone())), "{text}");
    }
}

#[test]
fn refuses_what_serde_refuses() {
    let (at, quote) = sample();
    let canonical = encode(at, &quote);
    let variants = [
        // Numbers serde reads as floats, or refuses.
        canonical.replacen("\"category_id\":3,", "\"category_id\":3.0,", 1),
        canonical.replacen("\"category_id\":3,", "\"category_id\":3e0,", 1),
        canonical.replacen("\"category_id\":3,", "\"category_id\":03,", 1),
        canonical.replacen("\"category_id\":3,", "\"category_id\":-3,", 1),
        canonical.replacen("\"category_id\":3,", "\"category_id\":4294967296,", 1),
        // A raw control character in a string.
        canonical.replacen("\"Normal\"", "\"Nor\u{1}mal\"", 1),
        // An unknown field, a repeated one, trailing text.
        canonical.replacen(",\"subject\"", ",\"extra\":1,\"subject\"", 1),
        canonical.replacen(",\"subject\"", ",\"kind\":\"low\",\"subject\"", 1),
        format!("{canonical}{{}}"),
        // A price with more places than the currency has.
        canonical.replacen("\"15.40\"", "\"15.401\"", 1),
    ];
    for text in variants {
        assert_ne!(text, canonical);
        assert!(decode(&text).is_err(), "{text}");
    }
    let foreign = canonical.replacen("tcg.quotes.raw.v1", "tcg.ticks.v1", 1);
    assert!(matches!(
        decode(&foreign),
        Err(SchemaError::WrongSchema { found, .. }) if found == "tcg.ticks.v1"
    ));
}
