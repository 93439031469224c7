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
//! The table holds every such character of the Basic Multilingual Plane (U+0080 to U+FFFF)
//! that ends in at most three parts, for use at the start of a piece or after another
//! non-ASCII character (the left neighbours `outer` considers). It is built only when every
//! token is produced by one merge (so priorities are unique per pair and ties are between
//! equal pairs). It is a dense array indexed by code point, so Chinese text touches a few
//! ten kilobytes of it, which stay in the CPU cache.
//!
//! This file is included by `build.rs` next to `table.rs`, so it must stay free of `crate::`
//! paths.

use std::collections::{BTreeSet, HashMap, HashSet};

use super::merges::{Merge, Merges};
use super::table::EMPTY;

/// First code point of the table.
const FIRST: u32 = 0x80;
/// Number of code points in the table (up to U+FFFF).
const SPAN: usize = 0x1_0000 - FIRST as usize;
/// Marks an entry that refers to `multi` (the low bits index it) instead of being one part.
const MULTI: u32 = 1 << 31;

/// Characters and the parts they always reduce to.
#[derive(Debug, Clone, Default)]
pub(crate) struct CharParts {
    /// Per code point from [`FIRST`]: the single part, `MULTI | i` for `multi[i]`, or
    /// [`EMPTY`] (empty when the vocabulary has no table).
    dense: Vec<u32>,
    /// Characters of two or three parts ([`EMPTY`]-padded).
    multi: Vec<[u32; 3]>,
}

/// The code point of the two- or three-byte UTF-8 character at the start of `bytes`, with its
/// length; `None` for ASCII, four-byte characters and malformed input.
#[inline]
pub(crate) fn decode(bytes: &[u8]) -> Option<(u32, usize)> {
    let cont = |i: usize| bytes.get(i).map(|&b| u32::from(b & 0x3F));
    match *bytes.first()? {
        b @ 0xC0..=0xDF => Some(((u32::from(b & 0x1F) << 6) | cont(1)?, 2)),
        b @ 0xE0..=0xEF => Some(((u32::from(b & 0x0F) << 12) | (cont(1)? << 6) | cont(2)?, 3)),
        _ => None,
    }
}

impl CharParts {
    /// The serialized form: the dense array, then the multi-part entries flattened.
    pub(crate) fn to_arrays(&self) -> [Vec<u32>; 2] {
        [
            self.dense.clone(),
            self.multi.iter().flatten().copied().collect(),
        ]
    }

    /// Reads what [`CharParts::to_arrays`] wrote.
    pub(crate) fn from_arrays(dense: Vec<u32>, multi: &[u32]) -> Result<CharParts, String> {
        let multi: Vec<[u32; 3]> = multi.chunks_exact(3).map(|c| [c[0], c[1], c[2]]).collect();
        let consistent = (dense.is_empty() || dense.len() == SPAN)
            && dense
                .iter()
                .all(|&v| v == EMPTY || v & MULTI == 0 || ((v & !MULTI) as usize) < multi.len());
        if !consistent {
            return Err("inconsistent character table".into());
        }
        Ok(CharParts { dense, multi })
    }

    /// Number of characters in the table.
    pub(crate) fn len(&self) -> usize {
        self.dense.iter().filter(|&&v| v != EMPTY).count()
    }

    /// The first parts and the last parts of the characters in the table.
    pub(crate) fn edge_parts(&self) -> (HashSet<u32>, HashSet<u32>) {
        let mut firsts = HashSet::new();
        let mut lasts = HashSet::new();
        for code in FIRST..FIRST + SPAN as u32 {
            if let Some(parts) = self.get(code) {
                let mut real = parts.iter().copied().take_while(|&id| id != EMPTY);
                firsts.extend(real.next());
                lasts.extend(real.last().or(parts.first().copied()));
            }
        }
        (firsts, lasts)
    }

    /// The parts of the character with code point `code`, if it is in the table.
    #[inline]
    pub(crate) fn get(&self, code: u32) -> Option<&[u32]> {
        let i = code.checked_sub(FIRST)? as usize;
        let v = self.dense.get(i)?;
        if *v == EMPTY {
            None
        } else if v & MULTI == 0 {
            Some(std::slice::from_ref(v))
        } else {
            self.multi.get((v & !MULTI) as usize).map(|m| m.as_slice())
        }
    }

    /// Builds the table from the merges (`list` in priority order, `merges` its lookup) and the
    /// bytes of every token a merge may take, with `lookup` giving the id of any token that can
    /// be a part (see the module docs).
    pub(crate) fn build(
        merges: &Merges,
        list: &[Merge],
        bytes_of: &HashMap<u32, &[u8]>,
        lookup: impl Fn(&[u8]) -> Option<u32>,
    ) -> CharParts {
        if !merges.unique_products {
            return CharParts::default();
        }
        let mut table = CharParts {
            dense: vec![EMPTY; SPAN],
            multi: Vec::new(),
        };
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
        for m in list {
            if starts_char(&m.right) {
                first_as_left.entry(m.left).or_insert(m.priority);
            }
            if ends_multibyte(&m.left) {
                first_as_right.entry(m.right).or_insert(m.priority);
            }
        }
        let chars: BTreeSet<char> = (FIRST..0x1_0000).filter_map(char::from_u32).collect();
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
            if !inner.is_some_and(|inner| inner < outer) {
                continue;
            }
            let slot = &mut table.dense[(u32::from(c) - FIRST) as usize];
            match parts.as_slice() {
                [one] if one & MULTI == 0 => *slot = *one,
                [a, b] => {
                    *slot = MULTI | table.multi.len() as u32;
                    table.multi.push([*a, *b, EMPTY]);
                }
                [a, b, c] => {
                    *slot = MULTI | table.multi.len() as u32;
                    table.multi.push([*a, *b, *c]);
                }
                _ => {}
            }
        }
        table
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
