//! The compact, precomputed form of a vocabulary.
//!
//! `build.rs` includes this file (with `#[path]`) to turn the vendored vocabularies into this
//! form at build time, and the library decodes it from `include_bytes!` at run time, so the
//! file must stay free of `crate::` paths. The same builders serve vocabulary files a user loads
//! at run time.
//!
//! A [`Tables`] holds:
//! - the whole-token lookup: token byte strings in one blob, their ids, and an open-addressing
//!   hash table (`slots`) from bytes to token index. For rank-based (tiktoken) vocabularies every
//!   token is there; for merge-based (Hugging Face) vocabularies only tokens that BPE turns back
//!   into themselves, so that a whole-piece hit is exact under both semantics;
//! - the merges by pair of ids ([`Merges`]): a merge-based vocabulary's list, or for a rank-based
//!   one the equivalent canonical merges (see `merges.rs`), and the id of each single byte.
//!
//! Serialized form: the magic, then each array as a little-endian `u32` element count followed by
//! its elements (`u32` little-endian, or raw bytes zero-padded to a multiple of 4).

use std::collections::HashMap;

use super::bit_filter::BitFilter;
use super::char_parts::CharParts;
use super::merges::{canonical_merges, Merge, Merges};
use super::seams::Seams;
use super::short_tokens::{self, ShortTokens};

/// Marks an empty hash slot.
pub(crate) const EMPTY: u32 = u32::MAX;

const MAGIC: &[u8; 8] = b"CCTOK\x00\x00\x06";

/// Multiplier of the FxHash family (rustc's hasher), used for both hash tables.
pub(crate) const K: u64 = 0xf135_7aea_2e62_a9c5;

/// Hash of a byte string; identical at build time and at run time.
#[inline]
pub(crate) fn hash_bytes(bytes: &[u8]) -> u64 {
    let mut h = bytes.len() as u64;
    let mut chunks = bytes.chunks_exact(8);
    for c in &mut chunks {
        let mut w = [0u8; 8];
        w.copy_from_slice(c);
        h = (h.rotate_left(5) ^ u64::from_le_bytes(w)).wrapping_mul(K);
    }
    let rest = chunks.remainder();
    if !rest.is_empty() {
        let mut w = [0u8; 8];
        w[..rest.len()].copy_from_slice(rest);
        h = (h.rotate_left(5) ^ u64::from_le_bytes(w)).wrapping_mul(K);
    }
    // Fold the high bits down: the table index uses the low bits.
    h ^ (h >> 29)
}

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
    short: ShortTokens,
    /// The hashes in `slots` (built at load time, not serialized).
    filter: BitFilter,
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
}

