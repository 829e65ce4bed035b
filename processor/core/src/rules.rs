//! Alert rules: validation, the rule book indexed by product, and evaluation against a stream.

use rust_decimal::Decimal;
use rustc_hash::FxHashMap;
use tcg_schemas::{
    AlertEvent, AlertId, AlertRule, Direction, Money, PriceKind, ProductId, RuleChange,
    RuleCondition, RuleId, Tick, Timestamp, Trigger,
};

use crate::{
    config::CoreConfig,
    fair::{self, Confirmation},
    state::{RuleMemo, SeriesStreams, StreamState},
};

/// Most independent sources a rule may require to confirm a move.
pub const MAX_CONFIRMING_SOURCES: u8 = 10;

/// The shortest cooldown the core applies: a rule stored with less (an older API accepted 0)
/// fires at most once a minute per series. The API refuses less at creation; here a stored
/// value below it is read as this minimum, so no rule can make a webhook endpoint flood.
pub const MIN_COOLDOWN_SECS: u64 = 60;

/// A rule field that is out of range.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {message}")]
pub struct RuleError {
    /// The JSON path of the field, e.g. `condition.percent`.
    pub field: &'static str,
    pub message: String,
}

fn invalid(field: &'static str, message: impl Into<String>) -> RuleError {
    RuleError {
        field,
        message: message.into(),
    }
}

/// Percent as an integer scaled by 10⁴ (12.5% → 125_000); at most four decimals are used.
fn percent_e4(p: Decimal) -> i128 {
    let scale = p.scale();
    let mantissa = p.mantissa();
    if scale <= 4 {
        mantissa * 10i128.pow(4 - scale)
    } else {
        mantissa / 10i128.pow(scale - 4)
    }
}

/// Checks every field of a rule against the core's limits.
pub fn validate(rule: &AlertRule, config: &CoreConfig) -> Result<(), RuleError> {
    if rule.name.trim().is_empty() || rule.name.len() > 200 {
        return Err(invalid("name", "must be 1 to 200 characters"));
    }
    if rule.cooldown_secs > 90 * 86_400 {
        return Err(invalid("cooldown_secs", "must be at most 90 days"));
    }
    match &rule.condition {
        RuleCondition::PriceAbove { threshold_usd }
        | RuleCondition::PriceBelow { threshold_usd } => {
            if threshold_usd.currency != tcg_schemas::Currency::USD {
                return Err(invalid("condition.threshold_usd.currency", "must be USD"));
            }
            if !threshold_usd.is_positive() || threshold_usd.minor > config.max_price_usd_cents {
                return Err(invalid(
                    "condition.threshold_usd.amount",
                    "must be positive and plausible",
                ));
            }
        }
        RuleCondition::PercentChange {
            percent,
            window_secs,
            min_confirming_sources,
            ..
        } => {
            if min_confirming_sources.is_some_and(|m| m == 0 || m > MAX_CONFIRMING_SOURCES) {
                return Err(invalid(
                    "condition.min_confirming_sources",
                    format!("must be between 1 and {MAX_CONFIRMING_SOURCES}"),
                ));
            }
            let p = percent_e4(*percent);
            if p <= 0 || p > 100_000 * 10_000 {
                return Err(invalid(
                    "condition.percent",
                    "must be above 0 and at most 100000",
                ));
            }
            if *window_secs < 60
                || i64::try_from(*window_secs).unwrap_or(i64::MAX) > config.max_window_secs
            {
                return Err(invalid(
                    "condition.window_secs",
                    format!("must be between 60 and {}", config.max_window_secs),
                ));
            }
        }
        RuleCondition::NewLow { days } | RuleCondition::NewHigh { days } => {
            if *days == 0 || *days > config.max_history_days {
                return Err(invalid(
                    "condition.days",
                    format!("must be between 1 and {}", config.max_history_days),
                ));
            }
        }
        RuleCondition::Deal { percent } => {
            let p = percent_e4(*percent);
            if p <= 0 || p >= 100 * 10_000 {
                return Err(invalid(
                    "condition.percent",
                    "must be above 0 and below 100",
                ));
            }
        }
        RuleCondition::BuylistAbove { percent } => {
            let p = percent_e4(*percent);
            if p <= 0 || p > 200 * 10_000 {
                return Err(invalid(
                    "condition.percent",
                    "must be above 0 and at most 200",
                ));
            }
        }
    }
    check_watched_kind(rule)
}

