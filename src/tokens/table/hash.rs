//! The hashes and the empty-slot marker every table shares: identical at build time and at
//! run time, since the tables are hashed by `build.rs` and probed by the counter.

/// Marks an empty hash slot (and a byte or part the vocabulary lacks).
pub(crate) const EMPTY: u32 = u32::MAX;

/// Multiplier of the FxHash family (rustc's hasher), used for both hash tables.
const K: u64 = 0xf135_7aea_2e62_a9c5;

/// The low `n` bytes of `word` (none when `n` is 0, all eight when `n >= 8`): a piece of up to
/// eight bytes as a zero-padded little-endian word, from a word of its first eight bytes and
/// whatever follows them.
#[inline]
pub(crate) fn low_bytes(word: u64, n: usize) -> u64 {
    word & u64::MAX.checked_shr(8 * (8 - n.min(8) as u32)).unwrap_or(0)
}

/// [`hash_bytes`] of a string of `n <= 8` bytes given as the zero-padded word `word`
/// ([`low_bytes`]), without reading the bytes again.
#[inline]
pub(crate) fn hash_word(word: u64, n: usize) -> u64 {
    if n == 0 {
        return 0;
    }
    let h = ((n as u64).rotate_left(5) ^ word).wrapping_mul(K);
    h ^ (h >> 29)
}

/// Hash of a byte string.
#[inline]
pub(crate) fn hash_bytes(bytes: &[u8]) -> u64 {
    let mut h = bytes.len() as u64;
    let mut chunks = bytes.chunks_exact(8);
    for c in &mut chunks {
        let mut w = [0u8; 8];
        w.copy_from_slice(c);
        h = (h.rotate_left(5) ^ u64::from_le_bytes(w)).wrapping_mul(K);
    }
    let rest = chunks.remainder();
    if !rest.is_empty() {
        let mut w = [0u8; 8];
        w[..rest.len()].copy_from_slice(rest);
        h = (h.rotate_left(5) ^ u64::from_le_bytes(w)).wrapping_mul(K);
    }
    // Fold the high bits down: the table index uses the low bits.
    h ^ (h >> 29)
}

/// Hash of a pair of token ids.
#[inline]
pub(crate) fn hash_pair(left: u32, right: u32) -> u64 {
    let h = ((u64::from(left) << 32) | u64::from(right)).wrapping_mul(K);
    h ^ (h >> 29)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A short string hashed from its word is hashed as from its bytes, whatever follows it in
    /// the word it was read from.
    #[test]
    fn word_hash_is_byte_hash() {
        let text = b"hello, world and more";
        for start in 0..8 {
            let head = u64::from_le_bytes(text[start..start + 8].try_into().unwrap_or([0; 8]));
            for n in 0..=8 {
                let bytes = &text[start..start + n];
                assert_eq!(
                    hash_word(low_bytes(head, n), n),
                    hash_bytes(bytes),
                    "{bytes:?}"
                );
            }
        }
    }
}
