//! A small per-thread cache from short pieces to their token counts.
//!
//! Natural text repeats its short pieces (" the", ",", " and", "\n") constantly, and a lookup
//! in the vocabulary's hash table is a few cache misses into megabytes of tables. This cache is
//! a direct-mapped array of 16,384 entries (640 KB) that mostly stays in the CPU's L2 cache: a
//! hit costs a hash of three words and a compare of three words (a piece is held as its bytes
//! zero-padded into three `u64`s, so neither needs a call to `memcmp` or `memcpy`). Entries are
//! tagged with the counter's unique id, so counters sharing a thread never see each other's
//! counts; a collision simply overwrites the slot.

/// Longest piece (in bytes) the cache holds.
pub(crate) const MAX_LEN: usize = 24;
/// Number of entries (a power of two).
const ENTRIES: usize = 16_384;

/// A piece of at most [`MAX_LEN`] bytes as zero-padded little-endian words, with its length.
#[derive(Clone, Copy, PartialEq, Eq, Default)]
pub(crate) struct Key {
    words: [u64; 3],
    len: u32,
}

impl Key {
    /// The key of `piece`, `None` when it is longer than [`MAX_LEN`].
    #[inline]
    pub(crate) fn new(piece: &[u8]) -> Option<Key> {
        if piece.len() > MAX_LEN {
            return None;
        }
        let mut words = [0u64; 3];
        let mut chunks = piece.chunks_exact(8);
        for (w, c) in words.iter_mut().zip(&mut chunks) {
            *w = u64::from_le_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]]);
        }
        let rest = chunks.remainder();
        if !rest.is_empty() {
            let full = piece.len() - rest.len();
            let mut w = 0u64;
            for (i, &b) in rest.iter().enumerate() {
                w |= u64::from(b) << (8 * i);
            }
            if let Some(slot) = words.get_mut(full / 8) {
                *slot = w;
            }
        }
        Some(Key {
            words,
            len: piece.len() as u32,
        })
    }

    /// This key marked as standing for what merging alone gives, which differs from a whole
    /// piece's count when the piece is a token that merging does not rebuild.
    #[inline]
    pub(crate) fn merge_only(mut self) -> Key {
        self.len |= 1 << 31;
        self
    }

    /// The entry index of this key for counter `owner`.
    #[inline]
    fn slot(&self, owner: u32) -> usize {
        const K: u64 = 0x9e37_79b9_7f4a_7c15;
        let [a, b, c] = self.words;
        let h = (a ^ u64::from(self.len) ^ (u64::from(owner) << 40)).wrapping_mul(K);
        let h = (h ^ b).wrapping_mul(K);
        let h = (h ^ c).wrapping_mul(K);
        (h >> 50) as usize & (ENTRIES - 1)
    }
}

#[derive(Clone, Copy, Default)]
struct Entry {
    key: Key,
    /// Counter id; 0 marks an empty entry (ids start at 1).
    owner: u32,
    value: u32,
}

/// The cache (boxed), from a short piece to a token count.
pub(crate) struct PieceCache {
    entries: Box<[Entry]>,
}

impl std::fmt::Debug for PieceCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PieceCache").finish_non_exhaustive()
    }
}

impl Default for PieceCache {
    fn default() -> Self {
        PieceCache {
            entries: vec![Entry::default(); ENTRIES].into_boxed_slice(),
        }
    }
}

impl PieceCache {
    /// The cached value of the piece with key `key` for counter `owner`.
    #[inline]
    pub(crate) fn get(&self, owner: u32, key: &Key) -> Option<u32> {
        let e = self.entries.get(key.slot(owner))?;
        (e.owner == owner && e.key == *key).then_some(e.value)
    }

    /// Remembers `value` for the piece with key `key`.
    #[inline]
    pub(crate) fn put(&mut self, owner: u32, key: &Key, value: u32) {
        if let Some(e) = self.entries.get_mut(key.slot(owner)) {
            *e = Entry {
                key: *key,
                owner,
                value,
            };
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn keys_tell_pieces_apart() {
        let pieces: [&[u8]; 7] = [
            b"",
            b"a",
            b"a\0",
            b" the",
            b"exactly8",
            b"exactly8+",
            b"twenty-four bytes long!!",
        ];
        let keys: Vec<Key> = pieces.iter().map(|p| Key::new(p).unwrap()).collect();
        for (i, a) in keys.iter().enumerate() {
            for (j, b) in keys.iter().enumerate() {
                assert_eq!(a == b, i == j, "{:?} vs {:?}", pieces[i], pieces[j]);
            }
        }
        assert!(Key::new(&[b'x'; MAX_LEN + 1]).is_none());
        let mut cache = PieceCache::default();
        cache.put(1, &keys[3], 1);
        assert_eq!(cache.get(1, &keys[3]), Some(1));
        assert_eq!(cache.get(2, &keys[3]), None, "another counter's entry");
        assert_eq!(cache.get(1, &keys[4]), None);
    }
}
