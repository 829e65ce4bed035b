//! The eBay search text (`q`) for a tracked card, built from the catalog the way sellers title
//! their listings, not from TCGplayer's product name as it stands:
//!
//! - the **name** without TCGplayer's suffixes: every `(…)` group (`(119)`, `(Alternate Art)`,
//!   `(Enchanted)`, `(0308)`), a trailing ` - 199/165` / ` - GG44` / ` - SWSH068` number suffix;
//!   a subtitle's ` - ` becomes a space (`Elsa - Spirit of Winter` → `Elsa Spirit of Winter`)
//!   and a dot joining name parts too (`Monkey.D.Luffy` → `Monkey D Luffy`);
//! - the **card number** once, as printed (`199/165`, `OP05-119`, `LOB-EN001`, `207/204`), for
//!   every game but Magic, whose sellers rarely write collector numbers;
//! - Magic instead gets its **treatment** (`Showcase`, `Borderless`, `Extended Art`, `Retro
//!   Frame`, `Etched`: separate TCGplayer products, the same name) and its **set** name up to a
//!   colon (`Duskmourn: House of Horror` → `Duskmourn`); so does any card without a number;
//! - the **game** (`Pokemon`, `MTG`, `Yugioh`, …) only when neither a number nor a set is
//!   searched, since a bare name may be another game's card;
//! - grader and grade when a graded copy is wanted, and the **language** when it is not
//!   English (Japanese for TCGplayer's Pokémon Japan category unless the card says otherwise).
//!
//! The title classifier then decides which listings price the card; the search only has to find
//! them.

use tcg_schemas::{Game, TrackedCard, Wanted};

/// Magic treatments TCGplayer lists as products of their own, as sellers write them.
const MAGIC_TREATMENTS: &[&str] = &[
    "Showcase",
    "Borderless",
    "Extended Art",
    "Retro Frame",
    "Etched",
    "Foil Etched",
    "Full Art",
];

/// The `q` searched for a tracked card (see the module documentation).
pub fn search_query(card: &TrackedCard) -> String {
    let game = Game::from_category(card.category_id);
    let number = card
        .number
        .as_deref()
        .map(str::trim)
        .filter(|n| !n.is_empty());
    let (name, groups) = clean_name(&card.name, number);
    let mut parts = vec![name];
    let numbered = number.is_some() && game != Game::Magic;
    if numbered {
        parts.extend(number.map(str::to_owned));
    } else {
        if game == Game::Magic {
            parts.extend(
                groups
                    .iter()
                    .filter(|g| MAGIC_TREATMENTS.iter().any(|t| t.eq_ignore_ascii_case(g)))
                    .cloned(),
            );
        }
        match card
            .set_name
            .as_deref()
            .map(set_words)
            .filter(|s| !s.is_empty())
        {
            Some(set) => parts.push(set),
            None => parts.extend(game_word(game).map(str::to_owned)),
        }
    }
    if let Wanted::Graded {
        grader: Some(g),
        grade,
    } = &card.want
    {
        parts.push(g.as_str().to_owned());
        parts.extend(grade.as_ref().map(ToString::to_string));
    }
    if let Some(lang) = language(card, game) {
        parts.push(lang.to_owned());
    }
    parts.retain(|p| !p.is_empty());
    parts.join(" ")
}

/// The language word searched, if not English.
fn language(card: &TrackedCard, game: Game) -> Option<&str> {
    match card.language.as_deref().map(str::trim) {
        Some(l) if l.is_empty() || l.eq_ignore_ascii_case("english") => None,
        Some(l) => Some(l),
        None if game == Game::PokemonJapan => Some("Japanese"),
        None => None,
    }
}

/// The name as sellers write it, and the texts of the `(…)` groups removed from it.
pub fn clean_name(name: &str, number: Option<&str>) -> (String, Vec<String>) {
    let mut groups = Vec::new();
    let mut bare = String::with_capacity(name.len());
    let mut depth = 0usize;
    let mut group = String::new();
    for c in name.chars() {
        match c {
            '(' | '[' => {
                depth += 1;
                group.clear();
            }
            ')' | ']' if depth > 0 => {
                depth -= 1;
                groups.push(group.trim().to_owned());
                bare.push(' ');
            }
            _ if depth > 0 => group.push(c),
            _ => bare.push(c),
        }
    }
    let mut text = bare.trim().to_owned();
    // A trailing " - 199/165", " - GG44", " - SWSH068": a number, not a subtitle.
    if let Some((head, tail)) = text.rsplit_once(" - ")
        && is_number_suffix(tail.trim(), number)
    {
        text = head.to_owned();
    }
    let text = text.replace(" - ", " ");
    (join_words(&dotted_to_spaces(&text)), groups)
}

/// A name suffix that is a card number: the card's own, or one word with a digit in it.
fn is_number_suffix(tail: &str, number: Option<&str>) -> bool {
    number.is_some_and(|n| n.eq_ignore_ascii_case(tail))
        || (!tail.is_empty() && !tail.contains(' ') && tail.chars().any(|c| c.is_ascii_digit()))
}

/// `Monkey.D.Luffy` → `Monkey D Luffy`: a dot between letters joins name parts. Other dots
/// (`Mr. Mime`, `B.F.M.` at a word's end) stay.
fn dotted_to_spaces(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    chars
        .iter()
        .enumerate()
        .map(|(i, &c)| {
            let joins = c == '.'
                && i > 0
                && chars[i - 1].is_alphabetic()
                && chars.get(i + 1).is_some_and(|n| n.is_alphabetic());
            if joins { ' ' } else { c }
        })
        .collect()
}

fn join_words(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// A set's name as sellers write it: up to a colon, unless the part before it is a code
/// (`SV: Scarlet & Violet 151` → `Scarlet & Violet 151`, `Duskmourn: House of Horror` →
/// `Duskmourn`), without TCGplayer's `(…)` qualifiers other than the distinguishing ones
/// (`Base Set (Shadowless)` → `Base Set Shadowless`).
fn set_words(set: &str) -> String {
    let head = match set.split_once(':') {
        Some((code, rest)) if is_code(code.trim()) => rest,
        Some((head, _)) => head,
        None => set,
    };
    let (bare, groups) = clean_name(head, None);
    let mut words = vec![bare];
    words.extend(
        groups
            .into_iter()
            .filter(|g| ["Shadowless", "1st Edition"].contains(&g.as_str())),
    );
    join_words(&words.join(" "))
}

/// `SV`, `SWSH12`, `SV03`, `ME01`: a set-code prefix, not a name.
fn is_code(text: &str) -> bool {
    !text.is_empty()
        && text.len() <= 8
        && text
            .chars()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit())
}

/// The game's word in listing titles.
fn game_word(game: Game) -> Option<&'static str> {
    Some(match game {
        Game::Pokemon | Game::PokemonJapan => "Pokemon",
        Game::Magic => "MTG",
        Game::YuGiOh => "Yugioh",
        Game::OnePiece => "One Piece",
        Game::Lorcana => "Lorcana",
        Game::FleshAndBlood => "Flesh and Blood",
        Game::Digimon => "Digimon",
        Game::DragonBallSuper | Game::DragonBallSuperFusionWorld => "Dragon Ball",
        Game::StarWarsUnlimited => "Star Wars Unlimited",
        _ => return None,
    })
}
