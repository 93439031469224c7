//! Pre-tokenization: how text is cut into pieces before BPE.
//!
//! - `patterns.rs`: [`Pattern`], the families of split rules, and the one table of their
//!   reference regexes;
//! - `scan/`: the hand-written linear-time scanners that reproduce those regexes exactly
//!   (public as `chatctx::tokens::scan`);
//! - `split_regex.rs`: any other pattern, run by `fancy-regex`;
//! - here, [`PreTokenizer`]: a small closed enum choosing between them. The built-in
//!   vocabularies, and user files whose patterns equal a built-in one, use the scanners.

mod patterns;
pub mod scan;
mod split_regex;

use patterns::Pattern;
pub(crate) use patterns::GPT2;
use scan::{each_piece_bytes, head_word};
use split_regex::SplitRegex;

/// Cuts text into the pieces BPE works on.
#[derive(Debug, Clone)]
pub(crate) enum PreTokenizer {
    /// A hand-written scanner reproducing a known pattern exactly.
    Scan(Pattern),
    /// One pattern; unmatched text is dropped (tiktoken).
    Regex(SplitRegex),
    /// Successive `Isolated` splits (Hugging Face `Sequence` of `Split`): every piece of one
    /// split is cut again by the next. An empty sequence yields the whole text as one piece.
    Sequence(Vec<SplitRegex>),
}

impl PreTokenizer {
    /// The pre-tokenizer for a tiktoken-style `pattern`: its scanner when the pattern is one
    /// the scanners reproduce, else the compiled regex.
    pub(crate) fn tiktoken(pattern: &str) -> Result<Self, String> {
        let known = Pattern::ALL
            .into_iter()
            .filter(|p| *p != Pattern::DeepseekV3)
            .find(|p| p.regexes() == [pattern]);
        match known {
            Some(p) => Ok(PreTokenizer::Scan(p)),
            None => Ok(PreTokenizer::Regex(SplitRegex::new(pattern, false)?)),
        }
    }

    /// The pre-tokenizer for a sequence of `Isolated` split patterns: the DeepSeek-V3 scanner
    /// when the sequence is exactly DeepSeek-V3's, else the compiled regexes.
    pub(crate) fn sequence(patterns: &[String]) -> Result<Self, String> {
        let is = |known: &[&str]| {
            known
                .iter()
                .copied()
                .eq(patterns.iter().map(String::as_str))
        };
        if is(Pattern::DeepseekV3.regexes()) {
            return Ok(PreTokenizer::Scan(Pattern::DeepseekV3));
        }
        let steps = patterns
            .iter()
            .map(|p| SplitRegex::new(p, true))
            .collect::<Result<_, _>>()?;
        Ok(PreTokenizer::Sequence(steps))
    }

    /// Calls `f` with the bytes of each piece of `text` and its head (its first eight bytes
    /// as a little-endian word, followed by whatever comes after the piece: see
    /// `scan::head_word`), in order; stops early when `f` returns `false`.
    #[inline]
    pub(crate) fn for_each_piece(&self, text: &str, mut f: impl FnMut(&[u8], u64) -> bool) {
        let mut with_head = |piece: &str| f(piece.as_bytes(), head_word(piece.as_bytes(), 0));
        match self {
            PreTokenizer::Scan(p) => each_piece_bytes(*p, text, f),
            PreTokenizer::Regex(re) => {
                re.for_each_piece(text, &mut with_head);
            }
            PreTokenizer::Sequence(steps) => {
                split_all(steps, text, &mut with_head);
            }
        }
    }
}

/// Returns `false` when `f` asked to stop.
fn split_all(steps: &[SplitRegex], text: &str, f: &mut dyn FnMut(&str) -> bool) -> bool {
    match steps.split_first() {
        None => f(text),
        Some((first, rest)) => first.for_each_piece(text, &mut |piece| split_all(rest, piece, f)),
    }
}
