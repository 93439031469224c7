//! Character classes shared by all scanners, and the small building blocks (runs, contractions,
//! whitespace tails) the pattern files are written with.
//!
//! # Where the Unicode data comes from
//!
//! The reference implementations we must agree with (tiktoken-rs, and our differential tests)
//! run the patterns through `fancy-regex`, which takes its Unicode tables from `regex-syntax`.
//! Any other source of Unicode data (a different crate, a different Unicode version) would
//! disagree with the reference on newly assigned code points. So the class table is built,
//! once and lazily, from the very classes `regex-syntax` gives for `\p{L}`, `\p{Lu}`, `\s`, ...
//! `regex-syntax` is already in the dependency tree (through `fancy-regex`, which runs the
//! patterns of user-loaded vocabularies, as it does inside tiktoken-rs), so this adds no crate. Building the table takes about a millisecond, once per process.
//!
//! The table is two-level: the code point's high bits select a 64-entry block, and identical
//! blocks are shared (all of U+4E00..U+9FFF is one block), which keeps it at about 60 KB.
//! ASCII never touches it: a `const` table answers bytes below 0x80.

use std::collections::HashMap;
use std::sync::LazyLock;

use super::ascii::{self, Range};

/// `\p{L}`: any letter.
pub(super) const L: u8 = 1;
/// o200k's "upper" class `[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]`.
pub(super) const UPPER: u8 = 2;
/// o200k's "lower" class `[\p{Ll}\p{Lm}\p{Lo}\p{M}]`.
pub(super) const LOWER: u8 = 4;
/// `\p{M}`: any mark.
pub(super) const M: u8 = 8;
/// `\p{N}`: any number.
pub(super) const N: u8 = 16;
/// `\s`: Unicode `White_Space`, as `regex-syntax` defines it.
pub(super) const WS: u8 = 32;
/// `[\p{P}\p{S}]`: punctuation or symbol.
pub(super) const PS: u8 = 64;
/// `[\r\n]`.
pub(super) const NL: u8 = 128;

/// Block size of the two-level table, as a shift.
const SHIFT: u32 = 6;
const BLOCK: usize = 1 << SHIFT;

/// One decoded character: code point, length in bytes (0 at the end of the text), class bits.
#[derive(Debug, Clone, Copy)]
pub(super) struct Ch {
    pub(super) cp: u32,
    pub(super) len: usize,
    pub(super) class: u8,
}

impl Ch {
    /// The character is `[^\r\n\p{L}\p{N}]`, the optional prefix of the letter alternatives.
    #[inline]
    pub(super) fn is_prefix(self) -> bool {
        self.len != 0 && self.class & (NL | L | N) == 0
    }

    /// The character is `[^\s\p{L}\p{N}]`, the punctuation run of the tiktoken-style patterns.
    #[inline]
    pub(super) fn is_punct(self) -> bool {
        self.len != 0 && self.class & (WS | L | N) == 0
    }

    /// The character has one of the `mask` bits.
    #[inline]
    pub(super) fn is(self, mask: u8) -> bool {
        self.class & mask != 0
    }
}

/// Whether the UTF-8 text `b` has a CJK unified ideograph (U+4E00 to U+9FFF) at byte `i`:
/// first byte E5 to E9, or E4 followed by B8 or more.
#[inline(always)]
fn is_ideograph(b: &[u8], i: usize) -> bool {
    match b.get(i) {
        Some(0xE5..=0xE9) => true,
        Some(0xE4) => b.get(i + 1).is_some_and(|&b1| b1 >= 0xB8),
        _ => false,
    }
}

/// Class bits of an ASCII byte; must agree with the Unicode table (a test checks it).
const fn ascii_class(b: u8) -> u8 {
    match b {
        b'a'..=b'z' => L | LOWER,
        b'A'..=b'Z' => L | UPPER,
        b'0'..=b'9' => N,
        b'\r' | b'\n' => WS | NL,
        b'\t' | 0x0B | 0x0C | b' ' => WS,
        0x21..=0x2F | 0x3A..=0x40 | 0x5B..=0x60 | 0x7B..=0x7E => PS,
        _ => 0,
    }
}

/// The ASCII bytes having one of the `mask` bits as a [`Range`] of letters, or `None` when
/// the mask takes digits, spaces or punctuation too (or no ASCII byte at all).
const fn ascii_members(mask: u8) -> Option<Range> {
    if mask & (N | WS | PS | NL) != 0 {
        None
    } else if mask & L != 0 || mask & (UPPER | LOWER) == UPPER | LOWER {
        Some(ascii::LETTERS)
    } else if mask & LOWER != 0 {
        Some(ascii::SMALL)
    } else if mask & UPPER != 0 {
        Some(ascii::CAPITALS)
    } else {
        None
    }
}

