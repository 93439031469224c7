//! A one-hash Bloom filter that answers "certainly absent" before a lookup in a table of
//! megabytes: counting asks mostly about pairs that do not merge and pieces that are not whole
//! tokens, and the filter (eight bits per key, a few hundred KB) stays in the CPU's L2 cache
//! where the table does not.

use super::prefetch::prefetch;

/// The filter; keys are 64-bit hashes whose high bits are well mixed.
#[derive(Debug, Clone, Default)]
pub(crate) struct BitFilter {
    words: Vec<u64>,
}

/// Which of `bits` bits a hash sets: the hash mixed once more (the tables index with its low
/// bits, and hashes of neighbouring keys share structure), its high 32 bits scaled to `bits`.
#[inline]
fn bit(hash: u64, bits: usize) -> usize {
    let mixed = (hash ^ (hash >> 32)).wrapping_mul(0x9e37_79b9_7f4a_7c15);
    (((mixed >> 32) * bits as u64) >> 32) as usize
}

impl BitFilter {
    /// A filter of eight bits per key holding `hashes`.
    pub(crate) fn new(hashes: impl ExactSizeIterator<Item = u64>) -> BitFilter {
        BitFilter::with_bits_per_key(hashes, 8)
    }

    /// A filter of `per_key` bits per key (rounded up to whole words) holding `hashes`.
    pub(crate) fn with_bits_per_key(
        hashes: impl ExactSizeIterator<Item = u64>,
        per_key: usize,
    ) -> BitFilter {
        let bits = (hashes.len() * per_key)
            .clamp(64, 1 << 30)
            .next_multiple_of(64);
        let mut words = vec![0u64; bits / 64];
        for h in hashes {
            let b = bit(h, bits);
            words[b / 64] |= 1 << (b % 64);
        }
        BitFilter { words }
    }

    /// The filter as little-endian `u32` halves of its words (the serialized form).
    pub(crate) fn to_u32s(&self) -> Vec<u32> {
        self.words
            .iter()
            .flat_map(|&w| [w as u32, (w >> 32) as u32])
            .collect()
    }

    /// Reads what [`BitFilter::to_u32s`] wrote; `None` for an odd number of halves.
    pub(crate) fn from_u32s(halves: &[u32]) -> Option<BitFilter> {
        let words: Vec<u64> = halves
            .chunks_exact(2)
            .map(|h| u64::from(h[0]) | (u64::from(h[1]) << 32))
            .collect();
        (halves.len() % 2 == 0).then_some(BitFilter { words })
    }

    /// Starts loading the word [`BitFilter::may_contain`] reads for `hash`.
    #[inline]
    pub(crate) fn prefetch(&self, hash: u64) {
        let b = bit(hash, self.words.len() * 64);
        if let Some(w) = self.words.get(b / 64) {
            prefetch(w);
        }
    }

    /// Whether `hash` may have been inserted (always true for an empty, unbuilt filter).
    #[inline]
    pub(crate) fn may_contain(&self, hash: u64) -> bool {
        if self.words.is_empty() {
            return true;
        }
        let b = bit(hash, self.words.len() * 64);
        self.words
            .get(b / 64)
            .map_or(true, |w| w & (1 << (b % 64)) != 0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inserted_hashes_are_found_and_most_others_are_not() {
        let hash = |i: u64| (i.wrapping_mul(0xf135_7aea_2e62_a9c5)).rotate_left(17);
        let f = BitFilter::new((0..1000u32).map(|i| hash(u64::from(i))));
        assert!((0..1000).all(|i| f.may_contain(hash(i))));
        let false_positives = (1000..11_000).filter(|&i| f.may_contain(hash(i))).count();
        // One hash at eight bits a key: about 1 - e^(-1/8), 11.75%.
        assert!(false_positives < 1_500, "{false_positives} of 10000");
        assert!(BitFilter::default().may_contain(42));
    }
}
