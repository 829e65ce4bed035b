//! A fast decoder for quote envelopes in the exact form our own producers write.
//!
//! Every collector encodes a quote with `serde_json::to_vec` of an [`Envelope<RawQuote>`]: fields
//! in declaration order, absent optional fields left out, no whitespace. The processor decodes
//! millions of them, and serde's general decoder (any field order, `null` for absent values,
//! escapes, whitespace) spends most of its time on freedoms these messages never use.
//!
//! [`decode`] reads that one form straight through, byte by byte, and answers `None` the moment
//! the text deviates from it in any way (whitespace, another field order, an escaped string, an
//! unknown field, a value it would have to think about). The caller then decodes the text with
//! serde as before, which gives the same value or the precise error. So the contract is:
//! whenever [`decode`] answers `Some(v)`, serde's decoder answers `Ok(v)` for the same text; the
//! property tests below check exactly this, on canonical and on mangled input.
//!
//! Values go through the same parsers the `Deserialize` impls call (`Timestamp::parse`,
//! `Currency::parse`, `Money::parse_decimal`, `Source::parse`, the vocabularies' `parse`).
//!
//! [`Envelope<RawQuote>`]: crate::Envelope

use crate::{
    envelope::topics,
    ids::{CategoryId, GroupId, ProductId, SkuId},
    money::{Currency, Money},
    quote::{EbayItem, PriceKind, RawQuote, Source, Subject, TrackedCard, Wanted},
    time::Timestamp,
    vocab::{Grade, Grader},
};

/// The envelope's `produced_at` and its quote, when `text` is exactly in canonical form.
pub(crate) fn decode(text: &str) -> Option<(Timestamp, RawQuote)> {
    let mut c = Cursor {
        text,
        bytes: text.as_bytes(),
        at: 0,
    };
    c.expect(b"{\"schema\":\"")?;
    c.expect(topics::QUOTES_RAW.as_bytes())?;
    c.expect(b"\",\"produced_at\":")?;
    let produced_at = c.timestamp()?;
    c.expect(b",\"payload\":")?;
    let quote = raw_quote(&mut c)?;
    c.expect(b"}")?;
    (c.at == c.bytes.len()).then_some((produced_at, quote))
}

fn raw_quote(c: &mut Cursor<'_>) -> Option<RawQuote> {
    c.expect(b"{\"source\":")?;
    let source = Source::parse(c.string()?)?;
    c.expect(b",\"observed_at\":")?;
    let observed_at = c.timestamp()?;
    c.expect(b",\"kind\":")?;
    let kind = PriceKind::parse(c.string()?)?;
    c.expect(b",\"price\":")?;
    let price = c.money()?;
    let shipping = if c.eat(b",\"shipping\":") {
        Some(c.money()?)
    } else {
        None
    };
    c.expect(b",\"subject\":{")?;
    let subject = if c.eat(b"\"tcg_product\":") {
        tcg_product(c)?
    } else if c.eat(b"\"tcg_sku\":") {
        tcg_sku(c)?
    } else if c.eat(b"\"ebay_item\":") {
        Subject::EbayItem(Box::new(ebay_item(c)?))
    } else {
        return None;
    };
    c.expect(b"}}")?;
    Some(RawQuote {
        source,
        observed_at,
        kind,
        price,
        shipping,
        subject,
    })
}

fn tcg_product(c: &mut Cursor<'_>) -> Option<Subject> {
    c.expect(b"{\"category_id\":")?;
    let category_id = CategoryId(c.u32()?);
    let group_id = if c.eat(b",\"group_id\":") {
        Some(GroupId(c.u32()?))
    } else {
        None
    };
    c.expect(b",\"product_id\":")?;
    let product_id = ProductId(c.u64()?);
    c.expect(b",\"sub_type_name\":")?;
    let sub_type_name = c.string()?.to_owned();
    c.expect(b"}")?;
    Some(Subject::TcgProduct {
        category_id,
        group_id,
        product_id,
        sub_type_name,
    })
}

