//! [`BpeCounter`]: exact token counts for a byte-level BPE vocabulary.

use std::cell::RefCell;
use std::fmt;
use std::sync::atomic::{AtomicU32, Ordering};

use unicode_normalization::{is_nfc_quick, IsNormalized, UnicodeNormalization};

use super::bpe::{self, Scratch};
use super::piece_cache::{self, Key};
use super::pretokenize::PreTokenizer;
use super::table::Tables;
use super::token_counter::{prefix_boundary, TokenCounter};

thread_local! {
    static SCRATCH: RefCell<Scratch> = RefCell::new(Scratch::default());
    static NFC_BUF: RefCell<String> = const { RefCell::new(String::new()) };
}

/// Counts tokens exactly like a reference byte-level BPE tokenizer (tiktoken or Hugging Face
/// `tokenizers`), without materializing the tokens.
///
/// Built-in vocabularies come from [`Vocabulary::counter`](super::Vocabulary::counter); other
/// vocabularies load with [`BpeCounter::from_tiktoken_file`] or
/// [`BpeCounter::from_tokenizer_json`].
///
/// ```
/// # if chatctx::tokens::Vocabulary::compiled().len() < 5 { return; } // needs all-vocabularies
/// use chatctx::tokens::{TokenCounter, Vocabulary};
///
/// let counter = Vocabulary::Cl100kBase.counter();
/// assert_eq!(counter.count("hello world"), 2);
/// // Special-token text typed by a user is ordinary text.
/// assert!(counter.count("<|endoftext|>") > 1);
/// assert_eq!(counter.special_token("<|endoftext|>"), Some(100257));
/// ```
pub struct BpeCounter {
    /// Unique per counter: keys this counter's entries in the per-thread piece cache.
    id: u32,
    pub(crate) name: String,
    pub(crate) tables: Tables,
    pub(crate) pre: PreTokenizer,
    pub(crate) nfc: bool,
}

impl fmt::Debug for BpeCounter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BpeCounter")
            .field("name", &self.name)
            .field("tokens", &self.tables.ids.len())
            .field("merges", &self.tables.merges.len)
            .field("whole_characters", &self.tables.chars.len())
            .field("specials", &self.tables.specials.len())
            .field("nfc", &self.nfc)
            .finish_non_exhaustive()
    }
}

impl BpeCounter {
    /// Adds (or replaces) special tokens, as `(text, id)` pairs.
    pub fn with_special_tokens<S: Into<String>>(
        mut self,
        specials: impl IntoIterator<Item = (S, u32)>,
    ) -> Self {
        for (text, id) in specials {
            let text = text.into();
            self.tables.specials.retain(|(_, t)| *t != text);
            self.tables.specials.push((id, text));
        }
        self
    }

    /// Empties this thread's cache of short pieces (shared by all counters on the thread), as
    /// if nothing had been counted on it yet. Counts stay exact; only the next texts count
    /// slower while the cache refills. For measuring how fast a text is counted the first
    /// time (`examples/count_bench.rs --cold`).
    ///
    /// ```
    /// use chatctx::tokens::{BpeCounter, TokenCounter, Vocabulary};
    ///
    /// let counter = Vocabulary::Cl100kBase.counter();
    /// let warm = counter.count("hello world");
    /// BpeCounter::clear_thread_cache();
    /// assert_eq!(counter.count("hello world"), warm);
    /// ```
    pub fn clear_thread_cache() {
        SCRATCH.with(|cell| {
            if let Ok(mut s) = cell.try_borrow_mut() {
                s.clear_cache();
            }
        });
    }

    /// Renames the counter (the name [`TokenCounter::name`] reports).
    pub fn with_name(mut self, name: impl Into<String>) -> Self {
        self.name = name.into();
        self
    }

    /// A counter over `tables` with pre-tokenizer `pre`, NFC-normalizing first when `nfc`.
    pub(crate) fn new(name: String, tables: Tables, pre: PreTokenizer, nfc: bool) -> Self {
        static NEXT_ID: AtomicU32 = AtomicU32::new(1);
        // Ids wrap after 4 billion counters; skipping 0 keeps it the cache's "empty" mark. A
        // wrapped id could only meet a stale cache entry of a counter built 4 billion ago.
        let mut id = NEXT_ID.fetch_add(1, Ordering::Relaxed);
        if id == 0 {
            id = NEXT_ID.fetch_add(1, Ordering::Relaxed);
        }
        let mut tables = tables;
        tables.build_two_bytes();
        BpeCounter {
            id,
            name,
            tables,
            pre,
            nfc,
        }
    }

