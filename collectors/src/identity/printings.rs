//! The other markets' rows in the printing TCGplayer prices: a market that does not say a card's
//! printing (Cardmarket's and PriceCharting's plain figures) names the usual one, which a
//! holo-only Pokémon card or an Unlimited-only Yu-Gi-Oh! card does not have. Before a market's
//! quotes leave, [`PrintingSink`] moves such a row to the one printing TCGplayer prices of the
//! product (see [`ProductIndex::settled_printing`]), so that its price meets TCGplayer's series.

use std::sync::Arc;

use tcg_schemas::{RawQuote, Subject};
use tokio::sync::watch;

use super::ProductIndex;
use crate::sink::{BoxFuture, QuoteSink, SinkError};

/// A sink that settles the printing of every market row it passes on.
pub struct PrintingSink {
    pub inner: Arc<dyn QuoteSink>,
    pub catalog: watch::Receiver<Arc<ProductIndex>>,
}

/// Settles the printing of `quotes`' market rows against `index`.
pub fn settle_printings(index: &ProductIndex, quotes: &mut [RawQuote]) {
    for q in quotes {
        if let Subject::Market(row) = &mut q.subject
            && row.graded.is_none()
            && let Some(printing) = index.settled_printing(row.product_id, &row.printing)
        {
            row.printing = printing.to_owned();
        }
    }
}

impl std::fmt::Debug for PrintingSink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PrintingSink").finish_non_exhaustive()
    }
}

impl QuoteSink for PrintingSink {
    fn publish<'a>(&'a self, mut quotes: Vec<RawQuote>) -> BoxFuture<'a, Result<(), SinkError>> {
        let index = self.catalog.borrow().clone();
        settle_printings(&index, &mut quotes);
        self.inner.publish(quotes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tcg_schemas::{
        CategoryId, Mapping, MappingMethod, MarketRow, Money, PriceKind, ProductId, Source,
        Timestamp,
    };

    fn row(product: u64, printing: &str) -> RawQuote {
        RawQuote {
            source: Source::Cardmarket,
            observed_at: Timestamp::from_secs(1_700_000_000),
            kind: PriceKind::Trend,
            price: Money::new(100, tcg_schemas::Currency::EUR),
            shipping: None,
            subject: Subject::Market(Box::new(MarketRow {
                category_id: CategoryId(3),
                product_id: ProductId(product),
                external_id: "1".into(),
                mapping: Mapping {
                    method: MappingMethod::NameNumberSet,
                    confidence: 95,
                },
                printing: printing.into(),
                condition: None,
                language: None,
                graded: None,
                quantity: None,
            })),
        }
    }

    fn printing(q: &RawQuote) -> &str {
        match &q.subject {
            Subject::Market(r) => &r.printing,
            _ => "",
        }
    }

    #[tokio::test]
    async fn a_plain_row_of_a_holo_only_card_leaves_as_its_holofoil() {
        let index = ProductIndex::default()
            .with_printings([(ProductId(1), "Holofoil".to_owned())])
            .with_printings([(ProductId(2), "Normal".to_owned())]);
        let inner = Arc::new(crate::VecSink::new());
        let (_tx, catalog) = watch::channel(Arc::new(index));
        let sink = PrintingSink {
            inner: inner.clone(),
            catalog,
        };
        sink.publish(vec![
            row(1, "Normal"),
            row(1, "Reverse Holofoil"),
            row(2, "Normal"),
        ])
        .await
        .unwrap();
        let out = inner.take();
        let got: Vec<&str> = out.iter().map(printing).collect();
        assert_eq!(got, ["Holofoil", "Reverse Holofoil", "Normal"]);
    }
}
