//! Source fields to a series identity and a USD price; believability checks.

use tcg_schemas::{
    Condition, FxRates, Game, Language, MarketRow, Money, PriceKind, Printing, RawQuote,
    RejectReason, SeriesKey, Source, Subject, Timestamp,
};

use crate::{
    config::CoreConfig,
    title::{self, TitleMatch, TitleReject},
};

/// A quote turned into a price of one series.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Normalized<'q> {
    pub series: SeriesKey,
    pub game: Game,
    /// The price in USD, shipping included for kinds that include it.
    pub price_usd: Money,
    /// The single item priced (eBay item id), if any.
    pub listing_id: Option<&'q str>,
    /// eBay match confidence.
    pub confidence: Option<u8>,
}

/// Why a quote was not normalized.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invalid {
    pub reason: RejectReason,
    pub detail: String,
    pub confidence: Option<u8>,
}

impl Invalid {
    fn new(reason: RejectReason, detail: impl Into<String>) -> Self {
        Invalid {
            reason,
            detail: detail.into(),
            confidence: None,
        }
    }
}

/// The language TCGplayer's product-level prices are for: Japanese for Pokémon Japan, else English.
fn default_language(game: Game) -> Language {
    match game {
        Game::PokemonJapan => Language::Japanese,
        _ => Language::English,
    }
}

/// Normalizes one quote. Pure: the same quote, `now`, config and rates give the same answer.
pub fn normalize<'q>(
    quote: &'q RawQuote,
    now: Timestamp,
    config: &CoreConfig,
    fx: &FxRates,
) -> Result<Normalized<'q>, Invalid> {
    normalize_with(quote, now, config, fx, None)
}

/// [`normalize`], reusing an earlier classification of the same eBay title when given.
pub fn normalize_with<'q>(
    quote: &'q RawQuote,
    now: Timestamp,
    config: &CoreConfig,
    fx: &FxRates,
    classified: Option<Result<TitleMatch, TitleReject>>,
) -> Result<Normalized<'q>, Invalid> {
    check_quote(quote, now, config)?;
    let game = Game::from_category(quote.subject.category_id());
    let (series, listing_id, confidence) = identify(quote, game, config, classified)?;

    let no_rate = |e: tcg_schemas::SchemaError| Invalid {
        reason: RejectReason::NoExchangeRate,
        detail: e.to_string(),
        confidence,
    };
    let mut price_usd = fx.to_usd(quote.price).map_err(no_rate)?;
    if quote.kind.includes_shipping()
        && let Some(shipping) = quote.shipping
    {
        let shipping_usd = fx.to_usd(shipping).map_err(no_rate)?;
        price_usd = price_usd.checked_add(shipping_usd).ok_or_else(|| Invalid {
            reason: RejectReason::ImplausiblePrice,
            detail: "price plus shipping overflows".to_owned(),
            confidence,
        })?;
    }
    if price_usd.minor > config.max_price_usd_cents || price_usd.minor <= 0 {
        return Err(Invalid {
            reason: RejectReason::ImplausiblePrice,
            detail: format!("{price_usd} is outside the plausible range"),
            confidence,
        });
    }
    Ok(Normalized {
        series,
        game,
        price_usd,
        listing_id,
        confidence,
    })
}

/// The quote's own sanity: not from the future, a kind its source gives, a positive price and
/// no negative shipping.
fn check_quote(quote: &RawQuote, now: Timestamp, config: &CoreConfig) -> Result<(), Invalid> {
    if quote.observed_at > now.plus_secs(config.max_future_skew_secs) {
        return Err(Invalid::new(
            RejectReason::FutureObservation,
            format!("observed at {} but now is {now}", quote.observed_at),
        ));
    }
    if quote.source.is_computed() || quote.kind == PriceKind::Fair {
        return Err(Invalid::new(
            RejectReason::KindNotForSource,
            format!(
                "{} {} is computed by tcgtracker, never quoted",
                quote.source.as_str(),
                quote.kind.as_str()
            ),
        ));
    }
    let ebay_kind = matches!(quote.kind, PriceKind::Listing | PriceKind::Sold);
    let ebay_source = matches!(quote.source, Source::EbayBrowse | Source::EbaySold);
    let ebay_subject = matches!(quote.subject, Subject::EbayItem(_));
    let market_source = quote.source.is_other_market();
    let market_subject = matches!(quote.subject, Subject::Market(_));
    if ebay_kind != ebay_source
        || ebay_source != ebay_subject
        || market_source != market_subject
        || !kind_from(quote.source, quote.kind)
    {
        return Err(Invalid::new(
            RejectReason::KindNotForSource,
            format!(
                "kind {} with subject {} does not come from {}",
                quote.kind.as_str(),
                subject_name(&quote.subject),
                quote.source.as_str()
            ),
        ));
    }
    if !quote.price.is_positive() {
        return Err(Invalid::new(
            RejectReason::ImplausiblePrice,
            format!("price {} is not positive", quote.price),
        ));
    }
    if quote.shipping.is_some_and(|s| s.minor < 0) {
        return Err(Invalid::new(
            RejectReason::ImplausiblePrice,
            "negative shipping".to_owned(),
        ));
    }
    if let Subject::Market(row) = &quote.subject
        && quote.kind == PriceKind::Buylist
        && row.quantity == Some(0)
    {
        return Err(Invalid::new(
            RejectReason::NotBuying,
            format!(
                "{} buys {} at {} but wants no copies",
                quote.source.as_str(),
                row.external_id,
                quote.price
            ),
        ));
    }
    Ok(())
}

