//! Memoized text counting: each distinct text is tokenized once.
//!
//! Templates split a prompt at special tokens into text runs and count each run through a
//! [`Memo`]. Counting a conversation again after one more round then only tokenizes the runs of
//! the new messages: the old runs are found in the memo.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use crate::tokens::TokenCounter;

/// How many distinct texts a memo keeps before it starts afresh.
///
/// # Default
/// 65,536 entries.
pub const DEFAULT_CAPACITY: usize = 1 << 16;

/// A [`TokenCounter`] that remembers the count of every text it has seen.
///
/// ```
/// # if chatctx::tokens::Vocabulary::compiled().len() < 5 { return; } // needs all-vocabularies
/// use chatctx::template::Memo;
/// use chatctx::tokens::{TokenCounter, Vocabulary};
///
/// let memo = Memo::new(Vocabulary::Cl100kBase.counter());
/// assert_eq!(memo.count("hello world"), 2);
/// assert_eq!(memo.count("hello world"), 2); // answered from the memo
/// assert_eq!(memo.len(), 1);
/// ```
#[derive(Debug)]
pub struct Memo {
    inner: Arc<dyn TokenCounter>,
    seen: Mutex<HashMap<String, usize>>,
    capacity: usize,
}

impl Memo {
    /// A memo over `inner` with [`DEFAULT_CAPACITY`].
    pub fn new(inner: Arc<dyn TokenCounter>) -> Self {
        Memo::with_capacity(inner, DEFAULT_CAPACITY)
    }

    /// A memo over `inner` that keeps at most `capacity` texts (it is cleared when full).
    pub fn with_capacity(inner: Arc<dyn TokenCounter>, capacity: usize) -> Self {
        Memo {
            inner,
            seen: Mutex::new(HashMap::new()),
            capacity: capacity.max(1),
        }
    }

    /// The counter behind the memo.
    pub fn inner(&self) -> &Arc<dyn TokenCounter> {
        &self.inner
    }

    /// How many distinct texts are remembered.
    pub fn len(&self) -> usize {
        self.seen
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .len()
    }

    /// Whether nothing is remembered.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl TokenCounter for Memo {
    fn name(&self) -> &str {
        self.inner.name()
    }

    fn count(&self, text: &str) -> usize {
        if text.is_empty() {
            return 0;
        }
        if let Some(&tokens) = self
            .seen
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(text)
        {
            return tokens;
        }
        // Count outside the lock: tokenizing is the slow part.
        let tokens = self.inner.count(text);
        let mut seen = self.seen.lock().unwrap_or_else(PoisonError::into_inner);
        if seen.len() >= self.capacity {
            seen.clear();
        }
        seen.insert(text.to_string(), tokens);
        tokens
    }

    fn token_boundary(&self, text: &str, k: usize) -> usize {
        self.inner.token_boundary(text, k)
    }

    fn is_exact(&self) -> bool {
        self.inner.is_exact()
    }

    fn special_token(&self, token: &str) -> Option<u32> {
        self.inner.special_token(token)
    }
}