/// A deal rule watches listings or sales, a buylist rule buylist prices (when the filter names a
/// kind).
fn check_watched_kind(rule: &AlertRule) -> Result<(), RuleError> {
    if let Some(kind) = rule.filter.kind
        && matches!(rule.condition, RuleCondition::BuylistAbove { .. })
        && kind != PriceKind::Buylist
    {
        return Err(invalid(
            "filter.kind",
            "a buylist rule watches buylist prices",
        ));
    }
    if let Some(kind) = rule.filter.kind
        && matches!(rule.condition, RuleCondition::Deal { .. })
        && !matches!(kind, PriceKind::Listing | PriceKind::Sold)
    {
        return Err(invalid(
            "filter.kind",
            "a deal rule watches listings or sales",
        ));
    }
    Ok(())
}

/// The rules in force, indexed by product.
#[derive(Debug, Clone, Default)]
pub struct RuleBook {
    by_product: FxHashMap<ProductId, Vec<AlertRule>>,
    products: FxHashMap<RuleId, ProductId>,
}

impl RuleBook {
    /// Adds or replaces a rule (it may move to another product).
    pub fn upsert(&mut self, rule: AlertRule) {
        self.remove(rule.id);
        self.products.insert(rule.id, rule.product_id);
        let rules = self.by_product.entry(rule.product_id).or_default();
        rules.push(rule);
        rules.sort_by_key(|r| r.id);
    }

    pub fn remove(&mut self, id: RuleId) -> Option<AlertRule> {
        let product = self.products.remove(&id)?;
        let rules = self.by_product.get_mut(&product)?;
        let pos = rules.iter().position(|r| r.id == id)?;
        let rule = rules.remove(pos);
        if rules.is_empty() {
            self.by_product.remove(&product);
        }
        Some(rule)
    }

    /// Applies a change from the rules topic.
    pub fn apply(&mut self, change: RuleChange) {
        match change {
            RuleChange::Upsert { rule } => self.upsert(rule),
            RuleChange::Delete { rule_id, .. } => {
                self.remove(rule_id);
            }
        }
    }

    pub fn for_product(&self, product: ProductId) -> &[AlertRule] {
        self.by_product.get(&product).map_or(&[], Vec::as_slice)
    }

    pub fn len(&self) -> usize {
        self.products.len()
    }

    pub fn is_empty(&self) -> bool {
        self.products.is_empty()
    }

    /// Every rule, ordered by product then id.
    pub fn all(&self) -> Vec<AlertRule> {
        let mut all: Vec<AlertRule> = self.by_product.values().flatten().cloned().collect();
        all.sort_by_key(|r| (r.product_id, r.id));
        all
    }
}

/// What the evaluation of one tick may look at besides the stream itself.
#[derive(Debug, Clone, Copy)]
pub struct Context<'a> {
    /// The latest TCGplayer market price of the tick's series, in cents (for deal rules).
    pub market: Option<i64>,
    /// The other streams of the tick's series in memory (the tick's own taken out), to count
    /// the sources that confirm a move; `None`: only the tick's own source is known.
    pub streams: Option<&'a SeriesStreams>,
}

