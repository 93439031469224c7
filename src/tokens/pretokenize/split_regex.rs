//! Pre-tokenization with the reference regular expressions, run by `fancy-regex`.
//!
//! This is the exact-by-construction splitter: the patterns are the ones tiktoken and Hugging
//! Face `tokenizers` use, and tiktoken itself runs them with `fancy-regex`.
//!
//! Known limits (documented, not hidden): `fancy-regex` runs patterns with look-around in a
//! backtracking VM with a backtrack limit. The `\s+(?!\S)` branch makes matching a whitespace
//! run of length `n` cost O(n) per match attempt, so text with huge whitespace runs is slow,
//! and a pathological input can hit the backtrack limit. When that happens the rest of the text
//! is handed on as one piece (still counted by BPE, but no longer guaranteed to equal the
//! reference count). The hand-written scanners in `tokens::scan` are meant to replace this.

use fancy_regex::Regex;

/// A compiled split pattern.
#[derive(Debug, Clone)]
pub(crate) struct SplitRegex {
    regex: Regex,
    keep_gaps: bool,
}

impl SplitRegex {
    /// Compiles `pattern`. With `keep_gaps`, text between matches is emitted as pieces too
    /// (Hugging Face `Split` with behavior `Isolated`); without, it is dropped (tiktoken).
    pub(crate) fn new(pattern: &str, keep_gaps: bool) -> Result<Self, String> {
        let regex = Regex::new(pattern).map_err(|e| format!("bad pattern {pattern:?}: {e}"))?;
        Ok(SplitRegex { regex, keep_gaps })
    }

    /// Calls `f` with each piece of `text`, in order; stops early (and returns `false`) when
    /// `f` returns `false`.
    pub(crate) fn for_each_piece(&self, text: &str, f: &mut dyn FnMut(&str) -> bool) -> bool {
        let mut at = 0;
        let mut failed = false;
        for m in self.regex.find_iter(text) {
            let Ok(m) = m else {
                // Backtrack limit hit: hand the rest on whole (see module docs).
                failed = true;
                break;
            };
            if self.keep_gaps && m.start() > at && !f(&text[at..m.start()]) {
                return false;
            }
            if !f(m.as_str()) {
                return false;
            }
            at = m.end();
        }
        // tiktoken drops an unmatched tail (none of the built-in patterns leaves one).
        if at < text.len() && (self.keep_gaps || failed) {
            return f(&text[at..]);
        }
        true
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn pieces(re: &SplitRegex, text: &str) -> Vec<String> {
        let mut out = Vec::new();
        re.for_each_piece(text, &mut |p| {
            out.push(p.to_string());
            true
        });
        out
    }

    #[test]
    fn gaps_kept_only_when_asked() {
        let isolated = SplitRegex::new(r"\d+", true).unwrap();
        assert_eq!(pieces(&isolated, "ab12cd3"), ["ab", "12", "cd", "3"]);
        let dropped = SplitRegex::new(r"\d+", false).unwrap();
        assert_eq!(pieces(&dropped, "ab12cd3"), ["12", "3"]);
    }
}
