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
//! Some characters miss only because of a few merges on their left. In Qwen2.5's vocabulary,
//! the token `し` + the first two bytes of a hiragana (`E3 81`) comes before `て`, `が` and
//! `た` are built, so those are not whole after `し`, but are after any other character. Such a
//! character is held *conditionally*, with the last parts its left neighbour must not have:
//! every part `x` that ends the left input of a merge crossing its left edge below `inner`
//! (a filter of `(x, character)` pairs; a false hit only gives up the table). Next to a table
//! character whose last part `x` is allowed, the part on the left of the edge ends with `x`
//! until something crosses the edge, so no crossing merge below `inner` can happen, and the
//! argument above holds. The filter holds the one-byte suffix of every such left input too,
//! so after a character not in the table the token of its last byte can stand for `x`.
//!
//! The right edge works the same way with the right neighbour's first character, which is
//! read from the text: Qwen2.5 has tokens of a lone continuation byte and a character, such
//! as `82` + `数`, which come before `も` (`E3 82 82`) is built, so `も` is whole except
//! before `数`. A right input that ends inside its first character (a lone lead byte, say)
//! forbids every neighbour starting with those bytes.

use std::collections::{BTreeSet, HashMap, HashSet};

use super::bit_filter::BitFilter;
use super::hash::{hash_pair, EMPTY};
use super::merges::{Merge, Merges};

/// First code point of the table.
const FIRST: u32 = 0x80;
/// Number of code points in the table (up to U+FFFF).
const SPAN: usize = 0x1_0000 - FIRST as usize;
/// Marks an entry that refers to `multi` (the low bits index it) instead of being one part.
const MULTI: u32 = 1 << 31;
/// Marks an entry conditional on its left neighbour (see the module docs).
const CONDITIONAL: u32 = 1 << 30;
/// Marks an entry conditional on its right neighbour.
const CONDITIONAL_RIGHT: u32 = 1 << 29;
/// The flag bits of an entry.
const FLAGS: u32 = MULTI | CONDITIONAL | CONDITIONAL_RIGHT;
/// The `left` of [`CharParts::get_after`] at the start of a piece.
pub(crate) const START: u32 = EMPTY - 1;
/// Bits of filter per forbidden pair: the filters are small (a few thousand pairs), and a
/// right neighbour takes up to three lookups, so false hits are kept rare (one in 64).
const BITS_PER_PAIR: usize = 64;
/// A character is not held conditionally when more merges than this cross its left edge early.
const MAX_FORBIDDEN: usize = 16;

/// Characters and the parts they always reduce to.
#[derive(Debug, Clone, Default)]
pub(crate) struct CharParts {
    /// Per code point from [`FIRST`]: the single part, `MULTI | i` for `multi[i]`, or
    /// [`EMPTY`] (empty when the vocabulary has no table).
    dense: Vec<u32>,
    /// Characters of two or three parts ([`EMPTY`]-padded).
    multi: Vec<[u32; 3]>,
    /// `(last part of the left neighbour, code point)` pairs where a conditional character is
    /// not whole.
    forbidden: BitFilter,
    /// `(code point, code point of the right neighbour)` pairs where a character conditional
    /// on its right neighbour is not whole.
    forbidden_right: BitFilter,
}

/// The key of a right neighbour starting with `prefix`, a first character cut off after one
/// to three bytes (code points keep the low 21 bits).
#[inline]
fn partial_key(prefix: &[u8]) -> u32 {
    let byte = |i: usize| u32::from(prefix.get(i).copied().unwrap_or(0));
    (1 << 31) | ((prefix.len() as u32) << 24) | (byte(0) << 16) | (byte(1) << 8) | byte(2)
}

