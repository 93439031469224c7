//! Characters whose bytes always merge the same way, whatever surrounds them.
//!
//! A Chinese character is three bytes, so a clause of twenty characters starts BPE with sixty
//! parts, and most of the merging work only rebuilds each character from its bytes. For a
//! character `c`, let `inner` be the highest priority among the merges of BPE over `c`'s bytes
//! alone, and `outer` the lowest priority of any merge that could join a part of `c` with a
//! part outside it: a merge whose left input is a token ending `c` (a suffix of its bytes) or
//! whose right input is a token starting `c` (a prefix). When `inner < outer`, `c` ends up in
//! its isolated parts before anything crosses its edges: while `c` is unfinished, one of its
//! own candidates (priority at most `inner`) is pending and beats every crossing candidate
//! (priority at least `outer`), and the candidates inside `c` are the same as in isolation. So
//! counting may start from those parts instead of the bytes, with the same result.
//!
//! The table holds every such non-ASCII character of the vocabulary's tokens that ends in at
//! most three parts, keyed by its UTF-8 bytes, for use at the start of a piece or after another
//! non-ASCII character (the left neighbours `outer` considers). It is built only when every token is produced by
//! one merge (so priorities are unique per pair and ties are between equal pairs).
//!
//! This file is included by `build.rs` next to `table.rs`, so it must stay free of `crate::`
//! paths.

use std::collections::{BTreeSet, HashMap};

use super::merges::Merges;
use super::table::{EMPTY, K};

/// Words per entry: the key (UTF-8 bytes, little-endian, zero-padded), then three part ids
/// ([`EMPTY`] after the last).
const ENTRY: usize = 4;

/// Characters and the parts they always reduce to.
#[derive(Debug, Clone, Default)]
pub(crate) struct CharParts {
    /// Open-addressing table of entries ([`ENTRY`] words per slot, key 0 when free; empty
    /// when there are no entries). This is also the serialized form.
    pub(crate) slots: Vec<u32>,
}

/// The key of a character's UTF-8 bytes (one to four bytes).
#[inline]
pub(crate) fn key(bytes: &[u8]) -> u32 {
    let mut w = [0u8; 4];
    let n = bytes.len().min(4);
    w[..n].copy_from_slice(&bytes[..n]);
    u32::from_le_bytes(w)
}

#[inline]
fn hash(key: u32) -> usize {
    let h = u64::from(key).wrapping_mul(K);
    (h ^ (h >> 29)) as usize
}

impl CharParts {
    /// Reads the serialized form (the slots).
    pub(crate) fn from_slots(slots: Vec<u32>) -> Result<CharParts, String> {
        let n = slots.len() / ENTRY;
        if slots.len() % ENTRY != 0 || !(n == 0 || n.is_power_of_two()) {
            return Err("inconsistent character table".into());
        }
        Ok(CharParts { slots })
    }

    /// Number of characters in the table.
    pub(crate) fn len(&self) -> usize {
        self.slots.chunks_exact(ENTRY).filter(|e| e[0] != 0).count()
    }

    /// Indexes `list` (entries of [`ENTRY`] words).
    fn new(list: &[u32]) -> CharParts {
        let n = list.len() / ENTRY;
        if n == 0 {
            return CharParts::default();
        }
        let len = (n * 2).next_power_of_two();
        let mask = len - 1;
        let mut slots = vec![0; len * ENTRY];
        for e in list.chunks_exact(ENTRY) {
            let mut i = hash(e[0]) & mask;
            while slots[i * ENTRY] != 0 {
                i = (i + 1) & mask;
            }
            slots[i * ENTRY..(i + 1) * ENTRY].copy_from_slice(e);
        }
        CharParts { slots }
    }

    /// The parts (`EMPTY`-padded) of the character with key `key`, if it is in the table.
    #[inline]
    pub(crate) fn get(&self, key: u32) -> Option<&[u32]> {
        let mask = (self.slots.len() / ENTRY).wrapping_sub(1);
        if self.slots.is_empty() {
            return None;
        }
        let mut i = hash(key) & mask;
        loop {
            let s = self.slots.get(i * ENTRY..(i + 1) * ENTRY)?;
            match s[0] {
                0 => return None,
                k if k == key => return s.get(1..),
                _ => i = (i + 1) & mask,
            }
        }
    }

