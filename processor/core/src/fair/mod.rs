//! The fair value of a series: one price blended from every source that prices it, with the
//! outliers left out, a confidence and the sources that agree.
//!
//! **Inputs** are data, not code paths: [`INPUTS`] lists each (source, kind) that may price a
//! series, its weight, how long an observation counts and the independent source ("group") it
//! belongs to. A new source plugs in as a row. TCGplayer's `high` is never an input (parked
//! listings at $999 are common), nor is the fair value itself. A single-item source (eBay) is one
//! input whose value is the median of its recent items and whose weight grows with their number
//! up to a cap, so one listing weighs little.
//!
//! **The rule** ([`blend`]):
//! 1. Candidates are the inputs with an observation within their window.
//! 2. The reference is the weighted median of the candidates together with the series' last
//!    fair value, which weighs [`PRIOR_WEIGHT`] while it is less than [`REFERENCE_TTL_SECS`] old
//!    (half a market price: it steadies the reference, a market price still outweighs it).
//! 3. Candidates outside [`BAND`]⁻¹×–[`BAND`]× of the reference (0.1×–10×) are outliers and left
//!    out: a source holding less than half of the weight cannot move the reference, so a broken
//!    price or a parked listing from one of several sources changes nothing.
//! 4. The fair value is the weighted median of the candidates kept (the mean of the two middle
//!    values when the weight splits exactly in half, rounded down to the cent).
//! 5. The candidates within ±[`AGREE_BPS`] of it agree; the sources they come from are listed.
//!
//! **Confidence** (0–100, [`confidence`]): each independent source that agrees earns points, the
//! freshest first: [`POINTS`] (50, 30, 15, then 5 each), scaled by its freshness (100 % when its
//! newest agreeing observation is at most 36 h old, 50 % up to 7 days, 25 % beyond); the sum is
//! scaled by the evidence (the agreeing weight up to [`STRONG_WEIGHT`], so one eBay listing alone
//! gives little) and by the share of the candidates' weight that agrees (disagreement costs).
//!
//! Everything is integer arithmetic on cents and the result depends only on the set of
//! candidates and the reference, never on their order.

mod memory;
#[cfg(test)]
mod tests;

pub use memory::{Candidates, Confirmation, candidates, confirmations, fill_candidates, scan};
use tcg_schemas::{PriceKind, Source, Timestamp};

/// Candidates outside `1/BAND`× to `BAND`× the reference are outliers.
pub const BAND: i64 = 10;
/// Prices within this many basis points of each other agree (±15 %).
pub const AGREE_BPS: i64 = 1_500;
/// How long the last fair value takes part in the reference (7 days).
pub const REFERENCE_TTL_SECS: i64 = 7 * 86_400;
/// The weight of the last fair value in the reference.
pub const PRIOR_WEIGHT: u32 = 5;
/// Confidence points of the first, second, third … agreeing independent source (5 each after).
pub const POINTS: [u64; 3] = [50, 30, 15];
/// Agreeing weight that counts as full evidence (one TCGplayer market price; four eBay sales).
pub const STRONG_WEIGHT: u64 = 10;

const DAY: i64 = 86_400;

/// One (source, kind) that may price a series, and how much it counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FairInput {
    pub source: Source,
    pub kind: PriceKind,
    /// Weight of one observation.
    pub weight: u32,
    /// Most weight the input carries (single items: several recent items together).
    pub max_weight: u32,
    /// Single items (eBay): the input's value is the median of its items within the window.
    pub items: bool,
    /// How old an observation may be and still count (seconds).
    pub window_secs: i64,
    /// The independent source it belongs to: inputs of one group agree and confirm as one
    /// (TCGCSV mirrors TCGplayer, so both are `tcgplayer`).
    pub group: &'static str,
    /// A price things sold at (market, sold): what confirms a move.
    pub confirms: bool,
}

