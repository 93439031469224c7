//! A small per-thread cache from short pieces to their token counts.
//!
//! Natural text repeats its short pieces (" the", ",", " and", "\n") constantly, and a lookup
//! in the vocabulary's hash table is a few cache misses into megabytes of tables. This cache
//! holds 32,768 entries of 32 bytes (1 MB per counting thread, allocated on its first count) in
//! sets of two that share one cache line: a piece may sit in either entry of its set, the one used last first,
//! so two pieces that hash alike no longer evict each other (a direct-mapped cache of the same
//! size, filled three quarters, loses about half its pieces to collisions). A hit costs a hash
//! of three words and compares of three words (a piece is held as its bytes zero-padded into
//! three `u64`s, so neither needs a call to `memcmp` or `memcpy`). Entries are tagged with the
//! counter's unique id, so counters sharing a thread never see each other's counts.
//!
//! The size: a window of 128K tokens of Chinese documentation (`fixtures/tokens/corpus/zh.jsonl`)
//! has about 17,000 distinct short pieces and seam sides. With 16,384 entries, counting it again
//! took 23% longer (Qwen2.5) than with 32,768, and English chat 15-25% longer from collisions;
//! first-time counting is the same with either.

/// Longest piece (in bytes) the cache holds.
pub(crate) const MAX_LEN: usize = 24;
/// Number of entries (a power of two).
const ENTRIES: usize = 32_768;
/// Entries per set: two of 32 bytes, one cache line.
const WAYS: usize = 2;
/// Number of sets.
const SETS: usize = ENTRIES / WAYS;

/// A piece of at most [`MAX_LEN`] bytes as zero-padded little-endian words, with its length.
#[derive(Clone, Copy, PartialEq, Eq, Default)]
pub(crate) struct Key {
    words: [u64; 3],
    /// The length, with [`MERGE_ONLY`] set for [`Key::merge_only`] keys.
    len: u16,
}

/// The flag of [`Key::merge_only`] keys, in `len`.
const MERGE_ONLY: u16 = 1 << 15;
/// The flag of [`Key::whole_text`] keys, in `len`.
const WHOLE_TEXT: u16 = 1 << 14;

impl Key {
    /// The key of `piece`, `None` when it is longer than [`MAX_LEN`].
    #[inline]
    pub(crate) fn new(piece: &[u8]) -> Option<Key> {
        if piece.len() > MAX_LEN {
            return None;
        }
        let n = piece.len();
        // Each word is built in a register, with fixed indices: a word written into an array
        // at a computed index goes through the stack, and reading the key back as wider loads
        // then stalls on store forwarding (a fifth of the time of a cache hit).
        let at = |i: usize| piece.get(i..i + 8).map_or(0, word);
        // The word of bytes `from..n` (1 to 7 of them) when `n - from < 8 <= n`: the last
        // eight bytes, shifted so that the new ones come first.
        let tail = |from: usize| at(n - 8) >> (8 * (8 - (n - from)));
        let words = if n < 8 {
            [short_word(piece), 0, 0]
        } else if n < 16 {
            [at(0), if n > 8 { tail(8) } else { 0 }, 0]
        } else {
            [at(0), at(8), if n > 16 { tail(16) } else { 0 }]
        };
        Some(Key {
            words,
            len: n as u16,
        })
    }

    /// The key of `piece`, given `head`: the piece's first eight bytes as a little-endian
    /// word, with anything after the piece in its high bytes (the text that follows, or
    /// zeros). A piece of up to eight bytes, most of them, is then `head` masked, without a
    /// branch on its length: those branches mispredict on every change of word length.
    #[inline]
    pub(crate) fn with_head(piece: &[u8], head: u64) -> Option<Key> {
        let n = piece.len();
        if n > 8 {
            return Key::new(piece);
        }
        // Keeps the low `n` bytes (none when `n` is 0).
        let mask = u64::MAX.checked_shr(8 * (8 - n as u32)).unwrap_or(0);
        Some(Key {
            words: [head & mask, 0, 0],
            len: n as u16,
        })
    }

    /// This key marked as standing for what merging alone gives, which differs from a whole
    /// piece's count when the piece is a token that merging does not rebuild.
    #[inline]
    pub(crate) fn merge_only(mut self) -> Key {
        self.len |= MERGE_ONLY;
        self
    }

    /// This key marked as standing for a whole text passed to `count` (all its pieces), which
    /// differs from the count of the same bytes taken as one piece.
    #[inline]
    pub(crate) fn whole_text(mut self) -> Key {
        self.len |= WHOLE_TEXT;
        self
    }

    /// The set index of this key for counter `owner`.
    #[inline]
    fn slot(&self, owner: u32) -> usize {
        // Three independent products (odd constants: the golden ratio's and two from
        // splitmix64), so that the set's address is known one multiply after the key, not
        // three: most pieces are hits, and a hit waits on this address.
        const K: [u64; 3] = [
            0x9e37_79b9_7f4a_7c15,
            0xbf58_476d_1ce4_e5b9,
            0x94d0_49bb_1331_11eb,
        ];
        let [a, b, c] = self.words;
        let h = (a ^ u64::from(self.len) ^ (u64::from(owner) << 40)).wrapping_mul(K[0])
            ^ b.wrapping_mul(K[1])
            ^ c.wrapping_mul(K[2]);
        (h >> 40) as usize & (SETS - 1)
    }
}

