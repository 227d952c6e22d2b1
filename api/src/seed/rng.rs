//! A tiny deterministic pseudo-random number generator for the demo data.
//!
//! The seed must produce byte-identical rows on every platform and for every version of every crate, so it
//! cannot depend on `rand` (whose algorithms and sampling methods change between releases). xoshiro256** is
//! small, fast and well studied; its state is filled from SplitMix64, as its authors recommend.
//!
//! Every phase and every entity draws from its own stream ([`Rng::stream`]), derived from the user's seed, a
//! label and an index. Changing how many numbers one volunteer consumes therefore never shifts the numbers of
//! the next volunteer, and the service records of volunteer *n* can be generated chunk by chunk without
//! replaying anything before them.

/// SplitMix64 (Steele, Lea and Flood 2014): one multiply-xorshift step per output.
#[derive(Debug, Clone)]
pub struct SplitMix64 {
    state: u64,
}

impl SplitMix64 {
    pub fn new(seed: u64) -> Self {
        Self { state: seed }
    }

    pub fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
}

/// FNV-1a over the label's bytes: a stable (unlike `std`'s `DefaultHasher`) way to turn a stream name into bits.
fn fnv1a(label: &str) -> u64 {
    let mut hash: u64 = 0xCBF2_9CE4_8422_2325;
    for byte in label.bytes() {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(0x0000_0100_0000_01B3);
    }
    hash
}

/// xoshiro256** (Blackman and Vigna 2018) with the sampling helpers the generators need.
#[derive(Debug, Clone)]
pub struct Rng {
    s: [u64; 4],
}

impl Rng {
    /// A generator whose state is expanded from `seed` with SplitMix64.
    pub fn new(seed: u64) -> Self {
        let mut sm = SplitMix64::new(seed);
        let s = [sm.next_u64(), sm.next_u64(), sm.next_u64(), sm.next_u64()];
        // SplitMix64 never yields four zero words in a row, so the all-zero state (a fixed point) cannot occur.
        Self { s }
    }

    /// An independent stream for one purpose (`label`) and one item (`index`) under the user's seed.
    pub fn stream(seed: u64, label: &str, index: u64) -> Self {
        let mut sm = SplitMix64::new(seed ^ fnv1a(label).rotate_left(17));
        let mixed = sm.next_u64() ^ index.wrapping_mul(0xD1B5_4A32_D192_ED03);
        Self::new(SplitMix64::new(mixed).next_u64())
    }

    pub fn next_u64(&mut self) -> u64 {
        let result = self.s[1].wrapping_mul(5).rotate_left(7).wrapping_mul(9);
        let t = self.s[1] << 17;
        self.s[2] ^= self.s[0];
        self.s[3] ^= self.s[1];
        self.s[1] ^= self.s[2];
        self.s[0] ^= self.s[3];
        self.s[2] ^= t;
        self.s[3] = self.s[3].rotate_left(45);
        result
    }

    /// Uniform in `0..n` (0 when `n` is 0), by Lemire's multiply-shift; the bias for the small `n` used here is
    /// below 2^-40 and, more importantly, the method is fixed forever.
    pub fn below(&mut self, n: u64) -> u64 {
        ((u128::from(self.next_u64()) * u128::from(n)) >> 64) as u64
    }

    /// Uniform index into a slice of length `len`.
    pub fn index(&mut self, len: usize) -> usize {
        self.below(len as u64) as usize
    }

    /// Uniform in the inclusive range `lo..=hi` (returns `lo` when `hi < lo`).
    pub fn range(&mut self, lo: i64, hi: i64) -> i64 {
        if hi <= lo {
            return lo;
        }
        let span = (hi - lo) as u64 + 1;
        lo + self.below(span) as i64
    }

    /// Uniform in `[0, 1)` with 53 bits of precision.
    pub fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }

    /// `true` with probability `p`.
    pub fn chance(&mut self, p: f64) -> bool {
        self.unit() < p
    }

    /// A uniformly chosen element. The slices passed in are compile-time constants or checked non-empty.
    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.index(items.len())]
    }

    /// An element chosen with the given integer weights.
    pub fn weighted<'a, T>(&mut self, items: &'a [(T, u32)]) -> &'a T {
        let total: u64 = items.iter().map(|(_, w)| u64::from(*w)).sum();
        let mut roll = self.below(total);
        for (item, weight) in items {
            let w = u64::from(*weight);
            if roll < w {
                return item;
            }
            roll -= w;
        }
        &items[items.len() - 1].0
    }

    /// Fisher–Yates shuffle.
    pub fn shuffle<T>(&mut self, items: &mut [T]) {
        for i in (1..items.len()).rev() {
            let j = self.index(i + 1);
            items.swap(i, j);
        }
    }
}

