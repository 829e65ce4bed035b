//! One pass's mapping of Scryfall cards to our products: by the TCGplayer ids Scryfall states
//! (`tcgplayer_id`, `tcgplayer_etched_id`), never by guessing. Cards that do not map are kept
//! aside and listed at the end of the pass when our catalog covers their set; the
//! `cardmarket_id` ↔ `tcgplayer_id` pairs are collected for the id bridge.

use std::{
    collections::{HashMap, HashSet},
    sync::Arc,
};

use tcg_schemas::{
    CategoryId, Currency, Language, Mapping, MappingMethod, MarketRow, Money, PriceKind, ProductId,
    RawQuote, Source as QuoteSource, Subject, Timestamp,
};

use super::{SOURCE, model::Card};
use crate::{
    PassReport,
    identity::{IdBridge, Lookup, Match, ProductIndex, UnmappedLog, UnmappedReason},
    rejections::{CollectorRejectReason, CollectorRejection},
};

/// TCGplayer's category of Magic.
pub const MAGIC: CategoryId = CategoryId(1);

/// A card that mapped to none of our products, kept until the pass knows which sets our catalog
/// covers.
#[derive(Debug, Clone)]
struct Unmatched {
    id: String,
    name: String,
    number: String,
    set: String,
    set_name: String,
}

/// One price field of a card: which of our series it prices, and how.
struct Offer<'a> {
    product: Option<(ProductId, CategoryId)>,
    printing: &'static str,
    kind: PriceKind,
    currency: Currency,
    field: &'static str,
    value: Option<&'a str>,
}

/// What a pass counted.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Counts {
    /// Cards of the tracked languages handed to the mapper.
    pub cards: u64,
    /// Of them, cards with at least one product in our catalog.
    pub mapped: u64,
    /// Cards listed as unmapped or ambiguous.
    pub listed: u64,
    /// Cardmarket ids bridged (stated with one TCGplayer id only).
    pub bridged: u64,
    /// Scryfall ids bridged to their card's `tcgplayer_id` (Card Kingdom states them).
    pub bridged_scryfall: u64,
    /// Cardmarket ids stated with two different TCGplayer ids (not bridged).
    pub bridge_conflicts: u64,
}

/// The mapping state of one pass.
#[derive(Debug)]
pub struct PassMapper {
    index: Arc<ProductIndex>,
    at: Timestamp,
    /// Quotes not yet published.
    pub pending: Vec<RawQuote>,
    /// Cardmarket id → the TCGplayer id stated with it (`None` once two disagree).
    bridge: HashMap<u64, Option<u64>>,
    /// Scryfall id → the card's `tcgplayer_id`.
    scryfall_ids: Vec<(String, ProductId)>,
    /// Folded set codes and names of the sets our catalog has cards of.
    covered: HashSet<String>,
    unmatched: Vec<Unmatched>,
    pub counts: Counts,
}

/// Lower-case alphanumerics: how set codes and names are compared.
fn fold(text: &str) -> String {
    text.chars()
        .filter(|c| c.is_alphanumeric())
        .flat_map(char::to_lowercase)
        .collect()
}

impl PassMapper {
    pub fn new(index: Arc<ProductIndex>, at: Timestamp) -> Self {
        PassMapper {
            index,
            at,
            pending: Vec::new(),
            bridge: HashMap::new(),
            scryfall_ids: Vec::new(),
            covered: HashSet::new(),
            unmatched: Vec::new(),
            counts: Counts::default(),
        }
    }

    /// Our Magic product `id`, if the catalog has it.
    fn product(&self, id: u64) -> Option<(ProductId, CategoryId)> {
        self.index
            .get(ProductId(id))
            .filter(|e| e.category_id == MAGIC)
            .map(|e| (e.product_id, e.category_id))
    }

