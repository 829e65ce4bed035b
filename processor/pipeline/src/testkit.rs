//! What the pipeline's tests share: the quote they send, [`market_quote`]. (The broker they run
//! against is a real Apache Kafka from `tcg-engines`.)

/// A TCGCSV market price (Pokémon, Holofoil) of `product`, observed at `observed_at`.
pub fn market_quote(
    product: u64,
    observed_at: tcg_schemas::Timestamp,
    cents: i64,
) -> tcg_schemas::RawQuote {
    use tcg_schemas::{CategoryId, Money, PriceKind, ProductId, RawQuote, Source, Subject};
    RawQuote {
        source: Source::Tcgcsv,
        observed_at,
        kind: PriceKind::Market,
        price: Money::usd_cents(cents),
        shipping: None,
        subject: Subject::TcgProduct {
            category_id: CategoryId(3),
            group_id: None,
            product_id: ProductId(product),
            sub_type_name: "Holofoil".into(),
        },
    }
}