fn memo_for<'s>(memos: &'s mut Vec<RuleMemo>, rule: &AlertRule) -> &'s mut RuleMemo {
    let pos = match memos.iter().position(|m| m.rule_id == rule.id) {
        Some(pos) => {
            if memos[pos].version != rule.updated_at {
                memos[pos] = RuleMemo {
                    rule_id: rule.id,
                    version: rule.updated_at,
                    held: None,
                    last_fired: None,
                };
            }
            pos
        }
        None => {
            memos.push(RuleMemo {
                rule_id: rule.id,
                version: rule.updated_at,
                held: None,
                last_fired: None,
            });
            memos.len() - 1
        }
    };
    &mut memos[pos]
}

fn cents(c: i64) -> Money {
    Money::usd_cents(c)
}

fn pct_decimal(num: i128, den: i128) -> Decimal {
    // Two decimals, truncated towards zero.
    let v = if den == 0 { 0 } else { num * 10_000 / den };
    Decimal::from_i128_with_scale(v, 2)
}

/// Evaluates `rules` (all of the tick's product) on `tick`, against `stream` as it was before
/// the tick. Fired alerts are appended to `out`.
pub fn evaluate(
    rules: &[AlertRule],
    tick: &Tick,
    stream: &mut StreamState,
    ctx: Context<'_>,
    out: &mut Vec<AlertEvent>,
) {
    stream
        .memos
        .retain(|m| rules.iter().any(|r| r.id == m.rule_id));
    let at = tick.observed_at;
    let per_item = matches!(tick.kind, PriceKind::Listing | PriceKind::Sold);
    for rule in rules {
        if rule.paused || !rule.filter.matches(&tick.series, tick.source, tick.kind) {
            continue;
        }
        let (holds, trigger) = check(rule, tick, stream, ctx);
        // Aggregate prices fire when the condition starts to hold; single items fire each time
        // (every cheap listing is news). Cooldown limits both.
        let threshold_like = matches!(
            rule.condition,
            RuleCondition::PriceAbove { .. }
                | RuleCondition::PriceBelow { .. }
                | RuleCondition::BuylistAbove { .. }
        );
        let memo = memo_for(&mut stream.memos, rule);
        let was = memo.held;
        memo.held = Some(holds);
        let Some(trigger) = trigger else { continue };
        if threshold_like && !per_item && was == Some(true) {
            continue;
        }
        let cooldown = i64::try_from(rule.cooldown_secs.max(MIN_COOLDOWN_SECS)).unwrap_or(i64::MAX);
        if memo
            .last_fired
            .is_some_and(|f| at.as_micros() < f.plus_secs(cooldown).as_micros())
        {
            continue;
        }
        memo.last_fired = Some(at);
        out.push(alert(rule, tick, trigger));
    }
}

/// Whether the rule's condition holds for the tick, and the trigger if it does.
fn check(
    rule: &AlertRule,
    tick: &Tick,
    stream: &StreamState,
    ctx: Context<'_>,
) -> (bool, Option<Trigger>) {
    let (price, at) = (tick.price_usd.minor, tick.observed_at);
    let hit = |t: Trigger| (true, Some(t));
    match &rule.condition {
        RuleCondition::PriceAbove { threshold_usd } => {
            if price > threshold_usd.minor {
                hit(Trigger::PriceAbove {
                    threshold_usd: *threshold_usd,
                })
            } else {
                (false, None)
            }
        }
        RuleCondition::PriceBelow { threshold_usd } => {
            if price < threshold_usd.minor {
                hit(Trigger::PriceBelow {
                    threshold_usd: *threshold_usd,
                })
            } else {
                (false, None)
            }
        }
        RuleCondition::PercentChange {
            percent,
            window_secs,
            direction,
            min_confirming_sources,
        } => {
            let Some(moved) = percent_change(price, at, stream, *percent, *window_secs, *direction)
            else {
                return (false, None);
            };
            let c = confirm(tick, &moved, ctx);
            if min_confirming_sources.is_some_and(|m| c.confirmed_by < m) {
                return (false, None);
            }
            hit(Trigger::PercentChange {
                from_usd: cents(moved.reference),
                since: moved.ref_at,
                change_percent: pct_decimal(
                    i128::from(price) - i128::from(moved.reference),
                    i128::from(moved.reference),
                ),
                confirmed_by: Some(c.confirmed_by),
                sources_priced: Some(c.sources_priced),
            })
        }
        RuleCondition::NewLow { days } | RuleCondition::NewHigh { days } => {
            let low = matches!(rule.condition, RuleCondition::NewLow { .. });
            let t = new_extreme(price, at, stream, *days, low);
            (t.is_some(), t)
        }
        RuleCondition::BuylistAbove { percent } => buylist_above(tick, *percent, ctx),
        RuleCondition::Deal { percent } => {
            let Some(market) = ctx.market.filter(|m| *m > 0) else {
                return (false, None);
            };
            let p = percent_e4(*percent);
            // price ≤ market × (1 − p/100)  ⇔  price·10⁶ ≤ market·(10⁶ − p)
            if i128::from(price) * 1_000_000 <= i128::from(market) * (1_000_000 - p) {
                hit(Trigger::Deal {
                    market_usd: cents(market),
                    discount_percent: pct_decimal(
                        i128::from(market) - i128::from(price),
                        i128::from(market),
                    ),
                })
            } else {
                (false, None)
            }
        }
    }
}