    /// Maps one card (of a tracked language): its quotes go to `pending`, its rejections to
    /// `report`.
    pub fn card(
        &mut self,
        card: Card,
        language: Language,
        unmapped: &UnmappedLog,
        report: &mut PassReport,
    ) {
        self.counts.cards += 1;
        if let (Some(cm), Some(tp)) = (card.cardmarket_id, card.tcgplayer_id) {
            self.bridge
                .entry(cm)
                .and_modify(|known| {
                    if *known != Some(tp) {
                        *known = None;
                    }
                })
                .or_insert(Some(tp));
        }
        if let Some(tp) = card.tcgplayer_id {
            self.scryfall_ids.push((card.id.clone(), ProductId(tp)));
        }
        let regular = card.tcgplayer_id.and_then(|id| self.product(id));
        let etched = self.etched_product(&card);
        if regular.is_none() && etched.is_none() {
            self.unmatched.push(Unmatched {
                id: card.id,
                name: card.name,
                number: card.collector_number,
                set: card.set,
                set_name: card.set_name,
            });
            return;
        }
        self.counts.mapped += 1;
        unmapped.mapped(SOURCE, &card.id);
        self.cover(&card, regular.or(etched));
        let quoted = self.quote(&card, regular, etched, language, report);
        if !quoted && let Some((product, category)) = regular.or(etched) {
            report.reject(CollectorRejection {
                source: SOURCE.to_owned(),
                at: self.at,
                reason: CollectorRejectReason::NoPrices,
                category_id: Some(category.0),
                group_id: None,
                product_id: Some(product.0),
                sub_type_name: None,
                detail: format!("Scryfall card {} has no usd or eur price", card.id),
            });
        }
    }

    /// The product the etched prices are for: the etched product TCGplayer lists on its own, or
    /// the card's product when the card comes only etched (Scryfall then took the etched price
    /// from it). Never the card's product when it also comes foil: both would be its `Foil`.
    fn etched_product(&self, card: &Card) -> Option<(ProductId, CategoryId)> {
        let foil_too = card.has_finish("foil")
            || card.prices.usd_foil.is_some()
            || card.prices.eur_foil.is_some();
        card.tcgplayer_etched_id
            .or(card.tcgplayer_id.filter(|_| !foil_too))
            .and_then(|id| self.product(id))
    }

    /// Learns that our catalog covers the card's set (by Scryfall's code and name, and by the
    /// code and name our catalog gives the product's set).
    fn cover(&mut self, card: &Card, product: Option<(ProductId, CategoryId)>) {
        let ours = product.and_then(|(id, _)| self.index.get(id));
        let names = [Some(&card.set), Some(&card.set_name)]
            .into_iter()
            .chain(ours.map(|e| e.set_code.as_ref()))
            .chain(ours.map(|e| e.set_name.as_ref()));
        let folded: Vec<String> = names.flatten().map(|s| fold(s)).collect();
        self.covered.extend(folded);
    }

    /// Queues the card's quotes; false when it had no price at all.
    fn quote(
        &mut self,
        card: &Card,
        regular: Option<(ProductId, CategoryId)>,
        etched: Option<(ProductId, CategoryId)>,
        language: Language,
        report: &mut PassReport,
    ) -> bool {
        let (market, trend) = (PriceKind::Market, PriceKind::Trend);
        let (usd, eur) = (Currency::USD, Currency::EUR);
        let p = &card.prices;
        let offers = [
            (regular, "Normal", market, usd, "usd", &p.usd),
            (regular, "Foil", market, usd, "usd_foil", &p.usd_foil),
            (etched, "Foil", market, usd, "usd_etched", &p.usd_etched),
            (regular, "Normal", trend, eur, "eur", &p.eur),
            (regular, "Foil", trend, eur, "eur_foil", &p.eur_foil),
            (etched, "Foil", trend, eur, "eur_etched", &p.eur_etched),
        ]
        .map(|(product, printing, kind, currency, field, value)| Offer {
            product,
            printing,
            kind,
            currency,
            field,
            value: value.as_deref(),
        });
        let mut priced = false;
        for offer in offers {
            let Some(text) = offer.value else { continue };
            priced = true;
            let Some((product, category)) = offer.product else {
                continue;
            };
            match Money::parse_decimal(text, offer.currency) {
                Ok(price) if price.is_positive() => {
                    self.pending
                        .push(self.raw_quote(card, &offer, product, category, price, &language));
                }
                Ok(_) => {}
                Err(e) => report.reject(CollectorRejection {
                    source: SOURCE.to_owned(),
                    at: self.at,
                    reason: CollectorRejectReason::NoPrices,
                    category_id: Some(category.0),
                    group_id: None,
                    product_id: Some(product.0),
                    sub_type_name: Some(offer.printing.to_owned()),
                    detail: format!("{} {text:?} of Scryfall card {}: {e}", offer.field, card.id),
                }),
            }
        }
        priced
    }