/// The code point of the first character of UTF-8 `bytes` (`None` when it is cut off).
#[inline]
fn first_code(bytes: &[u8]) -> Option<u32> {
    let b0 = *bytes.first()?;
    let cont = |i: usize| bytes.get(i).map(|&b| u32::from(b & 0x3F));
    Some(match b0 {
        0..=0x7F => u32::from(b0),
        0xC0..=0xDF => (u32::from(b0 & 0x1F) << 6) | cont(1)?,
        0xE0..=0xEF => (u32::from(b0 & 0x0F) << 12) | (cont(1)? << 6) | cont(2)?,
        _ => (u32::from(b0 & 0x07) << 18) | (cont(1)? << 12) | (cont(2)? << 6) | cont(3)?,
    })
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
    /// The serialized form: the dense array, the multi-part entries flattened, and the filters
    /// of forbidden left parts and right neighbours.
    pub(crate) fn to_arrays(&self) -> [Vec<u32>; 4] {
        [
            self.dense.clone(),
            self.multi.iter().flatten().copied().collect(),
            self.forbidden.to_u32s(),
            self.forbidden_right.to_u32s(),
        ]
    }

    /// Reads what [`CharParts::to_arrays`] wrote.
    pub(crate) fn from_arrays(
        dense: Vec<u32>,
        multi: &[u32],
        forbidden: &[u32],
        forbidden_right: &[u32],
    ) -> Result<CharParts, String> {
        let multi: Vec<[u32; 3]> = multi.chunks_exact(3).map(|c| [c[0], c[1], c[2]]).collect();
        let consistent = (dense.is_empty() || dense.len() == SPAN)
            && dense
                .iter()
                .all(|&v| v == EMPTY || v & MULTI == 0 || ((v & !FLAGS) as usize) < multi.len());
        let filters = (
            BitFilter::from_u32s(forbidden),
            BitFilter::from_u32s(forbidden_right),
        );
        match filters {
            (Some(forbidden), Some(forbidden_right)) if consistent => Ok(CharParts {
                dense,
                multi,
                forbidden,
                forbidden_right,
            }),
            _ => Err("inconsistent character table".into()),
        }
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

    /// The parts of the character with code point `code`, if it is in the table (held
    /// conditionally or not).
    pub(crate) fn get(&self, code: u32) -> Option<&[u32]> {
        self.get_in(code, START, &[])
    }

    /// The parts of the character with code point `code` when it follows a character whose
    /// last part is `left` ([`START`] at the start of a piece; for a character not in the
    /// table, the token of its last byte, or [`EMPTY`] when unknown) and comes before the text
    /// `after` (to the end of the piece), if it is in the table and whole there.
    #[inline]
    pub(crate) fn get_in(&self, code: u32, left: u32, after: &[u8]) -> Option<&[u32]> {
        let i = code.checked_sub(FIRST)? as usize;
        let v = self.dense.get(i)?;
        if *v == EMPTY {
            return None;
        }
        if v & CONDITIONAL != 0
            && (left == EMPTY
                || (left != START && self.forbidden.may_contain(hash_pair(left, code))))
        {
            return None;
        }
        if v & CONDITIONAL_RIGHT != 0 && !after.is_empty() {
            // The right neighbour's first character, and each of its first bytes short of it.
            let next = first_code(after)?;
            let len = char::from_u32(next).map_or(1, char::len_utf8);
            let forbidden = |key: u32| self.forbidden_right.may_contain(hash_pair(code, key));
            if forbidden(next) || (1..len).any(|k| forbidden(partial_key(&after[..k]))) {
                return None;
            }
        }
        if v & MULTI == 0 {
            Some(std::slice::from_ref(v))
        } else {
            // Unused parts are `EMPTY` (callers stop at the first).
            self.multi.get((v & !FLAGS) as usize).map(|m| m.as_slice())
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
            forbidden: BitFilter::default(),
            forbidden_right: BitFilter::default(),
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
        // Left input -> (priority, right input) of the merges that may cross a right edge.
        let mut as_left: HashMap<u32, Vec<(u32, u32)>> = HashMap::new();
        // Right input -> (priority, left input) of the merges that may cross a left edge.
        let mut as_right: HashMap<u32, Vec<(u32, u32)>> = HashMap::new();
        for m in list {
            if starts_char(&m.right) {
                as_left
                    .entry(m.left)
                    .or_default()
                    .push((m.priority, m.right));
            }
            if ends_multibyte(&m.left) {
                as_right
                    .entry(m.right)
                    .or_default()
                    .push((m.priority, m.left));
            }
        }
        // The parts a left input may end with: its suffix tokens of up to three bytes.
        let ends_of = |left: u32| -> Vec<u32> {
            let bytes = bytes_of.get(&left).copied().unwrap_or_default();
            (1..=bytes.len().min(3))
                .filter_map(|k| lookup(&bytes[bytes.len() - k..]))
                .collect()
        };
        let mut forbidden = Vec::new();
        let mut forbidden_right = Vec::new();
        let chars: BTreeSet<char> = (FIRST..0x1_0000).filter_map(char::from_u32).collect();
        let mut buf = [0u8; 4];
        for c in chars {
            let bytes = c.encode_utf8(&mut buf).as_bytes();
            let Some((parts, inner)) = isolated(merges, bytes) else {
                continue;
            };
            // Nothing to gain when the bytes do not merge at all.
            let Some(inner) = inner else { continue };
            // The merges crossing the left edge and the right edge before `inner`.
            let mut early = Vec::new();
            let mut early_right = Vec::new();
            for i in 0..bytes.len() {
                if let Some(id) = lookup(&bytes[i..]) {
                    let crossing = as_left.get(&id).map_or(&[][..], Vec::as_slice);
                    early_right.extend(crossing.iter().filter(|(p, _)| *p <= inner));
                }
                if let Some(id) = lookup(&bytes[..=i]) {
                    let crossing = as_right.get(&id).map_or(&[][..], Vec::as_slice);
                    early.extend(crossing.iter().filter(|(p, _)| *p <= inner));
                }
            }
            // The first character of each early right input, which must not follow `c`, or
            // the bytes it starts with when the input ends inside that character.
            let next: Option<Vec<u32>> = early_right
                .iter()
                .map(|(_, right)| {
                    let bytes = bytes_of.get(right)?;
                    let len = match bytes.first()? {
                        0..=0x7F => 1,
                        0xC0..=0xDF => 2,
                        0xE0..=0xEF => 3,
                        _ => 4,
                    };
                    if bytes.len() < len {
                        return Some(partial_key(bytes));
                    }
                    first_code(bytes)
                })
                .collect();
            let Some(next) = next else { continue };
            if early.len() > MAX_FORBIDDEN || next.len() > MAX_FORBIDDEN {
                continue;
            }
            let code = u32::from(c);
            let mut conditional = if early.is_empty() { 0 } else { CONDITIONAL };
            if !next.is_empty() {
                conditional |= CONDITIONAL_RIGHT;
            }
            for (_, left) in early {
                forbidden.extend(ends_of(left).into_iter().map(|x| hash_pair(x, code)));
            }
            forbidden_right.extend(next.into_iter().map(|n| hash_pair(code, n)));
            let slot = &mut table.dense[(code - FIRST) as usize];
            match parts.as_slice() {
                // A conditional character is always a `multi` entry: the dense entry keeps
                // the flag, and `get_after` hands out the parts without it.
                [one] if conditional == 0 && one & FLAGS == 0 => *slot = *one,
                [a] if a & FLAGS == 0 => {
                    *slot = MULTI | conditional | table.multi.len() as u32;
                    table.multi.push([*a, EMPTY, EMPTY]);
                }
                [a, b] => {
                    *slot = MULTI | conditional | table.multi.len() as u32;
                    table.multi.push([*a, *b, EMPTY]);
                }
                [a, b, c] => {
                    *slot = MULTI | conditional | table.multi.len() as u32;
                    table.multi.push([*a, *b, *c]);
                }
                _ => {}
            }
        }
        for pairs in [&mut forbidden, &mut forbidden_right] {
            pairs.sort_unstable();
            pairs.dedup();
        }
        table.forbidden = BitFilter::with_bits_per_key(forbidden.into_iter(), BITS_PER_PAIR);
        table.forbidden_right =
            BitFilter::with_bits_per_key(forbidden_right.into_iter(), BITS_PER_PAIR);
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