const fn aggregate(source: Source, kind: PriceKind, weight: u32, confirms: bool) -> FairInput {
    FairInput {
        source,
        kind,
        weight,
        max_weight: weight,
        items: false,
        window_secs: 14 * DAY,
        group: "tcgplayer",
        confirms,
    }
}

/// An aggregate of another market, in its own group (or TCGplayer's, for mirrors of it).
const fn other(
    source: Source,
    kind: PriceKind,
    weight: u32,
    group: &'static str,
    confirms: bool,
) -> FairInput {
    FairInput {
        group,
        ..aggregate(source, kind, weight, confirms)
    }
}

/// Every input of the fair value. TCGplayer `high` and `direct_low` are not inputs (parked
/// listings; TCGplayer Direct's low follows `low`), nor is `fair` itself. The other markets:
/// Cardmarket's trend and 7-day average (EUR, converted) are one independent source; Scryfall's
/// USD and JustTCG's prices follow TCGplayer's market, so they belong to TCGplayer's group (they
/// add weight, never a confirmation of their own), and Scryfall's EUR to Cardmarket's;
/// PriceCharting's sales are their own source; Card Kingdom's retail is a shop's ask (light, it
/// never confirms); a buylist is what a shop pays, never a value of the card.
pub const INPUTS: &[FairInput] = &[
    aggregate(Source::Tcgplayer, PriceKind::Market, 10, true),
    aggregate(Source::Tcgcsv, PriceKind::Market, 10, true),
    aggregate(Source::Tcgplayer, PriceKind::Mid, 3, false),
    aggregate(Source::Tcgcsv, PriceKind::Mid, 3, false),
    aggregate(Source::Tcgplayer, PriceKind::Low, 2, false),
    aggregate(Source::Tcgcsv, PriceKind::Low, 2, false),
    aggregate(Source::Tcgplayer, PriceKind::LowestListing, 2, false),
    FairInput {
        source: Source::EbaySold,
        kind: PriceKind::Sold,
        weight: 3,
        max_weight: 12,
        items: true,
        window_secs: 30 * DAY,
        group: "ebay_sold",
        confirms: true,
    },
    FairInput {
        source: Source::EbayBrowse,
        kind: PriceKind::Listing,
        weight: 1,
        max_weight: 4,
        items: true,
        window_secs: 7 * DAY,
        group: "ebay_listings",
        confirms: false,
    },
    other(Source::Cardmarket, PriceKind::Trend, 6, "cardmarket", true),
    other(Source::Cardmarket, PriceKind::Avg7, 3, "cardmarket", true),
    other(Source::Cardmarket, PriceKind::Avg1, 1, "cardmarket", false),
    other(Source::Scryfall, PriceKind::Market, 5, "tcgplayer", true),
    other(Source::Scryfall, PriceKind::Trend, 3, "cardmarket", true),
    other(
        Source::Pricecharting,
        PriceKind::Sales,
        6,
        "pricecharting",
        true,
    ),
    other(Source::Justtcg, PriceKind::Market, 5, "tcgplayer", true),
    other(
        Source::Cardkingdom,
        PriceKind::Retail,
        2,
        "cardkingdom",
        false,
    ),
];

/// The input row of a (source, kind), if it is one.
pub fn input(source: Source, kind: PriceKind) -> Option<&'static FairInput> {
    INPUTS.iter().find(|i| i.source == source && i.kind == kind)
}

/// The bit of a (source, kind) in an input mask (see [`candidates`]), if it is an input.
pub fn input_bit(source: Source, kind: PriceKind) -> Option<u32> {
    INPUTS
        .iter()
        .position(|i| i.source == source && i.kind == kind)
        .map(|i| 1 << i)
}

/// One input's current value for a series.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Candidate {
    pub source: Source,
    pub kind: PriceKind,
    pub group: &'static str,
    /// US cents.
    pub cents: i64,
    pub weight: u32,
    /// The newest observation behind the value.
    pub observed_at: Timestamp,
}