    /// Builds the table for the non-ASCII characters of `tokens` (token byte strings), with
    /// `lookup` giving the id of a token that can be a part (see the module docs).
    pub(crate) fn build<'a>(
        merges: &Merges,
        tokens: impl Iterator<Item = (&'a [u8], u32)> + Clone,
        lookup: impl Fn(&[u8]) -> Option<u32>,
    ) -> CharParts {
        if !merges.unique_products {
            return CharParts::default();
        }
        let bytes_of: HashMap<u32, &[u8]> = tokens.clone().map(|(b, id)| (id, b)).collect();
        // A part next to a whole character starts (on its right) or ends (on its left) on a
        // character boundary; merges with any other neighbour cannot touch `c`'s edges. The
        // table serves only characters at the start of a piece or after a non-ASCII
        // character (a space or a letter before a Chinese character often merges with its
        // first byte), so on the left only parts ending in a continuation byte count (a whole
        // multi-byte character or the tail of one).
        let starts_char = |id: &u32| {
            bytes_of
                .get(id)
                .and_then(|b| b.first())
                .is_some_and(|&b| !(0x80..0xC0).contains(&b))
        };
        let ends_multibyte = |id: &u32| {
            bytes_of
                .get(id)
                .and_then(|b| b.last())
                .is_some_and(|&b| (0x80..0xC0).contains(&b))
        };
        let mut first_as_left: HashMap<u32, u32> = HashMap::new();
        let mut first_as_right: HashMap<u32, u32> = HashMap::new();
        for m in &merges.list {
            if starts_char(&m.right) {
                first_as_left.entry(m.left).or_insert(m.priority);
            }
            if ends_multibyte(&m.left) {
                first_as_right.entry(m.right).or_insert(m.priority);
            }
        }
        // Every character of the vocabulary's tokens, and the whole Basic Multilingual Plane
        // (where nearly all text lives, even characters no token holds whole).
        let mut chars: BTreeSet<char> = (0x80..0x1_0000).filter_map(char::from_u32).collect();
        for (t, _) in tokens {
            for c in String::from_utf8_lossy(t).chars() {
                if !c.is_ascii() && c != char::REPLACEMENT_CHARACTER {
                    chars.insert(c);
                }
            }
        }
        let mut list = Vec::new();
        let mut buf = [0u8; 4];
        for c in chars {
            let bytes = c.encode_utf8(&mut buf).as_bytes();
            let Some((parts, inner)) = isolated(merges, bytes) else {
                continue;
            };
            let mut outer = u32::MAX;
            for i in 0..bytes.len() {
                if let Some(id) = lookup(&bytes[i..]) {
                    outer = outer.min(first_as_left.get(&id).copied().unwrap_or(u32::MAX));
                }
                if let Some(id) = lookup(&bytes[..=i]) {
                    outer = outer.min(first_as_right.get(&id).copied().unwrap_or(u32::MAX));
                }
            }
            // Nothing to gain when the bytes do not merge at all.
            if parts.len() < ENTRY && inner.is_some_and(|inner| inner < outer) {
                list.push(key(bytes));
                list.extend(parts.iter().copied());
                list.resize(list.len() + ENTRY - 1 - parts.len(), EMPTY);
            }
        }
        CharParts::new(&list)
    }
}

/// BPE over `bytes` alone: the parts left and the highest priority merged (`None` when
/// nothing merged). `None` when a byte is missing from the vocabulary.
fn isolated(merges: &Merges, bytes: &[u8]) -> Option<(Vec<u32>, Option<u32>)> {
    let mut parts = bytes
        .iter()
        .map(|&b| merges.byte_ids.get(usize::from(b)).copied())
        .collect::<Option<Vec<u32>>>()?;
    if parts.contains(&EMPTY) {
        return None;
    }
    let mut highest = None;
    loop {
        let best = (0..parts.len().saturating_sub(1))
            .filter_map(|i| merges.get(parts[i], parts[i + 1]).map(|(p, id)| (p, i, id)))
            .min();
        let Some((p, i, id)) = best else { break };
        highest = Some(highest.map_or(p, |h: u32| h.max(p)));
        parts[i] = id;
        parts.remove(i + 1);
    }
    Some((parts, highest))
}
