//! Building [`Tables`] from a vocabulary: a tiktoken rank list ([`Tables::from_ranks`]) or a
//! Hugging Face vocabulary with its merges ([`Tables::from_merges`]). `build.rs` runs these on
//! the vendored vocabularies; `BpeCounter`'s file loaders run them on a user's files.

use std::collections::HashMap;

use super::bit_filter::BitFilter;
use super::char_parts::CharParts;
use super::hash::{hash_bytes, EMPTY};
use super::merges::{canonical_merges, Merge, Merges};
use super::seams::Seams;
use super::short_tokens::{self, ShortTokens};
use super::tables::{Kind, Tables};
use super::two_bytes::TwoBytes;

fn table_len(n: usize) -> usize {
    // Load factor at most 1/2.
    (n.max(1) * 2).next_power_of_two()
}

impl Tables {
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
            two_bytes: TwoBytes::default(),
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

    /// Fills the whole-token filter from the token bytes.
    fn build_filter(&mut self) {
        let hashes = (0..self.ids.len()).map(|i| hash_bytes(self.token_bytes(i)));
        self.filter = BitFilter::new(hashes);
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

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
}
