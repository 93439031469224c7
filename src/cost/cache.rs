//! Prompt-prefix caching as providers do it.

use std::collections::HashSet;
use std::hash::{Hash, Hasher};

use serde::Serialize;

/// How a provider caches prompt prefixes: a request hits the cache for the longest prefix it
/// shares with an earlier request, counted in whole `unit`s, and only from `min_tokens` up.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct CacheModel {
    /// Granularity of cached prefixes, in tokens.
    pub unit: usize,
    /// Shortest prefix that is cached at all.
    pub min_tokens: usize,
}

impl CacheModel {
    /// DeepSeek context caching on disk: prefixes from token 0, stored in 64-token units;
    /// shorter content is not cached (DeepSeek API docs, "Context Caching" guide).
    pub const DEEPSEEK: CacheModel = CacheModel {
        unit: 64,
        min_tokens: 64,
    };

    /// Qwen (Model Studio) implicit cache: common prefixes of at least 256 tokens
    /// (Alibaba Cloud Model Studio, "Context cache"). The unit is not published; we assume 1.
    pub const QWEN_IMPLICIT: CacheModel = CacheModel {
        unit: 1,
        min_tokens: 256,
    };

    /// OpenAI prompt caching: prompts of 1,024 tokens or more, cached in 128-token increments
    /// (OpenAI docs, "Prompt caching").
    pub const OPENAI: CacheModel = CacheModel {
        unit: 128,
        min_tokens: 1024,
    };

    /// No prompt caching.
    pub const NONE: CacheModel = CacheModel {
        unit: 1,
        min_tokens: usize::MAX,
    };

    /// The names a models file's `cache` field takes.
    pub const NAMES: [&'static str; 4] = ["deepseek", "openai", "qwen", "none"];

    /// A cache model by name: `deepseek`, `openai`, `qwen` (Model Studio's implicit cache) or
    /// `none`.
    ///
    /// ```
    /// use chatctx::cost::CacheModel;
    /// assert_eq!(CacheModel::named("openai"), Some(CacheModel::OPENAI));
    /// assert_eq!(CacheModel::named("lru"), None);
    /// ```
    pub fn named(name: &str) -> Option<CacheModel> {
        match name {
            "deepseek" => Some(CacheModel::DEEPSEEK),
            "openai" => Some(CacheModel::OPENAI),
            "qwen" | "qwen-implicit" => Some(CacheModel::QWEN_IMPLICIT),
            "none" => Some(CacheModel::NONE),
            _ => None,
        }
    }

    /// Tokens billed as cache hits when `shared` leading tokens match an earlier request.
    ///
    /// ```
    /// use chatctx::cost::CacheModel;
    /// assert_eq!(CacheModel::DEEPSEEK.hit_tokens(200), 192);
    /// assert_eq!(CacheModel::OPENAI.hit_tokens(1000), 0);
    /// ```
    pub fn hit_tokens(&self, shared: usize) -> usize {
        if shared < self.min_tokens || self.unit == 0 {
            return 0;
        }
        shared / self.unit * self.unit
    }
}

/// One piece of a rendered prompt as the cache sees it: a fingerprint of its bytes and its
/// token count. A request is a sequence of blocks (e.g. framing overhead, then one block per
/// message); two requests share a prefix as long as their leading blocks are identical.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct PromptBlock {
    /// A hash of the block's content.
    pub fingerprint: u64,
    /// Tokens of the block.
    pub tokens: usize,
}

impl PromptBlock {
    /// A block for any hashable content.
    pub fn of(content: &impl Hash, tokens: usize) -> Self {
        let mut hasher = std::collections::hash_map::DefaultHasher::new();
        content.hash(&mut hasher);
        PromptBlock {
            fingerprint: hasher.finish(),
            tokens,
        }
    }
}

/// Replays a sequence of requests against a provider's prompt cache.
///
/// Matching is block-wise: a prefix shared inside a block that differs is not counted, so the
/// result is a slight underestimate when a message is edited in place, and exact for histories
/// that only grow or lose whole messages. Cached prefixes never expire during a replay.
#[derive(Debug, Clone)]
pub struct CacheSimulator {
    model: CacheModel,
    seen: HashSet<u64>,
}

