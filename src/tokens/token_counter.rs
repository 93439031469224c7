//! [`TokenCounter`], the trait every counter implements, and the generic token boundary.

/// Counts the tokens a text costs in one vocabulary.
///
/// `count` counts text as ordinary text: a special-token string such as `<|endoftext|>` inside
/// the text is counted as the characters it is made of, never as the special token (chat
/// templates add specials themselves, and look them up with [`TokenCounter::special_token`]).
///
/// The trait is object safe; counters are shared as `Arc<dyn TokenCounter>`.
///
/// ```
/// use chatctx::tokens::TokenCounter;
///
/// /// One token per whitespace-separated word.
/// #[derive(Debug)]
/// struct Words;
///
/// impl TokenCounter for Words {
///     fn name(&self) -> &str {
///         "words"
///     }
///     fn count(&self, text: &str) -> usize {
///         text.split_whitespace().count()
///     }
///     fn is_exact(&self) -> bool {
///         false
///     }
/// }
///
/// let c: Box<dyn TokenCounter> = Box::new(Words);
/// assert_eq!(c.count("two words"), 2);
/// assert_eq!(c.special_token("<|im_start|>"), None);
/// ```
pub trait TokenCounter: Send + Sync + std::fmt::Debug {
    /// The vocabulary or counter name, e.g. `o200k_base`.
    fn name(&self) -> &str;

    /// The number of tokens `text` encodes to, as ordinary text.
    fn count(&self, text: &str) -> usize;

    /// The number of tokens `text` encodes to when that is at most `limit`, else `None`.
    ///
    /// Exact counters stop as soon as the count exceeds `limit`, so checking whether a long
    /// text fits a budget costs about as much as counting `limit` tokens. The default counts
    /// everything and compares.
    ///
    /// ```
    /// # if chatctx::tokens::Vocabulary::compiled().len() < 5 { return; } // needs all-vocabularies
    /// use chatctx::tokens::{TokenCounter, Vocabulary};
    ///
    /// let c = Vocabulary::Cl100kBase.counter();
    /// assert_eq!(c.count_till_limit("hello world", 2), Some(2));
    /// assert_eq!(c.count_till_limit("hello world", 1), None);
    /// ```
    fn count_till_limit(&self, text: &str, limit: usize) -> Option<usize> {
        let n = self.count(text);
        (n <= limit).then_some(n)
    }

    /// The byte offset in `text` where the first `k` tokens of its encoding (as
    /// [`TokenCounter::count`] encodes it: ordinary text) end, rounded down to the start of a
    /// character: byte-level BPE can end a token inside a multi-byte character, and the offset
    /// is always a char boundary of `text`, so `&text[..offset]` is valid. `text.len()` when
    /// `text` has at most `k` tokens; `0` for `k = 0`.
    ///
    /// Exact counters ([`BpeCounter`]) return the reference tokenizer's boundary (see its
    /// docs for the one fallback). The default, for estimates and user counters, is a binary
    /// search over char boundaries for the longest prefix that counts at most `k` (exactly the
    /// longest when prefix counts grow with the prefix, as they do for nearly every counter; a
    /// prefix counting at most `k` always).
    ///
    /// The prefix `&text[..offset]` is the text of the first `k` tokens (up to the rounding);
    /// counted on its own it usually has `k` tokens, but BPE of a cut text can differ at the
    /// cut, so a caller needing a bound counts the result.
    ///
    /// ```
    /// # if chatctx::tokens::Vocabulary::compiled().len() < 5 { return; } // needs all-vocabularies
    /// use chatctx::tokens::{TokenCounter, Vocabulary};
    ///
    /// let c = Vocabulary::Cl100kBase.counter();
    /// let text = "hello world, again";
    /// assert_eq!(c.token_boundary(text, 0), 0);
    /// assert_eq!(c.token_boundary(text, 1), 5); // "hello"
    /// assert_eq!(c.token_boundary(text, 2), 11); // "hello world"
    /// assert_eq!(c.token_boundary(text, 99), text.len());
    /// // The last m tokens of a text start at token_boundary(text, n - m).
    /// let n = c.count(text);
    /// assert_eq!(&text[c.token_boundary(text, n - 1)..], " again");
    /// ```
    fn token_boundary(&self, text: &str, k: usize) -> usize {
        prefix_boundary(self, text, k)
    }

    /// Whether [`TokenCounter::count`] equals the reference tokenizer's count.
    fn is_exact(&self) -> bool {
        true
    }

    /// The id of the special token spelled `token` (e.g. `<|im_start|>`), if the vocabulary
    /// has it. A special token always costs one token.
    fn special_token(&self, token: &str) -> Option<u32> {
        let _ = token;
        None
    }
}

impl<T: TokenCounter + ?Sized> TokenCounter for std::sync::Arc<T> {
    fn name(&self) -> &str {
        (**self).name()
    }
    fn count(&self, text: &str) -> usize {
        (**self).count(text)
    }
    fn count_till_limit(&self, text: &str, limit: usize) -> Option<usize> {
        (**self).count_till_limit(text, limit)
    }
    fn token_boundary(&self, text: &str, k: usize) -> usize {
        (**self).token_boundary(text, k)
    }
    fn is_exact(&self) -> bool {
        (**self).is_exact()
    }
    fn special_token(&self, token: &str) -> Option<u32> {
        (**self).special_token(token)
    }
}

/// The end of the longest prefix of `text` at a char boundary that `counter` counts at most
/// `k` tokens, by binary search (see [`TokenCounter::token_boundary`]): `O(log n)` counts of
/// prefixes, each stopping once it passes `k` ([`TokenCounter::count_till_limit`]).
pub(crate) fn prefix_boundary<C: TokenCounter + ?Sized>(
    counter: &C,
    text: &str,
    k: usize,
) -> usize {
    if k == 0 || text.is_empty() {
        return 0;
    }
    if counter.count_till_limit(text, k).is_some() {
        return text.len();
    }
    let fits = |end: usize| {
        text.get(..end)
            .is_some_and(|prefix| counter.count_till_limit(prefix, k).is_some())
    };
    // Invariant: `lo` is a char boundary whose prefix fits; every boundary above `hi` does not.
    let (mut lo, mut hi) = (0, text.len());
    while lo < hi {
        // The first char boundary past the midpoint: above `lo`, at most `hi`.
        let mut mid = lo + (hi - lo).div_ceil(2);
        while !text.is_char_boundary(mid) {
            mid += 1;
        }
        if fits(mid) {
            lo = mid;
        } else {
            // The char boundary before `mid`, at least `lo`.
            hi = mid - 1;
            while !text.is_char_boundary(hi) {
                hi -= 1;
            }
        }
    }
    lo
}