fn tcg_sku(c: &mut Cursor<'_>) -> Option<Subject> {
    c.expect(b"{\"category_id\":")?;
    let category_id = CategoryId(c.u32()?);
    c.expect(b",\"product_id\":")?;
    let product_id = ProductId(c.u64()?);
    c.expect(b",\"sku_id\":")?;
    let sku_id = SkuId(c.u64()?);
    c.expect(b",\"printing\":")?;
    let printing = c.string()?.to_owned();
    c.expect(b",\"condition_id\":")?;
    let condition_id = c.u32()?;
    c.expect(b",\"language_id\":")?;
    let language_id = c.u32()?;
    c.expect(b"}")?;
    Some(Subject::TcgSku {
        category_id,
        product_id,
        sku_id,
        printing,
        condition_id,
        language_id,
    })
}

fn ebay_item(c: &mut Cursor<'_>) -> Option<EbayItem> {
    c.expect(b"{\"item_id\":")?;
    let item_id = c.string()?.to_owned();
    c.expect(b",\"title\":")?;
    let title = c.string()?.to_owned();
    let condition_id = c.optional_string(b",\"condition_id\":")?;
    let condition = c.optional_string(b",\"condition\":")?;
    let mut buying_options = Vec::new();
    if c.eat(b",\"buying_options\":[") && !c.eat(b"]") {
        loop {
            buying_options.push(c.string()?.to_owned());
            if c.eat(b"]") {
                break;
            }
            c.expect(b",")?;
        }
    }
    let seller = c.optional_string(b",\"seller\":")?;
    let url = c.optional_string(b",\"url\":")?;
    let item_country = c.optional_string(b",\"item_country\":")?;
    let quantity_sold = if c.eat(b",\"quantity_sold\":") {
        Some(c.u32()?)
    } else {
        None
    };
    c.expect(b",\"target\":")?;
    let target = tracked_card(c)?;
    c.expect(b"}")?;
    Some(EbayItem {
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
    })
}

fn tracked_card(c: &mut Cursor<'_>) -> Option<TrackedCard> {
    c.expect(b"{\"product_id\":")?;
    let product_id = ProductId(c.u64()?);
    c.expect(b",\"category_id\":")?;
    let category_id = CategoryId(c.u32()?);
    c.expect(b",\"name\":")?;
    let name = c.string()?.to_owned();
    let number = c.optional_string(b",\"number\":")?;
    let set_name = c.optional_string(b",\"set_name\":")?;
    let set_code = c.optional_string(b",\"set_code\":")?;
    let printing = c.optional_string(b",\"printing\":")?;
    let language = c.optional_string(b",\"language\":")?;
    c.expect(b",\"want\":")?;
    let want = if c.eat(b"\"any\"") {
        Wanted::Any
    } else if c.eat(b"\"raw\"") {
        Wanted::Raw
    } else {
        c.expect(b"{\"graded\":{")?;
        let grader = if c.eat(b"\"grader\":") {
            Some(Grader::parse(c.string()?))
        } else {
            None
        };
        let has_grade = if grader.is_some() {
            c.eat(b",\"grade\":")
        } else {
            c.eat(b"\"grade\":")
        };
        let grade = if has_grade {
            Some(Grade::parse(c.string()?).ok()?)
        } else {
            None
        };
        c.expect(b"}}")?;
        Wanted::Graded { grader, grade }
    };
    c.expect(b"}")?;
    Some(TrackedCard {
        product_id,
        category_id,
        name,
        number,
        set_name,
        set_code,
        printing,
        language,
        want,
    })
}

/// The length of the run of bytes that may stand in a JSON string as they are: everything but
/// `"`, `\` and control characters. Eight bytes at a time (the strings are card names and
/// titles: most of a quote's bytes).
fn plain_run(bytes: &[u8]) -> usize {
    const ONES: u64 = u64::from_ne_bytes([0x01; 8]);
    const HIGHS: u64 = u64::from_ne_bytes([0x80; 8]);
    // A high bit in the lowest byte where `word` has a zero byte (higher ones may be false).
    let zero_byte = |word: u64| word.wrapping_sub(ONES) & !word & HIGHS;
    let mut at = 0;
    while let Some(chunk) = bytes.get(at..at + 8) {
        let mut eight = [0u8; 8];
        eight.copy_from_slice(chunk);
        let word = u64::from_le_bytes(eight);
        let quote = zero_byte(word ^ u64::from_ne_bytes([b'"'; 8]));
        let backslash = zero_byte(word ^ u64::from_ne_bytes([b'\\'; 8]));
        let control = word.wrapping_sub(u64::from_ne_bytes([0x20; 8])) & !word & HIGHS;
        let found = quote | backslash | control;
        if found != 0 {
            return at + (found.trailing_zeros() / 8) as usize;
        }
        at += 8;
    }
    at + bytes[at..]
        .iter()
        .position(|&b| b == b'"' || b == b'\\' || b < 0x20)
        .unwrap_or(bytes.len() - at)
}