    /// Counts already-normalized text, stopping once the count exceeds `limit`.
    fn count_normalized(&self, text: &str, limit: usize) -> Option<usize> {
        let mut count = 0usize;
        let mut run = |s: &mut Scratch| {
            self.pre.for_each_piece(text, |piece, head| {
                count += bpe::count_piece(&self.tables, self.id, piece, head, s);
                count <= limit
            });
        };
        SCRATCH.with(|cell| match cell.try_borrow_mut() {
            Ok(mut s) => run(&mut s),
            Err(_) => run(&mut Scratch::default()),
        });
        (count <= limit).then_some(count)
    }

    /// [`TokenCounter::token_boundary`] for already-normalized text: counts piece by piece
    /// (cached counts, as [`BpeCounter::count`]) until the piece holding token `k + 1`, and
    /// encodes only that piece, when token `k` ends inside it.
    fn boundary_normalized(&self, text: &str, k: usize) -> usize {
        let base = text.as_ptr() as usize;
        let mut count = 0usize;
        let mut found = None;
        let mut run = |s: &mut Scratch| {
            self.pre.for_each_piece(text, |piece, head| {
                let n = bpe::count_piece(&self.tables, self.id, piece, head, s);
                if n == 0 {
                    return true;
                }
                // Pieces are slices of `text` (a pattern may drop text between them).
                let start = (piece.as_ptr() as usize).wrapping_sub(base);
                if count == k {
                    // Token `k` ended a piece; token `k + 1` starts this one.
                    found = Some(start);
                    return false;
                }
                if count + n <= k {
                    count += n;
                    return true;
                }
                found = Some(start + bpe::token_end(&self.tables, piece, k - count, s));
                false
            });
        };
        SCRATCH.with(|cell| match cell.try_borrow_mut() {
            Ok(mut s) => run(&mut s),
            Err(_) => run(&mut Scratch::default()),
        });
        let mut at = found.map_or(text.len(), |at| at.min(text.len()));
        while !text.is_char_boundary(at) {
            at -= 1;
        }
        at
    }

    /// Counts `text` up to `limit`. A text of at most [`piece_cache::MAX_LEN`] bytes (a short
    /// chat message: "ok", "Thanks!", "lol") is itself a key of the per-thread piece cache,
    /// marked as a whole text: counted again, it costs one lookup, no scan.
    fn count_limited(&self, text: &str, limit: usize) -> Option<usize> {
        if text.len() > piece_cache::MAX_LEN {
            return self.count_any(text, limit);
        }
        let Some(key) = Key::new(text.as_bytes()).map(Key::whole_text) else {
            return self.count_any(text, limit);
        };
        let cached = SCRATCH.with(|cell| {
            cell.try_borrow_mut()
                .ok()
                .and_then(|mut s| s.cache_get(self.id, &key))
        });
        let n = match cached {
            Some(n) => n as usize,
            None => {
                // At most one token per byte: counted in full whatever the limit.
                let n = self.count_any(text, usize::MAX).unwrap_or(usize::MAX);
                SCRATCH.with(|cell| {
                    if let Ok(mut s) = cell.try_borrow_mut() {
                        s.cache_put(self.id, &key, n as u32);
                    }
                });
                n
            }
        };
        (n <= limit).then_some(n)
    }

    /// Normalizes `text` when the vocabulary asks for it (reusing a per-thread buffer) and
    /// counts it up to `limit`.
    fn count_any(&self, text: &str, limit: usize) -> Option<usize> {
        if !self.nfc || surely_nfc(text) || is_nfc_quick(text.chars()) == IsNormalized::Yes {
            return self.count_normalized(text, limit);
        }
        let mut buf = NFC_BUF.with(|b| b.try_borrow_mut().map(|mut b| std::mem::take(&mut *b)));
        let normalized = match &mut buf {
            Ok(buf) => {
                buf.clear();
                buf.extend(text.nfc());
                buf.as_str()
            }
            Err(_) => return self.count_normalized(&text.nfc().collect::<String>(), limit),
        };
        let count = self.count_normalized(normalized, limit);
        if let Ok(buf) = buf {
            NFC_BUF.with(|b| {
                if let Ok(mut b) = b.try_borrow_mut() {
                    *b = buf;
                }
            });
        }
        count
    }
}

