//! The core's state between runs of `up`: restored at start, saved after the drain.

use std::path::Path;

use anyhow::{Context, Result};
use tcg_processor_core::{CoreConfig, Processor, Snapshot};

/// The core as the last run left it; a fresh one when there is no state or it is from another
/// version.
pub fn restore_core(config: CoreConfig, path: &Path) -> Result<Processor> {
    match std::fs::read(path) {
        Ok(bytes) => match serde_json::from_slice::<Snapshot>(&bytes) {
            Ok(s) if s.version == Snapshot::VERSION => {
                Processor::restore(config, s).context("restoring the core's state")
            }
            _ => {
                eprintln!(
                    "core state in {} is from another version: starting afresh",
                    path.display()
                );
                Ok(Processor::new(config))
            }
        },
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Processor::new(config)),
        Err(e) => Err(e).with_context(|| format!("reading {}", path.display())),
    }
}

/// Writes the core's state atomically (a private temporary file renamed over the old one).
pub fn save_core(core: &Processor, path: &Path) -> Result<()> {
    let tmp = path.with_extension("json.tmp");
    // 0600 whatever the umask: the rename keeps the temporary file's mode.
    super::data_dir::write_private(&tmp, &serde_json::to_vec(&core.snapshot())?)?;
    std::fs::rename(&tmp, path).with_context(|| format!("replacing {}", path.display()))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    use tcg_schemas::{
        CategoryId, Money, PriceKind, ProductId, RawQuote, Source, Subject, Timestamp,
    };

    fn quote(product: u64, cents: i64) -> RawQuote {
        RawQuote {
            source: Source::Tcgcsv,
            observed_at: Timestamp::from_secs(1_700_000_000),
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

    #[test]
    fn state_survives_a_save_and_restore_and_junk_starts_afresh() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("core-state.json");
        let mut core = restore_core(CoreConfig::default(), &path).unwrap();
        let out = core.process(
            Timestamp::from_secs(1_700_000_060),
            &[quote(1, 100), quote(2, 200)],
        );
        assert_eq!(out.stats.ticks, 2);
        save_core(&core, &path).unwrap();
        let again = restore_core(CoreConfig::default(), &path).unwrap();
        assert_eq!(again.snapshot(), core.snapshot());
        assert_ne!(
            again.snapshot(),
            Processor::new(CoreConfig::default()).snapshot()
        );
        std::fs::write(&path, b"{not json").unwrap();
        let afresh = restore_core(CoreConfig::default(), &path).unwrap();
        assert_eq!(
            afresh.snapshot(),
            Processor::new(CoreConfig::default()).snapshot()
        );
    }
}