/// A position in the text; every reader either consumes what it expects or answers `None`.
struct Cursor<'a> {
    text: &'a str,
    bytes: &'a [u8],
    at: usize,
}

impl<'a> Cursor<'a> {
    /// Consumes `literal` when the text continues with it.
    fn eat(&mut self, literal: &[u8]) -> bool {
        let found = self
            .bytes
            .get(self.at..)
            .is_some_and(|rest| rest.starts_with(literal));
        if found {
            self.at += literal.len();
        }
        found
    }

    fn expect(&mut self, literal: &[u8]) -> Option<()> {
        self.eat(literal).then_some(())
    }

    /// A string without escapes or control characters (anything else is left to serde).
    fn string(&mut self) -> Option<&'a str> {
        self.expect(b"\"")?;
        let start = self.at;
        let len = plain_run(self.bytes.get(start..)?);
        if self.bytes.get(start + len) != Some(&b'"') {
            return None;
        }
        self.at = start + len + 1;
        // Both ends sit next to an ASCII quote, so they are char boundaries of the text.
        self.text.get(start..start + len)
    }

    /// `,"name":"text"` when present; `Some(None)` when absent, `None` when malformed.
    fn optional_string(&mut self, key: &[u8]) -> Option<Option<String>> {
        if self.eat(key) {
            Some(Some(self.string()?.to_owned()))
        } else {
            Some(None)
        }
    }

    /// An unsigned integer as serde_json writes it: no sign, no leading zero, no fraction.
    fn u64(&mut self) -> Option<u64> {
        let start = self.at;
        let mut value: u64 = 0;
        while let Some(&b) = self.bytes.get(self.at) {
            if !b.is_ascii_digit() {
                break;
            }
            value = value.checked_mul(10)?.checked_add(u64::from(b - b'0'))?;
            self.at += 1;
        }
        let digits = self.at - start;
        let leading_zero = digits > 1 && self.bytes[start] == b'0';
        // A fraction or exponent cannot follow: the next thing expected is always `,` or `}`.
        (digits > 0 && !leading_zero).then_some(value)
    }

    fn u32(&mut self) -> Option<u32> {
        u32::try_from(self.u64()?).ok()
    }

    fn timestamp(&mut self) -> Option<Timestamp> {
        Timestamp::parse(self.string()?).ok()
    }

    fn money(&mut self) -> Option<Money> {
        self.expect(b"{\"amount\":")?;
        let amount = self.string()?;
        self.expect(b",\"currency\":")?;
        let currency = Currency::parse(self.string()?).ok()?;
        self.expect(b"}")?;
        Money::parse_decimal(amount, currency).ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Envelope, vocab::GradeLabel};
    use proptest::prelude::*;

    /// What serde's decoder makes of the text (the reference).
    fn serde_decode(text: &str) -> Option<(Timestamp, RawQuote)> {
        #[derive(serde::Deserialize)]
        #[serde(deny_unknown_fields)]
        struct Reference {
            schema: String,
            produced_at: Timestamp,
            payload: RawQuote,
        }
        let envelope: Reference = serde_json::from_str(text).ok()?;
        (envelope.schema == topics::QUOTES_RAW).then_some((envelope.produced_at, envelope.payload))
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
        (-10_000_000i64..10_000_000, currency)
            .prop_map(|(minor, currency)| Money { minor, currency })
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
            '"', ',', ':', '{', '}', '[', ']', ' ', '\\', '0', '1', '9', '-', '+', '.', 'e', 'n',
            'a', 'Z', 'x', 'é', '\n', '\t', '\u{1}', '\u{7f}',
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
        fn plain_run_stops_at_the_first_quote_backslash_or_control(bytes in prop::collection::vec(prop_oneof![
            8 => 0x20u8..=0xff,
            1 => Just(b'"'),
            1 => Just(b'\\'),
            1 => 0u8..0x20,
        ], 0..40)) {
            let expected = bytes
                .iter()
                .position(|&b| b == b'"' || b == b'\\' || b < 0x20)
                .unwrap_or(bytes.len());
            prop_assert_eq!(plain_run(&bytes), expected);
        }

        #[test]
        fn reads_every_canonical_quote_as_serde_does(produced_at in timestamp(), quote in quote()) {
            let text = encode(produced_at, &quote);
            let fast = decode(&text);
            prop_assert_eq!(serde_decode(&text), Some((produced_at, quote)));
            if text.contains('\\') {
                // Escaped strings are left to serde.
                prop_assert_eq!(fast, None);
            } else {
                prop_assert_eq!(fast, serde_decode(&text));
            }
        }

        #[test]
        fn never_accepts_what_serde_reads_differently(
            produced_at in timestamp(),
            quote in quote(),
            edits in prop::collection::vec(edit(), 1..4),
        ) {
            let mut text = encode(produced_at, &quote);
            for edit in &edits {
                text = apply(&text, edit);
            }
            if let Some(fast) = decode(&text) {
                prop_assert_eq!(Some(fast), serde_decode(&text), "text: {}", text);
            }
        }
    }

    #[test]
    fn leaves_every_other_form_to_serde() {
        let quote = RawQuote {
            source: Source::Tcgcsv,
            observed_at: Timestamp::from_micros(1_714_521_600_000_000),
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
        let canonical = encode(Timestamp::from_micros(1_714_521_600_000_000), &quote);
        assert!(decode(&canonical).is_some());
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
            // An escaped character in a string.
            canonical.replacen("\"Normal\"", "\"Norm\\u0061l\"", 1),
            // A number serde reads as a float, or refuses.
            canonical.replacen("\"category_id\":3,", "\"category_id\":3.0,", 1),
            canonical.replacen("\"category_id\":3,", "\"category_id\":3e0,", 1),
            canonical.replacen("\"category_id\":3,", "\"category_id\":03,", 1),
            canonical.replacen("\"category_id\":3,", "\"category_id\":-3,", 1),
            canonical.replacen("\"category_id\":3,", "\"category_id\":4294967296,", 1),
            // A raw control character in a string.
            canonical.replacen("\"Normal\"", "\"Nor\u{1}mal\"", 1),
            // Another schema.
            canonical.replacen("tcg.quotes.raw.v1", "tcg.ticks.v1", 1),
            // An unknown field.
            canonical.replacen(",\"subject\"", ",\"extra\":1,\"subject\"", 1),
        ];
        for text in variants {
            assert_ne!(text, canonical);
            assert_eq!(decode(&text), None, "{text}");
        }
    }

    #[test]
    fn the_envelope_decoder_reads_other_forms_through_serde() {
        let at = Timestamp::from_micros(1_714_521_600_000_000);
        let quote = RawQuote {
            source: Source::EbayBrowse,
            observed_at: at,
            kind: PriceKind::Listing,
            price: Money {
                minor: 1262,
                currency: Currency::USD,
            },
            shipping: None,
            subject: Subject::EbayItem(Box::new(EbayItem {
                item_id: "v1|1|0".into(),
                title: "Charizard \"ex\" 1/165".into(),
                condition_id: None,
                condition: None,
                buying_options: vec![],
                seller: None,
                url: None,
                item_country: None,
                quantity_sold: None,
                target: TrackedCard {
                    product_id: ProductId(1),
                    category_id: CategoryId(3),
                    name: "Charizard ex".into(),
                    number: None,
                    set_name: None,
                    set_code: None,
                    printing: None,
                    language: None,
                    want: Wanted::Any,
                },
            })),
        };
        let envelope = Envelope::new(at, quote.clone());
        let pretty = serde_json::to_string_pretty(&envelope).expect("encodes");
        let compact = encode(at, &quote);
        // The escaped quotes in the title and the whitespace both leave these to serde.
        assert_eq!(decode(&compact), None);
        for text in [pretty, compact] {
            assert_eq!(
                Envelope::<RawQuote>::decode_payload(text.as_bytes()),
                Ok((at, quote.clone()))
            );
        }
    }
}