    fn raw_quote(
        &self,
        card: &Card,
        offer: &Offer<'_>,
        product: ProductId,
        category: CategoryId,
        price: Money,
        language: &Language,
    ) -> RawQuote {
        RawQuote {
            source: QuoteSource::Scryfall,
            observed_at: self.at,
            kind: offer.kind,
            price,
            shipping: None,
            subject: Subject::Market(Box::new(MarketRow {
                category_id: category,
                product_id: product,
                external_id: card.id.clone(),
                mapping: Mapping {
                    method: MappingMethod::TcgplayerId,
                    confidence: 100,
                },
                printing: offer.printing.to_owned(),
                condition: None,
                language: Some(language.clone()),
                graded: None,
                quantity: None,
            })),
        }
    }

    /// Ends the pass: teaches `bridge` the Cardmarket ids stated with one TCGplayer id and the
    /// Scryfall ids of the cards that state one (never an etched product's), and
    /// lists the cards that mapped to nothing of ours, when our catalog covers their set (some
    /// card of it mapped this pass) or has a card of the same name in it. A listed card carries
    /// our products of the same name, number and set (or name and set) as candidates, never
    /// quoted: ambiguous when there are several.
    pub fn finish(&mut self, bridge: &IdBridge, unmapped: &UnmappedLog) {
        let mut pairs = Vec::new();
        for (cm, tp) in self.bridge.drain() {
            match tp {
                Some(tp) => pairs.push((cm.to_string(), ProductId(tp))),
                None => self.counts.bridge_conflicts += 1,
            }
        }
        self.counts.bridged = pairs.len() as u64;
        bridge.learn_all(QuoteSource::Cardmarket, pairs);
        let scryfall_ids = std::mem::take(&mut self.scryfall_ids);
        self.counts.bridged_scryfall = scryfall_ids.len() as u64;
        bridge.learn_all(QuoteSource::Scryfall, scryfall_ids);
        for card in std::mem::take(&mut self.unmatched) {
            let (why, candidates) = self.candidates(&card);
            let covered = self.covered.contains(&fold(&card.set))
                || self.covered.contains(&fold(&card.set_name));
            if !covered && candidates.is_empty() {
                continue;
            }
            self.counts.listed += 1;
            unmapped.met(
                SOURCE,
                &card.id,
                why,
                &card.name,
                Some(&card.number),
                Some(&card.set_name),
                candidates,
                self.at,
            );
        }
    }

    /// Our products like an unmapped card: by name, number and set (code, then name), else by
    /// name and set.
    fn candidates(&self, card: &Unmatched) -> (UnmappedReason, Vec<ProductId>) {
        let number = Some(card.number.as_str());
        let tries = [
            (number, card.set.as_str()),
            (number, card.set_name.as_str()),
            (None, card.set.as_str()),
            (None, card.set_name.as_str()),
        ];
        for (number, set) in tries {
            match self.index.find(&Lookup {
                category_id: MAGIC,
                name: &card.name,
                number,
                set: Some(set),
                sealed: false,
            }) {
                Match::Mapped { product_id, .. } => {
                    return (UnmappedReason::Unmapped, vec![product_id]);
                }
                Match::Ambiguous(ids) => return (UnmappedReason::Ambiguous, ids),
                Match::Unmapped => {}
            }
        }
        (UnmappedReason::Unmapped, Vec::new())
    }
}
