//! What a sequence of requests costs, prompt-cache hits included.
//!
//! Providers cache prompt prefixes and bill the cached part at a fraction of the input price.
//! A policy that rewrites the front of the history every turn (a sliding window) therefore
//! pays full price for almost every token, while one that keeps the prefix stable pays a tenth.
//! [`CacheModel`] says how a provider caches, [`Pricing`] what it charges, and
//! [`CacheSimulator`] replays requests to find how many tokens would hit.

mod cache;
mod pricing;

pub use cache::{CacheModel, CacheSimulator, PromptBlock};
pub(crate) use pricing::pattern_rank;
pub use pricing::{Bill, PriceEntry, Pricing, PRICES};
