//! Golden eBay search texts: TCGplayer product names of the shapes its catalog has (the number
//! suffix of modern Pokémon names, `(…)` variant qualifiers, One Piece's `(119) (Alternate
//! Art)`, Lorcana's `Name - Subtitle`, Magic's treatments as products of their own, basic
//! lands' `(0308)`) and the `q` each must give. Before, `q` was the raw name plus the number:
//! `Charizard ex - 199/165 199/165`, `Monkey.D.Luffy (119) (Alternate Art) OP05-119`.

#![allow(clippy::unwrap_used)]

use tcg_collectors::ebay::query::search_query;
use tcg_schemas::{CategoryId, Grade, Grader, ProductId, TrackedCard, Wanted};

/// (category, product name, number, set name, expected q)
const GOLDEN: &[(u32, &str, &str, &str, &str)] = &[
    // Pokémon (3)
    (
        3,
        "Charizard ex - 199/165",
        "199/165",
        "SV: Scarlet & Violet 151",
        "Charizard ex 199/165",
    ),
    (
        3,
        "Umbreon VMAX (Alternate Art Secret)",
        "215/203",
        "SWSH07: Evolving Skies",
        "Umbreon VMAX 215/203",
    ),
    (
        3,
        "Mewtwo VSTAR - GG44",
        "GG44",
        "Crown Zenith: Galarian Gallery",
        "Mewtwo VSTAR GG44",
    ),
    (3, "Charizard", "4/102", "Base Set", "Charizard 4/102"),
    (
        3,
        "Snorlax - SWSH068 (Prerelease)",
        "SWSH068",
        "SWSH: Sword & Shield Promo Cards",
        "Snorlax SWSH068",
    ),
    (3, "Mr. Mime", "6/64", "Jungle", "Mr. Mime 6/64"),
    (
        3,
        "Professor's Research (Professor Turo) - 190/198",
        "190/198",
        "SV01: Scarlet & Violet Base Set",
        "Professor's Research 190/198",
    ),
    (
        3,
        "Pikachu (Cosmos Holo)",
        "",
        "Miscellaneous Cards & Products",
        "Pikachu Miscellaneous Cards & Products",
    ),
    (3, "Pikachu", "", "", "Pikachu Pokemon"),
    // Pokémon Japan (85): the language is the category's.
    (
        85,
        "Charizard ex - 201/165",
        "201/165",
        "SV2a: Pokemon Card 151",
        "Charizard ex 201/165 Japanese",
    ),
    (
        85,
        "Pikachu - 001/SV-P",
        "001/SV-P",
        "SV-P Promotional Cards",
        "Pikachu 001/SV-P Japanese",
    ),
    (
        85,
        "Mew ex - 205/165",
        "205/165",
        "SV2a: Pokemon Card 151",
        "Mew ex 205/165 Japanese",
    ),
    // Magic (1): no collector number; the treatment and the set instead.
    (
        1,
        "Sheoldred, the Apocalypse",
        "107",
        "Dominaria United",
        "Sheoldred, the Apocalypse Dominaria United",
    ),
    (
        1,
        "Sheoldred, the Apocalypse (Showcase)",
        "415",
        "Dominaria United",
        "Sheoldred, the Apocalypse Showcase Dominaria United",
    ),
    (
        1,
        "Oko, Thief of Crowns (Borderless)",
        "271",
        "Throne of Eldraine",
        "Oko, Thief of Crowns Borderless Throne of Eldraine",
    ),
    (
        1,
        "Orcish Bowmasters (Extended Art)",
        "738",
        "The Lord of the Rings: Tales of Middle-earth",
        "Orcish Bowmasters Extended Art The Lord of the Rings",
    ),
    (
        1,
        "Ragavan, Nimble Pilferer (Retro Frame)",
        "309",
        "Modern Horizons 2",
        "Ragavan, Nimble Pilferer Retro Frame Modern Horizons 2",
    ),
    (
        1,
        "Forest (0308)",
        "308",
        "Duskmourn: House of Horror",
        "Forest Duskmourn",
    ),
    // Yu-Gi-Oh! (2): the set code is the number.
    (
        2,
        "Blue-Eyes White Dragon",
        "LOB-EN001",
        "Legend of Blue Eyes White Dragon",
        "Blue-Eyes White Dragon LOB-EN001",
    ),
    (
        2,
        "Ash Blossom & Joyous Spring (Quarter Century Secret Rare)",
        "RA03-EN020",
        "Quarter Century Bonanza",
        "Ash Blossom & Joyous Spring RA03-EN020",
    ),
    (
        2,
        "Dark Magician",
        "SDY-006",
        "Starter Deck: Yugi",
        "Dark Magician SDY-006",
    ),
    // One Piece (68)
    (
        68,
        "Monkey.D.Luffy (119) (Alternate Art)",
        "OP05-119",
        "Awakening of the New Era",
        "Monkey D Luffy OP05-119",
    ),
    (
        68,
        "Monkey.D.Luffy (118) (Red Super Alternate Art)",
        "OP13-118",
        "Carrying On His Will",
        "Monkey D Luffy OP13-118",
    ),
    (
        68,
        "Roronoa Zoro (Parallel)",
        "OP01-025",
        "Romance Dawn",
        "Roronoa Zoro OP01-025",
    ),
    // Lorcana (71): the subtitle stays, its dash goes.
    (
        71,
        "Elsa - Spirit of Winter (Enchanted)",
        "207/204",
        "The First Chapter",
        "Elsa Spirit of Winter 207/204",
    ),
    (
        71,
        "Mickey Mouse - Brave Little Tailor",
        "115/204",
        "The First Chapter",
        "Mickey Mouse Brave Little Tailor 115/204",
    ),
];

