//! A small per-thread cache from short pieces to their token counts.
//!
//! Natural text repeats its short pieces (" the", ",", " and", "\n") constantly, and a lookup
//! in the vocabulary's hash table is a few cache misses into megabytes of tables. This cache
//! holds 32,768 entries of 32 bytes (1 MB per counting thread, allocated on its first count) in
//! sets of two that share one cache line, the entry used last first. A piece has two sets: its
//! own, looked in first, and an alternative, looked in when the piece is not in its own (its
//! line is prefetched at the start of the lookup). A new piece goes to its own set, unless the
//! entry that would make way there is in use (this counter's, found or stored within as many
//! stores as the cache has entries) and the alternative's is idle or was used longer ago;
//! entries carry the store count at which they were last found or stored. With one set per
//! piece, every set that three pieces of a text hash to loses all three each time the text is
//! counted again (each evicts the one looked up next): on the English chat messages of
//! `count_bench --messages` (16,500 distinct pieces and short texts) 4,383 keys missed on
//! every pass, with two sets under 1,000 (`text_counted_again_hits_in_its_own_set` replays
//! them). A hit costs a hash of three words and compares of three words (a piece is held as
//! its bytes zero-padded into three `u64`s, so neither needs a call to `memcmp` or `memcpy`).
//! Entries are tagged with the counter's unique id, so counters sharing a thread never see
//! each other's counts, and an entry another counter left behind makes way first.
//!
//! The size: a window of 128K tokens of Chinese documentation (`fixtures/tokens/corpus/zh.jsonl`)
//! has about 17,000 distinct short pieces and seam sides. With 16,384 entries, counting it again
//! took 23% longer (Qwen2.5) than with 32,768, and English chat 15-25% longer from collisions;
//! first-time counting is the same with either.

use super::table::low_bytes;
use super::table::prefetch::prefetch;

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
    len: u8,
}

/// The flag of [`Key::merge_only`] keys, in `len`.
const MERGE_ONLY: u8 = 1 << 7;
/// The flag of [`Key::whole_text`] keys, in `len`.
const WHOLE_TEXT: u8 = 1 << 6;

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
            len: n as u8,
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
        Some(Key {
            words: [low_bytes(head, n), 0, 0],
            len: n as u8,
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

    /// The two sets this key may sit in, for counter `owner`: its own and its alternative.
    #[inline]
    fn sets(&self, owner: u32) -> (usize, usize) {
        // Three independent products (odd constants: the golden ratio's and two from
        // splitmix64), so that the set's address is known one multiply after the key, not
        // three: most pieces are hits, and a hit waits on this address. The alternative set
        // takes one more multiply, off the path of a hit in the own set.
        const K: [u64; 3] = [
            0x9e37_79b9_7f4a_7c15,
            0xbf58_476d_1ce4_e5b9,
            0x94d0_49bb_1331_11eb,
        ];
        let [a, b, c] = self.words;
        let h = (a ^ u64::from(self.len) ^ (u64::from(owner) << 40)).wrapping_mul(K[0])
            ^ b.wrapping_mul(K[1])
            ^ c.wrapping_mul(K[2]);
        let other = h.rotate_left(24).wrapping_mul(K[1]);
        (
            (h >> 40) as usize & (SETS - 1),
            (other >> 40) as usize & (SETS - 1),
        )
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
    /// The key's length and flags.
    len: u8,
    /// The count (at most [`MAX_LEN`], a count never exceeds the bytes).
    value: u8,
    /// When the entry was last stored or found, on the cache's clock of stores (wrapping).
    stamp: u16,
}

/// Two entries in one cache line, the one used last first.
#[derive(Clone, Copy, Default)]
#[repr(C, align(64))]
struct Set([Entry; WAYS]);

/// The cache (boxed), from a short piece to a token count.
pub(crate) struct PieceCache {
    sets: Box<[Set]>,
    /// Counts stores (wrapping); [`PieceCache::clock`] dates entries from it.
    stores: u32,
}

/// Entries are dated in units of 2^`CLOCK_SHIFT` stores, so that their 16-bit dates wrap only
/// after 4 million stores.
const CLOCK_SHIFT: u32 = 6;

/// An entry not used for this many clock units (as many stores as the cache has entries) makes
/// way in its own set rather than sending a new piece to its alternative.
const IDLE: u16 = (ENTRIES >> CLOCK_SHIFT) as u16;

impl std::fmt::Debug for PieceCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PieceCache").finish_non_exhaustive()
    }
}

