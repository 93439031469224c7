//! [`TiktokenCounter`]: a [`TokenCounter`] over a `tiktoken_rs::CoreBPE` (feature
//! `tiktoken-rs`).
//!
//! chatctx embeds five vocabularies ([`crate::Vocabulary`]) and loads others from files
//! ([`crate::tokens::BpeCounter::from_tiktoken_file`]). A program that already builds its
//! vocabulary with tiktoken-rs (a fine-tuned or self-hosted model's, or one of tiktoken-rs's
//! own) can hand that `CoreBPE` over instead: the counter goes wherever a [`TokenCounter`]
//! goes, so it drives the chat templates ([`crate::template::Family::prompt_counter`]) and,
//! through them, every policy and [`crate::Session`].
//!
//! ```
//! use std::sync::Arc;
//! use chatctx::adapters::tiktoken_rs::TiktokenCounter;
//! use chatctx::template::Family;
//! use chatctx::{Message, PromptCounter, TokenCounter};
//!
//! let bpe = tiktoken_rs::cl100k_base().expect("tiktoken-rs builds cl100k_base");
//! let counter = Arc::new(TiktokenCounter::new("my-vocabulary", bpe));
//! assert_eq!(counter.count("hello world"), 2);
//! assert_eq!(counter.special_token("<|endoftext|>"), Some(100257));
//!
//! let prompt = Family::OpenAi.prompt_counter(counter);
//! assert!(prompt.count(&[Message::user("hello world")]) > 2);
//! ```
//!
//! Counting is tiktoken-rs's `encode_ordinary` (the token list is built, then counted), so it
//! is slower than chatctx's own counters, and inherits tiktoken-rs's behaviour on hostile
//! input (its regex engine gives up, and tiktoken-rs panics, on some pathological texts where
//! chatctx's scanners run in linear time). Prefer [`crate::Vocabulary`] when it has the
//! vocabulary.

use std::collections::{HashMap, HashSet};
use std::fmt;
use std::sync::Arc;

use ::tiktoken_rs::CoreBPE;

use crate::tokens::TokenCounter;

/// A [`TokenCounter`] counting with a tiktoken-rs `CoreBPE`.
///
/// Counts are ordinary text, as [`TokenCounter::count`] requires: special-token strings in
/// the text count as the characters they are made of. The vocabulary's special tokens answer
/// [`TokenCounter::special_token`], so chat templates that frame messages with them (ChatML's
/// `<|im_start|>`) count them as one token each, as the model does.
pub struct TiktokenCounter {
    name: String,
    bpe: Bpe,
    specials: HashMap<String, u32>,
}

/// The `CoreBPE`, owned or borrowed for the whole program (tiktoken-rs's singletons).
enum Bpe {
    Shared(Arc<CoreBPE>),
    Static(&'static CoreBPE),
}

impl TiktokenCounter {
    /// A counter named `name` (what [`TokenCounter::name`] reports) over `bpe`.
    pub fn new(name: impl Into<String>, bpe: CoreBPE) -> Self {
        Self::from_arc(name, Arc::new(bpe))
    }

    /// A counter over a shared `CoreBPE`.
    pub fn from_arc(name: impl Into<String>, bpe: Arc<CoreBPE>) -> Self {
        Self::build(name.into(), Bpe::Shared(bpe))
    }

    /// A counter over a `CoreBPE` that lives for the whole program, such as
    /// `tiktoken_rs::cl100k_base_singleton()` (no copy is made).
    pub fn from_static(name: impl Into<String>, bpe: &'static CoreBPE) -> Self {
        Self::build(name.into(), Bpe::Static(bpe))
    }

    fn build(name: String, bpe: Bpe) -> Self {
        let specials = special_ids(bpe.get());
        TiktokenCounter {
            name,
            bpe,
            specials,
        }
    }

    /// The `CoreBPE` counting for this counter.
    pub fn bpe(&self) -> &CoreBPE {
        self.bpe.get()
    }
}

impl Bpe {
    fn get(&self) -> &CoreBPE {
        match self {
            Bpe::Shared(bpe) => bpe,
            Bpe::Static(bpe) => bpe,
        }
    }
}

/// The id of every special token of `bpe` (tiktoken-rs lists their texts; encoding one with
/// it allowed gives its id).
fn special_ids(bpe: &CoreBPE) -> HashMap<String, u32> {
    let mut ids = HashMap::new();
    for special in bpe.special_tokens() {
        let allowed = HashSet::from([special]);
        if let Ok((tokens, _)) = bpe.encode(special, &allowed) {
            if let [id] = tokens.as_slice() {
                ids.insert(special.to_string(), *id);
            }
        }
    }
    ids
}

impl fmt::Debug for TiktokenCounter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TiktokenCounter")
            .field("name", &self.name)
            .field("specials", &self.specials.len())
            .finish_non_exhaustive()
    }
}

impl TokenCounter for TiktokenCounter {
    fn name(&self) -> &str {
        &self.name
    }

    fn count(&self, text: &str) -> usize {
        self.bpe().encode_ordinary(text).len()
    }

    /// The end of the first `k` tokens of tiktoken-rs's encoding, rounded down to a char
    /// boundary (the bytes of those tokens, as tiktoken-rs decodes them).
    fn token_boundary(&self, text: &str, k: usize) -> usize {
        if k == 0 {
            return 0;
        }
        let tokens = self.bpe().encode_ordinary(text);
        if tokens.len() <= k {
            return text.len();
        }
        let mut end = match self.bpe().decode_bytes(&tokens[..k]) {
            Ok(bytes) => bytes.len().min(text.len()),
            // Unreachable for tokens tiktoken-rs just made; the generic search is exact too.
            Err(_) => return crate::tokens::prefix_boundary(self, text, k),
        };
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        end
    }

    fn is_exact(&self) -> bool {
        true
    }

    fn special_token(&self, token: &str) -> Option<u32> {
        self.specials.get(token).copied()
    }
}
