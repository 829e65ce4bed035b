//! Reading TCGCSV's catalog (sets and products) for the store, category by category, with a
//! progress report that counts right and suits where it goes: one updating line on a terminal,
//! plain lines (no `\r`) in a log file. A set whose products cannot be read is skipped and named;
//! the other sets are still read.

use std::io::{IsTerminal, Write};

use tcg_schemas::{CardSet, Product};

use super::{TcgcsvClient, client::SOURCE};
use crate::CollectorError;

/// One category's catalog as far as it could be read.
#[derive(Debug)]
pub struct CategoryCatalog {
    pub category_id: u32,
    pub sets: Vec<CardSet>,
    pub products: Vec<Product>,
    /// Sets whose products could not be read, and why.
    pub failed: Vec<(u32, CollectorError)>,
}

/// Reads one category: its sets (an error when they cannot be listed), then each set's products
/// (a set that fails is skipped and listed in `failed`), reporting to `progress`.
pub async fn read_category<W: Write>(
    client: &TcgcsvClient,
    category_id: u32,
    progress: &mut CatalogProgress<W>,
) -> Result<CategoryCatalog, CollectorError> {
    let groups = client.groups(category_id).await?;
    let sets: Vec<CardSet> = groups.iter().map(|g| g.to_card_set()).collect();
    progress.category(category_id, groups.len());
    let mut products = Vec::new();
    let mut failed = Vec::new();
    for g in &groups {
        match client.products(category_id, g.group_id).await {
            Ok(rows) => {
                products.extend(rows.iter().map(|r| r.to_product()));
                progress.set_read(rows.len());
            }
            Err(e) => {
                tracing::warn!(source = SOURCE, group = g.group_id, error = %e, "catalog: products of a set failed; skipped");
                progress.set_failed(g.group_id);
                failed.push((g.group_id, e));
            }
        }
    }
    progress.category_done();
    Ok(CategoryCatalog {
        category_id,
        sets,
        products,
        failed,
    })
}

/// The catalog's progress: on a terminal one line updated in place (`\r`) after every set; else
/// (a log file, `--plain`) a line at every tenth of a category's sets, never a `\r`. Products are
/// counted after their set is read, so the last line's count is the catalog's.
#[derive(Debug)]
pub struct CatalogProgress<W: Write> {
    out: Option<W>,
    terminal: bool,
    category: u32,
    category_sets: usize,
    done: usize,
    category_products: usize,
    failed: Vec<u32>,
    total_products: usize,
    total_sets: usize,
}

impl CatalogProgress<std::io::Stderr> {
    /// To standard error (updating in place when it is a terminal), or nowhere when not `enabled`.
    pub fn stderr(enabled: bool) -> Self {
        let err = std::io::stderr();
        let terminal = err.is_terminal();
        CatalogProgress::new(enabled.then_some(err), terminal)
    }
}

impl<W: Write> CatalogProgress<W> {
    /// Reports to `out` (none: silent); `terminal` chooses the updating line.
    pub fn new(out: Option<W>, terminal: bool) -> Self {
        CatalogProgress {
            out,
            terminal,
            category: 0,
            category_sets: 0,
            done: 0,
            category_products: 0,
            failed: Vec::new(),
            total_products: 0,
            total_sets: 0,
        }
    }

    /// Products read so far, in every category.
    pub fn products(&self) -> usize {
        self.total_products
    }

    /// Sets read so far (failed ones not counted), in every category.
    pub fn sets(&self) -> usize {
        self.total_sets
    }

    /// A category with `sets` sets begins.
    pub fn category(&mut self, category: u32, sets: usize) {
        self.category = category;
        self.category_sets = sets;
        self.done = 0;
        self.category_products = 0;
        self.failed.clear();
    }

    /// A set was read, with `products` products.
    pub fn set_read(&mut self, products: usize) {
        self.done += 1;
        self.category_products += products;
        self.total_products += products;
        self.total_sets += 1;
        self.step();
    }

    /// A set's products could not be read.
    pub fn set_failed(&mut self, group_id: u32) {
        self.done += 1;
        self.failed.push(group_id);
        self.step();
    }

    fn step(&mut self) {
        let line = format!(
            "catalog: category {}, set {}/{} ({} products)",
            self.category, self.done, self.category_sets, self.category_products
        );
        let tenth = self.category_sets.div_ceil(10).max(1);
        let (terminal, due) = (
            self.terminal,
            self.done.is_multiple_of(tenth) && self.done < self.category_sets,
        );
        if let Some(out) = self.out.as_mut() {
            let _ = if terminal {
                write!(out, "\r{line}   ")
            } else if due {
                writeln!(out, "{line}")
            } else {
                Ok(())
            };
            let _ = out.flush();
        }
    }

    /// The category is read: its summary line.
    pub fn category_done(&mut self) {
        let failed = if self.failed.is_empty() {
            String::new()
        } else {
            let ids: Vec<String> = self.failed.iter().map(u32::to_string).collect();
            format!("; {} failed: {}", self.failed.len(), ids.join(", "))
        };
        let line = format!(
            "catalog: category {}: {} products in {} sets{failed}",
            self.category,
            self.category_products,
            self.done - self.failed.len(),
        );
        let terminal = self.terminal;
        if let Some(out) = self.out.as_mut() {
            let _ = if terminal {
                writeln!(out, "\r{line}   ")
            } else {
                writeln!(out, "{line}")
            };
            let _ = out.flush();
        }
    }

    /// The writer, for tests.
    pub fn into_inner(self) -> Option<W> {
        self.out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(terminal: bool) -> String {
        let mut p = CatalogProgress::new(Some(Vec::new()), terminal);
        p.category(3, 20);
        for set in 0..20 {
            if set == 7 {
                p.set_failed(604);
            } else {
                p.set_read(10);
            }
        }
        p.category_done();
        assert_eq!(p.products(), 190);
        assert_eq!(p.sets(), 19);
        String::from_utf8(p.into_inner().unwrap_or_default()).unwrap_or_default()
    }

    #[test]
    fn a_log_file_gets_plain_lines_with_the_products_read() {
        let out = run(false);
        assert!(!out.contains('\r'), "{out:?}");
        let lines: Vec<&str> = out.lines().collect();
        // A line every two sets (a tenth of 20) but the last, then the summary.
        assert_eq!(lines.len(), 10, "{lines:?}");
        assert_eq!(lines[0], "catalog: category 3, set 2/20 (20 products)");
        assert_eq!(lines[3], "catalog: category 3, set 8/20 (70 products)");
        assert_eq!(
            lines[9],
            "catalog: category 3: 190 products in 19 sets; 1 failed: 604"
        );
    }

    #[test]
    fn a_terminal_gets_one_updating_line_ending_with_the_summary() {
        let out = run(true);
        assert_eq!(out.matches('\r').count(), 21);
        assert_eq!(out.matches('\n').count(), 1);
        // Every set's line counts the products of that set too.
        assert!(out.contains("\rcatalog: category 3, set 1/20 (10 products)   "));
        assert!(
            out.ends_with("\rcatalog: category 3: 190 products in 19 sets; 1 failed: 604   \n")
        );
    }

    #[test]
    fn disabled_says_nothing() {
        let mut p = CatalogProgress::<Vec<u8>>::new(None, false);
        p.category(3, 1);
        p.set_read(5);
        p.category_done();
        assert_eq!(p.products(), 5);
        assert!(p.into_inner().is_none());
    }
}
