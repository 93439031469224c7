//! The hashes and the empty-slot marker every table shares: identical at build time and at
//! run time, since the tables are hashed by `build.rs` and probed by the counter.

/// Marks an empty hash slot (and a byte or part the vocabulary lacks).
pub(crate) const EMPTY: u32 = u32::MAX;

/// Multiplier of the FxHash family (rustc's hasher), used for both hash tables.
const K: u64 = 0xf135_7aea_2e62_a9c5;

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
