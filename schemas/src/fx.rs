//! Currency conversion by reference rates that are an input (ECB daily rates), never looked up.

use std::collections::BTreeMap;

use rust_decimal::Decimal;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::{
    SchemaError,
    money::{Currency, Money},
};

/// Reference rates: units of each currency per one unit of `base` (ECB publishes per 1 EUR).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct FxRates {
    pub base: Currency,
    /// The day the rates are for (`YYYY-MM-DD`).
    pub as_of: String,
    /// Currency code → units per one `base`. The base itself is implied (1).
    #[schemars(with = "BTreeMap<String, String>")]
    pub rates: BTreeMap<Currency, Decimal>,
}

impl Default for FxRates {
    /// No rates: only USD amounts convert (to themselves).
    fn default() -> Self {
        FxRates {
            base: Currency::EUR,
            as_of: String::new(),
            rates: BTreeMap::new(),
        }
    }
}

impl FxRates {
    fn per_base(&self, currency: Currency) -> Option<Decimal> {
        if currency == self.base {
            Some(Decimal::ONE)
        } else {
            self.rates.get(&currency).copied().filter(|r| !r.is_zero())
        }
    }

    /// Converts `amount` into `target`, rounded half-to-even to the target's minor unit.
    pub fn convert(&self, amount: Money, target: Currency) -> Result<Money, SchemaError> {
        if amount.currency == target {
            return Ok(amount);
        }
        let from = self
            .per_base(amount.currency)
            .ok_or(SchemaError::NoRate(amount.currency))?;
        let to = self.per_base(target).ok_or(SchemaError::NoRate(target))?;
        let value = amount
            .to_decimal()
            .checked_mul(to)
            .and_then(|v| v.checked_div(from))
            .ok_or_else(|| SchemaError::InvalidAmount(amount.to_string()))?;
        Money::from_decimal(value, target)
    }

    /// Converts into US dollars.
    pub fn to_usd(&self, amount: Money) -> Result<Money, SchemaError> {
        self.convert(amount, Currency::USD)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rates() -> FxRates {
        let mut rates = BTreeMap::new();
        rates.insert(Currency::USD, "1.0800".parse().unwrap());
        rates.insert(Currency::JPY, "162.50".parse().unwrap());
        rates.insert(Currency::GBP, "0.8500".parse().unwrap());
        FxRates {
            base: Currency::EUR,
            as_of: "2024-05-01".into(),
            rates,
        }
    }

    #[test]
    fn converts_through_the_base() {
        let r = rates();
        assert_eq!(
            r.to_usd(Money::new(1000, Currency::EUR)).unwrap(),
            Money::usd_cents(1080)
        );
        // 16250 JPY = 100 EUR = 108 USD
        assert_eq!(
            r.to_usd(Money::new(16250, Currency::JPY)).unwrap(),
            Money::usd_cents(10800)
        );
        assert_eq!(r.to_usd(Money::usd_cents(5)).unwrap(), Money::usd_cents(5));
        // 1 GBP = 1/0.85 EUR = 1.270588... USD → 1.27
        assert_eq!(
            r.to_usd(Money::new(100, Currency::GBP)).unwrap(),
            Money::usd_cents(127)
        );
    }

    #[test]
    fn missing_rate_is_an_error() {
        let err = rates().to_usd(Money::new(100, Currency::CHF)).unwrap_err();
        assert_eq!(err.to_string(), "no exchange rate for CHF");
        assert!(
            FxRates::default()
                .to_usd(Money::new(1, Currency::EUR))
                .is_err()
        );
    }
}
