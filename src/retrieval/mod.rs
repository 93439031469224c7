//! Vector recall: find the earlier rounds of a conversation that matter to the current question.
//!
//! Truncation forgets: a fact stated fifty rounds ago falls out of the window. Retrieval keeps
//! every finished round in a vector index and brings the relevant ones back. Three pieces:
//!
//! - an [`Embedder`] turns texts into vectors: [`NGrams`] (offline, deterministic, lexical) or
//!   `HttpEmbedder` (feature `http`: an OpenAI-compatible `/embeddings` endpoint, e.g. OpenAI or
//!   DashScope text-embedding models, or a local multilingual-e5 server); [`Hybrid`] fuses a
//!   lexical and a semantic embedder's scores, and [`Cached`] embeds each distinct text once;
//! - a [`VectorStore`] keeps one vector per round and finds the nearest ones by cosine
//!   similarity: [`InMemory`] (exact search) or `Postgres` (feature `postgres`: PostgreSQL
//!   with the pgvector extension and an HNSW index);
//! - an [`Index`] ties an embedder, a store and a conversation id together; the
//!   [`crate::policy::Recall`] policy uses it to index finished rounds and recall the ones
//!   nearest to the last user message.
//!
//! ```
//! use chatctx::retrieval::{Embedder, NGrams};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> chatctx::Result<()> {
//! let ngrams = NGrams::new();
//! let texts = ["My sister's cat is called Pistachio.", "What is my sister's cat called?", "I like indie music."]
//!     .map(String::from);
//! let vectors = ngrams.embed(&texts).await?;
//! let similarity = |a: &[f32], b: &[f32]| a.iter().zip(b).map(|(x, y)| x * y).sum::<f32>();
//! assert!(similarity(&vectors[0], &vectors[1]) > similarity(&vectors[2], &vectors[1]));
//! # Ok(())
//! # }
//! ```

mod cache;
#[cfg(feature = "http")]
mod http;
mod hybrid;
mod index;
mod memory;
mod ngrams;
#[cfg(feature = "postgres")]
mod postgres;

pub use cache::Cached;
#[cfg(feature = "http")]
pub use http::{Convention, HttpEmbedder};
pub use hybrid::Hybrid;
pub use index::Index;
pub use memory::InMemory;
pub use ngrams::NGrams;
#[cfg(feature = "postgres")]
pub use postgres::Postgres;

use std::sync::Arc;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// What a text is to a retrieval model: a question looking for documents, or a document.
///
/// Models such as multilingual-e5 are trained with a different prefix for each (`query: `,
/// `passage: `) and rank worse without them; [`Index`] embeds rounds as passages and the
/// question as a query, and an [`Embedder`] that knows its model's convention applies it in
/// [`Embedder::embed_as`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TextKind {
    /// A question or search query.
    Query,
    /// A document to be found: a stored round.
    Passage,
}

/// Turns texts into vectors of a fixed dimension, in batches.
///
/// The trait is object safe: [`Index`] holds an `Arc<dyn Embedder>`.
#[async_trait]
pub trait Embedder: Send + Sync + std::fmt::Debug {
    /// One vector of [`Embedder::dimension`] numbers per text, in the order of `texts`.
    async fn embed(&self, texts: &[String]) -> Result<Vec<Vec<f32>>>;

    /// Like [`Embedder::embed`], for texts that are all of `kind`. The default ignores the
    /// kind; an embedder whose model has a query/passage convention applies it here.
    async fn embed_as(&self, texts: &[String], kind: TextKind) -> Result<Vec<Vec<f32>>> {
        let _ = kind;
        self.embed(texts).await
    }

    /// The length of every vector this embedder returns.
    fn dimension(&self) -> usize;

    /// A short name for error messages, e.g. `ngrams` or the model name.
    fn name(&self) -> String;
}

#[async_trait]
impl<E: Embedder + ?Sized> Embedder for Arc<E> {
    async fn embed(&self, texts: &[String]) -> Result<Vec<Vec<f32>>> {
        (**self).embed(texts).await
    }

    async fn embed_as(&self, texts: &[String], kind: TextKind) -> Result<Vec<Vec<f32>>> {
        (**self).embed_as(texts, kind).await
    }

