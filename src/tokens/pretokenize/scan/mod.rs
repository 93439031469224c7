//! Pre-tokenizer scanners: split text into the pieces a BPE tokenizer encodes one by one.
//!
//! Every BPE tokenizer we support first cuts the text with a regular expression. The reference
//! implementations run that regex on a backtracking engine (fancy-regex, PCRE, Oniguruma): it
//! is slow, and on long whitespace runs it can even overflow the stack. The scanners here are
//! hand-written, never backtrack, run in time linear in the text and allocate nothing, yet give
//! *exactly* the pieces of the reference regex on every input (the differential tests in
//! `tests/scan_differential.rs` check that against `fancy-regex`).
//!
//! ```
//! use chatctx::tokens::scan::Pattern;
//!
//! let pieces: Vec<&str> = Pattern::O200k.pieces("Hello, world!\n").collect();
//! assert_eq!(pieces, ["Hello", ",", " world", "!\n"]);
//!
//! let mut n = 0;
//! chatctx::tokens::scan::for_each_piece(Pattern::Cl100k, "I'm 12345 km away", |_| n += 1);
//! assert_eq!(n, 7); // "I", "'m", " ", "123", "45", " km", " away"
//! ```
//!
//! One file per pattern family, each explaining the regex semantics it reproduces:
//! `cl100k` (GPT-4), `o200k` (GPT-4o and later), `qwen` (Qwen2.5 and Qwen3.5) and `deepseek`
//! (DeepSeek-V3). `class` holds the Unicode character classes they share.

mod ascii;
mod cl100k;
mod class;
mod deepseek;
mod o200k;
mod qwen;

use std::iter::FusedIterator;

pub use super::patterns::{
    Pattern, CL100K_REGEX, DEEPSEEK_V3_REGEXES, O200K_REGEX, QWEN25_REGEX, QWEN35_REGEX,
};

impl Pattern {
    /// The pieces of `text`, in order; they concatenate back to `text`.
    ///
    /// ```
    /// use chatctx::tokens::scan::Pattern;
    ///
    /// let pieces: Vec<&str> = Pattern::DeepseekV3.pieces("price: 12345元").collect();
    /// assert_eq!(pieces, ["price", ":", " ", "123", "45", "元"]);
    /// ```
    pub fn pieces(self, text: &str) -> Pieces<'_> {
        Pieces::new(self, text)
    }
}

/// Call `f` on every piece of `text`, in order.
///
/// ```
/// use chatctx::tokens::scan::{for_each_piece, Pattern};
///
/// let mut longest = 0;
/// for_each_piece(Pattern::Qwen35, "naïve café", |piece| longest = longest.max(piece.len()));
/// assert_eq!(longest, 6); // " café"
/// ```
pub fn for_each_piece(pattern: Pattern, text: &str, mut f: impl FnMut(&str)) {
    for piece in Pieces::new(pattern, text) {
        f(piece);
    }
}

/// Calls `f` with the bytes of every piece of `text`, and its [`head_word`], in order, until
/// it returns `false`.
///
/// The same pieces as [`Pieces`], with one loop per pattern, so that the scanner and `f`
/// inline into it: the counting hot path, which needs bytes, not `str` slices.
#[inline]
pub(crate) fn each_piece_bytes(
    pattern: Pattern,
    text: &str,
    mut f: impl FnMut(&[u8], u64) -> bool,
) {
    let b = text.as_bytes();
    let t = class::table();
    match pattern {
        Pattern::Cl100k => each_end(t, b, |p| cl100k::piece_end(t, b, p), f),
        Pattern::O200k => each_end(t, b, |p| o200k::piece_end(t, b, p), f),
        Pattern::Qwen25 => each_end(t, b, |p| qwen::piece_end::<false>(t, b, p), f),
        Pattern::Qwen35 => each_end(t, b, |p| qwen::piece_end::<true>(t, b, p), f),
        Pattern::DeepseekV3 => {
            let mut p = 0;
            for piece in Pieces::new(pattern, text) {
                if !f(piece.as_bytes(), head_word(b, p)) {
                    return;
                }
                p += piece.len();
            }
        }
    }
}

/// The loop of [`each_piece_bytes`] for a scanner `end_at` (the end of the piece starting at
/// a byte offset), with the progress guard of [`Pieces::next`].
#[inline(always)]
fn each_end(
    t: &class::Table,
    b: &[u8],
    end_at: impl Fn(usize) -> usize,
    mut f: impl FnMut(&[u8], u64) -> bool,
) {
    let mut p = 0;
    while p < b.len() {
        let end = end_at(p);
        let end = if end > p { end } else { p + t.at(b, p).len };
        let Some(piece) = b.get(p..end) else {
            return;
        };
        if !f(piece, head_word(b, p)) {
            return;
        }
        p = end;
    }
}

