//! The golden files under `tests/imports/` and the rows each reads to.

use tcg_query_api::csv_import::{CsvFormat, ImportRow};
use tcg_schemas::{
    Condition, Currency, Game, Grade, Grader, Grading, Language, Money, Printing, ProductId, SkuId,
};

pub fn golden(format: CsvFormat) -> Vec<u8> {
    let path = format!(
        "{}/tests/imports/{}.csv",
        env!("CARGO_MANIFEST_DIR"),
        format.as_str()
    );
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn s(text: &str) -> Option<String> {
    Some(text.into())
}

fn usd(cents: i64) -> Option<Money> {
    Some(Money::usd_cents(cents))
}

/// Row `n`: `qty` copies of `name`.
fn row(n: usize, qty: u32, name: &str) -> ImportRow {
    ImportRow {
        name: s(name),
        ..ImportRow::new(n, qty)
    }
}

/// A Magic row: the card, its set (name, code) and number.
fn magic(n: usize, qty: u32, name: &str, set: Option<&str>, code: &str, number: &str) -> ImportRow {
    ImportRow {
        set: set.map(Into::into),
        set_code: s(code),
        number: s(number),
        game: Some(Game::Magic),
        ..row(n, qty, name)
    }
}

const MID: Option<&str> = Some("Innistrad: Midnight Hunt");
const DMU: Option<&str> = Some("Dominaria United");
const CMR: Option<&str> = Some("Commander Legends");
const ZEN: Option<&str> = Some("Zendikar");
pub const SHEOLDRED: &str = "Sheoldred, the Apocalypse";

/// The rows each golden file reads to, and the rows it cannot read.
pub fn expected(format: CsvFormat) -> (Vec<ImportRow>, Vec<usize>) {
    use Condition as C;
    match format {
        CsvFormat::Manabox => (
            vec![
                ImportRow {
                    printing: Printing::Foil,
                    cost_per_unit: usd(24),
                    ..magic(
                        1,
                        1,
                        "Ambitious Farmhand // Seasoned Cathar",
                        MID,
                        "MID",
                        "2",
                    )
                },
                ImportRow {
                    condition: C::LightlyPlayed,
                    language: Language::Japanese,
                    cost_per_unit: usd(10),
                    ..magic(2, 4, "Consider", MID, "MID", "44")
                },
                ImportRow {
                    printing: Printing::EtchedFoil,
                    condition: C::Excellent,
                    language: Language::German,
                    ..magic(3, 1, SHEOLDRED, DMU, "DMU", "107")
                },
                ImportRow {
                    condition: C::LightlyPlayed,
                    cost_per_unit: Some(Money::new(5550, Currency::EUR)),
                    note: s("misprint, altered"),
                    ..magic(4, 1, "Jeweled Lotus", CMR, "CMR", "319")
                },
                ImportRow {
                    condition: C::Poor,
                    ..magic(5, 1, "Nonexistent Card", Some("Nowhere"), "ZZZ", "1")
                },
            ],
            vec![6],
        ),
        CsvFormat::Moxfield => (
            vec![
                ImportRow {
                    printing: Printing::Foil,
                    cost_per_unit: usd(3250),
                    ..magic(1, 1, "Verdant Catacombs", None, "zen", "229")
                },
                ImportRow {
                    language: Language::Japanese,
                    ..magic(2, 2, "Consider", None, "mid", "44")
                },
                ImportRow {
                    printing: Printing::EtchedFoil,
                    condition: C::LightlyPlayed,
                    cost_per_unit: usd(8000),
                    note: s("altered"),
                    ..magic(3, 1, SHEOLDRED, None, "dmu", "107")
                },
                ImportRow {
                    condition: C::HeavilyPlayed,
                    language: Language::Korean,
                    cost_per_unit: usd(4000),
                    ..magic(4, 1, "Jeweled Lotus", None, "cmr", "319")
                },
                ImportRow {
                    condition: C::Damaged,
                    cost_per_unit: usd(100),
                    note: s("proxy"),
                    ..magic(5, 1, "Imaginary Dragon", None, "xyz", "1")
                },
            ],
            vec![],
        ),
        CsvFormat::Deckbox => (
            vec![
                ImportRow {
                    condition: C::LightlyPlayed,
                    note: s("signed"),
                    ..magic(
                        1,
                        1,
                        "Black Lotus",
                        Some("Limited Edition Alpha"),
                        "LEA",
                        "232",
                    )
                },
                ImportRow {
                    printing: Printing::Foil,
                    ..magic(2, 3, "Consider", MID, "MID", "44")
                },
                ImportRow {
                    language: Language::Japanese,
                    note: s("promo"),
                    ..magic(3, 1, SHEOLDRED, DMU, "DMU", "107")
                },
                ImportRow {
                    printing: Printing::EtchedFoil,
                    condition: C::HeavilyPlayed,
                    ..magic(
                        4,
                        1,
                        "Lightning Bolt",
                        Some("Strixhaven Mystical Archive"),
                        "STA",
                        "42",
                    )
                },
                ImportRow {
                    condition: C::ModeratelyPlayed,
                    language: Language::German,
                    ..magic(5, 2, "Verdant Catacombs", ZEN, "ZEN", "229")
                },
                ImportRow {
                    condition: C::Poor,
                    ..magic(6, 1, "Unknown Relic", Some("Fake Set"), "FAK", "1")
                },
            ],
            vec![],
        ),
        CsvFormat::DragonShield => {
            let ds = |n, qty, name, set, code, number| ImportRow {
                game: None,
                ..magic(n, qty, name, set, code, number)
            };
            (
                vec![
                    ImportRow {
                        condition: C::LightlyPlayed,
                        cost_per_unit: usd(950_000),
                        acquired_on: s("2023-01-15"),
                        ..ds(1, 1, "Black Lotus", Some("Alpha"), "LEA", "232")
                    },
                    ImportRow {
                        printing: Printing::Foil,
                        cost_per_unit: usd(25),
                        acquired_on: s("2023-02-01"),
                        ..ds(2, 2, "Consider", MID, "MID", "44")
                    },
                    ImportRow {
                        condition: C::Excellent,
                        language: Language::German,
                        ..ds(3, 1, SHEOLDRED, DMU, "DMU", "107")
                    },
                    ImportRow {
                        condition: C::LightlyPlayed,
                        cost_per_unit: usd(4500),
                        acquired_on: s("2023-03-10"),
                        ..ds(4, 1, "Jeweled Lotus", CMR, "CMR", "319")
                    },
                    ImportRow {
                        printing: Printing::Foil,
                        condition: C::ModeratelyPlayed,
                        cost_per_unit: usd(3000),
                        acquired_on: s("2023-02-20"),
                        ..ds(5, 3, "Verdant Catacombs", ZEN, "ZEN", "229")
                    },
                    ImportRow {
                        condition: C::Poor,
                        cost_per_unit: usd(100),
                        acquired_on: s("2023-03-01"),
                        ..ds(6, 1, "Phantom Card", Some("Phantom Set"), "PHT", "9")
                    },
                ],
                vec![],
            )
        }
        CsvFormat::Archidekt => (
            vec![
                ImportRow {
                    printing: Printing::Foil,
                    cost_per_unit: usd(4500),
                    acquired_on: s("2024-01-10"),
                    ..magic(1, 1, "Jeweled Lotus", CMR, "cmr", "319")
                },
                ImportRow {
                    condition: C::LightlyPlayed,
                    acquired_on: s("2024-01-11"),
                    ..magic(2, 4, "Consider", MID, "mid", "44")
                },
                ImportRow {
                    printing: Printing::EtchedFoil,
                    condition: C::ModeratelyPlayed,
                    language: Language::Japanese,
                    cost_per_unit: usd(8500),
                    acquired_on: s("2024-02-01"),
                    ..magic(3, 1, SHEOLDRED, DMU, "dmu", "107")
                },
                ImportRow {
                    condition: C::HeavilyPlayed,
                    cost_per_unit: usd(2800),
                    acquired_on: s("2024-02-02"),
                    ..magic(4, 1, "Verdant Catacombs", ZEN, "zen", "229")
                },
                ImportRow {
                    condition: C::Damaged,
                    cost_per_unit: usd(700_000),
                    acquired_on: s("2024-02-03"),
                    ..magic(
                        5,
                        1,
                        "Black Lotus",
                        Some("Limited Edition Alpha"),
                        "lea",
                        "232",
                    )
                },
                ImportRow {
                    cost_per_unit: usd(100),
                    acquired_on: s("2024-02-04"),
                    ..magic(6, 1, "Made Up Card", Some("Imaginary Set"), "imx", "7")
                },
            ],
            vec![],
        ),
        CsvFormat::DelverLens => (
            vec![
                ImportRow {
                    printing: Printing::Foil,
                    ..magic(1, 1, "Verdant Catacombs", ZEN, "ZEN", "229")
                },
                ImportRow {
                    condition: C::LightlyPlayed,
                    ..magic(2, 3, "Consider", MID, "MID", "44")
                },
                ImportRow {
                    condition: C::ModeratelyPlayed,
                    language: Language::Spanish,
                    ..magic(3, 1, SHEOLDRED, DMU, "DMU", "107")
                },
                ImportRow {
                    printing: Printing::Foil,
                    condition: C::Damaged,
                    language: Language::Italian,
                    ..magic(4, 2, "Jeweled Lotus", CMR, "CMR", "319")
                },
                magic(5, 2, "Ghostly Card", Some("Nowhere"), "NWH", "1"),
            ],
            vec![],
        ),
        other => expected_tcg(other),
    }
}

/// The expected rows of the TCGplayer, Collectr and generic files (Pokémon, mostly).
fn expected_tcg(format: CsvFormat) -> (Vec<ImportRow>, Vec<usize>) {
    use Condition as C;
    let base = |n, qty, name, number| ImportRow {
        set: s("Base Set"),
        number: s(number),
        game: Some(Game::Pokemon),
        ..row(n, qty, name)
    };
    let holo = |n, qty, name, number| ImportRow {
        printing: Printing::Holofoil,
        ..base(n, qty, name, number)
    };
    let psa10 = Some(Grading {
        grader: Grader::Psa,
        grade: Grade::whole(10).unwrap(),
    });
    match format {
        CsvFormat::TcgplayerSeller => (
            vec![
                ImportRow {
                    sku_id: Some(SkuId(5002)),
                    condition: C::LightlyPlayed,
                    ..holo(1, 1, "Charizard", "4/102")
                },
                ImportRow {
                    sku_id: Some(SkuId(9001)),
                    condition: C::Damaged,
                    ..holo(2, 2, "Blastoise", "2/102")
                },
                ImportRow {
                    sku_id: Some(SkuId(7777)),
                    printing: Printing::FirstEditionHolofoil,
                    language: Language::Japanese,
                    ..base(3, 1, "Charizard", "4/102")
                },
                ImportRow {
                    sku_id: Some(SkuId(9002)),
                    printing: Printing::UnlimitedHolofoil,
                    condition: C::HeavilyPlayed,
                    ..base(4, 1, "Venusaur", "15/102")
                },
                ImportRow {
                    sku_id: Some(SkuId(8001)),
                    set: s("Alpha"),
                    game: Some(Game::Magic),
                    ..base(5, 1, "Black Lotus", "232")
                },
                ImportRow {
                    sku_id: Some(SkuId(9003)),
                    set: s("Jungle"),
                    ..base(6, 4, "Pikachu", "60/64")
                },
            ],
            vec![7],
        ),
        CsvFormat::Tcgplayer => {
            let app = |r: ImportRow| ImportRow {
                game: None,
                set_code: s(if r.set.as_deref() == Some("Alpha") {
                    "LEA"
                } else {
                    "BS"
                }),
                ..r
            };
            (
                vec![
                    app(ImportRow {
                        product_id: Some(ProductId(2001)),
                        set: s("Alpha"),
                        condition: C::LightlyPlayed,
                        ..base(1, 3, "Black Lotus", "232")
                    }),
                    app(holo(2, 1, "Charizard", "4/102")),
                    app(ImportRow {
                        product_id: Some(ProductId(1002)),
                        condition: C::ModeratelyPlayed,
                        language: Language::Japanese,
                        ..holo(3, 2, "Blastoise", "2/102")
                    }),
                    ImportRow {
                        product_id: Some(ProductId(424_242)),
                        set: s("Nowhere"),
                        set_code: s("X"),
                        number: s("1"),
                        ..row(4, 1, "Ghost")
                    },
                ],
                vec![],
            )
        }
        CsvFormat::Collectr => (
            vec![
                ImportRow {
                    grading: psa10,
                    cost_per_unit: usd(200_000),
                    acquired_on: s("2024-03-02"),
                    note: s("slab, signed"),
                    ..holo(1, 1, "Charizard", "4/102")
                },
                ImportRow {
                    condition: C::LightlyPlayed,
                    cost_per_unit: usd(15_050),
                    acquired_on: s("2024-03-03"),
                    ..holo(2, 2, "Blastoise", "2/102")
                },
                ImportRow {
                    condition: C::Damaged,
                    acquired_on: s("2024-03-04"),
                    ..holo(3, 1, "Venusaur", "15/102")
                },
                ImportRow {
                    set: s("Jungle"),
                    cost_per_unit: usd(100),
                    acquired_on: s("2024-03-03"),
                    ..base(4, 1, "Pikachu", "60/64")
                },
            ],
            vec![5],
        ),
        CsvFormat::Generic => (
            vec![
                ImportRow {
                    product_id: Some(ProductId(1001)),
                    grading: psa10,
                    cost_per_unit: usd(200_000),
                    acquired_on: s("2024-03-02"),
                    note: s("slab, signed"),
                    ..holo(1, 1, "Charizard", "4/102")
                },
                ImportRow {
                    condition: C::LightlyPlayed,
                    acquired_on: s("2024-03-03"),
                    ..holo(2, 2, "Blastoise", "2/102")
                },
                ImportRow {
                    set: s("Alpha"),
                    game: Some(Game::Magic),
                    condition: C::HeavilyPlayed,
                    cost_per_unit: usd(800_000),
                    ..base(3, 1, "Black Lotus", "232")
                },
                ImportRow {
                    product_id: Some(ProductId(999_999)),
                    cost_per_unit: usd(100),
                    ..ImportRow::new(4, 1)
                },
            ],
            vec![],
        ),
        other => panic!("no golden rows for {other:?}"),
    }
}