fn table_len(n: usize) -> usize {
    // Load factor at most 1/2.
    (n.max(1) * 2).next_power_of_two()
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

    /// Builds rank-based tables from `(bytes, rank)` pairs (a `.tiktoken` file).
    pub(crate) fn from_ranks(tokens: Vec<(Vec<u8>, u32)>) -> Result<Tables, String> {
        let mut t = Tables::from_tokens(Kind::Ranks, tokens, Merges::default())?;
        let mut tokens = Vec::with_capacity(t.ids.len());
        let mut byte_ids = vec![EMPTY; 256];
        for (index, &id) in t.ids.iter().enumerate() {
            let bytes = t.token_bytes(index).to_vec();
            if let [b] = bytes.as_slice() {
                byte_ids[usize::from(*b)] = id;
            }
            tokens.push((bytes, id));
        }
        // A byte missing from the vocabulary (tiktoken itself would panic on it) stays an
        // unmergeable part of its own: no merge has `EMPTY` on either side.
        let list = canonical_merges(&tokens, |b| t.lookup(b));
        let singles = byte_ids.iter().filter(|&&id| id != EMPTY).count();
        t.whole_is_merged = list.len() + singles == t.ids.len();
        t.merges = Merges::new(&list, byte_ids, None);
        t.derive_characters(&list, &tokens);
        Ok(t)
    }

    /// The bytes of the token at `index` (in `ids` order).
    fn token_bytes(&self, index: usize) -> &[u8] {
        let start = self.offsets.get(index).copied().unwrap_or(0) as usize;
        let end = self.offsets.get(index + 1).copied().unwrap_or(0) as usize;
        self.blob.get(start..end).unwrap_or_default()
    }

    /// Builds merge-based tables from a Hugging Face BPE vocabulary (bytes, id) and its merges
    /// (left id, right id) in priority order. With `ignore_merges`, every vocabulary entry is
    /// a whole-piece hit, as Hugging Face does with that option.
    pub(crate) fn from_merges(
        vocab: Vec<(Vec<u8>, u32)>,
        merge_pairs: &[(u32, u32)],
        ignore_merges: bool,
    ) -> Result<Tables, String> {
        let by_bytes: HashMap<&[u8], u32> =
            vocab.iter().map(|(b, id)| (b.as_slice(), *id)).collect();
        let by_id: HashMap<u32, &[u8]> = vocab.iter().map(|(b, id)| (*id, b.as_slice())).collect();
        let byte_ids = (0..=255u8)
            .map(|b| by_bytes.get(&[b][..]).copied().unwrap_or(EMPTY))
            .collect();
        let mut list = Vec::with_capacity(merge_pairs.len());
        for (k, &(l, r)) in merge_pairs.iter().enumerate() {
            let (Some(lb), Some(rb)) = (by_id.get(&l), by_id.get(&r)) else {
                return Err(format!("merge {k} refers to an unknown token id"));
            };
            let joined = [*lb, *rb].concat();
            let Some(&new_id) = by_bytes.get(joined.as_slice()) else {
                return Err(format!(
                    "merge {k} produces a token missing from the vocabulary"
                ));
            };
            list.push(Merge {
                left: l,
                right: r,
                priority: u32::try_from(k).map_err(|_| "too many merges")?,
                new_id,
            });
        }
        let merges = Merges::new(&list, byte_ids, None);
        let mut tables = Tables::from_tokens(Kind::Merges, Vec::new(), merges)?;
        let whole: Vec<(Vec<u8>, u32)> = vocab
            .iter()
            .filter(|(b, id)| ignore_merges || tables.merges_back_to(b, *id))
            .cloned()
            .collect();
        let merges = std::mem::take(&mut tables.merges);
        let mut t = Tables::from_tokens(Kind::Merges, whole, merges)?;
        t.whole_is_merged = !ignore_merges;
        t.derive_characters(&list, &vocab);
        Ok(t)
    }

    /// Builds the character table and its seams from the merges (`list`, in priority order)
    /// and every token of the vocabulary (bytes, id): for a merge-based vocabulary that is
    /// more than the whole-piece table, since a merge may produce a token that BPE over its
    /// own bytes does not.
    fn derive_characters(&mut self, list: &[Merge], vocab: &[(Vec<u8>, u32)]) {
        let bytes_of: HashMap<u32, &[u8]> =
            vocab.iter().map(|(b, id)| (*id, b.as_slice())).collect();
        let by_bytes: HashMap<&[u8], u32> =
            vocab.iter().map(|(b, id)| (b.as_slice(), *id)).collect();
        self.chars = CharParts::build(&self.merges, list, &bytes_of, |b| by_bytes.get(b).copied());
        self.seams = Seams::build(&self.chars, list, &bytes_of);
    }

    /// Whether plain BPE over `bytes` ends in the single token `id` (a simple quadratic
    /// reference merge; tokens are short and this runs once per token at build time).
    fn merges_back_to(&self, bytes: &[u8], id: u32) -> bool {
        let mut parts: Vec<u32> = Vec::with_capacity(bytes.len());
        for &b in bytes {
            match self.merges.byte_ids.get(usize::from(b)) {
                Some(&i) if i != EMPTY => parts.push(i),
                _ => return false,
            }
        }
        loop {
            let mut best: Option<(u32, usize, u32)> = None;
            for i in 0..parts.len().saturating_sub(1) {
                if let Some((rank, new_id)) = self.merges.get(parts[i], parts[i + 1]) {
                    if best.map_or(true, |(r, _, _)| rank < r) {
                        best = Some((rank, i, new_id));
                    }
                }
            }
            let Some((_, i, new_id)) = best else { break };
            parts[i] = new_id;
            parts.remove(i + 1);
        }
        parts == [id]
    }

    fn from_tokens(
        kind: Kind,
        mut tokens: Vec<(Vec<u8>, u32)>,
        merges: Merges,
    ) -> Result<Tables, String> {
        tokens.sort_by_key(|t| t.1);
        let long = tokens
            .iter()
            .filter(|(b, _)| b.len() > short_tokens::MAX_LEN)
            .count();
        let mut t = Tables {
            kind,
            whole_is_merged: false,
            offsets: Vec::with_capacity(tokens.len() + 1),
            ids: Vec::with_capacity(tokens.len()),
            slots: vec![EMPTY; table_len(long)],
            short: ShortTokens::default(),
            blob: Vec::new(),
            filter: BitFilter::default(),
            merges,
            chars: CharParts::default(),
            seams: Seams::default(),
            specials: Vec::new(),
        };
        t.offsets.push(0);
        let mask = t.slots.len() - 1;
        let mut seen = std::collections::HashSet::with_capacity(tokens.len());
        let mut short = Vec::with_capacity(tokens.len() - long);
        for (index, (bytes, id)) in tokens.iter().enumerate() {
            if !seen.insert(bytes.as_slice()) {
                return Err(format!(
                    "token id {id} repeats the bytes of an earlier token"
                ));
            }
            t.blob.extend_from_slice(bytes);
            let end = u32::try_from(t.blob.len()).map_err(|_| "vocabulary too large")?;
            t.offsets.push(end);
            t.ids.push(*id);
            let hash = hash_bytes(bytes);
            if bytes.len() <= short_tokens::MAX_LEN {
                short.push((bytes.as_slice(), *id, hash));
                continue;
            }
            let mut i = (hash as usize) & mask;
            while t.slots[i] != EMPTY {
                i = (i + 1) & mask;
            }
            t.slots[i] = index as u32;
        }
        t.short = ShortTokens::new(&short);
        t.build_filter();
        Ok(t)
    }

    /// Serializes the tables (see the module docs for the layout).
    #[allow(dead_code)] // used by build.rs and the tests
    pub(crate) fn to_bytes(&self) -> Vec<u8> {
        let mut out = MAGIC.to_vec();
        let kind = match self.kind {
            Kind::Ranks => 0,
            Kind::Merges => 1,
        };
        put_words(&mut out, &[kind, u32::from(self.whole_is_merged)]);
        for words in [
            &self.offsets,
            &self.ids,
            &self.slots,
            &self.short.to_u32s(),
            &self.filter.to_u32s(),
        ] {
            put_words(&mut out, words);
        }
        put_bytes(&mut out, &self.blob);
        for words in self.merges.to_arrays() {
            put_words(&mut out, &words);
        }
        for words in self.chars.to_arrays() {
            put_words(&mut out, &words);
        }
        put_words(&mut out, &self.seams.to_u32s());
        let ids: Vec<u32> = self.specials.iter().map(|s| s.0).collect();
        put_words(&mut out, &ids);
        let lens: Vec<u32> = self.specials.iter().map(|s| s.1.len() as u32).collect();
        put_words(&mut out, &lens);
        let texts: String = self.specials.iter().map(|s| s.1.as_str()).collect();
        put_bytes(&mut out, texts.as_bytes());
        out
    }

    /// Decodes what [`Tables::to_bytes`] wrote.
    pub(crate) fn from_bytes(bytes: &[u8]) -> Result<Tables, String> {
        let rest = bytes
            .strip_prefix(MAGIC.as_slice())
            .ok_or("not a chatctx vocabulary table (bad magic)")?;
        let mut r = Reader { rest };
        let (kind, whole_is_merged) = match r.words()?.as_slice() {
            [0, whole] => (Kind::Ranks, *whole == 1),
            [1, whole] => (Kind::Merges, *whole == 1),
            _ => return Err("unknown table kind".into()),
        };
        let offsets = r.words()?;
        let ids = r.words()?;
        let slots = r.words()?;
        let short = ShortTokens::from_le_bytes(r.raw_words()?)?;
        let filter = BitFilter::from_u32s(&r.words()?).ok_or("inconsistent token filter")?;
        let blob = r.bytes()?;
        let merges = Merges::from_arrays(
            r.raw_words()?,
            [r.words()?, r.words()?, r.words()?, r.words()?],
        )?;
        let chars = CharParts::from_arrays(r.words()?, &r.words()?, &r.words()?, &r.words()?)?;
        let seams = Seams::from_u32s(&r.words()?)?;
        let special_ids = r.words()?;
        let special_lens = r.words()?;
        let texts = String::from_utf8(r.bytes()?).map_err(|_| "special tokens are not UTF-8")?;
        let mut specials = Vec::with_capacity(special_ids.len());
        let mut at = 0usize;
        for (id, len) in special_ids.into_iter().zip(special_lens) {
            let end = at + len as usize;
            let text = texts.get(at..end).ok_or("special tokens are cut")?;
            specials.push((id, text.to_string()));
            at = end;
        }
        let consistent = offsets.len() == ids.len() + 1
            && offsets.windows(2).all(|w| w[0] <= w[1])
            && slots.len().is_power_of_two()
            && offsets.last().is_some_and(|&e| e as usize == blob.len());
        if !consistent {
            return Err("inconsistent table sizes".into());
        }
        Ok(Tables {
            kind,
            whole_is_merged,
            offsets,
            ids,
            slots,
            short,
            filter,
            blob,
            merges,
            chars,
            seams,
            specials,
        })
    }

    /// Fills the whole-token filter from the token bytes.
    fn build_filter(&mut self) {
        let hashes = (0..self.ids.len()).map(|i| hash_bytes(self.token_bytes(i)));
        self.filter = BitFilter::new(hashes);
    }
}

