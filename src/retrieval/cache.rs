//! An embedder wrapper that embeds each distinct text once.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;

use super::{Embedder, TextKind};
use crate::error::{Error, Result};

/// Vectors by (kind, text); `None` for texts embedded with plain [`Embedder::embed`].
type Vectors = HashMap<(Option<TextKind>, String), Vec<f32>>;

/// Remembers the vectors of the texts it has embedded, keyed by (kind, content), and asks the
/// inner embedder only for the texts it has not seen, in one batched call.
///
/// [`super::Index`] already embeds each round of a conversation once (it skips the rounds its
/// store holds). `Cached` extends that across conversations and indexes sharing it: the same
/// round replayed under several policies, a conversation forked or restarted on a fresh store,
/// or benchmark cases sharing filler rounds cost one embedding each. Cloning shares the cache.
///
/// # Default
///
/// - `capacity`: 65,536 texts; when full, the cache is emptied before storing more (vectors of
///   384 numbers take about 100 MB at capacity).
///
/// ```
/// use std::sync::Arc;
/// use chatctx::retrieval::{Cached, Embedder, NGrams};
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> chatctx::Result<()> {
/// let cached = Cached::new(Arc::new(NGrams::new()));
/// let texts = ["a round".to_string(), "another".to_string(), "a round".to_string()];
/// let vectors = cached.embed(&texts).await?;
/// assert_eq!(vectors[0], vectors[2]);
/// assert_eq!(cached.len(), 2);
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone)]
pub struct Cached {
    inner: Arc<dyn Embedder>,
    vectors: Arc<Mutex<Vectors>>,
    capacity: usize,
}

impl Cached {
    /// The default most texts kept.
    pub const DEFAULT_CAPACITY: usize = 65_536;

    /// Cache the vectors of `inner`.
    pub fn new(inner: Arc<dyn Embedder>) -> Self {
        Cached {
            inner,
            vectors: Arc::new(Mutex::new(HashMap::new())),
            capacity: Cached::DEFAULT_CAPACITY,
        }
    }

    /// Keep at most `capacity` texts (at least 1).
    pub fn with_capacity(mut self, capacity: usize) -> Self {
        self.capacity = capacity.max(1);
        self
    }

    /// The embedder asked on a miss.
    pub fn inner(&self) -> &Arc<dyn Embedder> {
        &self.inner
    }

    /// How many texts are cached.
    pub fn len(&self) -> usize {
        self.vectors.lock().map_or(0, |vectors| vectors.len())
    }

    /// Whether nothing is cached.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    async fn embed_kind(&self, texts: &[String], kind: Option<TextKind>) -> Result<Vec<Vec<f32>>> {
        let poisoned = || Error::Embedder {
            reason: format!("the cache of {} is unusable", self.inner.name()),
        };
        let mut found: Vec<Option<Vec<f32>>> = Vec::with_capacity(texts.len());
        let mut missing: Vec<String> = Vec::new();
        {
            let vectors = self.vectors.lock().map_err(|_| poisoned())?;
            for text in texts {
                let hit = vectors.get(&(kind, text.clone())).cloned();
                if hit.is_none() && !missing.contains(text) {
                    missing.push(text.clone());
                }
                found.push(hit);
            }
        }
        if !missing.is_empty() {
            let fresh = match kind {
                Some(kind) => self.inner.embed_as(&missing, kind).await?,
                None => self.inner.embed(&missing).await?,
            };
            if fresh.len() != missing.len() {
                return Err(Error::Embedder {
                    reason: format!(
                        "{} returned {} vectors for {} texts",
                        self.inner.name(),
                        fresh.len(),
                        missing.len()
                    ),
                });
            }
            let fresh: HashMap<String, Vec<f32>> = missing.into_iter().zip(fresh).collect();
            for (slot, text) in found.iter_mut().zip(texts) {
                if slot.is_none() {
                    *slot = fresh.get(text).cloned();
                }
            }
            let mut vectors = self.vectors.lock().map_err(|_| poisoned())?;
            if vectors.len() + fresh.len() > self.capacity {
                vectors.clear();
            }
            for (text, vector) in fresh.into_iter().take(self.capacity) {
                vectors.insert((kind, text), vector);
            }
        }
        found
            .into_iter()
            .map(|vector| vector.ok_or_else(poisoned))
            .collect()
    }
}

#[async_trait]
impl Embedder for Cached {
    async fn embed(&self, texts: &[String]) -> Result<Vec<Vec<f32>>> {
        self.embed_kind(texts, None).await
    }

    async fn embed_as(&self, texts: &[String], kind: TextKind) -> Result<Vec<Vec<f32>>> {
        self.embed_kind(texts, Some(kind)).await
    }

    fn dimension(&self) -> usize {
        self.inner.dimension()
    }

    fn name(&self) -> String {
        self.inner.name()
    }
}