/// Whether every character of `text` is one that NFC never changes nor reorders (quick check
/// "Yes" and combining class 0), so that `text` is in NFC. Latin, Chinese, Japanese kana and
/// Korean are checked by code-point range, without table lookups (ASCII eight bytes at a
/// time); other characters one by one in the Unicode tables. `false` means "look closer",
/// not "not NFC".
fn surely_nfc(text: &str) -> bool {
    let bytes = text.as_bytes();
    // The ASCII before the first other byte (most chat messages are ASCII to the end), eight
    // bytes a step at fixed offsets: no step waits on the one before, as in the loop below.
    let mut i = bytes
        .chunks_exact(8)
        .position(|w| w.iter().any(|&b| b >= 0x80))
        .map_or(bytes.len() / 8 * 8, |chunk| chunk * 8);
    while let Some(&lead) = bytes.get(i) {
        // CJK unified ideographs, U+4E00 to U+9FFF: E4 B8..BF or E5..E9 as the first two bytes.
        if (0xE5..=0xE9).contains(&lead) || (lead == 0xE4 && bytes.get(i + 1) >= Some(&0xB8)) {
            i += 3;
            continue;
        }
        if lead >= 0x80 {
            // Not ASCII: decoded below.
        } else if let Some(word) = bytes
            .get(i..i + 8)
            .and_then(|w| <[u8; 8]>::try_from(w).ok())
        {
            let high = u64::from_le_bytes(word) & HIGH_BITS;
            // Skip the ASCII bytes before the first other one (all eight when there is none).
            let ascii = if high == 0 {
                8
            } else {
                (high.trailing_zeros() / 8) as usize
            };
            if ascii > 0 {
                i += ascii;
                continue;
            }
        } else if ascii_from(bytes, i) {
            // The last few bytes: ASCII to the end, without a character at a time.
            return true;
        }
        // `text` is UTF-8, so a lead byte tells the length and the continuation bytes follow.
        let cont = |k: usize| u32::from(bytes.get(i + k).copied().unwrap_or(0) & 0x3F);
        let (code, len) = match bytes.get(i).copied().unwrap_or(0) {
            b @ 0..=0x7F => (u32::from(b), 1),
            b @ 0xC0..=0xDF => ((u32::from(b & 0x1F) << 6) | cont(1), 2),
            b @ 0xE0..=0xEF => ((u32::from(b & 0x0F) << 12) | (cont(1) << 6) | cont(2), 3),
            b => (
                (u32::from(b & 0x07) << 18) | (cont(1) << 12) | (cont(2) << 6) | cont(3),
                4,
            ),
        };
        if !char::from_u32(code).is_some_and(stable_under_nfc) {
            return false;
        }
        i += len;
    }
    true
}

/// The high bit of each byte of a little-endian word: set only by bytes that are not ASCII.
const HIGH_BITS: u64 = 0x8080_8080_8080_8080;

/// Whether the bytes of `b` from `i` to its end, fewer than eight, are all ASCII: one load of
/// the last eight bytes, shifted past the ones before `i`, when `b` has eight.
#[inline]
fn ascii_from(b: &[u8], i: usize) -> bool {
    let last = b
        .len()
        .checked_sub(8)
        .and_then(|from| b.get(from..))
        .and_then(|w| <[u8; 8]>::try_from(w).ok());
    match last {
        Some(w) if i + 8 > b.len() => {
            let seen = i + 8 - b.len();
            (u64::from_le_bytes(w) >> (8 * seen)) & HIGH_BITS == 0
        }
        _ => b.get(i..).is_some_and(<[u8]>::is_ascii),
    }
}

/// See [`surely_nfc`]: a range check for the common scripts, else the Unicode tables.
#[inline]
fn stable_under_nfc(c: char) -> bool {
    stable_by_range(c)
        || (unicode_normalization::char::canonical_combining_class(c) == 0
            && is_nfc_quick(std::iter::once(c)) == IsNormalized::Yes)
}