#[allow(dead_code)] // used by build.rs and the tests
fn put_words(out: &mut Vec<u8>, words: &[u32]) {
    out.extend_from_slice(&(words.len() as u32).to_le_bytes());
    for w in words {
        out.extend_from_slice(&w.to_le_bytes());
    }
}

#[allow(dead_code)] // used by build.rs and the tests
fn put_bytes(out: &mut Vec<u8>, bytes: &[u8]) {
    out.extend_from_slice(&(bytes.len() as u32).to_le_bytes());
    out.extend_from_slice(bytes);
    out.resize(out.len().next_multiple_of(4), 0);
}

struct Reader<'a> {
    rest: &'a [u8],
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], String> {
        if self.rest.len() < n {
            return Err("truncated table".into());
        }
        let (head, tail) = self.rest.split_at(n);
        self.rest = tail;
        Ok(head)
    }

    fn len(&mut self) -> Result<usize, String> {
        let b = self.take(4)?;
        Ok(u32::from_le_bytes([b[0], b[1], b[2], b[3]]) as usize)
    }

    fn words(&mut self) -> Result<Vec<u32>, String> {
        Ok(self
            .raw_words()?
            .chunks_exact(4)
            .map(|c| u32::from_le_bytes([c[0], c[1], c[2], c[3]]))
            .collect())
    }

    /// The next array of words as its little-endian bytes.
    fn raw_words(&mut self) -> Result<&'a [u8], String> {
        let n = self.len()?;
        self.take(n.checked_mul(4).ok_or("truncated table")?)
    }

    fn bytes(&mut self) -> Result<Vec<u8>, String> {
        let n = self.len()?;
        let raw = self
            .take(n.next_multiple_of(4))?
            .get(..n)
            .unwrap_or_default();
        Ok(raw.to_vec())
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn ranks_roundtrip() {
        let tokens = vec![(b"a".to_vec(), 0), (b"b".to_vec(), 1), (b"ab".to_vec(), 2)];
        let mut t = Tables::from_ranks(tokens).unwrap();
        t.specials = vec![(3, "<|x|>".into()), (4, "<y>".into())];
        let back = Tables::from_bytes(&t.to_bytes()).unwrap();
        assert_eq!(back.lookup(b"ab"), Some(2));
        assert_eq!(back.lookup(b"ba"), None);
        assert_eq!(back.specials, t.specials);
    }

    #[test]
    fn merges_keep_only_reachable_whole_tokens() {
        // "abc" is in the vocabulary but no merge builds it from "ab" + "c".
        let vocab = vec![
            (b"a".to_vec(), 0),
            (b"b".to_vec(), 1),
            (b"c".to_vec(), 2),
            (b"ab".to_vec(), 3),
            (b"bc".to_vec(), 4),
            (b"abc".to_vec(), 5),
        ];
        let t = Tables::from_merges(vocab, &[(0, 1), (1, 2), (0, 4)], false).unwrap();
        assert_eq!(t.lookup(b"ab"), Some(3));
        assert_eq!(
            t.lookup(b"abc"),
            None,
            "ab+c is not a merge; a+bc loses to a+b"
        );
        assert_eq!(t.merges.get(0, 1), Some((0, 3)));
        assert_eq!(t.merges.get(1, 0), None);
    }

    #[test]
    fn corrupt_tables_are_errors() {
        assert!(Tables::from_bytes(b"nope").is_err());
        let t = Tables::from_ranks(vec![(b"a".to_vec(), 0)]).unwrap();
        let bytes = t.to_bytes();
        assert!(Tables::from_bytes(&bytes[..bytes.len() - 5]).is_err());
    }
}
