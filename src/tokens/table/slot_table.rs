//! An open-addressing hash table of four-word slots, four slots to a 64-byte bucket.
//!
//! The merge table (`merges.rs`) and the short-token table (`short_tokens.rs`) keep their keys
//! inside their slots, so most lookups read one cache line. The table is filled to at most 70%
//! and probed linearly from the first slot of the key's bucket, wrapping around; a slot whose
//! first word is [`EMPTY`] is free, and every table has one, so every probe ends.

use super::hash::EMPTY;
use super::prefetch::prefetch;

/// One slot: four words, the first never [`EMPTY`] in a used slot.
pub(crate) type Slot = [u32; 4];

/// Slots per bucket: one 64-byte cache line.
const PER_BUCKET: usize = 4;

/// Bytes of a bucket in the serialized form.
const BUCKET_BYTES: usize = 4 * 4 * PER_BUCKET;

/// Four slots in one cache line.
#[derive(Debug, Clone, Copy)]
#[repr(C, align(64))]
struct Bucket([Slot; PER_BUCKET]);

const EMPTY_BUCKET: Bucket = Bucket([[EMPTY; 4]; PER_BUCKET]);

/// The table.
#[derive(Debug, Clone, Default)]
pub(crate) struct SlotTable {
    buckets: Vec<Bucket>,
}

/// The bucket a hash starts in, of `buckets` (the low 32 bits scaled, so that any count of
/// buckets works and the filters' high bits stay independent).
#[inline]
fn bucket_of(hash: u64, buckets: usize) -> usize {
    (((hash & 0xFFFF_FFFF) * buckets as u64) >> 32) as usize
}

impl SlotTable {
    /// An empty table with room for `keys` slots at 70% load.
    pub(crate) fn for_keys(keys: usize) -> SlotTable {
        let buckets = (keys * 10 / 7 / PER_BUCKET + 1).max(1);
        SlotTable {
            buckets: vec![EMPTY_BUCKET; buckets],
        }
    }

    /// Stores `slot` under `hash` unless a slot for which `same` holds is met first.
    pub(crate) fn insert(&mut self, hash: u64, slot: Slot, same: impl Fn(&Slot) -> bool) {
        let count = self.buckets.len();
        let total = count * PER_BUCKET;
        let mut i = bucket_of(hash, count) * PER_BUCKET;
        for _ in 0..total {
            let s = &mut self.buckets[i / PER_BUCKET].0[i % PER_BUCKET];
            if s[0] == EMPTY {
                *s = slot;
                return;
            }
            if same(s) {
                return;
            }
            i = if i + 1 == total { 0 } else { i + 1 };
        }
    }

    /// Starts loading the bucket a lookup of `hash` reads first.
    #[inline]
    pub(crate) fn prefetch(&self, hash: u64) {
        if let Some(b) = self.buckets.get(bucket_of(hash, self.buckets.len())) {
            prefetch(b);
        }
    }

    /// The slot under `hash` for which `matches` holds.
    #[inline]
    pub(crate) fn find(&self, hash: u64, matches: impl Fn(&Slot) -> bool) -> Option<&Slot> {
        let count = self.buckets.len();
        let mut b = bucket_of(hash, count);
        loop {
            for s in &self.buckets.get(b)?.0 {
                if s[0] == EMPTY {
                    return None;
                }
                if matches(s) {
                    return Some(s);
                }
            }
            b = if b + 1 == count { 0 } else { b + 1 };
        }
    }

    /// Every used slot.
    pub(crate) fn used(&self) -> impl Iterator<Item = &Slot> {
        self.buckets
            .iter()
            .flat_map(|b| &b.0)
            .filter(|s| s[0] != EMPTY)
    }

    /// The serialized form.
    pub(crate) fn to_u32s(&self) -> Vec<u32> {
        self.buckets.iter().flat_map(|b| b.0).flatten().collect()
    }

    /// Reads what [`SlotTable::to_u32s`] wrote, `words` words that `fill` hands out one bucket
    /// at a time, straight into the buckets. `None` when `fill` fails, for a table of the wrong
    /// size or without a free slot (a probe would never end).
    pub(crate) fn read(
        words: usize,
        mut fill: impl FnMut(&mut [u32]) -> Result<(), String>,
    ) -> Result<SlotTable, String> {
        let per_bucket = 4 * PER_BUCKET;
        if words == 0 || words % per_bucket != 0 {
            return Err("inconsistent hash table size".into());
        }
        let mut buckets = Vec::with_capacity((words / per_bucket).min(1 << 20));
        let mut free = false;
        for _ in 0..words / per_bucket {
            let mut b = EMPTY_BUCKET;
            fill(b.0.as_flattened_mut())?;
            free |= b.0.iter().any(|s| s[0] == EMPTY);
            buckets.push(b);
        }
        if !free {
            return Err("hash table without a free slot".into());
        }
        Ok(SlotTable { buckets })
    }

    /// Reads what [`SlotTable::to_u32s`] wrote, as its little-endian bytes (decoded straight
    /// into buckets, without an intermediate array). `None` for a table of the wrong size or
    /// without a free slot (a probe would never end).
    #[allow(dead_code)] // used by the tests
    pub(crate) fn from_le_bytes(bytes: &[u8]) -> Option<SlotTable> {
        if bytes.is_empty() || bytes.len() % BUCKET_BYTES != 0 {
            return None;
        }
        let buckets: Vec<Bucket> = bytes
            .chunks_exact(BUCKET_BYTES)
            .map(|chunk| {
                let mut b = EMPTY_BUCKET;
                for (word, w) in b.0.iter_mut().flatten().zip(chunk.chunks_exact(4)) {
                    *word = u32::from_le_bytes([w[0], w[1], w[2], w[3]]);
                }
                b
            })
            .collect();
        let free = buckets.iter().flat_map(|b| b.0).any(|s| s[0] == EMPTY);
        free.then_some(SlotTable { buckets })
    }
}