/// A placeholder for the unused slots of [`Candidates`].
const NO_CANDIDATE: Candidate = Candidate {
    source: Source::Tcgplayer,
    kind: PriceKind::Market,
    group: "",
    cents: 0,
    weight: 0,
    observed_at: Timestamp::from_micros(0),
};

/// A fair value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fair {
    /// US cents.
    pub cents: i64,
    /// 0–100.
    pub confidence: u8,
    /// The sources of the candidates that agree with the value, sorted.
    pub agreeing: Vec<Source>,
    /// Independent sources (groups) that agree.
    pub groups_agreeing: u8,
    /// Independent sources (groups) among the candidates.
    pub groups_priced: u8,
}

/// Whether `cents` is within 0.1×–10× of `reference` (both ends included).
pub fn in_band(cents: i64, reference: i64) -> bool {
    let (c, r) = (i128::from(cents), i128::from(reference));
    c * i128::from(BAND) >= r && c <= r * i128::from(BAND)
}

/// Whether `cents` is within ±15 % of `fair`.
pub fn agrees(cents: i64, fair: i64) -> bool {
    (i128::from(cents) - i128::from(fair)).abs() * 10_000
        <= i128::from(AGREE_BPS) * i128::from(fair)
}

/// Whether a move from `start` to `end` confirms a move from `from` to `to`: the same way, by at
/// least half as much (relative change).
pub fn same_way((from, to): (i64, i64), (start, end): (i64, i64)) -> bool {
    let (d, o) = (
        i128::from(to) - i128::from(from),
        i128::from(end) - i128::from(start),
    );
    d != 0
        && o.signum() == d.signum()
        && start > 0
        && from > 0
        && o.abs() * i128::from(from) * 2 >= d.abs() * i128::from(start)
}

/// Independent sources (groups) among `inputs`, counted once each.
pub fn count_groups<'a>(inputs: impl IntoIterator<Item = &'a FairInput>) -> u8 {
    let mut g: Vec<&str> = inputs.into_iter().map(|i| i.group).collect();
    g.sort_unstable();
    g.dedup();
    u8::try_from(g.len()).unwrap_or(u8::MAX)
}

/// Freshness of an observation `age_secs` old, in percent.
pub fn freshness(age_secs: i64) -> u64 {
    match age_secs {
        a if a <= 36 * 3_600 => 100,
        a if a <= 7 * DAY => 50,
        _ => 25,
    }
}

/// The weighted median of `(cents, weight)` pairs: the value where half the weight is reached
/// (the mean of the two middle values, rounded down, when it is reached exactly between them).
pub fn weighted_median(values: &[(i64, u32)]) -> Option<i64> {
    let mut v: Vec<(i64, u32)> = values.to_vec();
    v.sort_unstable();
    median_where(v.iter().copied(), |_| true)
}

/// The weighted median of the `(cents, weight)` pairs of `sorted` (by cents) that `keep` keeps.
fn median_where(
    sorted: impl Iterator<Item = (i64, u32)> + Clone,
    keep: impl Fn(i64) -> bool,
) -> Option<i64> {
    let kept = sorted.filter(|&(c, w)| w > 0 && keep(c));
    let total: u64 = kept.clone().map(|(_, w)| u64::from(w)).sum();
    let mut cumulative = 0;
    let mut it = kept.peekable();
    while let Some((cents, w)) = it.next() {
        cumulative += u64::from(w);
        if cumulative * 2 > total {
            return Some(cents);
        }
        if cumulative * 2 == total {
            let next = it.peek().map_or(cents, |n| n.0);
            return Some(((i128::from(cents) + i128::from(next)) / 2) as i64);
        }
    }
    None
}

/// The candidates as `(cents, weight)` pairs, in their order.
fn pairs(c: &[Candidate]) -> impl Iterator<Item = (i64, u32)> + Clone + '_ {
    c.iter().map(|c| (c.cents, c.weight))
}