/// A `BuylistAbove` rule on `tick`: a buylist price at least `percent` of the series' market
/// price.
fn buylist_above(tick: &Tick, percent: Decimal, ctx: Context<'_>) -> (bool, Option<Trigger>) {
    let price = tick.price_usd.minor;
    let market = ctx.market.filter(|m| *m > 0);
    let Some(market) = market.filter(|_| tick.kind == PriceKind::Buylist) else {
        return (false, None);
    };
    // price ≥ market × p/100  ⇔  price·10⁶ ≥ market·p
    if i128::from(price) * 1_000_000 >= i128::from(market) * percent_e4(percent) {
        (
            true,
            Some(Trigger::BuylistAbove {
                market_usd: cents(market),
                share_percent: pct_decimal(i128::from(price), i128::from(market)),
            }),
        )
    } else {
        (false, None)
    }
}

/// A move a `PercentChange` rule looks at: from `reference` at `ref_at`, in a window opening at
/// `since`.
struct Moved {
    since: Timestamp,
    ref_at: Timestamp,
    reference: i64,
}

/// How many independent sources confirm the move of `tick` (its own source alone when the
/// other streams are not at hand).
fn confirm(tick: &Tick, moved: &Moved, ctx: Context<'_>) -> Confirmation {
    let own = (tick.source, tick.kind);
    let Some(streams) = ctx.streams else {
        let mine = u8::from(fair::input(own.0, own.1).is_some_and(|i| i.confirms));
        return Confirmation {
            confirmed_by: mine,
            sources_priced: mine,
        };
    };
    fair::confirmations(
        streams,
        own,
        moved.since,
        (moved.ref_at, moved.reference),
        (tick.observed_at, tick.price_usd.minor),
    )
}

/// A `PercentChange` move: `price` moved by at least `percent` in `direction` from the oldest
/// price within the window before `at`.
fn percent_change(
    price: i64,
    at: Timestamp,
    stream: &StreamState,
    percent: Decimal,
    window_secs: u64,
    direction: Direction,
) -> Option<Moved> {
    let since = at.minus_secs(i64::try_from(window_secs).unwrap_or(i64::MAX));
    let &(ref_at, reference) = stream.window.iter().find(|(t, _)| *t >= since && *t < at)?;
    if reference <= 0 {
        return None;
    }
    let p = percent_e4(percent);
    let diff = i128::from(price) - i128::from(reference);
    let lhs = diff * 100 * 10_000;
    let rhs = p * i128::from(reference);
    let fired = match direction {
        Direction::Up => lhs >= rhs,
        Direction::Down => -lhs >= rhs,
        Direction::Either => lhs.abs() >= rhs,
    };
    fired.then_some(Moved {
        since,
        ref_at,
        reference,
    })
}