/// Whether `source` publishes prices of `kind` (TCGplayer and eBay kinds are checked with their
/// subjects above; the other markets each quote their own kinds).
fn kind_from(source: Source, kind: PriceKind) -> bool {
    use PriceKind as K;
    match source {
        Source::Cardmarket => matches!(
            kind,
            K::Trend | K::Avg | K::Avg1 | K::Avg7 | K::Avg30 | K::Low
        ),
        Source::Scryfall => matches!(kind, K::Market | K::Trend),
        Source::Pricecharting => kind == K::Sales,
        Source::Justtcg => kind == K::Market,
        Source::Cardkingdom => matches!(kind, K::Retail | K::Buylist),
        Source::Tcgplayer | Source::Tcgcsv => !matches!(
            kind,
            K::Trend | K::Avg | K::Avg1 | K::Avg7 | K::Avg30 | K::Sales | K::Retail | K::Buylist
        ),
        Source::EbayBrowse | Source::EbaySold | Source::Tcgtracker => true,
    }
}

/// The series a quote prices, the eBay item it is (if any) and the match confidence.
fn identify<'q>(
    quote: &'q RawQuote,
    game: Game,
    config: &CoreConfig,
    classified: Option<Result<TitleMatch, TitleReject>>,
) -> Result<(SeriesKey, Option<&'q str>, Option<u8>), Invalid> {
    Ok(match &quote.subject {
        Subject::TcgProduct {
            product_id,
            sub_type_name,
            ..
        } => (
            SeriesKey::Sku {
                product_id: *product_id,
                printing: Printing::parse(sub_type_name),
                condition: Condition::NearMint,
                language: default_language(game),
            },
            None,
            None,
        ),
        Subject::TcgSku {
            product_id,
            printing,
            condition_id,
            language_id,
            ..
        } => (
            SeriesKey::Sku {
                product_id: *product_id,
                printing: Printing::parse(printing),
                condition: Condition::from_tcgplayer_id(*condition_id),
                language: Language::from_tcgplayer_id(*language_id),
            },
            None,
            None,
        ),
        Subject::Market(row) => (
            market_series(row, game),
            None,
            (row.mapping.confidence < 100).then_some(row.mapping.confidence),
        ),
        Subject::EbayItem(item) => {
            match classified.unwrap_or_else(|| title::classify(item, config.min_confidence)) {
                Ok(m) => (m.series, Some(item.item_id.as_str()), Some(m.confidence)),
                Err(reject) => {
                    return Err(Invalid {
                        reason: reject.reason,
                        detail: reject.detail,
                        confidence: reject.confidence,
                    });
                }
            }
        }
    })
}

/// The series of another market's row: its grade when graded, else its printing, condition
/// (Near Mint when the market does not split by condition) and language.
fn market_series(row: &MarketRow, game: Game) -> SeriesKey {
    match &row.graded {
        Some(g) => SeriesKey::Graded {
            product_id: row.product_id,
            grader: g.grader.clone(),
            grade: g.grade,
        },
        None => SeriesKey::Sku {
            product_id: row.product_id,
            printing: Printing::parse(&row.printing),
            condition: row.condition.clone().unwrap_or(Condition::NearMint),
            language: row
                .language
                .clone()
                .unwrap_or_else(|| default_language(game)),
        },
    }
}