/// The distinct groups of `c`, counted by their best freshness at `at` (100 %, 50 %, 25 %):
/// all a confidence needs of them, without a list.
fn groups_by_freshness(c: &[Candidate], at: Timestamp) -> [u8; 3] {
    // Each group with its best freshness level (0 freshest); the inputs have six groups.
    const MAX_GROUPS: usize = 8;
    let mut groups: [(&str, usize); MAX_GROUPS] = [("", 0); MAX_GROUPS];
    let mut n = 0;
    for x in c {
        let level = match freshness(at.as_secs() - x.observed_at.as_secs()) {
            100 => 0,
            50 => 1,
            _ => 2,
        };
        match groups[..n]
            .iter_mut()
            .find(|(g, _)| std::ptr::eq(*g, x.group) || *g == x.group)
        {
            Some((_, best)) => *best = (*best).min(level),
            None if n < MAX_GROUPS => {
                groups[n] = (x.group, level);
                n += 1;
            }
            None => return groups_by_freshness_slow(c, at),
        }
    }
    let mut by_freshness = [0u8; 3];
    for (_, level) in &groups[..n] {
        by_freshness[*level] = by_freshness[*level].saturating_add(1);
    }
    by_freshness
}

/// [`groups_by_freshness`] for candidates of more groups than the inputs have.
fn groups_by_freshness_slow(c: &[Candidate], at: Timestamp) -> [u8; 3] {
    let mut by_freshness = [0u8; 3];
    for (i, x) in c.iter().enumerate() {
        // Each group once: at its first candidate, with the best freshness among them.
        if c[..i].iter().any(|y| y.group == x.group) {
            continue;
        }
        let best = c[i..]
            .iter()
            .filter(|y| y.group == x.group)
            .map(|y| freshness(at.as_secs() - y.observed_at.as_secs()))
            .max()
            .unwrap_or(25);
        let level = match best {
            100 => 0,
            50 => 1,
            _ => 2,
        };
        by_freshness[level] = by_freshness[level].saturating_add(1);
    }
    by_freshness
}

fn group_count(by_freshness: [u8; 3]) -> u8 {
    by_freshness.iter().fold(0u8, |n, g| n.saturating_add(*g))
}

fn total_weight(c: &[Candidate]) -> u64 {
    c.iter().map(|c| u64::from(c.weight)).sum()
}

/// The fair value of `candidates` at `at`, given the series' last fair value `prior` (when
/// recent). `None` when no candidate is left.
pub fn blend(candidates: &[Candidate], prior: Option<i64>, at: Timestamp) -> Option<Fair> {
    blend_in_place(&mut candidates.to_vec(), prior, at)
}

/// [`blend`], reordering `candidates` in place instead of copying them.
pub fn blend_in_place(
    candidates: &mut [Candidate],
    prior: Option<i64>,
    at: Timestamp,
) -> Option<Fair> {
    blend_masked(candidates, prior, at).map(|b| b.into_fair())
}

/// A fair value with its agreeing sources as a mask (bit `i` for `Source::ALL[i]`): what the
/// core compares with the last one before it makes the list of a tick.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Blend {
    /// US cents.
    pub cents: i64,
    pub confidence: u8,
    pub agreeing: u16,
    pub groups_agreeing: u8,
    pub groups_priced: u8,
}

impl Blend {
    /// The agreeing sources, sorted.
    pub fn agreeing_sources(&self) -> Vec<Source> {
        Source::ALL
            .into_iter()
            .filter(|s| self.agreeing & source_bit(*s) != 0)
            .collect()
    }

    pub fn into_fair(self) -> Fair {
        Fair {
            cents: self.cents,
            confidence: self.confidence,
            agreeing: self.agreeing_sources(),
            groups_agreeing: self.groups_agreeing,
            groups_priced: self.groups_priced,
        }
    }
}

