//! Seams no merge crosses: where a run of whole characters can be cut, and each side counted
//! on its own.
//!
//! A clause of Chinese or Japanese is one long piece, and BPE over it is mostly lookups of
//! pairs that never merge. Take two adjacent characters `a` and `b` that start as their parts
//! from the character table (`char_parts.rs`); let `x` be the last part of `a` and `y` the
//! first part of `b`. Parts never split, so until something crosses the seam between them, the
//! part holding `x` ends with `x` and the part holding `y` starts with `y`. The first merge
//! that crosses the seam therefore joins a left input whose bytes end with `x`'s and a right
//! input whose bytes start with `y`'s. If no merge of the vocabulary has such inputs, nothing
//! ever crosses the seam: every merge happens on one side, the candidates of one side never
//! depend on the other, and BPE over the whole gives the parts of BPE over each side. So the
//! count of the piece is the sum of the counts of the sides, and a side that is one character
//! of one part counts 1 without any lookup.
//!
//! The filter holds every pair `(x, y)` that some merge could join, found by walking each
//! merge's inputs (the merges tiktoken ever applies are the canonical merges, see
//! `merges.rs`). It is a Bloom filter: a false "may cross" only loses a cut, never a count.
//! Most Chinese seams are cuttable (about half of them in Qwen's vocabulary, two thirds in
//! o200k's), and the sides are short and repeat, so they hit the piece cache.

use std::collections::{HashMap, HashSet};

use super::bit_filter::BitFilter;
use super::char_parts::CharParts;
use super::hash::hash_pair;
use super::merges::Merge;

/// Bits of filter per pair: the filter is small, so a low false-positive rate is cheap.
const BITS_PER_PAIR: usize = 16;

/// The seams between table characters that some merge may cross.
#[derive(Debug, Clone, Default)]
pub(crate) struct Seams {
    /// Pairs `(last part of the left character, first part of the right one)` that may merge
    /// across; an empty filter says every seam may be crossed.
    filter: BitFilter,
}

impl Seams {
    /// The seams of `chars` that a merge of `list` may cross; `bytes_of` gives the bytes of
    /// every token a merge takes as input. Without a character table, or when an input's
    /// bytes are unknown, every seam may be crossed.
    pub(crate) fn build(
        chars: &CharParts,
        list: &[Merge],
        bytes_of: &HashMap<u32, &[u8]>,
    ) -> Seams {
        let (firsts, lasts) = chars.edge_parts();
        if firsts.is_empty() {
            return Seams::default();
        }
        let by_bytes = |ids: &HashSet<u32>| -> Option<HashMap<&[u8], u32>> {
            ids.iter()
                .map(|id| Some((*bytes_of.get(id)?, *id)))
                .collect()
        };
        let (Some(first_ids), Some(last_ids)) = (by_bytes(&firsts), by_bytes(&lasts)) else {
            return Seams::default();
        };
        let mut pairs = HashSet::new();
        for m in list {
            let (Some(left), Some(right)) = (bytes_of.get(&m.left), bytes_of.get(&m.right)) else {
                return Seams::default();
            };
            // Table characters are at most three bytes, and so are their parts.
            for s in 1..=left.len().min(3) {
                let Some(&x) = left.get(left.len() - s..).and_then(|b| last_ids.get(b)) else {
                    continue;
                };
                for p in 1..=right.len().min(3) {
                    if let Some(&y) = right.get(..p).and_then(|b| first_ids.get(b)) {
                        pairs.insert(hash_pair(x, y));
                    }
                }
            }
        }
        Seams {
            filter: BitFilter::with_bits_per_key(pairs.into_iter(), BITS_PER_PAIR),
        }
    }

    /// Whether a merge may cross the seam between a character ending in part `left` and one
    /// starting with part `right` (both from the character table).
    #[inline]
    pub(crate) fn crossable(&self, left: u32, right: u32) -> bool {
        self.filter.may_contain(hash_pair(left, right))
    }

    /// The serialized form.
    pub(crate) fn to_u32s(&self) -> Vec<u32> {
        self.filter.to_u32s()
    }

    /// Reads what [`Seams::to_u32s`] wrote.
    pub(crate) fn from_u32s(words: &[u32]) -> Result<Seams, String> {
        let filter = BitFilter::from_u32s(words).ok_or("inconsistent seam filter")?;
        Ok(Seams { filter })
    }
}