/// Eight bytes as a little-endian word (0 unless `bytes` has exactly eight).
#[inline(always)]
fn word(bytes: &[u8]) -> u64 {
    <[u8; 8]>::try_from(bytes).map_or(0, u64::from_le_bytes)
}

/// One to seven bytes as a zero-padded little-endian word, from two overlapping loads.
#[inline(always)]
fn short_word(bytes: &[u8]) -> u64 {
    let n = bytes.len();
    let load = |at: usize, width: usize| {
        bytes.get(at..at + width).map_or(0, |b| {
            b.iter()
                .rev()
                .fold(0u64, |w, &byte| (w << 8) | u64::from(byte))
        })
    };
    if n >= 4 {
        load(0, 4) | (load(n - 4, 4) << (8 * (n - 4)))
    } else if n >= 2 {
        load(0, 2) | (load(n - 2, 2) << (8 * (n - 2)))
    } else {
        load(0, n)
    }
}

/// One entry: 32 bytes aligned to 32, so that a lookup touches one cache line.
#[derive(Clone, Copy, Default)]
#[repr(C, align(32))]
struct Entry {
    words: [u64; 3],
    /// Counter id; 0 marks an empty entry (ids start at 1).
    owner: u32,
    len: u16,
    /// The count (at most [`MAX_LEN`], a count never exceeds the bytes).
    value: u16,
}

/// Two entries in one cache line, the one used last first.
#[derive(Clone, Copy, Default)]
#[repr(C, align(64))]
struct Set([Entry; WAYS]);

/// The cache (boxed), from a short piece to a token count.
pub(crate) struct PieceCache {
    sets: Box<[Set]>,
}

impl std::fmt::Debug for PieceCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PieceCache").finish_non_exhaustive()
    }
}

impl Default for PieceCache {
    fn default() -> Self {
        PieceCache {
            sets: vec![Set::default(); SETS].into_boxed_slice(),
        }
    }
}

impl PieceCache {
    /// The cached value of the piece with key `key` for counter `owner`.
    #[inline]
    pub(crate) fn get(&mut self, owner: u32, key: &Key) -> Option<u32> {
        let Set([first, second]) = self.sets.get_mut(key.slot(owner))?;
        let holds = |e: &Entry| e.owner == owner && e.words == key.words && e.len == key.len;
        if holds(first) {
            return Some(u32::from(first.value));
        }
        if holds(second) {
            // Used last: first in its set from now on.
            std::mem::swap(first, second);
            return Some(u32::from(first.value));
        }
        None
    }

    /// Forgets every piece (in place: the memory stays mapped and warm).
    pub(crate) fn clear(&mut self) {
        self.sets.fill(Set::default());
    }

    /// Remembers `value` for the piece with key `key`.
    #[inline]
    pub(crate) fn put(&mut self, owner: u32, key: &Key, value: u32) {
        let (Some(Set([first, second])), Ok(value)) =
            (self.sets.get_mut(key.slot(owner)), u16::try_from(value))
        else {
            return;
        };
        // The entry used less recently makes way.
        *second = *first;
        *first = Entry {
            words: key.words,
            owner,
            len: key.len,
            value,
        };
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    /// Every length packs the bytes zero-padded, as the plain byte-by-byte reference does.
    #[test]
    fn keys_hold_the_bytes_zero_padded() {
        for n in 0..=MAX_LEN {
            let piece: Vec<u8> = (0..n).map(|i| 0xA0 ^ (i as u8).wrapping_mul(37)).collect();
            let mut padded = [0u8; 24];
            padded[..n].copy_from_slice(&piece);
            let expected: Vec<u64> = padded
                .chunks_exact(8)
                .map(|c| u64::from_le_bytes(c.try_into().unwrap()))
                .collect();
            let key = Key::new(&piece).unwrap();
            assert_eq!(key.words.as_slice(), expected.as_slice(), "length {n}");
            assert_eq!(key.len as usize, n);
        }
    }

    /// A key built from the head word, whatever follows the piece in it, is the key built
    /// from the piece alone.
    #[test]
    fn keys_from_the_head_word_ignore_what_follows() {
        let text: Vec<u8> = (0..40u8).map(|i| i.wrapping_mul(71) | 1).collect();
        let head = crate::tokens::scan::head_word(&text, 0);
        for n in 0..=MAX_LEN {
            let piece = &text[..n];
            for next in [0u64, u64::MAX, 0x0123_4567_89ab_cdef] {
                let shifted = if n >= 8 {
                    head
                } else {
                    (head & ((1u64 << (8 * n)) - 1)) | (next << (8 * n))
                };
                assert!(
                    Key::with_head(piece, shifted) == Key::new(piece),
                    "length {n}"
                );
            }
        }
    }

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
        // The same bytes as a whole text, as a piece and as merging alone are three keys.
        let piece = keys[3];
        assert!(piece.whole_text() != piece);
        assert!(piece.whole_text() != piece.merge_only());
        assert!(piece.merge_only() != piece);
        let mut cache = PieceCache::default();
        cache.put(1, &keys[3], 1);
        assert_eq!(cache.get(1, &keys[3]), Some(1));
        assert_eq!(cache.get(2, &keys[3]), None, "another counter's entry");
        assert_eq!(cache.get(1, &keys[4]), None);
        assert_eq!(
            cache.get(1, &keys[3].whole_text()),
            None,
            "a piece is not a text"
        );
        cache.put(1, &keys[3].whole_text(), 2);
        assert_eq!(cache.get(1, &keys[3].whole_text()), Some(2));
        assert_eq!(cache.get(1, &keys[3]), Some(1));
    }
}