/// The eight bytes of `b` from `p` as a little-endian word, zero past the end of `b`: a piece
/// of up to eight bytes starting at `p` is this word with its high bytes cleared, taken in one
/// load and no branch on its length.
///
/// Near the end of `b` (every piece of a short message), the word is the last eight bytes
/// shifted down, or for a text shorter than eight bytes two overlapping loads: no loop over
/// the bytes left.
#[inline(always)]
pub(crate) fn head_word(b: &[u8], p: usize) -> u64 {
    if let Some(w) = b.get(p..p + 8).and_then(|w| <[u8; 8]>::try_from(w).ok()) {
        return u64::from_le_bytes(w);
    }
    let n = b.len();
    if p >= n {
        return 0;
    }
    if let Some(last) = n
        .checked_sub(8)
        .and_then(|from| b.get(from..))
        .and_then(|w| <[u8; 8]>::try_from(w).ok())
    {
        // `p` is among the last seven bytes: drop the `p - (n - 8)` bytes before it.
        return u64::from_le_bytes(last) >> (8 * (p + 8 - n));
    }
    let rest = b.get(p..).unwrap_or_default();
    let load = |at: usize, width: usize| {
        rest.get(at..at + width).map_or(0, |w| {
            w.iter()
                .rev()
                .fold(0u64, |acc, &byte| (acc << 8) | u64::from(byte))
        })
    };
    let k = rest.len();
    if k >= 4 {
        load(0, 4) | (load(k - 4, 4) << (8 * (k - 4)))
    } else if k >= 2 {
        load(0, 2) | (load(k - 2, 2) << (8 * (k - 2)))
    } else {
        load(0, k)
    }
}

/// Iterator over the pieces of a text, created by [`Pattern::pieces`].
///
/// Never allocates; each piece is a non-empty slice of the text.
#[derive(Debug, Clone)]
pub struct Pieces<'a> {
    text: &'a str,
    pattern: Pattern,
    table: &'static class::Table,
    pos: usize,
    /// End of the current DeepSeek segment (steps 1 and 2 of its split sequence).
    segment_end: usize,
}

impl<'a> Pieces<'a> {
    /// The pieces of `text` under `pattern`; same as [`Pattern::pieces`].
    pub fn new(pattern: Pattern, text: &'a str) -> Self {
        Pieces {
            text,
            pattern,
            table: class::table(),
            pos: 0,
            segment_end: 0,
        }
    }

    /// The part of the text not yet returned.
    ///
    /// ```
    /// use chatctx::tokens::scan::Pattern;
    ///
    /// let mut pieces = Pattern::Cl100k.pieces("Hello world");
    /// pieces.next();
    /// assert_eq!(pieces.rest(), " world");
    /// ```
    pub fn rest(&self) -> &'a str {
        self.text.get(self.pos..).unwrap_or_default()
    }
}

impl<'a> Iterator for Pieces<'a> {
    type Item = &'a str;

    #[inline]
    fn next(&mut self) -> Option<&'a str> {
        let b = self.text.as_bytes();
        let p = self.pos;
        if p >= b.len() {
            return None;
        }
        let t = self.table;
        let end = match self.pattern {
            Pattern::Cl100k => cl100k::piece_end(t, b, p),
            Pattern::O200k => o200k::piece_end(t, b, p),
            Pattern::Qwen25 => qwen::piece_end::<false>(t, b, p),
            Pattern::Qwen35 => qwen::piece_end::<true>(t, b, p),
            Pattern::DeepseekV3 => {
                if p >= self.segment_end {
                    self.segment_end = deepseek::segment_end(t, b, p);
                }
                let segment = b.get(..self.segment_end).unwrap_or(b);
                deepseek::piece_end(t, segment, p)
            }
        };
        // Every scanner makes progress by construction; this guard only keeps a future bug
        // from turning into an endless loop.
        let end = if end > p { end } else { p + t.at(b, p).len };
        let piece = self.text.get(p..end)?;
        self.pos = end;
        Some(piece)
    }
}

impl FusedIterator for Pieces<'_> {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pieces_tile_the_text() {
        let text = "Hello, 世界! 12345 e\u{301}\u{200d}  \r\n\t ſ'S 'll\u{0}";
        for pattern in Pattern::ALL {
            let joined: String = pattern.pieces(text).collect();
            assert_eq!(joined, text, "{pattern:?}");
            assert!(pattern.pieces(text).all(|p| !p.is_empty()));
        }
    }

    /// The head word is the next eight bytes, zero-padded, wherever it starts.
    #[test]
    fn head_words_are_the_next_bytes_zero_padded() {
        let text: Vec<u8> = (1..=20u8).map(|i| i.wrapping_mul(37)).collect();
        for n in 0..=text.len() {
            let b = &text[..n];
            for p in 0..=n + 1 {
                let mut w = [0u8; 8];
                for (slot, &x) in w.iter_mut().zip(b.get(p..).unwrap_or_default()) {
                    *slot = x;
                }
                assert_eq!(head_word(b, p), u64::from_le_bytes(w), "length {n}, at {p}");
            }
        }
    }

    #[test]
    fn empty_text_has_no_pieces() {
        for pattern in Pattern::ALL {
            assert_eq!(pattern.pieces("").next(), None);
        }
    }
}
