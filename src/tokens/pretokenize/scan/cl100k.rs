//! cl100k_base (GPT-4, GPT-3.5-turbo, text-embedding-3).
//!
//! The reference, exactly as tiktoken-rs 0.12.1 (`tiktoken_ext/openai_public.rs`) and current
//! tiktoken write it, with possessive quantifiers:
//!
//! ```text
//! '(?i:[sdmt]|ll|ve|re)|[^\r\n\p{L}\p{N}]?+\p{L}++|\p{N}{1,3}+| ?[^\s\p{L}\p{N}]++[\r\n]*+|\s++$|\s*[\r\n]|\s+(?!\S)|\s
//! ```
//!
//! Every character starts a match (a letter, a number, whitespace, or anything else, which the
//! punctuation alternative takes), so the pieces tile the text and nothing is dropped. At each
//! position the first alternative that matches wins (leftmost-first, not longest), which is
//! what the code below tests in order.
//!
//! The possessive forms change nothing for the first four alternatives: the character after a
//! maximal run can never continue the match, so there is nothing a backtracking engine could
//! gain by giving characters back. They matter for whitespace only through `\s++$`, which puts
//! "whitespace up to the end of the text" ahead of `\s*[\r\n]`: a trailing `"\n  "` is one
//! piece here, while o200k splits it after the line break.

use super::ascii;
use super::class::{Table, L, N, NL};

/// The end of the piece starting at `p` (`p < b.len()`): plain ASCII words inline, anything
/// else out of line.
#[inline(always)]
pub(super) fn piece_end(t: &Table, b: &[u8], p: usize) -> usize {
    match ascii::prefixed_word_end(b, p) {
        Some(end) => end,
        None => any_piece_end(t, b, p),
    }
}

/// [`piece_end`] for any piece.
#[inline(never)]
fn any_piece_end(t: &Table, b: &[u8], p: usize) -> usize {
    let c0 = t.at(b, p);
    // '(?i:[sdmt]|ll|ve|re)
    let n = t.contraction(b, p);
    if n != 0 {
        return p + n;
    }
    // [^\r\n\p{L}\p{N}]?+\p{L}++ : the optional prefix is never a letter, so "take it if a
    // letter follows it" is the whole story.
    if c0.is(L) {
        return t.run_of(b, p + c0.len, L);
    }
    let c1 = t.at(b, p + c0.len);
    if c0.is_prefix() && c1.is(L) {
        return t.run_of(b, p + c0.len + c1.len, L);
    }
    // \p{N}{1,3}+
    if c0.is(N) {
        return t.up_to_3_numbers(b, p);
    }
    // ` ?[^\s\p{L}\p{N}]++[\r\n]*+`: ` ?` is greedy but not possessive; it gives the space back
    // when no punctuation follows, and then the space itself (whitespace) cannot start the run.
    let start = if c0.cp == u32::from(b' ') && c1.is_punct() {
        p + 1
    } else if c0.is_punct() {
        p
    } else {
        return t.whitespace_end(b, p, true);
    };
    let end = t.run(b, start, |c| c.is_punct());
    t.run_of(b, end, NL)
}

#[cfg(test)]
mod tests {
    use super::super::{Pattern, Pieces};

    fn pieces(text: &str) -> Vec<&str> {
        Pieces::new(Pattern::Cl100k, text).collect()
    }

    #[test]
    fn pinned() {
        let cases: &[(&str, &[&str])] = &[
            ("Hello world", &["Hello", " world"]),
            ("I'm here", &["I", "'m", " here"]),
            ("'S'LL'ſ", &["'S", "'LL", "'ſ"]),
            ("12345", &["123", "45"]),
            ("a  b", &["a", " ", " b"]),
            ("a\n  ", &["a", "\n  "]),
            ("a\n  b", &["a", "\n", " ", " b"]),
            (" !!\n\nx", &[" !!\n\n", "x"]),
            ("\t\u{a0}x", &["\t", "\u{a0}x"]),
        ];
        for (text, expected) in cases {
            assert_eq!(pieces(text), *expected, "{text:?}");
        }
    }
}