/// The blend of [`blend`], reordering `candidates` in place (the core's own use, on
/// [`Candidates`] on its stack), without the list of agreeing sources.
pub fn blend_masked(
    candidates: &mut [Candidate],
    prior: Option<i64>,
    at: Timestamp,
) -> Option<Blend> {
    let mut n = 0;
    for i in 0..candidates.len() {
        if candidates[i].cents > 0 && candidates[i].weight > 0 {
            candidates.swap(n, i);
            n += 1;
        }
    }
    let live = &mut candidates[..n];
    if live.is_empty() {
        return None;
    }
    live.sort_unstable_by_key(|c| c.cents);
    let live = &*live;
    // The reference: the weighted median of the candidates and the prior, in order of cents.
    let prior = prior.filter(|p| *p > 0);
    let split = prior.map_or(live.len(), |p| live.partition_point(|c| c.cents <= p));
    let with_prior = pairs(&live[..split])
        .chain(prior.map(|p| (p, PRIOR_WEIGHT)))
        .chain(pairs(&live[split..]));
    let reference = median_where(with_prior, |_| true)?;
    let cents = median_where(pairs(live), |c| in_band(c, reference))?;
    // Within the band and within ±15 % of the value are both ranges of cents: the candidates
    // that agree are a run of the sorted ones.
    let agreeing = |c: &Candidate| in_band(c.cents, reference) && agrees(c.cents, cents);
    let first = live.iter().position(agreeing).unwrap_or(live.len());
    let run = live[first..].iter().take_while(|c| agreeing(c)).count();
    let agree = &live[first..first + run];
    let groups = groups_by_freshness(agree, at);
    Some(Blend {
        cents,
        confidence: points_for(groups, total_weight(agree), total_weight(live)),
        agreeing: agree.iter().fold(0u16, |m, c| m | source_bit(c.source)),
        groups_agreeing: group_count(groups),
        groups_priced: group_count(groups_by_freshness(live, at)),
    })
}

/// The bit of `source` in a mask of sources (bit `i` for `Source::ALL[i]`).
fn source_bit(source: Source) -> u16 {
    Source::ALL
        .iter()
        .position(|s| *s == source)
        .map_or(0, |i| 1 << i)
}

/// The confidence of a fair value that `agreeing` agree with, among candidates weighing
/// `total_weight`, at `at` (see the module's documentation).
pub fn confidence(agreeing: &[&Candidate], total_weight: u64, at: Timestamp) -> u8 {
    let agreeing: Vec<Candidate> = agreeing.iter().map(|c| **c).collect();
    points_for(
        groups_by_freshness(&agreeing, at),
        self::total_weight(&agreeing),
        total_weight,
    )
}

/// The confidence of agreeing groups (counted by freshness: 100 %, 50 %, 25 %) weighing
/// `agree_weight` among candidates weighing `total_weight`.
fn points_for(by_freshness: [u8; 3], agree_weight: u64, total_weight: u64) -> u8 {
    if group_count(by_freshness) == 0 || total_weight == 0 {
        return 0;
    }
    // The freshest first: the first group earns POINTS[0] scaled by its freshness, and so on.
    let fresh = [100u64, 50, 25]
        .into_iter()
        .zip(by_freshness)
        .flat_map(|(f, count)| std::iter::repeat_n(f, usize::from(count)));
    let points: u64 = fresh
        .enumerate()
        .map(|(i, f)| POINTS.get(i).copied().unwrap_or(5) * f)
        .sum::<u64>()
        / 100;
    let evidence = agree_weight.min(STRONG_WEIGHT);
    let value = u128::from(points) * u128::from(evidence) * u128::from(agree_weight)
        / (u128::from(STRONG_WEIGHT) * u128::from(total_weight));
    u8::try_from(value.min(100)).unwrap_or(100)
}