    fn dimension(&self) -> usize {
        (**self).dimension()
    }

    fn name(&self) -> String {
        (**self).name()
    }
}

/// One stored round: its place in the conversation, its size and its vector.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Entry {
    /// The conversation the round belongs to.
    pub conversation: String,
    /// The round's position among the conversation's rounds (0 is the first round).
    pub round: usize,
    /// Index of the round's first message in the history.
    pub start: usize,
    /// One past the index of the round's last message.
    pub end: usize,
    /// Prompt tokens of the round when it was stored.
    pub tokens: usize,
    /// The round's embedding.
    pub vector: Vec<f32>,
}

/// A round found by a search, with its cosine similarity to the query.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Hit {
    /// The round's position among the conversation's rounds.
    pub round: usize,
    /// Index of the round's first message in the history.
    pub start: usize,
    /// One past the index of the round's last message.
    pub end: usize,
    /// Prompt tokens of the round when it was stored.
    pub tokens: usize,
    /// Cosine similarity to the query, in `[-1, 1]` (higher is nearer).
    pub score: f32,
}

/// Keeps one vector per round and finds the rounds nearest to a query, per conversation.
///
/// Rounds are keyed by (conversation, round): upserting a key again replaces it.
#[async_trait]
pub trait VectorStore: Send + Sync + std::fmt::Debug {
    /// The length of the vectors the store holds.
    fn dimension(&self) -> usize;

    /// A short description for error messages, e.g. `in-memory store`.
    fn name(&self) -> String;

    /// Insert or replace `entries`. Fails with [`Error::DimensionMismatch`] when a vector does
    /// not have [`VectorStore::dimension`] numbers, and with [`Error::Store`] when one is not
    /// finite.
    async fn upsert(&self, entries: &[Entry]) -> Result<()>;

    /// The `k` rounds of `conversation` nearest to `query` by cosine similarity, nearest first.
    async fn search(&self, conversation: &str, query: &[f32], k: usize) -> Result<Vec<Hit>>;

    /// The round positions stored for `conversation`, ascending.
    async fn rounds(&self, conversation: &str) -> Result<Vec<usize>>;

    /// Forget every round of `conversation`.
    async fn delete(&self, conversation: &str) -> Result<()>;
}

#[async_trait]
impl<S: VectorStore + ?Sized> VectorStore for Arc<S> {
    fn dimension(&self) -> usize {
        (**self).dimension()
    }

    fn name(&self) -> String {
        (**self).name()
    }

    async fn upsert(&self, entries: &[Entry]) -> Result<()> {
        (**self).upsert(entries).await
    }

    async fn search(&self, conversation: &str, query: &[f32], k: usize) -> Result<Vec<Hit>> {
        (**self).search(conversation, query, k).await
    }

    async fn rounds(&self, conversation: &str) -> Result<Vec<usize>> {
        (**self).rounds(conversation).await
    }

    async fn delete(&self, conversation: &str) -> Result<()> {
        (**self).delete(conversation).await
    }
}

/// Check that `vector` has `dimension` finite numbers; `what` names its owner in errors.
pub(crate) fn check_vector(vector: &[f32], dimension: usize, what: &str) -> Result<()> {
    if vector.len() != dimension {
        return Err(Error::DimensionMismatch {
            what: what.to_string(),
            expected: dimension,
            found: vector.len(),
        });
    }
    if let Some(position) = vector.iter().position(|x| !x.is_finite()) {
        return Err(Error::Store {
            reason: format!("{what}: number {position} of the vector is not finite"),
        });
    }
    Ok(())
}

/// Cosine similarity of two vectors of the same length; 0 when either is zero.
pub(crate) fn cosine(a: &[f32], b: &[f32]) -> f32 {
    let (mut dot, mut aa, mut bb) = (0.0f64, 0.0f64, 0.0f64);
    for (x, y) in a.iter().zip(b) {
        let (x, y) = (f64::from(*x), f64::from(*y));
        dot += x * y;
        aa += x * x;
        bb += y * y;
    }
    if aa == 0.0 || bb == 0.0 {
        return 0.0;
    }
    (dot / (aa.sqrt() * bb.sqrt())) as f32
}
