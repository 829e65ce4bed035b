//! Games, keyed by TCGplayer category id. Every category id maps to a game: the known ones by
//! name, any other by its id.

use std::fmt;

use schemars::JsonSchema;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::ids::CategoryId;

/// A trading card game (a TCGplayer category).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Game {
    Magic,
    YuGiOh,
    Pokemon,
    CardfightVanguard,
    ForceOfWill,
    WeissSchwarz,
    FinalFantasy,
    UniVersus,
    DragonBallSuper,
    FleshAndBlood,
    Digimon,
    MetaZoo,
    OnePiece,
    Lorcana,
    GrandArchive,
    Sorcery,
    AlphaClash,
    StarWarsUnlimited,
    DragonBallSuperFusionWorld,
    UnionArena,
    PokemonJapan,
    Gundam,
    Riftbound,
    /// Any other TCGplayer category, kept by its id.
    Other(CategoryId),
}

/// (game, category id, slug, display name) for every named game.
const KNOWN: &[(Game, u32, &str, &str)] = &[
    (Game::Magic, 1, "magic", "Magic: The Gathering"),
    (Game::YuGiOh, 2, "yugioh", "Yu-Gi-Oh!"),
    (Game::Pokemon, 3, "pokemon", "Pokémon"),
    (
        Game::CardfightVanguard,
        16,
        "cardfight-vanguard",
        "Cardfight!! Vanguard",
    ),
    (Game::ForceOfWill, 17, "force-of-will", "Force of Will"),
    (Game::WeissSchwarz, 20, "weiss-schwarz", "Weiss Schwarz"),
    (Game::FinalFantasy, 24, "final-fantasy", "Final Fantasy TCG"),
    (Game::UniVersus, 25, "universus", "UniVersus"),
    (
        Game::DragonBallSuper,
        27,
        "dragon-ball-super",
        "Dragon Ball Super CCG",
    ),
    (
        Game::FleshAndBlood,
        62,
        "flesh-and-blood",
        "Flesh and Blood",
    ),
    (Game::Digimon, 63, "digimon", "Digimon Card Game"),
    (Game::MetaZoo, 66, "metazoo", "MetaZoo"),
    (Game::OnePiece, 68, "one-piece", "One Piece Card Game"),
    (Game::Lorcana, 71, "lorcana", "Disney Lorcana"),
    (Game::GrandArchive, 74, "grand-archive", "Grand Archive"),
    (Game::Sorcery, 77, "sorcery", "Sorcery: Contested Realm"),
    (Game::AlphaClash, 78, "alpha-clash", "Alpha Clash"),
    (
        Game::StarWarsUnlimited,
        79,
        "star-wars-unlimited",
        "Star Wars: Unlimited",
    ),
    (
        Game::DragonBallSuperFusionWorld,
        80,
        "dragon-ball-fusion-world",
        "Dragon Ball Super: Fusion World",
    ),
    (Game::UnionArena, 81, "union-arena", "Union Arena"),
    (Game::PokemonJapan, 85, "pokemon-japan", "Pokémon Japan"),
    (Game::Gundam, 86, "gundam", "Gundam Card Game"),
    (
        Game::Riftbound,
        89,
        "riftbound",
        "Riftbound: League of Legends",
    ),
];

impl Game {
    /// The game of a TCGplayer category id. Total: unknown ids give `Game::Other`.
    pub fn from_category(id: CategoryId) -> Game {
        KNOWN
            .iter()
            .find(|(_, cat, _, _)| *cat == id.0)
            .map_or(Game::Other(id), |(g, _, _, _)| *g)
    }

    /// The TCGplayer category id of this game.
    pub fn category_id(&self) -> CategoryId {
        match self {
            Game::Other(id) => *id,
            known => KNOWN
                .iter()
                .find(|(g, _, _, _)| g == known)
                .map_or(CategoryId(0), |(_, cat, _, _)| CategoryId(*cat)),
        }
    }

