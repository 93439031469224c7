//! Runs of ASCII bytes in a range, eight bytes at a time.
//!
//! A word's letters are the longest run the scanners walk. Walking it a byte at a time costs a
//! branch per byte and a mispredicted one at the end of every word; testing eight bytes at
//! once with word arithmetic ("SWAR") leaves one branch per eight bytes, and the end of most
//! words is found by one `trailing_zeros`.

/// The bytes of a run: ASCII bytes `lo..=hi`, after OR-ing `fold` into each byte (`0x20`
/// folds the capitals onto the small letters).
#[derive(Debug, Clone, Copy)]
pub(super) struct Range {
    fold: u8,
    lo: u8,
    hi: u8,
}

/// `[A-Za-z]`.
pub(super) const LETTERS: Range = Range {
    fold: 0x20,
    lo: b'a',
    hi: b'z',
};
/// `[a-z]`.
pub(super) const SMALL: Range = Range {
    fold: 0,
    lo: b'a',
    hi: b'z',
};
/// `[A-Z]`.
pub(super) const CAPITALS: Range = Range {
    fold: 0,
    lo: b'A',
    hi: b'Z',
};

/// The byte `x` repeated in the eight bytes of a word.
const fn splat(x: u8) -> u64 {
    u64::from_ne_bytes([x; 8])
}

const HIGH: u64 = splat(0x80);

impl Range {
    /// Whether the byte `x` is in the range.
    #[inline(always)]
    pub(super) fn has(self, x: u8) -> bool {
        x.is_ascii() && (self.lo..=self.hi).contains(&(x | self.fold))
    }

    /// The high bit of each byte of the little-endian word `w` that is *not* in the range.
    ///
    /// With `a` a byte below 0x80, `a + (0x80 - lo)` has its high bit set exactly when
    /// `a >= lo`, and `a + (0x7F - hi)` exactly when `a > hi`; neither sum carries into the
    /// next byte. Bytes of 0x80 and above are masked to seven bits first and then ruled out by
    /// their own high bit.
    #[inline(always)]
    fn outside(self, w: u64) -> u64 {
        let a = (w | splat(self.fold)) & !HIGH;
        let at_least_lo = a + splat(0x80 - self.lo);
        let above_hi = a + splat(0x7F - self.hi);
        !(at_least_lo & !above_hi & !w) & HIGH
    }

    /// The end of the run of bytes in the range starting at `i` of `b`.
    #[inline(always)]
    pub(super) fn run_end(self, b: &[u8], mut i: usize) -> usize {
        while let Some(w) = b.get(i..i + 8).and_then(|w| <[u8; 8]>::try_from(w).ok()) {
            let out = self.outside(u64::from_le_bytes(w));
            if out != 0 {
                return i + (out.trailing_zeros() / 8) as usize;
            }
            i += 8;
        }
        while b.get(i).is_some_and(|&x| self.has(x)) {
            i += 1;
        }
        i
    }
}

/// `[A-Z]*[a-z]*` from `s` in `b`: where the capitals end, and where the small letters after
/// them end. Both come from one eight-byte load when the small letters end within it (most
/// words): two runs one after the other would wait on two loads.
#[inline(always)]
pub(super) fn capitals_then_small(b: &[u8], s: usize) -> (usize, usize) {
    if let Some(w) = b.get(s..s + 8).and_then(|w| <[u8; 8]>::try_from(w).ok()) {
        let w = u64::from_le_bytes(w);
        // The bit index of the first byte that is not a capital, rounded down to its byte.
        let u = CAPITALS.outside(w).trailing_zeros() & !7;
        // The bytes from there on that are not small letters (none when all eight are
        // capitals: the shift is out of range).
        let after = SMALL
            .outside(w)
            .checked_shr(u)
            .and_then(|x| x.checked_shl(u))
            .unwrap_or(0);
        if after != 0 {
            return (
                s + u as usize / 8,
                s + (after.trailing_zeros() / 8) as usize,
            );
        }
    }
    let u = CAPITALS.run_end(b, s);
    (u, SMALL.run_end(b, u))
}

/// The end of the piece starting at `p` when it is an ASCII word with at most one ASCII
/// prefix byte, followed by ASCII or by the end of the text: the letter alternative
/// `[^\r\n\p{L}\p{N}]?\p{L}+` of cl100k and Qwen (and Qwen3.5's `[\p{L}\p{M}]+`), which no
/// other alternative before it can match there. `None` sends everything else to the full
/// scanner: an apostrophe (it may start a contraction), a prefix not followed by a letter, and
/// a word followed by a byte of a multi-byte character (a letter or mark that may extend it).
#[inline(always)]
pub(super) fn prefixed_word_end(b: &[u8], p: usize) -> Option<usize> {
    let &x = b.get(p)?;
    let start = if LETTERS.has(x) {
        p
    } else if is_prefix(x) && b.get(p + 1).is_some_and(|&y| LETTERS.has(y)) {
        p + 1
    } else {
        return None;
    };
    let end = LETTERS.run_end(b, start + 1);
    match b.get(end) {
        Some(y) if !y.is_ascii() => None,
        _ => Some(end),
    }
}

/// An ASCII byte of `[^\r\n\p{L}\p{N}]` other than the apostrophe.
#[inline(always)]
fn is_prefix(x: u8) -> bool {
    x.is_ascii() && !x.is_ascii_alphanumeric() && !matches!(x, b'\r' | b'\n' | b'\'')
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every byte value, at every offset of a word and near the end of the text, ends or
    /// continues a run exactly as the byte-by-byte test says.
    #[test]
    fn runs_agree_with_the_byte_test() {
        for range in [LETTERS, SMALL, CAPITALS] {
            let members: Vec<u8> = (0..=255u8).filter(|&x| range.has(x)).collect();
            for stop in 0..=255u8 {
                for len in 0..20 {
                    let b: Vec<u8> = (0..len)
                        .map(|k| members[k * 7 % members.len()])
                        .chain([stop, b'a', b'A'])
                        .collect();
                    let expected = b.iter().position(|&x| !range.has(x)).unwrap_or(b.len());
                    assert_eq!(range.run_end(&b, 0), expected, "{range:?} {len} {stop:#x}");
                    let cut = &b[..len];
                    assert_eq!(range.run_end(cut, 0), len, "{range:?} {len} at the end");
                }
            }
        }
    }
}
