//! Whole tokens of at most eight bytes, held inline in cache-line buckets.
//!
//! Counting looks a piece up whole before merging it, and most pieces that reach the lookup
//! are short words. In the general token table a hit reads three places one after the other
//! (the slot, the token's offsets, the token's bytes), each a cache miss into megabytes the
//! first time a piece is met. Here a short token's bytes sit in its slot, packed into one
//! zero-padded word beside its length and id, so a lookup reads one cache line: slots are
//! 16 bytes, four to a 64-byte bucket, filled to at most 70%, probed from the first slot of
//! the key's bucket.
//!
//! This file is included by `build.rs` next to `table.rs`, so it must stay free of `crate::`
//! paths.

use super::merges::bucket_of;

/// Longest token (in bytes) held here.
pub(crate) const MAX_LEN: usize = 8;

/// Slots per bucket: one 64-byte cache line.
const PER_BUCKET: usize = 4;

/// Four slots of `[low word, high word, length, id]`; length 0 marks a free slot.
#[derive(Debug, Clone, Copy, Default)]
#[repr(C, align(64))]
struct Bucket([[u32; 4]; PER_BUCKET]);

/// The short tokens of a vocabulary.
#[derive(Debug, Clone, Default)]
pub(crate) struct ShortTokens {
    buckets: Vec<Bucket>,
}

/// `bytes` (at most eight) zero-padded into a little-endian word, as two halves.
#[inline]
fn halves(bytes: &[u8]) -> [u32; 2] {
    let mut w = [0u8; 8];
    for (slot, &b) in w.iter_mut().zip(bytes) {
        *slot = b;
    }
    let word = u64::from_le_bytes(w);
    [word as u32, (word >> 32) as u32]
}

impl ShortTokens {
    /// The table of `tokens`, as `(bytes, id, hash)` with `bytes` at most [`MAX_LEN`] long and
    /// `hash` the hash every lookup of those bytes will give.
    pub(crate) fn new(tokens: &[(&[u8], u32, u64)]) -> ShortTokens {
        let count = (tokens.len() * 10 / 7 / PER_BUCKET + 1).max(1);
        let mut buckets = vec![Bucket::default(); count];
        let total = count * PER_BUCKET;
        for &(bytes, id, hash) in tokens {
            let [lo, hi] = halves(bytes);
            let mut i = bucket_of(hash, count) * PER_BUCKET;
            loop {
                let slot = &mut buckets[i / PER_BUCKET].0[i % PER_BUCKET];
                if slot[2] == 0 {
                    *slot = [lo, hi, bytes.len() as u32, id];
                    break;
                }
                i = if i + 1 == total { 0 } else { i + 1 };
            }
        }
        ShortTokens { buckets }
    }

    /// The id of the token `bytes` (at most [`MAX_LEN`] long), whose hash is `hash`.
    #[inline]
    pub(crate) fn get(&self, bytes: &[u8], hash: u64) -> Option<u32> {
        let [lo, hi] = halves(bytes);
        let len = bytes.len() as u32;
        let count = self.buckets.len();
        let mut b = bucket_of(hash, count);
        // At most 70% full, so a free slot ends every probe.
        loop {
            for s in &self.buckets.get(b)?.0 {
                if s[2] == 0 {
                    return None;
                }
                if s[0] == lo && s[1] == hi && s[2] == len {
                    return Some(s[3]);
                }
            }
            b = if b + 1 == count { 0 } else { b + 1 };
        }
    }

    /// The serialized form.
    pub(crate) fn to_u32s(&self) -> Vec<u32> {
        self.buckets.iter().flat_map(|b| b.0).flatten().collect()
    }

    /// Reads what [`ShortTokens::to_u32s`] wrote, as its little-endian bytes (decoded straight
    /// into buckets, without an intermediate copy).
    pub(crate) fn from_le_bytes(bytes: &[u8]) -> Result<ShortTokens, String> {
        let bucket_bytes = 16 * PER_BUCKET;
        let buckets: Vec<Bucket> = bytes
            .chunks_exact(bucket_bytes)
            .map(|c| {
                let mut b = Bucket::default();
                for (word, w) in b.0.iter_mut().flatten().zip(c.chunks_exact(4)) {
                    *word = u32::from_le_bytes([w[0], w[1], w[2], w[3]]);
                }
                b
            })
            .collect();
        let free = buckets.iter().flat_map(|b| b.0).any(|s| s[2] == 0);
        if bytes.is_empty() || bytes.len() % bucket_bytes != 0 || !free {
            return Err("inconsistent short-token table".into());
        }
        Ok(ShortTokens { buckets })
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn finds_each_token_and_nothing_else() {
        let hash = |b: &[u8]| super::super::table::hash_bytes(b);
        let words: Vec<Vec<u8>> = (0..500u32)
            .map(|i| format!("t{i}").into_bytes())
            .chain([b"a".to_vec(), b"a\0".to_vec(), b"exactly8".to_vec()])
            .collect();
        let tokens: Vec<(&[u8], u32, u64)> = words
            .iter()
            .enumerate()
            .map(|(id, w)| (w.as_slice(), id as u32, hash(w)))
            .collect();
        let bytes: Vec<u8> = ShortTokens::new(&tokens)
            .to_u32s()
            .iter()
            .flat_map(|w| w.to_le_bytes())
            .collect();
        let table = ShortTokens::from_le_bytes(&bytes).unwrap();
        for &(bytes, id, h) in &tokens {
            assert_eq!(table.get(bytes, h), Some(id), "{bytes:?}");
        }
        for absent in [&b"t500"[..], b"b", b"a\0\0", b"exactly"] {
            assert_eq!(table.get(absent, hash(absent)), None, "{absent:?}");
        }
        assert!(ShortTokens::from_le_bytes(&[1, 2, 3]).is_err());
    }
}
