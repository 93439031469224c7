//! o200k_base (GPT-4o, GPT-4.1, o-series, GPT-5).
//!
//! The reference, `O200K_BASE_PAT_STR` of tiktoken-rs 0.12.1 (`tiktoken_ext/openai_public.rs`):
//!
//! ```text
//! [^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+(?i:'s|'t|'re|'ve|'m|'ll|'d)?
//! |[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*(?i:'s|'t|'re|'ve|'m|'ll|'d)?
//! |\p{N}{1,3}
//! | ?[^\s\p{L}\p{N}]+[\r\n/]*
//! |\s*[\r\n]+
//! |\s+(?!\S)
//! |\s+
//! ```
//!
//! Write `U` for the "upper" class `[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]`, `W` for the "lower" class
//! `[\p{Ll}\p{Lm}\p{Lo}\p{M}]`, and `B = U ∩ W` = `Lm | Lo | M`. The first two alternatives
//! are `X? U* W+ C?` and `X? U+ W* C?` with `X = [^\r\n\p{L}\p{N}]` and `C` the contraction.
//! They are not possessive, and the backtracking is subtle:
//!
//! * `X` contains the marks (`\p{M}` is neither `\p{L}` nor `\p{N}`), and marks are also in
//!   `U` and `W`. So a leading mark is first tried as the prefix and, if that fails, as the
//!   first letter.
//! * `U* W+`: `U*` takes the maximal `U` run `s..u`. If the character at `u` is in `W` (it can
//!   only be `Ll`), `W+` takes the maximal `W` run from there. Otherwise `U*` gives characters
//!   back one at a time until `W+` can start on a `B` character inside the run: the match ends
//!   just after the *rightmost* `B` of the run, whatever `Lu`/`Lt` follow it are left over.
//!   With no `B` in the run, the alternative fails ("HELLO" is left to the second one).
//! * `C?` is greedy and last, so it is taken whenever a contraction follows.

use super::ascii::capitals_then_small;
use super::class::{Ch, Table, LOWER, N, NL, UPPER};

/// `U* W+` starting at `s`: the end of the match, if any.
#[inline]
fn upper_then_lower(t: &Table, b: &[u8], s: usize) -> Option<usize> {
    // ASCII fast path: `[A-Z]*[a-z]+`, handing over at the first non-ASCII byte. ASCII
    // capitals are not in `W`, so an all-ASCII `U` run has no `B` to end on.
    let (u, e) = capitals_then_small(b, s);
    match b.get(u) {
        Some(x) if !x.is_ascii() => upper_then_lower_general(t, b, s),
        Some(x) if x.is_ascii_lowercase() => Some(match b.get(e) {
            Some(x) if !x.is_ascii() => t.run_of(b, e, LOWER),
            _ => e,
        }),
        _ => None,
    }
}

/// [`upper_then_lower`] for any characters.
fn upper_then_lower_general(t: &Table, b: &[u8], s: usize) -> Option<usize> {
    let mut u = s;
    let mut after_both = None;
    loop {
        // CJK ideographs are `Lo`, in both classes.
        let ideographs = t.ideographs_end(b, u, UPPER | LOWER);
        if ideographs > u {
            u = ideographs;
            after_both = Some(u);
        }
        let c = t.at(b, u);
        if !c.is(UPPER) {
            break;
        }
        u += c.len;
        if c.is(LOWER) {
            after_both = Some(u);
        }
    }
    if t.at(b, u).is(LOWER) {
        Some(t.run_of(b, u, LOWER))
    } else {
        after_both
    }
}

/// `U+ W*` starting at `s`: the end of the match, if any.
#[inline]
fn upper_then_any_lower(t: &Table, b: &[u8], s: usize) -> Option<usize> {
    let u = t.run_of(b, s, UPPER);
    (u > s).then(|| t.run_of(b, u, LOWER))
}

/// The two letter alternatives, each tried with the prefix first and then without.
#[inline]
fn letters(t: &Table, b: &[u8], p: usize, c0: Ch) -> Option<usize> {
    let prefixed = c0.is_prefix().then_some(p + c0.len);
    let word = prefixed
        .and_then(|s| upper_then_lower(t, b, s))
        .or_else(|| upper_then_lower(t, b, p))
        .or_else(|| prefixed.and_then(|s| upper_then_any_lower(t, b, s)))
        .or_else(|| upper_then_any_lower(t, b, p))?;
    Some(word + t.contraction(b, word))
}

