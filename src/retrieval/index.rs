//! One conversation's vector index: an embedder, a store and the conversation's id.

use std::collections::BTreeSet;
use std::sync::Arc;

use super::{Embedder, Entry, Hit, InMemory, NGrams, TextKind, VectorStore};
use crate::conversation::{Conversation, Round};
use crate::error::{Error, Result};
use crate::message::Message;
use crate::template::PromptCounter;

/// The vector index of one conversation: which [`Embedder`] makes the vectors, which
/// [`VectorStore`] keeps them, and under which conversation id.
///
/// Only *finished* rounds are indexed: every round but the last (the last one is still being
/// answered and may grow). Each round is embedded once: before embedding, the index asks the
/// store which rounds it already holds, so a session resumed on a persistent store does not
/// embed its history again, and the new rounds go to the embedder in one batch. Rounds are
/// embedded as [`TextKind::Passage`] and questions as [`TextKind::Query`], so a model with a
/// query/passage convention gets it. Wrap the embedder in [`super::Cached`] to also share
/// vectors between indexes (the same round content is then embedded once in all of them).
///
/// ```
/// use chatctx::conversation::Conversation;
/// use chatctx::message::Message;
/// use chatctx::retrieval::Index;
/// # use chatctx::template::PromptCounter;
/// # #[derive(Debug)]
/// # struct Bytes;
/// # impl PromptCounter for Bytes {
/// #     fn message_tokens(&self, m: &Message, _: bool) -> usize { m.content.text().len() }
/// #     fn overhead(&self, _: &[Message]) -> usize { 0 }
/// # }
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> chatctx::Result<()> {
/// let index = Index::in_memory("chat-42");
/// let history = vec![
///     Message::user("My sister's cat is called Pistachio."),
///     Message::assistant("Nice name!"),
///     Message::user("I like indie music."),
///     Message::assistant("Me too."),
///     Message::user("What is my sister's cat called?"),
/// ];
/// let added = index.index(&history, &Conversation::new(&history), &Bytes).await?;
/// assert_eq!(added, 2); // the last round is not finished
/// let hits = index.search("What is my sister's cat called?", 1).await?;
/// assert_eq!(hits[0].round, 0);
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone)]
pub struct Index {
    embedder: Arc<dyn Embedder>,
    store: Arc<dyn VectorStore>,
    conversation: String,
}

/// A finished round waiting to be embedded.
struct Pending {
    round: usize,
    range: Round,
    tokens: usize,
    text: String,
}

impl Index {
    /// The index of `conversation` in `store`, embedded by `embedder`.
    ///
    /// Fails with [`Error::DimensionMismatch`] when the embedder's vectors do not have the
    /// store's dimension.
    pub fn new(
        embedder: Arc<dyn Embedder>,
        store: Arc<dyn VectorStore>,
        conversation: impl Into<String>,
    ) -> Result<Self> {
        if embedder.dimension() != store.dimension() {
            return Err(Error::DimensionMismatch {
                what: format!("embedder {} vs {}", embedder.name(), store.name()),
                expected: store.dimension(),
                found: embedder.dimension(),
            });
        }
        Ok(Index {
            embedder,
            store,
            conversation: conversation.into(),
        })
    }

    /// The offline default: [`NGrams`] vectors in a fresh [`InMemory`] store.
    pub fn in_memory(conversation: impl Into<String>) -> Self {
        Index {
            embedder: Arc::new(NGrams::new()),
            store: Arc::new(InMemory::new(NGrams::DEFAULT_DIMENSION)),
            conversation: conversation.into(),
        }
    }

    /// The conversation id rounds are stored under.
    pub fn conversation(&self) -> &str {
        &self.conversation
    }

    /// The embedder.
    pub fn embedder(&self) -> &Arc<dyn Embedder> {
        &self.embedder
    }

    /// The store.
    pub fn store(&self) -> &Arc<dyn VectorStore> {
        &self.store
    }

    /// Embed and store the finished rounds of `messages` the store does not hold yet; returns
    /// how many were added. `counter` gives the token counts stored with them.
    pub async fn index(
        &self,
        messages: &[Message],
        conversation: &Conversation,
        counter: &dyn PromptCounter,
    ) -> Result<usize> {
        let pending = self.pending(messages, conversation, counter).await?;
        let texts: Vec<String> = pending.iter().map(|p| p.text.clone()).collect();
        let vectors = self.embed(&texts, TextKind::Passage).await?;
        self.save(&pending, vectors).await?;
        Ok(pending.len())
    }