impl Default for PieceCache {
    fn default() -> Self {
        PieceCache {
            sets: vec![Set::default(); SETS].into_boxed_slice(),
            stores: 0,
        }
    }
}

impl PieceCache {
    /// The cached value of the piece with key `key` for counter `owner`.
    #[inline]
    pub(crate) fn get(&mut self, owner: u32, key: &Key) -> Option<u32> {
        let (own, other) = key.sets(owner);
        // Both sets load at once: a piece in its alternative set costs no second wait.
        if let Some(set) = self.sets.get(other) {
            prefetch(set);
        }
        if let Some(n) = self.get_in(own, owner, key) {
            return Some(n);
        }
        self.get_in(other, owner, key)
    }

    /// [`PieceCache::get`] in set `set` only.
    #[inline]
    fn get_in(&mut self, set: usize, owner: u32, key: &Key) -> Option<u32> {
        let clock = self.clock();
        let Set([first, second]) = self.sets.get_mut(set)?;
        let holds = |e: &Entry| e.owner == owner && e.words == key.words && e.len == key.len;
        if holds(first) {
            first.stamp = clock;
            return Some(u32::from(first.value));
        }
        if holds(second) {
            // Used last: first in its set from now on.
            std::mem::swap(first, second);
            first.stamp = clock;
            return Some(u32::from(first.value));
        }
        None
    }

    /// The date of now: stores counted in units of 2^[`CLOCK_SHIFT`], wrapping.
    #[inline]
    fn clock(&self) -> u16 {
        (self.stores >> CLOCK_SHIFT) as u16
    }

    /// Forgets every piece (in place: the memory stays mapped and warm).
    pub(crate) fn clear(&mut self) {
        self.sets.fill(Set::default());
        self.stores = 0;
    }

