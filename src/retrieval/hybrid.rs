//! Lexical and semantic similarity fused into one vector.

use std::sync::Arc;

use async_trait::async_trait;

use super::{Embedder, TextKind};
use crate::error::{Error, Result};

/// Fuses a lexical embedder (e.g. [`super::NGrams`]) and a semantic one (e.g. an embedding
/// model behind `HttpEmbedder`) into one embedder whose cosine similarity is the weighted sum of
/// theirs: `w * lexical + (1 - w) * semantic`.
///
/// Each text's two vectors are normalized to length 1, scaled by `sqrt(w)` and `sqrt(1 - w)`
/// and concatenated, so any [`super::VectorStore`] (in memory or pgvector) ranks by the fused
/// score with no change: the dot product of two such vectors is exactly the weighted sum of the
/// two cosines, and each vector has length 1. The lexical part keeps exact names, numbers and
/// rare words; the semantic part finds paraphrases. The dimension is the sum of both.
///
/// # Default
///
/// - `lexical_weight`: 0.1 (0.3 did worse on the recall benchmark, see the README)
///
/// ```
/// use std::sync::Arc;
/// use chatctx::retrieval::{Embedder, Hybrid, NGrams};
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> chatctx::Result<()> {
/// let hybrid = Hybrid::new(Arc::new(NGrams::new()), Arc::new(NGrams::with_dimension(64)?));
/// assert_eq!(hybrid.dimension(), 512 + 64);
/// let vectors = hybrid.embed(&["a text".to_string()]).await?;
/// let length: f32 = vectors[0].iter().map(|x| x * x).sum::<f32>().sqrt();
/// assert!((length - 1.0).abs() < 1e-5);
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone)]
pub struct Hybrid {
    lexical: Arc<dyn Embedder>,
    semantic: Arc<dyn Embedder>,
    lexical_weight: f32,
}

impl Hybrid {
    /// The default weight of the lexical similarity.
    pub const DEFAULT_LEXICAL_WEIGHT: f32 = 0.1;

    /// Fuse `lexical` and `semantic`.
    pub fn new(lexical: Arc<dyn Embedder>, semantic: Arc<dyn Embedder>) -> Self {
        Hybrid {
            lexical,
            semantic,
            lexical_weight: Hybrid::DEFAULT_LEXICAL_WEIGHT,
        }
    }

    /// Weigh the lexical similarity by `weight` and the semantic one by `1 - weight`; fails
    /// with [`Error::InvalidConfig`] unless `weight` is in `[0, 1]`.
    pub fn with_lexical_weight(mut self, weight: f32) -> Result<Self> {
        if !(0.0..=1.0).contains(&weight) {
            return Err(Error::config(
                "lexical_weight",
                format!("{weight} is not in [0, 1]"),
            ));
        }
        self.lexical_weight = weight;
        Ok(self)
    }

    /// The weight of the lexical similarity.
    pub fn lexical_weight(&self) -> f32 {
        self.lexical_weight
    }

    async fn fuse(&self, texts: &[String], kind: Option<TextKind>) -> Result<Vec<Vec<f32>>> {
        let (lexical, semantic) = match kind {
            Some(kind) => (
                self.lexical.embed_as(texts, kind).await?,
                self.semantic.embed_as(texts, kind).await?,
            ),
            None => (
                self.lexical.embed(texts).await?,
                self.semantic.embed(texts).await?,
            ),
        };
        if lexical.len() != texts.len() || semantic.len() != texts.len() {
            return Err(Error::Embedder {
                reason: format!(
                    "{}: {} and {} vectors for {} texts",
                    self.name(),
                    lexical.len(),
                    semantic.len(),
                    texts.len()
                ),
            });
        }
        let (wl, ws) = (
            self.lexical_weight.sqrt(),
            (1.0 - self.lexical_weight).sqrt(),
        );
        Ok(lexical
            .iter()
            .zip(&semantic)
            .map(|(l, s)| {
                let mut fused = Vec::with_capacity(l.len() + s.len());
                fused.extend(scaled(l, wl));
                fused.extend(scaled(s, ws));
                fused
            })
            .collect())
    }
}

/// `vector` normalized to length `length` (all zeros stays all zeros).
fn scaled(vector: &[f32], length: f32) -> impl Iterator<Item = f32> + '_ {
    let norm = vector
        .iter()
        .map(|x| f64::from(*x) * f64::from(*x))
        .sum::<f64>()
        .sqrt();
    let factor = if norm > 0.0 {
        (f64::from(length) / norm) as f32
    } else {
        0.0
    };
    vector.iter().map(move |x| x * factor)
}

#[async_trait]
impl Embedder for Hybrid {
    async fn embed(&self, texts: &[String]) -> Result<Vec<Vec<f32>>> {
        self.fuse(texts, None).await
    }

    async fn embed_as(&self, texts: &[String], kind: TextKind) -> Result<Vec<Vec<f32>>> {
        self.fuse(texts, Some(kind)).await
    }

    fn dimension(&self) -> usize {
        self.lexical.dimension() + self.semantic.dimension()
    }

    fn name(&self) -> String {
        format!(
            "hybrid({} x{}, {} x{})",
            self.lexical.name(),
            self.lexical_weight,
            self.semantic.name(),
            1.0 - self.lexical_weight
        )
    }
}
