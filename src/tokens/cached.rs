//! [`CachedCounter`]: memoized counting for conversations that grow one message at a time.

use std::collections::HashMap;
use std::hash::{DefaultHasher, Hash, Hasher};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use super::token_counter::TokenCounter;

/// Wraps a counter and remembers the count of every text it has seen, keyed by a 64-bit hash
/// of the content and its length: re-counting an unchanged message is a hash lookup, and an
/// edited message hashes differently and is counted again. Thread safe.
///
/// Two different texts of the same length sharing a 64-bit SipHash would share a count; with
/// the cache cleared past [`CachedCounter::with_capacity_limit`] entries that is vanishingly
/// unlikely (about 2⁻⁶⁴ per pair).
///
/// ```
/// use chatctx::tokens::{CachedCounter, TokenCounter, Vocabulary};
///
/// let cached = CachedCounter::new(Vocabulary::O200kBase.counter());
/// let mut conversation = Vec::new();
/// for turn in ["Hi!", "Hello, how can I help?", "Tell me a joke."] {
///     conversation.push(turn);
///     let _total: usize = conversation.iter().map(|m| cached.count(m)).sum();
/// }
/// assert_eq!(cached.computed(), 3); // each message counted once
/// ```
#[derive(Debug)]
pub struct CachedCounter {
    inner: Arc<dyn TokenCounter>,
    name: String,
    memo: Mutex<HashMap<(u64, usize), usize>>,
    computed: AtomicUsize,
    limit: usize,
}

impl CachedCounter {
    /// Default number of remembered texts before the memo is cleared.
    pub const DEFAULT_LIMIT: usize = 100_000;

    /// Memoizes `inner`.
    pub fn new(inner: Arc<dyn TokenCounter>) -> Self {
        CachedCounter {
            name: inner.name().to_string(),
            inner,
            memo: Mutex::new(HashMap::new()),
            computed: AtomicUsize::new(0),
            limit: Self::DEFAULT_LIMIT,
        }
    }

    /// Clears the memo whenever it would exceed `limit` entries (at least 1).
    pub fn with_capacity_limit(mut self, limit: usize) -> Self {
        self.limit = limit.max(1);
        self
    }

    /// How many counts were computed by the wrapped counter (memo misses).
    pub fn computed(&self) -> usize {
        self.computed.load(Ordering::Relaxed)
    }

    /// How many texts are remembered.
    pub fn len(&self) -> usize {
        self.memo.lock().map_or(0, |m| m.len())
    }

    /// Whether nothing is remembered.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Forgets every remembered count.
    pub fn clear(&self) {
        if let Ok(mut m) = self.memo.lock() {
            m.clear();
        }
    }

    fn key(text: &str) -> (u64, usize) {
        let mut h = DefaultHasher::new();
        text.hash(&mut h);
        (h.finish(), text.len())
    }
}

impl TokenCounter for CachedCounter {
    fn name(&self) -> &str {
        &self.name
    }

    fn count(&self, text: &str) -> usize {
        let key = Self::key(text);
        if let Some(&n) = self
            .memo
            .lock()
            .ok()
            .and_then(|m| m.get(&key).copied())
            .as_ref()
        {
            return n;
        }
        // Count outside the lock so threads count different texts in parallel.
        let n = self.inner.count(text);
        self.computed.fetch_add(1, Ordering::Relaxed);
        if let Ok(mut m) = self.memo.lock() {
            if m.len() >= self.limit {
                m.clear();
            }
            m.insert(key, n);
        }
        n
    }

    fn count_till_limit(&self, text: &str, limit: usize) -> Option<usize> {
        let memo = self
            .memo
            .lock()
            .ok()
            .and_then(|m| m.get(&Self::key(text)).copied());
        match memo {
            Some(n) => (n <= limit).then_some(n),
            None => self.inner.count_till_limit(text, limit),
        }
    }

    /// Not memoized: forwarded to the wrapped counter.
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