const ASCII: [u8; 128] = {
    let mut t = [0u8; 128];
    let mut i = 0;
    while i < 128 {
        t[i] = ascii_class(i as u8);
        i += 1;
    }
    t
};

/// The two-level class table for all of Unicode.
#[derive(Debug)]
pub(super) struct Table {
    index: Box<[u16]>,
    blocks: Box<[u8]>,
    /// The class bits of every CJK unified ideograph (U+4E00 to U+9FFF) when they are all
    /// the same, else 0: runs of them are scanned without decoding.
    ideograph: u8,
}

/// First and last code points of the CJK unified ideographs block.
const IDEOGRAPHS: (usize, usize) = (0x4E00, 0x9FFF);

static TABLE: LazyLock<Table> = LazyLock::new(Table::build);

/// The process-wide class table, built on first use.
pub(super) fn table() -> &'static Table {
    &TABLE
}

/// The ranges `regex-syntax` gives for a one-class pattern such as `\p{Lu}`.
fn ranges(class: &str) -> Vec<(u32, u32)> {
    use regex_syntax::hir::{Class, HirKind};
    match regex_syntax::Parser::new().parse(class) {
        Ok(hir) => match hir.kind() {
            HirKind::Class(Class::Unicode(c)) => c
                .ranges()
                .iter()
                .map(|r| (u32::from(r.start()), u32::from(r.end())))
                .collect(),
            _ => Vec::new(),
        },
        Err(_) => Vec::new(),
    }
}

/// The class definitions, in terms of `regex-syntax` classes.
pub(super) const DEFINITIONS: [(&str, u8); 8] = [
    (r"\p{L}", L),
    (r"[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]", UPPER),
    (r"[\p{Ll}\p{Lm}\p{Lo}\p{M}]", LOWER),
    (r"\p{M}", M),
    (r"\p{N}", N),
    (r"\s", WS),
    (r"[\p{P}\p{S}]", PS),
    (r"[\r\n]", NL),
];

impl Table {
    fn build() -> Table {
        let mut flat = vec![0u8; 0x11_0000];
        for (class, bit) in DEFINITIONS {
            for (lo, hi) in ranges(class) {
                if let Some(slots) = flat.get_mut(lo as usize..=hi as usize) {
                    slots.iter_mut().for_each(|s| *s |= bit);
                }
            }
        }
        let ideographs = &flat[IDEOGRAPHS.0..=IDEOGRAPHS.1];
        let ideograph = if ideographs.iter().all(|&c| c == ideographs[0]) {
            ideographs[0]
        } else {
            0
        };
        let mut seen: HashMap<&[u8], u16> = HashMap::new();
        let mut index = Vec::with_capacity(flat.len() / BLOCK);
        let mut blocks = Vec::new();
        let mut previous: Option<(&[u8], u16)> = None;
        for chunk in flat.chunks(BLOCK) {
            // Most blocks repeat the one before (the unassigned planes above all), and
            // comparing with it is cheaper than hashing.
            let id = match previous {
                Some((p, id)) if p == chunk => id,
                _ => {
                    let next = u16::try_from(seen.len()).unwrap_or(u16::MAX);
                    *seen.entry(chunk).or_insert_with(|| {
                        blocks.extend_from_slice(chunk);
                        next
                    })
                }
            };
            previous = Some((chunk, id));
            index.push(id);
        }
        Table {
            index: index.into_boxed_slice(),
            blocks: blocks.into_boxed_slice(),
            ideograph,
        }
    }

    /// Class bits of any code point (0 for code points outside Unicode).
    #[inline]
    pub(super) fn class(&self, cp: u32) -> u8 {
        if cp < 0x80 {
            return ASCII[cp as usize];
        }
        let block = self.index.get((cp >> SHIFT) as usize).copied();
        let at = (usize::from(block.unwrap_or(0)) << SHIFT) | (cp as usize & (BLOCK - 1));
        self.blocks.get(at).copied().unwrap_or(0)
    }

    /// Decode the character starting at byte `i` of valid UTF-8 `b`. At (or past) the end,
    /// returns a character of length 0 and class 0.
    #[inline(always)]
    pub(super) fn at(&self, b: &[u8], i: usize) -> Ch {
        let Some(&b0) = b.get(i) else {
            return Ch {
                cp: 0,
                len: 0,
                class: 0,
            };
        };
        if b0 < 0x80 {
            return Ch {
                cp: u32::from(b0),
                len: 1,
                class: ASCII[usize::from(b0)],
            };
        }
        let cont = |k: usize| u32::from(b.get(i + k).copied().unwrap_or(0x80) & 0x3F);
        let (cp, len) = if b0 < 0xE0 {
            ((u32::from(b0 & 0x1F) << 6) | cont(1), 2)
        } else if b0 < 0xF0 {
            ((u32::from(b0 & 0x0F) << 12) | (cont(1) << 6) | cont(2), 3)
        } else {
            (
                (u32::from(b0 & 0x07) << 18) | (cont(1) << 12) | (cont(2) << 6) | cont(3),
                4,
            )
        };
        Ch {
            cp,
            len,
            class: self.class(cp),
        }
    }

