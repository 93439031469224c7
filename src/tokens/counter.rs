//! [`BpeCounter`]: exact token counts for a byte-level BPE vocabulary.

use std::cell::RefCell;
use std::fmt;
use std::sync::atomic::{AtomicU32, Ordering};

use unicode_normalization::{is_nfc_quick, IsNormalized, UnicodeNormalization};

use super::bpe::{self, Scratch};
use super::pretokenize::PreTokenizer;
use super::table::Tables;
use super::TokenCounter;

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
            self.pre.for_each_piece(text, &mut |piece| {
                count += bpe::count_piece(&self.tables, self.id, piece.as_bytes(), s);
                count <= limit
            });
        };
        SCRATCH.with(|cell| match cell.try_borrow_mut() {
            Ok(mut s) => run(&mut s),
            Err(_) => run(&mut Scratch::default()),
        });
        (count <= limit).then_some(count)
    }

    /// Normalizes `text` when the vocabulary asks for it (reusing a per-thread buffer) and
    /// counts it up to `limit`.
    fn count_limited(&self, text: &str, limit: usize) -> Option<usize> {
        if !self.nfc || text.is_ascii() || is_nfc_quick(text.chars()) == IsNormalized::Yes {
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

    fn special_token(&self, token: &str) -> Option<u32> {
        self.tables
            .specials
            .iter()
            .find(|(_, t)| t == token)
            .map(|(id, _)| *id)
    }
}