    /// Remembers `value` for the piece with key `key` (not in the cache: [`PieceCache::get`]
    /// just missed it), in its own set unless the entry making way there is in use and the
    /// alternative's is idle or older (see the module docs).
    #[inline]
    pub(crate) fn put(&mut self, owner: u32, key: &Key, value: u32) {
        let Ok(value) = u8::try_from(value) else {
            return;
        };
        let (own, other) = key.sets(owner);
        let (Some(a), Some(b)) = (self.sets.get(own), self.sets.get(other)) else {
            return;
        };
        let [a, b] = [&a.0[1], &b.0[1]];
        // Ages on the wrapping clock: an entry unused for 65,536 clock units (4 million stores)
        // looks new again, which only makes a worse choice of victim, never a wrong count.
        let clock = self.clock();
        let age = |e: &Entry| clock.wrapping_sub(e.stamp);
        // Free, another counter's, or not used for as many stores as the cache has entries.
        let idle = |e: &Entry| e.owner != owner || age(e) >= IDLE;
        let set = if idle(a) || (!idle(b) && age(a) >= age(b)) {
            own
        } else {
            other
        };
        self.stores = self.stores.wrapping_add(1);
        let stamp = self.clock();
        let Some(Set([first, second])) = self.sets.get_mut(set) else {
            return;
        };
        *second = *first;
        *first = Entry {
            words: key.words,
            owner,
            len: key.len,
            value,
            stamp,
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

    /// Three pieces whose own set is the same all stay: the third goes to its alternative
    /// set while that has room. With one set per piece, looking the three up in turn would
    /// miss every time (each evicts the one looked up next).
    #[test]
    fn a_full_set_sends_new_pieces_to_their_alternative() {
        let words: Vec<Vec<u8>> = (0..200_000u32)
            .map(|i| format!(" w{i}").into_bytes())
            .collect();
        let keys: Vec<Key> = words.iter().map(|w| Key::new(w).unwrap()).collect();
        let own = keys[0].sets(1).0;
        let same: Vec<&Key> = keys.iter().filter(|k| k.sets(1).0 == own).take(3).collect();
        assert_eq!(same.len(), 3, "three keys sharing a set among 200,000");
        let mut cache = PieceCache::default();
        for (n, key) in same.iter().enumerate() {
            cache.put(1, key, n as u32 + 1);
        }
        for _ in 0..3 {
            for (n, key) in same.iter().enumerate() {
                assert_eq!(cache.get(1, key), Some(n as u32 + 1), "piece {n}");
            }
        }
        cache.clear();
        assert_eq!(cache.get(1, same[2]), None);
    }

    /// The keys `count` looks up for the English chat messages of `count_bench --messages`, in
    /// order: each message of at most [`MAX_LEN`] bytes as a whole text, and its o200k pieces
    /// of 2 to [`MAX_LEN`] bytes.
    fn chat_keys() -> Vec<Key> {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/fixtures/chitchat/conversations.jsonl"
        );
        let body = std::fs::read_to_string(path).unwrap();
        let mut keys = Vec::new();
        for line in body.lines() {
            let request: serde_json::Value = serde_json::from_str(line).unwrap();
            for m in request["messages"].as_array().unwrap() {
                let Some(text) = m["content"].as_str().filter(|_| m["role"] != "system") else {
                    continue;
                };
                keys.extend(Key::new(text.as_bytes()).map(Key::whole_text));
                let pieces = crate::tokens::scan::Pattern::O200k.pieces(text);
                keys.extend(
                    pieces
                        .filter(|p| p.len() > 1)
                        .filter_map(|p| Key::new(p.as_bytes())),
                );
            }
        }
        keys
    }

    /// One pass of lookups, storing what misses: the misses, and the hits found in the key's
    /// own set.
    fn pass(cache: &mut PieceCache, owner: u32, keys: &[Key]) -> (usize, usize) {
        let (mut misses, mut own) = (0, 0);
        for key in keys {
            if cache.get_in(key.sets(owner).0, owner, key).is_some() {
                own += 1;
            } else if cache.get(owner, key).is_none() {
                misses += 1;
                cache.put(owner, key, 1);
            }
        }
        (misses, own)
    }

    /// Counted again, the chat messages' 16,000 keys (in 32,768 entries) nearly all hit, and
    /// nearly all in their own set, also when the cache is full of another counter's entries
    /// or of other text's: with one set per key, about 4,400 missed on every pass.
    #[test]
    fn text_counted_again_hits_in_its_own_set() {
        let keys = chat_keys();
        assert!(keys.len() > 150_000, "{}", keys.len());
        let mut cache = PieceCache::default();
        for owner in [1, 2] {
            pass(&mut cache, owner, &keys);
            for _ in 0..3 {
                let (misses, own) = pass(&mut cache, owner, &keys);
                assert!(misses < 1_000, "owner {owner}: {misses} misses");
                assert!(
                    own * 10 > keys.len() * 9,
                    "owner {owner}: {own} in their own set"
                );
            }
        }
        let other: Vec<Key> = keys[..keys.len() / 2]
            .iter()
            .map(|k| k.merge_only())
            .collect();
        pass(&mut cache, 2, &other);
        pass(&mut cache, 2, &keys);
        let (misses, own) = pass(&mut cache, 2, &keys);
        assert!(misses < 1_000, "after other text: {misses} misses");
        assert!(
            own * 10 > keys.len() * 9,
            "after other text: {own} in their own set"
        );
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
