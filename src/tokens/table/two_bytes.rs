//! The count of every two-byte piece, in a direct table of 64 KB.
//!
//! Two-byte pieces are common in every text (" I", ", ", ".\n", "\":" in JSON, one accented
//! letter), and their count is 1 or 2 (0 to 2 in a merge-based vocabulary lacking a byte):
//! looking it up by the two bytes costs one load from a table that stays in the CPU cache,
//! instead of a hash and a lookup in the piece cache. Built when a counter is made, from the
//! two-byte tokens and the merges of single bytes, and checked against BPE on all 65,536
//! pieces of every vocabulary (`bpe` tests).

use super::hash::EMPTY;
use super::merges::{Merges, NO_MERGE};
use super::short_tokens::ShortTokens;

/// Marks a piece the table does not answer for.
const UNKNOWN: u8 = u8::MAX;

/// The counts, indexed by `first byte << 8 | second byte`; empty when not built.
#[derive(Debug, Clone, Default)]
pub(crate) struct TwoBytes {
    counts: Vec<u8>,
}

impl TwoBytes {
    /// The table for a vocabulary with tokens `short` and `merges`, rank-based (`ranks`) or
    /// merge-based, where merging rebuilds every whole token or not (`whole_is_merged`, see
    /// `Tables`); an empty one when a byte's id is not below 256, whose merges are not in the
    /// direct table of `merges.rs`.
    pub(crate) fn build(
        ranks: bool,
        whole_is_merged: bool,
        short: &ShortTokens,
        merges: &Merges,
    ) -> TwoBytes {
        let byte_ids = &merges.byte_ids;
        if byte_ids.len() != 256 || byte_ids.iter().any(|&id| id != EMPTY && id >= 256) {
            return TwoBytes::default();
        }
        let mut tokens = vec![false; 1 << 16];
        for [first, second] in short.two_byte_tokens() {
            tokens[usize::from(first) << 8 | usize::from(second)] = true;
        }
        let mut counts = vec![UNKNOWN; 1 << 16];
        for (i, count) in counts.iter_mut().enumerate() {
            let (left, right) = (byte_ids[i >> 8], byte_ids[i & 0xFF]);
            *count = if ranks {
                2 - u8::from(tokens[i])
            } else if tokens[i] && !whole_is_merged {
                1
            } else {
                let present = u8::from(left != EMPTY) + u8::from(right != EMPTY);
                if present == 2 && merges.packed(left, right) != NO_MERGE {
                    1
                } else {
                    present
                }
            };
        }
        TwoBytes { counts }
    }

    /// The count of the piece `[first, second]`, if the table is built.
    #[inline]
    pub(crate) fn get(&self, first: u8, second: u8) -> Option<usize> {
        let n = *self
            .counts
            .get(usize::from(first) << 8 | usize::from(second))?;
        (n != UNKNOWN).then_some(usize::from(n))
    }
}
