//! Whole tokens of at most eight bytes, held inline in cache-line buckets.
//!
//! Counting looks a piece up whole before merging it, and most pieces that reach the lookup
//! are short words. In the general token table a hit reads three places one after the other
//! (the slot, the token's offsets, the token's bytes), each a cache miss into megabytes the
//! first time a piece is met. Here a short token's bytes sit in its slot, packed into one
//! zero-padded word beside its length and id, so a lookup reads one cache line
//! (`slot_table.rs`).

use super::slot_table::SlotTable;

/// Longest token (in bytes) held here.
pub(crate) const MAX_LEN: usize = 8;

/// The short tokens of a vocabulary: slots of `[length, low word, high word, id]`.
#[derive(Debug, Clone, Default)]
pub(crate) struct ShortTokens {
    slots: SlotTable,
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
        let mut slots = SlotTable::for_keys(tokens.len());
        for &(bytes, id, hash) in tokens {
            let [lo, hi] = halves(bytes);
            slots.insert(hash, [bytes.len() as u32, lo, hi, id], |_| false);
        }
        ShortTokens { slots }
    }

    /// The id of the token `bytes` (at most [`MAX_LEN`] long), whose hash is `hash`.
    #[inline]
    pub(crate) fn get(&self, bytes: &[u8], hash: u64) -> Option<u32> {
        let [lo, hi] = halves(bytes);
        self.get_word(bytes.len(), u64::from(lo) | (u64::from(hi) << 32), hash)
    }

    /// [`ShortTokens::get`] of the `len` bytes (at most eight) held zero-padded in `word`.
    #[inline]
    pub(crate) fn get_word(&self, len: usize, word: u64, hash: u64) -> Option<u32> {
        let (lo, hi) = (word as u32, (word >> 32) as u32);
        let len = len as u32;
        self.slots
            .find(hash, |s| s[0] == len && s[1] == lo && s[2] == hi)
            .map(|s| s[3])
    }

    /// The tokens of exactly two bytes.
    pub(crate) fn two_byte_tokens(&self) -> impl Iterator<Item = [u8; 2]> + '_ {
        self.slots
            .used()
            .filter(|s| s[0] == 2)
            .map(|s| [s[1] as u8, (s[1] >> 8) as u8])
    }

    /// The serialized form.
    pub(crate) fn to_u32s(&self) -> Vec<u32> {
        self.slots.to_u32s()
    }

    /// The table read back from what [`ShortTokens::to_u32s`] wrote.
    pub(crate) fn from_table(slots: SlotTable) -> Result<ShortTokens, String> {
        Ok(ShortTokens { slots })
    }

    /// Reads what [`ShortTokens::to_u32s`] wrote, as its little-endian bytes.
    #[allow(dead_code)] // used by the tests
    pub(crate) fn from_le_bytes(bytes: &[u8]) -> Result<ShortTokens, String> {
        let slots = SlotTable::from_le_bytes(bytes).ok_or("inconsistent short-token table")?;
        Ok(ShortTokens { slots })
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn finds_each_token_and_nothing_else() {
        let hash = |b: &[u8]| super::super::hash::hash_bytes(b);
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