impl CacheSimulator {
    /// A simulator with an empty cache.
    pub fn new(model: CacheModel) -> Self {
        CacheSimulator {
            model,
            seen: HashSet::new(),
        }
    }

    /// Send one request: returns the tokens that hit the cache, and caches its prefixes.
    ///
    /// ```
    /// use chatctx::cost::{CacheModel, CacheSimulator, PromptBlock};
    /// let mut cache = CacheSimulator::new(CacheModel::DEEPSEEK);
    /// let system = PromptBlock::of(&"You are a helpful assistant.", 100);
    /// let q1 = PromptBlock::of(&"question 1", 30);
    /// let q2 = PromptBlock::of(&"question 2", 30);
    /// assert_eq!(cache.send(&[system, q1]), 0);
    /// assert_eq!(cache.send(&[system, q1, q2]), 128); // 130 shared, in 64-token units
    /// ```
    pub fn send(&mut self, blocks: &[PromptBlock]) -> usize {
        let mut shared = 0;
        let mut matching = true;
        let mut running = 0usize;
        let mut hash = 0xcbf2_9ce4_8422_2325u64;
        for block in blocks {
            hash = mix(hash, block.fingerprint);
            running += block.tokens;
            if matching && self.seen.contains(&hash) {
                shared = running;
            } else {
                matching = false;
            }
            self.seen.insert(hash);
        }
        self.model.hit_tokens(shared)
    }
}

/// Chains prefix hashes so that equal values mean equal block sequences (with overwhelming
/// probability).
fn mix(state: u64, fingerprint: u64) -> u64 {
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    (state, fingerprint).hash(&mut hasher);
    hasher.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn block(id: u64, tokens: usize) -> PromptBlock {
        PromptBlock {
            fingerprint: id,
            tokens,
        }
    }

    #[test]
    fn deepseek_counts_whole_64_token_units() {
        let model = CacheModel::DEEPSEEK;
        assert_eq!(model.hit_tokens(0), 0);
        assert_eq!(model.hit_tokens(63), 0);
        assert_eq!(model.hit_tokens(64), 64);
        assert_eq!(model.hit_tokens(127), 64);
        assert_eq!(model.hit_tokens(1000), 960);
    }

    #[test]
    fn openai_needs_1024_then_128_steps() {
        let model = CacheModel::OPENAI;
        assert_eq!(model.hit_tokens(1023), 0);
        assert_eq!(model.hit_tokens(1024), 1024);
        assert_eq!(model.hit_tokens(1151), 1024);
        assert_eq!(model.hit_tokens(1152), 1152);
    }

    #[test]
    fn qwen_needs_256() {
        assert_eq!(CacheModel::QWEN_IMPLICIT.hit_tokens(255), 0);
        assert_eq!(CacheModel::QWEN_IMPLICIT.hit_tokens(300), 300);
        assert_eq!(CacheModel::NONE.hit_tokens(1 << 40), 0);
    }

    #[test]
    fn growing_history_hits_its_previous_prefix() {
        let mut cache = CacheSimulator::new(CacheModel::DEEPSEEK);
        assert_eq!(cache.send(&[block(1, 100), block(2, 50)]), 0);
        // 150 shared -> 128 in 64-token units
        assert_eq!(
            cache.send(&[block(1, 100), block(2, 50), block(3, 70)]),
            128
        );
        assert_eq!(
            cache.send(&[block(1, 100), block(2, 50), block(3, 70), block(4, 9)]),
            192
        );
    }

    #[test]
    fn sliding_window_misses_after_the_first_block() {
        let mut cache = CacheSimulator::new(CacheModel::DEEPSEEK);
        cache.send(&[block(0, 100), block(1, 200), block(2, 200)]);
        // the oldest round dropped: only the system block is shared (100 -> 64)
        assert_eq!(
            cache.send(&[block(0, 100), block(2, 200), block(3, 200)]),
            64
        );
        // a prefix seen in any earlier request counts, not just the last one
        assert_eq!(
            cache.send(&[block(0, 100), block(1, 200), block(9, 5)]),
            256
        );
    }
}