/// Picks items with replacement from a table of cumulative weights, by binary search: used where one draw among
/// thousands of weighted grids happens a million times.
#[derive(Debug, Clone)]
pub struct WeightedTable {
    cumulative: Vec<u64>,
}

impl WeightedTable {
    pub fn new(weights: impl IntoIterator<Item = u64>) -> Self {
        let mut total = 0u64;
        let cumulative = weights
            .into_iter()
            .map(|w| {
                total += w;
                total
            })
            .collect();
        Self { cumulative }
    }

    /// An index drawn with probability proportional to its weight (0 for an empty or all-zero table).
    pub fn sample(&self, rng: &mut Rng) -> usize {
        let total = self.cumulative.last().copied().unwrap_or(0);
        if total == 0 {
            return 0;
        }
        let roll = rng.below(total);
        self.cumulative.partition_point(|&c| c <= roll)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splitmix_matches_reference_vector() {
        // Published reference output of SplitMix64 for seed 1234567.
        let mut sm = SplitMix64::new(1_234_567);
        let got: Vec<u64> = (0..5).map(|_| sm.next_u64()).collect();
        assert_eq!(
            got,
            [
                6_457_827_717_110_365_317,
                3_203_168_211_198_807_973,
                9_817_491_932_198_370_423,
                4_593_380_528_125_082_431,
                16_408_922_859_458_223_821,
            ]
        );
    }

    #[test]
    fn xoshiro_matches_reference_vector() {
        // Reference xoshiro256** output for the state {1, 2, 3, 4}.
        let mut rng = Rng { s: [1, 2, 3, 4] };
        let got: Vec<u64> = (0..4).map(|_| rng.next_u64()).collect();
        assert_eq!(got, [11_520, 0, 1_509_978_240, 1_215_971_899_390_074_240]);
    }

    #[test]
    fn same_seed_same_numbers() {
        let a: Vec<u64> = {
            let mut r = Rng::stream(20_170_919, "volunteer", 42);
            (0..100).map(|_| r.next_u64()).collect()
        };
        let b: Vec<u64> = {
            let mut r = Rng::stream(20_170_919, "volunteer", 42);
            (0..100).map(|_| r.next_u64()).collect()
        };
        assert_eq!(a, b);
        let mut other = Rng::stream(20_170_919, "volunteer", 43);
        assert_ne!(a[0], other.next_u64());
        let mut other_label = Rng::stream(20_170_919, "care", 42);
        assert_ne!(a[0], other_label.next_u64());
    }

    #[test]
    fn ranges_stay_in_bounds_and_cover_them() {
        let mut rng = Rng::new(7);
        let mut seen = [false; 6];
        for _ in 0..10_000 {
            let v = rng.range(0, 5);
            assert!((0..=5).contains(&v));
            seen[v as usize] = true;
            let u = rng.unit();
            assert!((0.0..1.0).contains(&u));
        }
        assert!(seen.iter().all(|&s| s));
        assert_eq!(rng.range(3, 3), 3);
        assert_eq!(rng.below(0), 0);
    }

    #[test]
    fn weighted_choice_follows_weights() {
        let mut rng = Rng::new(11);
        let items = [("a", 1u32), ("b", 0), ("c", 3)];
        let mut counts = [0u32; 3];
        for _ in 0..40_000 {
            match *rng.weighted(&items) {
                "a" => counts[0] += 1,
                "b" => counts[1] += 1,
                _ => counts[2] += 1,
            }
        }
        assert_eq!(counts[1], 0);
        assert!((9_000..11_000).contains(&counts[0]), "{counts:?}");
        let table = WeightedTable::new([1, 0, 3]);
        let mut counts = [0u32; 3];
        for _ in 0..40_000 {
            counts[table.sample(&mut rng)] += 1;
        }
        assert_eq!(counts[1], 0);
        assert!((9_000..11_000).contains(&counts[0]), "{counts:?}");
    }

    #[test]
    fn shuffle_is_a_permutation() {
        let mut rng = Rng::new(3);
        let mut v: Vec<u32> = (0..100).collect();
        rng.shuffle(&mut v);
        assert_ne!(v, (0..100).collect::<Vec<_>>());
        v.sort_unstable();
        assert_eq!(v, (0..100).collect::<Vec<_>>());
    }
}
