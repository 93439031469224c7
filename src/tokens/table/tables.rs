//! [`Tables`]: a vocabulary in lookup-ready form, and the whole-token lookup.
//!
//! A [`Tables`] holds:
//! - the whole-token lookup: token byte strings in one blob, their ids, and an open-addressing
//!   hash table (`slots`) from bytes to token index, with the tokens of at most
//!   [`short_tokens::MAX_LEN`] bytes inline in their own table (`short_tokens.rs`). For
//!   rank-based (tiktoken) vocabularies every token is there; for merge-based (Hugging Face)
//!   vocabularies only tokens that BPE turns back into themselves, so that a whole-piece hit is
//!   exact under both semantics;
//! - the merges by pair of ids ([`Merges`]): a merge-based vocabulary's list, or for a
//!   rank-based one the equivalent canonical merges (see `merges.rs`), and the id of each
//!   single byte;
//! - the characters that start merged (`char_parts.rs`) and the seams between them
//!   (`seams.rs`).
//!
//! `builders.rs` makes one from a vocabulary, `format.rs` writes and reads it.

use super::bit_filter::BitFilter;
use super::char_parts::CharParts;
use super::hash::{hash_bytes, EMPTY};
use super::merges::Merges;
use super::seams::Seams;
use super::short_tokens::{self, ShortTokens};
use super::two_bytes::TwoBytes;

/// How adjacent parts merge.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    /// tiktoken: the pair whose concatenation has the lowest rank merges first.
    Ranks,
    /// Hugging Face BPE: the pair listed earliest in the merges list merges first.
    Merges,
}

/// A vocabulary in lookup-ready form.
#[derive(Debug, Clone)]
pub(crate) struct Tables {
    /// Merge semantics.
    pub(crate) kind: Kind,
    /// Whether merging any whole token's bytes gives back that one token, so that the
    /// whole-piece lookup only saves time and never changes a count.
    pub(crate) whole_is_merged: bool,
    /// `offsets[i]..offsets[i + 1]` is token `i` in `blob`.
    pub(crate) offsets: Vec<u32>,
    /// Id (rank) of token `i`.
    pub(crate) ids: Vec<u32>,
    /// Open-addressing table of the indices of the tokens longer than
    /// [`short_tokens::MAX_LEN`], keyed by [`hash_bytes`].
    pub(crate) slots: Vec<u32>,
    /// The shorter tokens, inline (see `short_tokens.rs`).
    pub(super) short: ShortTokens,
    /// The hashes in `slots` (built at load time, not serialized).
    pub(super) filter: BitFilter,
    /// All token bytes, back to back.
    pub(crate) blob: Vec<u8>,
    /// The merges by pair of ids (for [`Kind::Ranks`], the equivalent canonical merges).
    pub(crate) merges: Merges,
    /// Characters that always reduce to the same parts (see `char_parts.rs`).
    pub(crate) chars: CharParts,
    /// Seams between those characters that no merge crosses (see `seams.rs`).
    pub(crate) seams: Seams,
    /// Special (added) tokens: `(id, text)`.
    pub(crate) specials: Vec<(u32, String)>,
    /// The count of every two-byte piece (`two_bytes.rs`), built when a counter is made.
    pub(crate) two_bytes: TwoBytes,
}

impl Tables {
    /// The id of a whole token, if `bytes` is one.
    #[inline]
    pub(crate) fn lookup(&self, bytes: &[u8]) -> Option<u32> {
        self.lookup_hashed(bytes, hash_bytes(bytes))
    }

    /// [`Tables::lookup`] with `hash == hash_bytes(bytes)` already computed.
    #[inline]
    pub(crate) fn lookup_hashed(&self, bytes: &[u8], hash: u64) -> Option<u32> {
        if !self.filter.may_contain(hash) {
            return None;
        }
        if bytes.len() <= short_tokens::MAX_LEN {
            return self.short.get(bytes, hash);
        }
        let mask = self.slots.len().wrapping_sub(1);
        let mut i = (hash as usize) & mask;
        loop {
            let t = *self.slots.get(i)?;
            if t == EMPTY {
                return None;
            }
            let t = t as usize;
            let start = *self.offsets.get(t)? as usize;
            let end = *self.offsets.get(t + 1)? as usize;
            if self.blob.get(start..end) == Some(bytes) {
                return self.ids.get(t).copied();
            }
            i = (i + 1) & mask;
        }
    }

    /// [`Tables::lookup_hashed`] of a piece of `len <= 8` bytes held zero-padded in `word`
    /// ([`low_bytes`](super::hash::low_bytes)), with `hash == hash_word(word, len)`: the
    /// bytes are not read again.
    #[inline]
    pub(crate) fn lookup_short(&self, word: u64, len: usize, hash: u64) -> Option<u32> {
        if !self.filter.may_contain(hash) {
            return None;
        }
        self.short.get_word(len, word, hash)
    }

    /// Builds the count of every two-byte piece (`two_bytes.rs`).
    pub(crate) fn build_two_bytes(&mut self) {
        self.two_bytes = TwoBytes::build(
            self.kind == Kind::Ranks,
            self.whole_is_merged,
            &self.short,
            &self.merges,
        );
    }

    /// The bytes of the token at `index` (in `ids` order).
    pub(super) fn token_bytes(&self, index: usize) -> &[u8] {
        let start = self.offsets.get(index).copied().unwrap_or(0) as usize;
        let end = self.offsets.get(index + 1).copied().unwrap_or(0) as usize;
        self.blob.get(start..end).unwrap_or_default()
    }
}
