//! The compact, precomputed form of a vocabulary, and everything that builds it.
//!
//! `build.rs` includes this folder as one module (with `#[path]`) to turn the vendored
//! vocabularies into this form at build time, and the library decodes it from
//! `include_bytes!` at run time, so no file here may use a `crate::` path. The same builders
//! serve vocabulary files a user loads at run time.
//!
//! One concern per file, each importing only the ones listed before it:
//! - `hash.rs`: the byte-string and id-pair hashes and the empty-slot marker, shared by all;
//! - `bit_filter.rs`, `slot_table.rs`: a one-hash Bloom filter and a cache-line hash table;
//! - `short_tokens.rs`: whole tokens of at most eight bytes, inline in a slot table;
//! - `merges.rs`: the merge table by pair of ids, and a tiktoken vocabulary's equivalent
//!   merges;
//! - `char_parts.rs`, `seams.rs`: characters that start merged, and the seams between them
//!   that no merge crosses;
//! - `tables.rs`: [`Tables`], the whole vocabulary in lookup-ready form, and its whole-token
//!   lookup;
//! - `builders.rs`: [`Tables`] from a rank list or from a vocabulary and its merges;
//! - `words.rs`: the word source the binary form is decoded from;
//! - `format.rs`: the binary form of [`Tables`]; `pack.rs`: that form compressed, as
//!   `build.rs` embeds it and the library unpacks it;
//! - `vocab_file.rs`: the parsers of `.tiktoken` files and Hugging Face `tokenizer.json`.

mod bit_filter;
mod builders;
pub(crate) mod char_parts;
mod format;
mod hash;
mod merges;
pub(crate) mod pack;
pub(crate) mod prefetch;
pub(crate) mod seams;
pub(crate) mod short_tokens;
mod slot_table;
mod tables;
pub(crate) mod two_bytes;
pub(crate) mod vocab_file;
mod words;

pub(crate) use hash::{hash_bytes, hash_word, low_bytes, EMPTY};
pub(crate) use merges::NO_MERGE;
pub(crate) use tables::{Kind, Tables};
