//! The retry jitter's small deterministic generator: SplitMix64 seeded by a hash of the source
//! name, so each source's jitter sequence is the same every run. (The simulator has its own copy
//! with the stateless hashes it draws everything from.)

/// SplitMix64's finaliser: a fast, well-mixed 64-bit hash of one word.
pub(crate) const fn mix(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^ (x >> 31)
}

/// A hash as a float in `[0, 1)`.
pub(crate) fn unit(h: u64) -> f64 {
    (h >> 11) as f64 / (1u64 << 53) as f64
}

/// Hashes a string (FNV-1a then mixed), for names and queries.
pub(crate) fn hash_str(text: &str) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in text.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01B3);
    }
    mix(h)
}

/// A small sequential generator (SplitMix64) for places that draw many numbers in order.
#[derive(Debug, Clone)]
pub(crate) struct SplitMix(u64);

impl SplitMix {
    pub(crate) fn new(seed: u64) -> Self {
        SplitMix(seed)
    }

    pub(crate) fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        mix(self.0)
    }

    pub(crate) fn next_f64(&mut self) -> f64 {
        unit(self.next_u64())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jitter_draws_are_stable_and_spread() {
        assert_eq!(hash_str("tcgplayer"), hash_str("tcgplayer"));
        assert_ne!(hash_str("tcgplayer"), hash_str("tcgcsv"));
        let mut r = SplitMix::new(hash_str("ebay"));
        let draws: Vec<f64> = (0..10_000).map(|_| r.next_f64()).collect();
        let mean = draws.iter().sum::<f64>() / 10_000.0;
        assert!((mean - 0.5).abs() < 0.02, "{mean}");
        assert!(draws.iter().all(|d| (0.0..1.0).contains(d)));
    }
}
