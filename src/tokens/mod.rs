//! Exact, offline token counting.
//!
//! The centre is [`TokenCounter`]. [`Vocabulary`] names the embedded vocabularies and hands out
//! their shared exact counters ([`BpeCounter`]); [`EstimateCounter`] is a fast heuristic and
//! [`CachedCounter`] memoizes any counter for incremental counting of a growing conversation.
//!
//! How an exact count is made: the text is NFC-normalized when the vocabulary asks for it, cut
//! into pieces by the vocabulary's pre-tokenizer, and each piece is counted by byte-pair
//! merging on token ids (a whole-piece vocabulary hit counts 1 without merging, and short
//! pieces are cached per thread). Counting never builds the token list. The layout, each part
//! importing only the ones below it:
//!
//! - `token_counter.rs`: the [`TokenCounter`] trait; `cached.rs`, `estimate.rs`: the counters
//!   that wrap or approximate another;
//! - `vocabulary.rs` (the built-in vocabularies, with `specials.rs`) and `load.rs` (vocabulary
//!   files at run time) make [`BpeCounter`]s (`counter.rs`: normalization, pieces, merging);
//! - `bpe/`: the merging of one piece, with its candidate queue (`bucket_queue.rs`) and the
//!   per-thread piece cache (`piece_cache.rs`);
//! - `pretokenize/`: the pattern table, the linear-time scanners (public as [`scan`]) and the
//!   `fancy-regex` splitter for other patterns;
//! - `table/`: a vocabulary in the compact form counting reads, and everything that builds it:
//!   the merges a tiktoken vocabulary implies, characters that start merged, seams no merge
//!   crosses, Bloom filters and cache-line hash tables, the binary format. `build.rs` includes
//!   this folder to preprocess the vendored vocabularies into tables embedded in the binary,
//!   so building a counter is a copy, not a parse.

mod bpe;
mod bucket_queue;
mod cached;
mod counter;
mod estimate;
mod load;
mod piece_cache;
mod pretokenize;
mod specials;
mod table;
mod token_counter;
mod vocabulary;

pub use cached::CachedCounter;
pub use counter::BpeCounter;
pub use estimate::EstimateCounter;
pub use pretokenize::scan;
#[cfg(feature = "tiktoken-rs")]
pub(crate) use token_counter::prefix_boundary;
pub use token_counter::TokenCounter;
pub use vocabulary::Vocabulary;