fn subject_name(subject: &Subject) -> &'static str {
    match subject {
        Subject::TcgProduct { .. } => "tcg_product",
        Subject::TcgSku { .. } => "tcg_sku",
        Subject::EbayItem(_) => "ebay_item",
        Subject::Market(_) => "market",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;
    use tcg_schemas::{CategoryId, Currency, ProductId, SkuId};

    fn product_quote(category: u32, sub_type: &str, cents: i64) -> RawQuote {
        RawQuote {
            source: Source::Tcgcsv,
            observed_at: Timestamp::from_secs(1_700_000_000),
            kind: PriceKind::Market,
            price: Money::usd_cents(cents),
            shipping: None,
            subject: Subject::TcgProduct {
                category_id: CategoryId(category),
                group_id: None,
                product_id: ProductId(42),
                sub_type_name: sub_type.into(),
            },
        }
    }

    fn now() -> Timestamp {
        Timestamp::from_secs(1_700_000_100)
    }

    #[test]
    fn product_rows_are_near_mint_in_the_games_language() {
        let cfg = CoreConfig::default();
        let q = product_quote(3, "Reverse Holofoil", 74);
        let n = normalize(&q, now(), &cfg, &FxRates::default()).unwrap();
        assert_eq!(n.series.id(), "42/reverse-holofoil/nm/en");
        assert_eq!(n.game, Game::Pokemon);
        assert_eq!(n.price_usd, Money::usd_cents(74));
        let q = product_quote(85, "Holofoil", 74);
        let n = normalize(&q, now(), &cfg, &FxRates::default()).unwrap();
        assert_eq!(n.series.id(), "42/holofoil/nm/ja");
    }

    #[test]
    fn unknown_printing_is_kept_not_mapped() {
        let q = product_quote(1, "Galaxy Foil", 74);
        let n = normalize(&q, now(), &CoreConfig::default(), &FxRates::default()).unwrap();
        assert_eq!(
            n.series,
            SeriesKey::Sku {
                product_id: ProductId(42),
                printing: Printing::Other("Galaxy Foil".into()),
                condition: Condition::NearMint,
                language: Language::English,
            }
        );
    }

    #[test]
    fn sku_rows_use_condition_and_language_ids() {
        let q = RawQuote {
            kind: PriceKind::LowestListing,
            shipping: Some(Money::usd_cents(99)),
            subject: Subject::TcgSku {
                category_id: CategoryId(3),
                product_id: ProductId(42),
                sku_id: SkuId(1010),
                printing: "Holofoil".into(),
                condition_id: 2,
                language_id: 7,
            },
            ..product_quote(3, "", 149)
        };
        let n = normalize(&q, now(), &CoreConfig::default(), &FxRates::default()).unwrap();
        assert_eq!(n.series.id(), "42/holofoil/lp/ja");
        assert_eq!(
            n.price_usd,
            Money::usd_cents(248),
            "shipping added to a lowest listing"
        );
    }

    #[test]
    fn believability_checks() {
        let cfg = CoreConfig::default();
        let fx = FxRates::default();
        let zero = product_quote(3, "Normal", 0);
        assert_eq!(
            normalize(&zero, now(), &cfg, &fx).unwrap_err().reason,
            RejectReason::ImplausiblePrice
        );
        let huge = product_quote(3, "Normal", 2_000_000_000);
        assert_eq!(
            normalize(&huge, now(), &cfg, &fx).unwrap_err().reason,
            RejectReason::ImplausiblePrice
        );
        let mut future = product_quote(3, "Normal", 10);
        future.observed_at = now().plus_secs(301);
        assert_eq!(
            normalize(&future, now(), &cfg, &fx).unwrap_err().reason,
            RejectReason::FutureObservation
        );
        future.observed_at = now().plus_secs(300);
        assert!(
            normalize(&future, now(), &cfg, &fx).is_ok(),
            "skew edge is allowed"
        );
        let mut wrong_kind = product_quote(3, "Normal", 10);
        wrong_kind.kind = PriceKind::Listing;
        assert_eq!(
            normalize(&wrong_kind, now(), &cfg, &fx).unwrap_err().reason,
            RejectReason::KindNotForSource
        );
        // No collector may quote tcgtracker's own fair value.
        let mut claimed = product_quote(3, "Normal", 10);
        claimed.kind = PriceKind::Fair;
        assert_eq!(
            normalize(&claimed, now(), &cfg, &fx).unwrap_err().reason,
            RejectReason::KindNotForSource
        );
        claimed.kind = PriceKind::Market;
        claimed.source = Source::Tcgtracker;
        assert_eq!(
            normalize(&claimed, now(), &cfg, &fx).unwrap_err().reason,
            RejectReason::KindNotForSource
        );
    }

    fn market_quote(source: Source, kind: PriceKind, price: Money) -> RawQuote {
        RawQuote {
            source,
            kind,
            price,
            subject: Subject::Market(Box::new(MarketRow {
                category_id: CategoryId(1),
                product_id: ProductId(42),
                external_id: "273576".into(),
                mapping: tcg_schemas::Mapping {
                    method: tcg_schemas::MappingMethod::NameNumberSet,
                    confidence: 90,
                },
                printing: "Foil".into(),
                condition: None,
                language: None,
                graded: None,
                quantity: None,
            })),
            ..product_quote(1, "", 0)
        }
    }

    fn eur_rates() -> FxRates {
        let mut rates = BTreeMap::new();
        rates.insert(Currency::USD, "1.10".parse().unwrap());
        FxRates {
            base: Currency::EUR,
            as_of: "2026-12-04".into(),
            rates,
        }
    }

    #[test]
    fn other_markets_rows_price_their_mapped_series() {
        let cfg = CoreConfig::default();
        let q = market_quote(
            Source::Cardmarket,
            PriceKind::Trend,
            Money::new(1000, Currency::EUR),
        );
        let n = normalize(&q, now(), &cfg, &eur_rates()).unwrap();
        assert_eq!(
            n.series.id(),
            "42/foil/nm/en",
            "no condition split: Near Mint"
        );
        assert_eq!(n.price_usd, Money::usd_cents(1100));
        assert_eq!(
            n.confidence,
            Some(90),
            "a match by name keeps its confidence"
        );
        assert_eq!(n.listing_id, None);

        let mut graded = market_quote(
            Source::Pricecharting,
            PriceKind::Sales,
            Money::usd_cents(52_000),
        );
        if let Subject::Market(row) = &mut graded.subject {
            row.graded = Some(tcg_schemas::GradedAs {
                grader: tcg_schemas::Grader::Psa,
                grade: tcg_schemas::Grade::whole(10).unwrap(),
            });
            row.mapping.confidence = 100;
        }
        let n = normalize(&graded, now(), &cfg, &FxRates::default()).unwrap();
        assert_eq!(n.series.id(), "42/psa/10");
        assert_eq!(n.confidence, None, "a stated id needs no confidence");
    }

    #[test]
    fn other_markets_quote_only_their_own_kinds_and_subjects() {
        let cfg = CoreConfig::default();
        let fx = eur_rates();
        let reason = |q: &RawQuote| {
            normalize(q, now(), &cfg, &fx)
                .map(|_| ())
                .unwrap_err()
                .reason
        };
        // Cardmarket has no `market` price; a TCGplayer source never sends a market row.
        let wrong = market_quote(Source::Cardmarket, PriceKind::Market, Money::usd_cents(100));
        assert_eq!(reason(&wrong), RejectReason::KindNotForSource);
        let wrong = market_quote(Source::Tcgplayer, PriceKind::Market, Money::usd_cents(100));
        assert_eq!(reason(&wrong), RejectReason::KindNotForSource);
        let mut wrong = product_quote(3, "Normal", 100);
        wrong.source = Source::Scryfall;
        assert_eq!(reason(&wrong), RejectReason::KindNotForSource);
        let mut wrong = product_quote(3, "Normal", 100);
        wrong.kind = PriceKind::Buylist;
        assert_eq!(reason(&wrong), RejectReason::KindNotForSource);
    }

    #[test]
    fn a_buylist_price_counts_only_while_the_shop_buys() {
        let cfg = CoreConfig::default();
        let fx = FxRates::default();
        let mut q = market_quote(
            Source::Cardkingdom,
            PriceKind::Buylist,
            Money::usd_cents(700),
        );
        let set_quantity = |q: &mut RawQuote, n: u32| {
            if let Subject::Market(row) = &mut q.subject {
                row.quantity = Some(n);
            }
        };
        set_quantity(&mut q, 8);
        assert_eq!(
            normalize(&q, now(), &cfg, &fx).unwrap().price_usd,
            Money::usd_cents(700)
        );
        set_quantity(&mut q, 0);
        let err = normalize(&q, now(), &cfg, &fx).unwrap_err();
        assert_eq!(err.reason, RejectReason::NotBuying);
        assert!(err.detail.contains("273576"), "{}", err.detail);
        // Retail with no stock quantity is a price like any other.
        q.kind = PriceKind::Retail;
        assert!(normalize(&q, now(), &cfg, &fx).is_ok());
    }

    #[test]
    fn foreign_currency_converts_and_keeps_the_original() {
        let mut rates = BTreeMap::new();
        rates.insert(Currency::USD, "1.08".parse().unwrap());
        let fx = FxRates {
            base: Currency::EUR,
            as_of: "2024-05-01".into(),
            rates,
        };
        let mut q = product_quote(3, "Normal", 0);
        q.price = Money::new(1000, Currency::EUR);
        let n = normalize(&q, now(), &CoreConfig::default(), &fx).unwrap();
        assert_eq!(n.price_usd, Money::usd_cents(1080));
        q.price = Money::new(1000, Currency::GBP);
        let err = normalize(&q, now(), &CoreConfig::default(), &fx).unwrap_err();
        assert_eq!(err.reason, RejectReason::NoExchangeRate);
    }
}