    /// A stable machine name: `pokemon`, `magic`, … or `category-123` for an unnamed category.
    pub fn slug(&self) -> String {
        match self {
            Game::Other(id) => format!("category-{}", id.0),
            known => self.known_entry(known).map_or("", |e| e.2).to_owned(),
        }
    }

    /// A display name: `Pokémon`, … or `TCGplayer category 123`.
    pub fn name(&self) -> String {
        match self {
            Game::Other(id) => format!("TCGplayer category {}", id.0),
            known => self.known_entry(known).map_or("", |e| e.3).to_owned(),
        }
    }

    /// Parses a slug, a display name (case-insensitive) or a bare category id.
    pub fn parse(text: &str) -> Option<Game> {
        let t = text.trim();
        if let Ok(id) = t.parse::<u32>() {
            return Some(Game::from_category(CategoryId(id)));
        }
        if let Some(id) = t.strip_prefix("category-") {
            return id
                .parse::<u32>()
                .ok()
                .map(|id| Game::from_category(CategoryId(id)));
        }
        KNOWN
            .iter()
            .find(|(_, _, slug, name)| slug.eq_ignore_ascii_case(t) || name.eq_ignore_ascii_case(t))
            .map(|(g, _, _, _)| *g)
    }

    /// Every named game.
    pub fn known() -> impl Iterator<Item = Game> {
        KNOWN.iter().map(|(g, _, _, _)| *g)
    }

    fn known_entry(&self, g: &Game) -> Option<&'static (Game, u32, &'static str, &'static str)> {
        KNOWN.iter().find(|(k, _, _, _)| k == g)
    }
}

impl fmt::Display for Game {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.name())
    }
}

impl Serialize for Game {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.slug())
    }
}

impl<'de> Deserialize<'de> for Game {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        crate::de_str::parse_with(deserializer, |s| {
            Game::parse(s).ok_or_else(|| format!("unknown game {s:?}"))
        })
    }
}

impl JsonSchema for Game {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Game".into()
    }
    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        let slugs: Vec<&str> = KNOWN.iter().map(|e| e.2).collect();
        schemars::json_schema!({
            "description": "Game slug, or category-<TCGplayer category id> for a category without a name here",
            "anyOf": [
                {"type": "string", "enum": slugs},
                {"type": "string", "pattern": "^category-[0-9]+$"}
            ]
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn source_category_ids_map_to_named_games() {
        for (id, game) in [
            (1, Game::Magic),
            (2, Game::YuGiOh),
            (3, Game::Pokemon),
            (62, Game::FleshAndBlood),
            (63, Game::Digimon),
            (68, Game::OnePiece),
            (71, Game::Lorcana),
            (74, Game::GrandArchive),
            (85, Game::PokemonJapan),
            (89, Game::Riftbound),
        ] {
            assert_eq!(Game::from_category(CategoryId(id)), game);
            assert_eq!(game.category_id(), CategoryId(id));
        }
    }

    #[test]
    fn every_category_id_is_a_game_and_round_trips() {
        for id in 0..200u32 {
            let game = Game::from_category(CategoryId(id));
            assert_eq!(game.category_id(), CategoryId(id));
            assert_eq!(Game::parse(&game.slug()), Some(game));
            let json = serde_json::to_string(&game).unwrap();
            assert_eq!(serde_json::from_str::<Game>(&json).unwrap(), game);
        }
        assert_eq!(
            Game::from_category(CategoryId(12345)).slug(),
            "category-12345"
        );
    }

    #[test]
    fn parses_names_and_slugs() {
        assert_eq!(Game::parse("Pokémon Japan"), Some(Game::PokemonJapan));
        assert_eq!(Game::parse("one-piece"), Some(Game::OnePiece));
        assert_eq!(Game::parse("YUGIOH"), Some(Game::YuGiOh));
        assert_eq!(Game::parse("chess"), None);
    }
}