/// Characters NFC never changes nor reorders, by code-point range (see [`surely_nfc`]).
#[inline]
fn stable_by_range(c: char) -> bool {
    matches!(c,
        '\u{0}'..='\u{2FF}'            // ASCII, Latin-1, Latin Extended, spacing modifiers
        | '\u{2002}'..='\u{206F}'      // general punctuation (after the two singleton quads)
        | '\u{3000}'..='\u{3029}'      // CJK symbols and punctuation (before the marks)
        | '\u{3030}'..='\u{3098}'      // more CJK symbols, hiragana (before the voicing marks)
        | '\u{309D}'..='\u{30FF}'      // hiragana iteration marks, katakana
        | '\u{4E00}'..='\u{9FFF}'      // CJK unified ideographs
        | '\u{AC00}'..='\u{D7A3}'      // Hangul syllables
        | '\u{FF01}'..='\u{FF9D}'      // fullwidth forms (before the halfwidth voicing marks)
    )
}

impl TokenCounter for BpeCounter {
    fn name(&self) -> &str {
        &self.name
    }

    fn count(&self, text: &str) -> usize {
        self.count_limited(text, usize::MAX).unwrap_or(usize::MAX)
    }

    fn count_till_limit(&self, text: &str, limit: usize) -> Option<usize> {
        self.count_limited(text, limit)
    }

    /// Exact: the boundary of the reference tokenizer's encoding (tiktoken, Hugging Face
    /// `tokenizers`), rounded down to a char start. Only the pre-tokenizer piece where token
    /// `k` ends is encoded; the pieces before it are counted (and cached) as by `count`, so the
    /// cost is about that of counting the first `k` tokens, however long `text` is.
    ///
    /// Fallback: for a vocabulary that NFC-normalizes first (Qwen) and a `text` that NFC
    /// changes, the tokens are those of the normalized text, whose offsets do not map back to
    /// `text` one to one. Then the result is the end of the longest char-boundary prefix of
    /// `text` that counts at most `k` tokens (binary search, as the trait default): a safe cut,
    /// not necessarily the reference tokenizer's.
    fn token_boundary(&self, text: &str, k: usize) -> usize {
        if k == 0 {
            return 0;
        }
        if !self.nfc || surely_nfc(text) || is_nfc_quick(text.chars()) == IsNormalized::Yes {
            return self.boundary_normalized(text, k);
        }
        if text.nfc().eq(text.chars()) {
            return self.boundary_normalized(text, k);
        }
        prefix_boundary(self, text, k)
    }

    fn special_token(&self, token: &str) -> Option<u32> {
        self.tables
            .specials
            .iter()
            .find(|(_, t)| t == token)
            .map(|(id, _)| *id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every character `surely_nfc` accepts must be one NFC keeps in place.
    #[test]
    fn surely_nfc_accepts_only_stable_characters() {
        let accepted = (0..=0x10FFFFu32)
            .filter_map(char::from_u32)
            .filter(|&c| surely_nfc(c.encode_utf8(&mut [0; 4])));
        let mut n = 0;
        for c in accepted {
            n += 1;
            assert_eq!(is_nfc_quick(std::iter::once(c)), IsNormalized::Yes, "{c:?}");
            assert_eq!(
                unicode_normalization::char::canonical_combining_class(c),
                0,
                "{c:?}"
            );
        }
        assert!(n > 33_000, "{n}");
        assert!(
            !surely_nfc("e\u{301}"),
            "a combining mark is looked at closer"
        );
    }

    /// A character NFC may change is found wherever it stands, after any run of ASCII or of
    /// characters checked by range, near the end of the text too (where the last bytes are
    /// checked in one load).
    #[test]
    fn surely_nfc_finds_a_changing_character_anywhere() {
        for before in ["", "中", "é", "中a"] {
            for n in 0..24 {
                let ascii = "a".repeat(n);
                assert!(surely_nfc(&format!("{before}{ascii}")), "{before}{ascii}");
                for at in 0..=n {
                    for odd in ["\u{301}", "\u{2126}", "\u{f900}"] {
                        let text = format!("{before}{}{odd}{}", &ascii[..at], &ascii[at..]);
                        assert!(!surely_nfc(&text), "{text:?}");
                    }
                }
            }
        }
    }
}