/// A `NewLow` (`low`) or `NewHigh` trigger: `price` beyond every daily low (high) of the last
/// `days` days.
fn new_extreme(
    price: i64,
    at: Timestamp,
    stream: &StreamState,
    days: u16,
    low: bool,
) -> Option<Trigger> {
    if stream.observations < 2 {
        return None;
    }
    let first_day = at.day() - i64::from(days);
    let in_range = stream.days.iter().filter(|r| r.day >= first_day);
    if low {
        match in_range.map(|r| r.low).min() {
            Some(low) if price < low => Some(Trigger::NewLow {
                days,
                previous_low_usd: cents(low),
            }),
            _ => None,
        }
    } else {
        match in_range.map(|r| r.high).max() {
            Some(high) if price > high => Some(Trigger::NewHigh {
                days,
                previous_high_usd: cents(high),
            }),
            _ => None,
        }
    }
}

fn alert(rule: &AlertRule, tick: &Tick, trigger: Trigger) -> AlertEvent {
    let what = match &trigger {
        Trigger::PriceAbove { threshold_usd } => format!("rose above {}", usd(threshold_usd)),
        Trigger::PriceBelow { threshold_usd } => format!("fell below {}", usd(threshold_usd)),
        Trigger::PercentChange {
            from_usd,
            change_percent,
            confirmed_by,
            sources_priced,
            ..
        } => {
            let confirmed = match (confirmed_by, sources_priced) {
                (Some(n), Some(m)) if *n <= 1 => {
                    format!(", a single-source move (confirmed by {n} of {m} sources)")
                }
                (Some(n), Some(m)) => format!(", confirmed by {n} of {m} sources"),
                _ => String::new(),
            };
            format!("moved {change_percent}% from {}{confirmed}", usd(from_usd))
        }
        Trigger::NewLow {
            days,
            previous_low_usd,
        } => format!(
            "is a new {days}-day low (previous {})",
            usd(previous_low_usd)
        ),
        Trigger::NewHigh {
            days,
            previous_high_usd,
        } => format!(
            "is a new {days}-day high (previous {})",
            usd(previous_high_usd)
        ),
        Trigger::Deal {
            market_usd,
            discount_percent,
        } => format!("is {discount_percent}% under market {}", usd(market_usd)),
        Trigger::BuylistAbove {
            market_usd,
            share_percent,
        } => format!("is {share_percent}% of market {}", usd(market_usd)),
    };
    let message = format!(
        "{}: {} {} {} at {} {what}",
        rule.name,
        tick.series_id,
        tick.source.as_str(),
        tick.kind.as_str(),
        usd(&tick.price_usd)
    );
    AlertEvent {
        id: AlertId::derive(
            rule.id,
            &tick.series_id,
            tick.observed_at,
            tick.source,
            tick.kind,
            tick.listing_id.as_deref(),
        ),
        rule_id: rule.id,
        owner: rule.owner.clone(),
        rule_name: rule.name.clone(),
        product_id: tick.series.product_id(),
        series_id: tick.series_id.clone(),
        series: tick.series.clone(),
        source: tick.source,
        kind: tick.kind,
        observed_at: tick.observed_at,
        price_usd: tick.price_usd,
        listing_id: tick.listing_id.clone(),
        trigger,
        message,
    }
}

fn usd(m: &Money) -> String {
    format!("${}", m.to_decimal())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percent_scaling() {
        assert_eq!(percent_e4("12.5".parse().unwrap()), 125_000);
        assert_eq!(percent_e4("10".parse().unwrap()), 100_000);
        assert_eq!(percent_e4("0.00001".parse().unwrap()), 0);
        assert_eq!(pct_decimal(-1, 3).to_string(), "-33.33");
    }
}