fn card(category: u32, name: &str, number: &str, set: &str) -> TrackedCard {
    TrackedCard {
        product_id: ProductId(1),
        category_id: CategoryId(category),
        name: name.to_owned(),
        number: (!number.is_empty()).then(|| number.to_owned()),
        set_name: (!set.is_empty()).then(|| set.to_owned()),
        set_code: None,
        printing: None,
        language: None,
        want: Wanted::Any,
    }
}

#[test]
fn golden_search_texts() {
    let mut failures = Vec::new();
    for &(category, name, number, set, expected) in GOLDEN {
        let q = search_query(&card(category, name, number, set));
        if q != expected {
            failures.push(format!(
                "[{category}] {name:?}: expected {expected:?}, got {q:?}"
            ));
        }
    }
    let games: std::collections::BTreeSet<u32> = GOLDEN.iter().map(|g| g.0).collect();
    assert_eq!(games.len(), 6, "every game of the issue: {games:?}");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn the_number_is_searched_once() {
    for &(category, name, number, set, _) in GOLDEN {
        let q = search_query(&card(category, name, number, set));
        if !number.is_empty() {
            assert!(q.matches(number).count() <= 1, "{q:?}");
        }
        assert!(!q.contains('(') && !q.contains(" - "), "{q:?}");
    }
}

#[test]
fn grade_and_language_are_added() {
    let mut c = card(
        3,
        "Charizard ex - 199/165",
        "199/165",
        "SV: Scarlet & Violet 151",
    );
    c.want = Wanted::Graded {
        grader: Some(Grader::Psa),
        grade: Some(Grade::whole(10).unwrap()),
    };
    assert_eq!(search_query(&c), "Charizard ex 199/165 PSA 10");
    c.want = Wanted::Any;
    c.language = Some("German".into());
    assert_eq!(search_query(&c), "Charizard ex 199/165 German");
    let mut jp = card(
        85,
        "Charizard ex - 201/165",
        "201/165",
        "SV2a: Pokemon Card 151",
    );
    jp.language = Some("English".into());
    assert_eq!(search_query(&jp), "Charizard ex 201/165");
}
