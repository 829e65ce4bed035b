//! What a cached answer covers: the ticks that change it.

use tcg_schemas::{Game, ProductId, Tick};
use tcg_store::{PriceFilter, SeriesTarget};

/// The series an answer is computed from; a new tick of one of them drops the answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Cover {
    /// A card's history: one series of it, or those its selection passes, of the sources and
    /// kinds the filter passes.
    Card {
        product: ProductId,
        target: SeriesTarget,
        prices: PriceFilter,
    },
    /// Latest prices: the series named (with their cards), of the sources and kinds passed.
    Series {
        series: Vec<(ProductId, String)>,
        prices: PriceFilter,
    },
    /// A portfolio's valuation: its holdings' series, of the sources and kinds any of `prices`
    /// passes (the chosen price, and tcgtracker's fair value when it prices first). A change
    /// of the holdings themselves changes the request's key, not the cover.
    Holdings {
        series: Vec<(ProductId, String)>,
        prices: Vec<PriceFilter>,
    },
    /// Movers: every series of a game (or of every game), of the sources and kinds passed.
    Market {
        game: Option<Game>,
        prices: PriceFilter,
    },
}

impl Cover {
    /// The cards whose ticks may change the answer; `None`: any card's.
    pub fn products(&self) -> Option<Vec<ProductId>> {
        match self {
            Cover::Card { product, .. } => Some(vec![*product]),
            Cover::Series { series, .. } | Cover::Holdings { series, .. } => {
                let mut products: Vec<ProductId> = series.iter().map(|(p, _)| *p).collect();
                products.sort_unstable();
                products.dedup();
                Some(products)
            }
            Cover::Market { .. } => None,
        }
    }

    /// Whether `tick` (written to the store) changes the answer.
    pub fn covers(&self, tick: &Tick) -> bool {
        match self {
            Cover::Card {
                product,
                target,
                prices,
            } => {
                tick.series.product_id() == *product
                    && prices.matches(tick.source, tick.kind)
                    && match target {
                        SeriesTarget::Series(id) => *id == tick.series_id,
                        SeriesTarget::Product { selection, .. } => selection.matches(&tick.series),
                    }
            }
            Cover::Series { series, prices } => {
                prices.matches(tick.source, tick.kind)
                    && series.iter().any(|(_, id)| *id == tick.series_id)
            }
            Cover::Holdings { series, prices } => {
                prices.iter().any(|p| p.matches(tick.source, tick.kind))
                    && series.iter().any(|(_, id)| *id == tick.series_id)
            }
            Cover::Market { game, prices } => {
                game.as_ref().is_none_or(|g| *g == tick.game)
                    && prices.matches(tick.source, tick.kind)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use tcg_schemas::{Condition, Language, Money, PriceKind, Printing, SeriesKey, Source};
    use tcg_store::SeriesSelection;

    fn tick(product: u64, condition: Condition, source: Source) -> Tick {
        let series = SeriesKey::Sku {
            product_id: ProductId(product),
            printing: Printing::Holofoil,
            condition,
            language: Language::English,
        };
        Tick {
            series_id: series.id(),
            series,
            game: Game::Pokemon,
            source,
            kind: PriceKind::Market,
            observed_at: tcg_schemas::Timestamp::from_secs(1_714_521_600),
            price_usd: Money::usd_cents(4_200),
            original: Money::usd_cents(4_200),
            shipping: None,
            listing_id: None,
            confidence: None,
            agreeing: Vec::new(),
            heartbeat: false,
        }
    }

    #[test]
    fn a_card_cover_takes_its_cards_ticks_that_pass_its_filters_only() {
        let nm = Cover::Card {
            product: ProductId(1),
            target: SeriesTarget::Product {
                product_id: ProductId(1),
                selection: SeriesSelection {
                    condition: Some(Condition::NearMint),
                    ..SeriesSelection::default()
                },
            },
            prices: PriceFilter {
                sources: vec![Source::Tcgplayer],
                kinds: Vec::new(),
            },
        };
        assert!(nm.covers(&tick(1, Condition::NearMint, Source::Tcgplayer)));
        assert!(!nm.covers(&tick(1, Condition::LightlyPlayed, Source::Tcgplayer)));
        assert!(!nm.covers(&tick(1, Condition::NearMint, Source::Tcgcsv)));
        assert!(!nm.covers(&tick(2, Condition::NearMint, Source::Tcgplayer)));
        assert_eq!(nm.products(), Some(vec![ProductId(1)]));

        let one = tick(1, Condition::LightlyPlayed, Source::Tcgcsv);
        let series = Cover::Card {
            product: ProductId(1),
            target: SeriesTarget::Series(one.series_id.clone()),
            prices: PriceFilter::any(),
        };
        assert!(series.covers(&one));
        assert!(!series.covers(&tick(1, Condition::NearMint, Source::Tcgcsv)));
    }

    #[test]
    fn a_holdings_cover_takes_its_series_ticks_of_any_of_its_prices() {
        let nm = tick(1, Condition::NearMint, Source::Tcgplayer);
        let mut fair = tick(1, Condition::NearMint, Source::Tcgtracker);
        fair.kind = PriceKind::Fair;
        let mut low = nm.clone();
        low.kind = PriceKind::Low;
        let market = PriceFilter {
            sources: Vec::new(),
            kinds: vec![PriceKind::Market],
        };
        let chosen = Cover::Holdings {
            series: vec![(ProductId(1), nm.series_id.clone())],
            prices: vec![market.clone()],
        };
        assert!(chosen.covers(&nm));
        assert!(!chosen.covers(&low), "another kind");
        assert!(!chosen.covers(&fair), "the fair value only when it prices");
        assert!(!chosen.covers(&tick(1, Condition::LightlyPlayed, Source::Tcgplayer)));
        assert!(!chosen.covers(&tick(2, Condition::NearMint, Source::Tcgplayer)));
        assert_eq!(chosen.products(), Some(vec![ProductId(1)]));
        let with_fair = Cover::Holdings {
            series: vec![(ProductId(1), nm.series_id.clone())],
            prices: vec![
                PriceFilter::only(Source::Tcgtracker, PriceKind::Fair),
                market,
            ],
        };
        assert!(with_fair.covers(&fair) && with_fair.covers(&nm) && !with_fair.covers(&low));
    }

    #[test]
    fn series_and_market_covers() {
        let a = tick(1, Condition::NearMint, Source::Tcgcsv);
        let b = tick(2, Condition::NearMint, Source::Tcgcsv);
        let latest = Cover::Series {
            series: vec![
                (ProductId(2), b.series_id.clone()),
                (ProductId(2), "x".into()),
            ],
            prices: PriceFilter::any(),
        };
        assert!(latest.covers(&b) && !latest.covers(&a));
        assert_eq!(latest.products(), Some(vec![ProductId(2)]));

        let magic = Cover::Market {
            game: Some(Game::Magic),
            prices: PriceFilter::any(),
        };
        assert!(!magic.covers(&a));
        let all = Cover::Market {
            game: None,
            prices: PriceFilter::only(Source::Tcgcsv, PriceKind::Market),
        };
        assert!(all.covers(&a) && all.covers(&b));
        assert_eq!(all.products(), None);
    }
}
