//! What the API tells a user about the price sources: each source's health and the recent
//! rejected quotes of a card. The collectors (and, in `up`, the processor) keep both in memory;
//! the query API reads them through this trait without linking a collector.

use tcg_schemas::{CardRejection, ProductId, SourceHealth, UnmappedProduct};

/// A view of the sources' health and of the recent rejections. Reads are cheap and never block
/// on I/O (the reports live in memory).
pub trait SourceReports: Send + Sync + std::fmt::Debug {
    /// Every source's health, ordered by name.
    fn sources(&self) -> Vec<SourceHealth>;

    /// Up to `limit` recent rejections of `product`, newest first.
    fn rejections(&self, product: ProductId, limit: usize) -> Vec<CardRejection>;

    /// Up to `limit` recent rejections of every product, newest first (what another process
    /// pulls to serve them).
    fn recent_rejections(&self, limit: usize) -> Vec<CardRejection>;

    /// Up to `limit` products of other markets that no product of ours fits (or several do),
    /// of `source` when given, most recently met first. None by default: only sources that map
    /// another market's products have any.
    fn unmapped(&self, source: Option<&str>, limit: usize) -> Vec<UnmappedProduct> {
        let _ = (source, limit);
        Vec::new()
    }
}