    /// The end of the run of characters satisfying `keep`, starting at `i`.
    #[inline(always)]
    pub(super) fn run(&self, b: &[u8], mut i: usize, keep: impl Fn(Ch) -> bool) -> usize {
        loop {
            let c = self.at(b, i);
            if c.len == 0 || !keep(c) {
                return i;
            }
            i += c.len;
        }
    }

    /// The end of the run of characters having one of the `mask` bits, starting at `i`.
    #[inline(always)]
    pub(super) fn run_of(&self, b: &[u8], mut i: usize, mask: u8) -> usize {
        // ASCII letters eight at a time, other ASCII a byte at a time and CJK ideographs three
        // bytes at a time, without decoding.
        if let Some(range) = ascii_members(mask) {
            i = range.run_end(b, i);
        }
        let ideographs = self.ideograph & mask != 0;
        while let Some(&x) = b.get(i) {
            match ASCII.get(usize::from(x)) {
                Some(class) if class & mask != 0 => i += 1,
                Some(_) => return i,
                None if ideographs && is_ideograph(b, i) => i += 3,
                None => {
                    let c = self.at(b, i);
                    if !c.is(mask) {
                        return i;
                    }
                    i += c.len;
                }
            }
        }
        i
    }

    /// The end of the run of CJK ideographs starting at `i`, when they have all the `bits`
    /// (else `i`).
    #[inline(always)]
    pub(super) fn ideographs_end(&self, b: &[u8], mut i: usize, bits: u8) -> usize {
        if bits != 0 && self.ideograph & bits == bits {
            while is_ideograph(b, i) {
                i += 3;
            }
        }
        i
    }

    /// `\p{N}{1,3}` at `i` (the caller checked the first character is a number).
    #[inline]
    pub(super) fn up_to_3_numbers(&self, b: &[u8], mut i: usize) -> usize {
        for _ in 0..3 {
            let c = self.at(b, i);
            if !c.is(N) {
                break;
            }
            i += c.len;
        }
        i
    }

    /// Where the whitespace alternatives end, for a whitespace run starting at `p`.
    ///
    /// `eol_first` selects cl100k's order, where `\s++$` comes before `\s*[\r\n]`; all other
    /// patterns have `\s*[\r\n]+|\s+(?!\S)|\s+`. How each alternative matches, given the
    /// maximal whitespace run `p..q`:
    ///
    /// * `\s++$` / `\s+(?!\S)` at the end of the text: the whole run (`$` is end of text only,
    ///   there is no multi-line flag).
    /// * `\s*[\r\n]+` (or `\s*[\r\n]`): `\s*` first takes the whole run, then gives back one
    ///   character at a time until a `\r` or `\n` follows. So the match ends just after the
    ///   *last* line break of the run; `[\r\n]+` then takes only that one, because whatever
    ///   follows it in the run is not a line break.
    /// * `\s+(?!\S)` elsewhere: `\s+` takes the whole run; the next character is then not
    ///   whitespace, so the look-ahead fails and `\s+` gives back one character, after which
    ///   the look-ahead sees whitespace and succeeds. The run minus its last character, which
    ///   is left to prefix the next word (" hello"), provided that leaves at least one.
    /// * `\s+` / `\s`: a run of one character.
    #[inline]
    pub(super) fn whitespace_end(&self, b: &[u8], p: usize, eol_first: bool) -> usize {
        let mut i = p;
        let mut last_start = p;
        let mut after_break = 0;
        loop {
            let c = self.at(b, i);
            if !c.is(WS) {
                break;
            }
            last_start = i;
            i += c.len;
            if c.is(NL) {
                after_break = i;
            }
        }
        let at_end = i >= b.len();
        if eol_first && at_end {
            return i;
        }
        if after_break != 0 {
            after_break
        } else if at_end || last_start == p {
            i
        } else {
            last_start
        }
    }

