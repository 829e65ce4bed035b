//! One core per input partition: a partition's log is processed in order by one `Processor`, so a
//! replay of the log rebuilds exactly the state it had.

use std::collections::BTreeMap;

use tcg_processor_core::{CoreConfig, Processor};
use tcg_schemas::{AlertRule, FxRates, RuleChange, RuleId};

/// The processors of the partitions this instance owns, sharing rules and exchange rates.
#[derive(Debug)]
pub struct PartitionedCore {
    config: CoreConfig,
    rules: BTreeMap<RuleId, AlertRule>,
    fx: FxRates,
    parts: BTreeMap<i32, Processor>,
}

impl PartitionedCore {
    pub fn new(config: CoreConfig) -> Self {
        PartitionedCore {
            config,
            rules: BTreeMap::new(),
            fx: FxRates::default(),
            parts: BTreeMap::new(),
        }
    }

    /// A fresh processor with the current rules and rates (for a partition's rebuild).
    pub fn fresh(&self) -> Processor {
        let mut p = Processor::new(self.config.clone());
        p.set_fx_rates(self.fx.clone());
        for rule in self.rules.values() {
            // Rules were validated when they were added here.
            let _ = p.upsert_rule(rule.clone());
        }
        p
    }

    pub fn get_mut(&mut self, partition: i32) -> Option<&mut Processor> {
        self.parts.get_mut(&partition)
    }

    pub fn insert(&mut self, partition: i32, processor: Processor) {
        self.parts.insert(partition, processor);
    }

    /// Forgets a partition (revoked: its next owner rebuilds the state).
    pub fn remove(&mut self, partition: i32) -> Option<Processor> {
        self.parts.remove(&partition)
    }

    pub fn partitions(&self) -> Vec<i32> {
        self.parts.keys().copied().collect()
    }

    /// Applies a rule change to every partition; an invalid rule is refused with the reason.
    pub fn apply_rule_change(
        &mut self,
        change: RuleChange,
    ) -> Result<(), tcg_processor_core::RuleError> {
        if let RuleChange::Upsert { rule } = &change {
            tcg_processor_core::rules::validate(rule, &self.config)?;
        }
        match &change {
            RuleChange::Upsert { rule } => {
                self.rules.insert(rule.id, rule.clone());
            }
            RuleChange::Delete { rule_id, .. } => {
                self.rules.remove(rule_id);
            }
        }
        for p in self.parts.values_mut() {
            p.apply_rule_change(change.clone())?;
        }
        Ok(())
    }

    pub fn rule_count(&self) -> usize {
        self.rules.len()
    }

    pub fn set_fx_rates(&mut self, fx: FxRates) {
        for p in self.parts.values_mut() {
            p.set_fx_rates(fx.clone());
        }
        self.fx = fx;
    }
}