/// The common case without decoding: an ASCII word `[A-Z]*[a-z]*` (at least one letter), with
/// an optional ASCII prefix (`[^\r\n\p{L}\p{N}]`), followed by an ASCII byte (so no letter
/// can extend it) or the end. For such a word both letter alternatives end after the
/// lower-case run, and then take the contraction that follows it, if any ("I'm", "DON'T":
/// the contraction `C?` is greedy and last). `None` sends anything else to the general scan.
#[inline(always)]
fn ascii_word_end(t: &Table, b: &[u8], p: usize) -> Option<usize> {
    let &x = b.get(p)?;
    let s = if x.is_ascii_alphabetic() {
        p
    } else if x.is_ascii() && !x.is_ascii_digit() && x != b'\r' && x != b'\n' {
        p + 1
    } else {
        return None;
    };
    let e = capitals_then_small(b, s).1;
    match b.get(e) {
        _ if e == s => None,
        None => Some(e),
        Some(b'\'') => Some(e + t.contraction(b, e)),
        Some(&y) if y.is_ascii() => Some(e),
        Some(_) => None,
    }
}

/// The end of the piece starting at `p` (`p < b.len()`): plain ASCII words inline, anything
/// else out of line.
#[inline(always)]
pub(super) fn piece_end(t: &Table, b: &[u8], p: usize) -> usize {
    match ascii_word_end(t, b, p) {
        Some(end) => end,
        None => any_piece_end(t, b, p),
    }
}

/// [`piece_end`] for any piece.
#[inline(never)]
fn any_piece_end(t: &Table, b: &[u8], p: usize) -> usize {
    let c0 = t.at(b, p);
    // The letter alternatives start on a letter or mark, or on a prefix before one: a
    // punctuation piece ("," "...") is not tried four times as a word first. The character
    // after `c0` is decoded only when `c0` is not a letter (a Chinese clause needs no second
    // decode here).
    if c0.is(UPPER | LOWER) || (c0.is_prefix() && t.at(b, p + c0.len).is(UPPER | LOWER)) {
        if let Some(end) = letters(t, b, p, c0) {
            return end;
        }
    }
    // \p{N}{1,3}
    if c0.is(N) {
        return t.up_to_3_numbers(b, p);
    }
    // ` ?[^\s\p{L}\p{N}]+[\r\n/]*`. The punctuation run already swallows `/`; the trailing class
    // adds runs like "\n/\n" after it.
    let c1 = t.at(b, p + c0.len);
    let start = if c0.cp == u32::from(b' ') && c1.is_punct() {
        p + 1
    } else if c0.is_punct() {
        p
    } else {
        return t.whitespace_end(b, p, false);
    };
    let end = t.run(b, start, |c| c.is_punct());
    t.run(b, end, |c| c.is(NL) || c.cp == u32::from(b'/'))
}

#[cfg(test)]
mod tests {
    use super::super::{Pattern, Pieces};

    fn pieces(text: &str) -> Vec<&str> {
        Pieces::new(Pattern::O200k, text).collect()
    }

    #[test]
    fn pinned() {
        let cases: &[(&str, &[&str])] = &[
            ("Hello world", &["Hello", " world"]),
            ("HELLO world", &["HELLO", " world"]),
            ("HELLOworld", &["HELLOworld"]),
            ("I'm here", &["I'm", " here"]),
            ("DON'T", &["DON'T"]),
            ("1234567", &["123", "456", "7"]),
            ("a\n  ", &["a", "\n", "  "]),
            ("!!\n/\nx", &["!!\n/\n", "x"]),
            // "ǅ" is Lt (upper only); "ʰ" is Lm (both classes): the match ends after it.
            ("Aʰǅ", &["Aʰ", "ǅ"]),
            // A mark is both a prefix and a "lower" letter; `U* W+` ends after the last one.
            ("\u{301}\u{301}A", &["\u{301}\u{301}", "A"]),
            ("\u{301}A!", &["\u{301}", "A", "!"]),
        ];
        for (text, expected) in cases {
            assert_eq!(pieces(text), *expected, "{text:?}");
        }
    }
}