    /// Length of a contraction `'s|'t|'re|'ve|'m|'ll|'d`, matched case-insensitively, at `i`;
    /// 0 if there is none.
    ///
    /// `(?i)` in `regex-syntax` uses Unicode *simple case folding*, not ASCII case folding:
    /// `s` also matches `ſ` (U+017F LATIN SMALL LETTER LONG S), so `'ſ` is a contraction.
    /// (The well-known other pitfall, `k` matching `K` U+212A KELVIN SIGN, cannot arise since
    /// no contraction has a `k`.) The letters `t r e v m l d` have no non-ASCII fold partner;
    /// a unit test checks these fold sets against `regex-syntax`.
    #[inline]
    pub(super) fn contraction(&self, b: &[u8], i: usize) -> usize {
        if b.get(i) != Some(&b'\'') {
            return 0;
        }
        let c1 = self.at(b, i + 1);
        let lower = |cp: u32| match cp {
            0x41..=0x5A => cp | 0x20,
            0x17F => u32::from(b's'),
            _ => cp,
        };
        match char::from_u32(lower(c1.cp)) {
            Some('s' | 't' | 'm' | 'd') => 1 + c1.len,
            Some(first @ ('r' | 'v' | 'l')) => {
                let c2 = self.at(b, i + 1 + c1.len);
                let second = if first == 'l' { 'l' } else { 'e' };
                if char::from_u32(lower(c2.cp)) == Some(second) {
                    1 + c1.len + c2.len
                } else {
                    0
                }
            }
            _ => 0,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Where a mask's ASCII bytes are given as a range, the range holds exactly them.
    #[test]
    fn ascii_ranges_hold_the_members_of_their_mask() {
        let mut ranges = 0;
        for mask in 0..=255u8 {
            if let Some(range) = ascii_members(mask) {
                ranges += 1;
                for x in 0..=255u8 {
                    let member = x.is_ascii() && ASCII[usize::from(x)] & mask != 0;
                    assert_eq!(range.has(x), member, "mask {mask:#b}, byte {x:#x}");
                }
            }
        }
        assert_eq!(ranges, 14, "every mask of letter classes but `M` alone");
    }

    /// The ideograph fast paths are on, and agree with the table on every ideograph and on
    /// the code points around the block.
    #[test]
    fn ideographs_are_scanned_as_one_class() {
        let t = table();
        assert_eq!(t.ideograph, L | UPPER | LOWER, "CJK ideographs are Lo");
        for cp in 0x4D00..=0xA0FF {
            let Some(c) = char::from_u32(cp) else {
                continue;
            };
            let mut buf = [0u8; 4];
            let b = c.encode_utf8(&mut buf).as_bytes();
            assert_eq!(
                is_ideograph(b, 0),
                (0x4E00..=0x9FFF).contains(&cp),
                "{cp:X}"
            );
            if is_ideograph(b, 0) {
                assert_eq!(t.class(cp), t.ideograph, "{cp:X}");
            }
        }
    }

    #[test]
    fn ascii_table_agrees_with_unicode_table() {
        let t = Table::build();
        for cp in 0..128u32 {
            let mut bits = 0;
            for (class, bit) in DEFINITIONS {
                if ranges(class).iter().any(|&(lo, hi)| lo <= cp && cp <= hi) {
                    bits |= bit;
                }
            }
            assert_eq!(t.class(cp), bits, "U+{cp:04X}");
        }
    }

    /// `cargo test --release --lib table_build_time -- --ignored --nocapture`
    #[test]
    #[ignore = "timing, run in release"]
    fn table_build_time() {
        let start = std::time::Instant::now();
        let t = Table::build();
        let size = t.index.len() * 2 + t.blocks.len();
        println!("table built in {:?}, {size} bytes", start.elapsed());
    }

    #[test]
    fn every_definition_parses() {
        for (class, _) in DEFINITIONS {
            assert!(!ranges(class).is_empty(), "{class}");
        }
    }

    #[test]
    fn fold_sets_match_regex_syntax() {
        for letter in ["s", "t", "r", "e", "v", "m", "l", "d"] {
            let folded = ranges(&format!("(?i){letter}"));
            let mut chars: Vec<char> = folded
                .iter()
                .flat_map(|&(lo, hi)| (lo..=hi).filter_map(char::from_u32))
                .collect();
            chars.sort_unstable();
            let upper = letter.to_ascii_uppercase();
            let mut expected: Vec<char> = format!("{upper}{letter}").chars().collect();
            if letter == "s" {
                expected.push('ſ');
            }
            assert_eq!(chars, expected, "(?i){letter}");
        }
    }

    #[test]
    fn contractions() {
        let t = table();
        for (text, len) in [
            ("'s", 2),
            ("'S", 2),
            ("'ſ", 3),
            ("'ll", 3),
            ("'lL", 3),
            ("'l", 0),
            ("'re", 3),
            ("'vE", 3),
            ("'x", 0),
            ("'", 0),
            ("s", 0),
        ] {
            assert_eq!(t.contraction(text.as_bytes(), 0), len, "{text:?}");
        }
    }

    #[test]
    fn decodes_every_width() {
        let t = table();
        for s in ["a", "é", "中", "😀"] {
            let c = t.at(s.as_bytes(), 0);
            assert_eq!(char::from_u32(c.cp), s.chars().next());
            assert_eq!(c.len, s.len());
        }
        assert_eq!(t.at(b"", 0).len, 0);
    }
}
