//! A small per-thread cache from short pieces to their token counts.
//!
//! Natural text repeats its short pieces (" the", ",", " and", "\n") constantly, and a lookup
//! in the vocabulary's hash table is a few cache misses into megabytes of tables. This cache is
//! a direct-mapped array of a few thousand entries that stays in the CPU's L2 cache: a hit costs
//! a hash and one compare. Entries are tagged with the counter's unique id, so counters sharing
//! a thread never see each other's counts; a collision simply overwrites the slot.

/// Longest piece (in bytes) the cache holds.
pub(crate) const MAX_LEN: usize = 22;
/// Number of entries (a power of two).
const ENTRIES: usize = 16384;

#[derive(Clone, Copy)]
struct Entry {
    /// Counter id; 0 marks an empty entry (ids start at 1).
    owner: u32,
    value: u32,
    len: u8,
    bytes: [u8; MAX_LEN],
}

const EMPTY: Entry = Entry {
    owner: 0,
    value: 0,
    len: 0,
    bytes: [0; MAX_LEN],
};

/// The cache (boxed: about 128 KB), from a short byte string to a `u32` (a token count, or a
/// vocabulary lookup result).
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
            entries: vec![EMPTY; ENTRIES].into_boxed_slice(),
        }
    }
}

#[inline]
fn slot(owner: u32, hash: u64) -> usize {
    ((hash ^ u64::from(owner).wrapping_mul(0x9e37_79b9_7f4a_7c15)) >> 20) as usize & (ENTRIES - 1)
}

impl PieceCache {
    /// The cached value of `piece` (at most [`MAX_LEN`] bytes) for counter `owner`;
    /// `hash` is `hash_bytes(piece)`.
    #[inline]
    pub(crate) fn get(&self, owner: u32, hash: u64, piece: &[u8]) -> Option<u32> {
        let e = self.entries.get(slot(owner, hash))?;
        let stored = e.bytes.get(..usize::from(e.len))?;
        (e.owner == owner && stored == piece).then_some(e.value)
    }

    /// Remembers `value` for `piece` (ignored when the piece does not fit).
    #[inline]
    pub(crate) fn put(&mut self, owner: u32, hash: u64, piece: &[u8], value: u32) {
        let Ok(len) = u8::try_from(piece.len()) else {
            return;
        };
        let Some(e) = self.entries.get_mut(slot(owner, hash)) else {
            return;
        };
        let Some(dst) = e.bytes.get_mut(..piece.len()) else {
            return;
        };
        dst.copy_from_slice(piece);
        e.owner = owner;
        e.value = value;
        e.len = len;
    }
}