    /// The `k` stored rounds nearest to `query`, nearest first.
    pub async fn search(&self, query: &str, k: usize) -> Result<Vec<Hit>> {
        let vectors = self.embed(&[query.to_string()], TextKind::Query).await?;
        match vectors.first() {
            Some(vector) => self.store.search(&self.conversation, vector, k).await,
            None => Ok(Vec::new()),
        }
    }

    /// [`Index::index`] then [`Index::search`]: one embedder call for the new rounds (if any)
    /// and one for the query (if `k > 0`).
    pub(crate) async fn index_and_search(
        &self,
        messages: &[Message],
        conversation: &Conversation,
        counter: &dyn PromptCounter,
        query: &str,
        k: usize,
    ) -> Result<Vec<Hit>> {
        let pending = self.pending(messages, conversation, counter).await?;
        let texts: Vec<String> = pending.iter().map(|p| p.text.clone()).collect();
        let vectors = self.embed(&texts, TextKind::Passage).await?;
        self.save(&pending, vectors).await?;
        if k == 0 {
            return Ok(Vec::new());
        }
        let query = self.embed(&[query.to_string()], TextKind::Query).await?;
        match query.first() {
            Some(vector) => self.store.search(&self.conversation, vector, k).await,
            None => Ok(Vec::new()),
        }
    }

    /// The finished rounds the store does not hold.
    async fn pending(
        &self,
        messages: &[Message],
        conversation: &Conversation,
        counter: &dyn PromptCounter,
    ) -> Result<Vec<Pending>> {
        let finished = conversation.rounds().len().saturating_sub(1);
        let stored: BTreeSet<usize> = self
            .store
            .rounds(&self.conversation)
            .await?
            .into_iter()
            .collect();
        Ok(conversation
            .rounds()
            .iter()
            .take(finished)
            .enumerate()
            .filter(|(position, _)| !stored.contains(position))
            .map(|(position, round)| {
                let slice = messages.get(round.range()).unwrap_or_default();
                Pending {
                    round: position,
                    range: *round,
                    tokens: slice
                        .iter()
                        .map(|message| counter.message_tokens(message, false))
                        .sum(),
                    text: round_text(slice),
                }
            })
            .collect())
    }

    /// Embed `texts` as `kind`, checking the number, length and values of the vectors.
    async fn embed(&self, texts: &[String], kind: TextKind) -> Result<Vec<Vec<f32>>> {
        if texts.is_empty() {
            return Ok(Vec::new());
        }
        let vectors = self.embedder.embed_as(texts, kind).await?;
        if vectors.len() != texts.len() {
            return Err(Error::Embedder {
                reason: format!(
                    "{} returned {} vectors for {} texts",
                    self.embedder.name(),
                    vectors.len(),
                    texts.len()
                ),
            });
        }
        let dimension = self.store.dimension();
        for vector in &vectors {
            if vector.len() != dimension {
                return Err(Error::DimensionMismatch {
                    what: format!(
                        "vectors of {} for {}",
                        self.embedder.name(),
                        self.store.name()
                    ),
                    expected: dimension,
                    found: vector.len(),
                });
            }
            if vector.iter().any(|x| !x.is_finite()) {
                return Err(Error::Embedder {
                    reason: format!(
                        "{} returned a vector with NaN or infinity",
                        self.embedder.name()
                    ),
                });
            }
        }
        Ok(vectors)
    }

    async fn save(&self, pending: &[Pending], vectors: Vec<Vec<f32>>) -> Result<()> {
        if pending.is_empty() {
            return Ok(());
        }
        let entries: Vec<Entry> = pending
            .iter()
            .zip(vectors)
            .map(|(p, vector)| Entry {
                conversation: self.conversation.clone(),
                round: p.round,
                start: p.range.start(),
                end: p.range.end(),
                tokens: p.tokens,
                vector,
            })
            .collect();
        self.store.upsert(&entries).await
    }
}

/// The text a round is embedded as: its messages' texts, one per line.
fn round_text(messages: &[Message]) -> String {
    let texts: Vec<String> = messages
        .iter()
        .map(|message| message.content.text())
        .filter(|text| !text.trim().is_empty())
        .collect();
    texts.join("\n")
}
