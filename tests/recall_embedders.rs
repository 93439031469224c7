//! The embedder pieces of paraphrase recall: the model's query/passage convention on the wire,
//! the text cache, and the hybrid fusion of lexical and semantic scores.
#![allow(clippy::unwrap_used)]

use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use chatctx::retrieval::{Cached, Embedder, Hybrid, NGrams, TextKind};
use chatctx::Error;

/// Fixed vectors per text, recording every call.
#[derive(Debug, Default)]
struct Recorder {
    calls: Mutex<Vec<(Option<TextKind>, Vec<String>)>>,
}

impl Recorder {
    fn vector(text: &str) -> Vec<f32> {
        let n = text.chars().count() as f32;
        vec![1.0, n, -n / 2.0]
    }
}

#[async_trait]
impl Embedder for Recorder {
    async fn embed(&self, texts: &[String]) -> chatctx::Result<Vec<Vec<f32>>> {
        self.calls.lock().unwrap().push((None, texts.to_vec()));
        Ok(texts.iter().map(|t| Recorder::vector(t)).collect())
    }
    async fn embed_as(&self, texts: &[String], kind: TextKind) -> chatctx::Result<Vec<Vec<f32>>> {
        self.calls
            .lock()
            .unwrap()
            .push((Some(kind), texts.to_vec()));
        Ok(texts.iter().map(|t| Recorder::vector(t)).collect())
    }
    fn dimension(&self) -> usize {
        3
    }
    fn name(&self) -> String {
        "recorder".into()
    }
}

fn texts(list: &[&str]) -> Vec<String> {
    list.iter().map(|t| t.to_string()).collect()
}

#[tokio::test]
async fn the_cache_asks_only_for_unseen_texts_once_per_kind() {
    let inner = Arc::new(Recorder::default());
    let cached = Cached::new(inner.clone());
    let first = cached
        .embed_as(&texts(&["a", "bb", "a"]), TextKind::Passage)
        .await
        .unwrap();
    assert_eq!(first[0], first[2]);
    let second = cached
        .embed_as(&texts(&["bb", "ccc"]), TextKind::Passage)
        .await
        .unwrap();
    assert_eq!(second[0], first[1]);
    // the same text as a query is another vector for a model with a convention
    cached
        .embed_as(&texts(&["a"]), TextKind::Query)
        .await
        .unwrap();
    cached
        .embed_as(&texts(&["a", "ccc"]), TextKind::Passage)
        .await
        .unwrap();
    let calls = inner.calls.lock().unwrap().clone();
    assert_eq!(
        calls,
        vec![
            (Some(TextKind::Passage), texts(&["a", "bb"])),
            (Some(TextKind::Passage), texts(&["ccc"])),
            (Some(TextKind::Query), texts(&["a"])),
        ]
    );
    assert_eq!(cached.len(), 4);
    // a full cache starts again rather than growing
    let small = Cached::new(Arc::new(Recorder::default())).with_capacity(2);
    small.embed(&texts(&["a", "b"])).await.unwrap();
    small.embed(&texts(&["c"])).await.unwrap();
    assert_eq!(small.len(), 1);
}

#[tokio::test]
async fn hybrid_similarity_is_the_weighted_sum_of_both_cosines() {
    let cosine = |a: &[f32], b: &[f32]| {
        let dot: f32 = a.iter().zip(b).map(|(x, y)| x * y).sum();
        let norm = |v: &[f32]| v.iter().map(|x| x * x).sum::<f32>().sqrt();
        dot / (norm(a) * norm(b))
    };
    let pair = texts(&[
        "My bicycle lock combination is 4817.",
        "What opens my bike's lock?",
    ]);
    let ngrams = NGrams::new().embed(&pair).await.unwrap();
    let semantic = Recorder::default().embed(&pair).await.unwrap();
    for weight in [0.0f32, 0.3, 0.5, 1.0] {
        let hybrid = Hybrid::new(Arc::new(NGrams::new()), Arc::new(Recorder::default()))
            .with_lexical_weight(weight)
            .unwrap();
        assert_eq!(hybrid.dimension(), NGrams::DEFAULT_DIMENSION + 3);
        let fused = hybrid.embed_as(&pair, TextKind::Passage).await.unwrap();
        let expected = weight * cosine(&ngrams[0], &ngrams[1])
            + (1.0 - weight) * cosine(&semantic[0], &semantic[1]);
        let found = cosine(&fused[0], &fused[1]);
        assert!(
            (found - expected).abs() < 1e-5,
            "{weight}: {found} vs {expected}"
        );
    }
    let error = Hybrid::new(Arc::new(NGrams::new()), Arc::new(Recorder::default()))
        .with_lexical_weight(1.5)
        .unwrap_err();
    assert!(matches!(error, Error::InvalidConfig { .. }), "{error}");
}

#[tokio::test]
async fn hybrid_passes_the_kind_to_the_semantic_embedder() {
    let semantic = Arc::new(Recorder::default());
    let hybrid = Hybrid::new(Arc::new(NGrams::new()), semantic.clone());
    hybrid
        .embed_as(&texts(&["q"]), TextKind::Query)
        .await
        .unwrap();
    assert_eq!(
        semantic.calls.lock().unwrap().clone(),
        vec![(Some(TextKind::Query), texts(&["q"]))]
    );
}

#[cfg(feature = "http")]
#[path = "common/http_stub.rs"]
mod http_stub;

#[cfg(feature = "http")]
mod http {
    use super::http_stub;
    use super::*;
    use chatctx::retrieval::{Convention, HttpEmbedder};

    const ONE: &str = r#"{"data":[{"index":0,"embedding":[1.0,0.0,0.0]}]}"#;

    /// The JSON bodies of the requests the embedder `make` builds for a stub's URL sends for a
    /// query, a passage and a plain text.
    async fn bodies(make: impl FnOnce(&str) -> HttpEmbedder) -> Vec<serde_json::Value> {
        let (url, server) = http_stub::serve(vec![
            ("200 OK", "", ONE),
            ("200 OK", "", ONE),
            ("200 OK", "", ONE),
        ])
        .await;
        let http = make(&url);
        http.embed_as(&texts(&["where is it?"]), TextKind::Query)
            .await
            .unwrap();
        http.embed_as(&texts(&["it is here"]), TextKind::Passage)
            .await
            .unwrap();
        http.embed(&texts(&["plain"])).await.unwrap();
        server
            .await
            .unwrap()
            .iter()
            .map(|arrival| http_stub::body(&arrival.request))
            .collect()
    }

    #[tokio::test]
    async fn e5_models_get_their_prefixes_by_default() {
        assert_eq!(
            Convention::for_model("multilingual-e5-small"),
            Convention::e5()
        );
        assert_eq!(
            Convention::for_model("intfloat/e5-base-v2"),
            Convention::e5()
        );
        assert_eq!(
            Convention::for_model("text-embedding-3-small"),
            Convention::None
        );
        assert_eq!(Convention::for_model("bge-m3"), Convention::None);
        let sent = bodies(|url| {
            let http = HttpEmbedder::new(url, "multilingual-e5-small", 3);
            assert_eq!(http.convention(), &Convention::e5());
            http
        })
        .await;
        assert_eq!(sent[0]["input"][0], "query: where is it?");
        assert_eq!(sent[1]["input"][0], "passage: it is here");
        assert_eq!(sent[2]["input"][0], "plain");
        assert!(sent.iter().all(|body| body.get("input_type").is_none()));
    }

    #[tokio::test]
    async fn input_type_servers_get_the_kind_as_a_field() {
        let sent =
            bodies(|url| HttpEmbedder::new(url, "e5", 3).with_convention(Convention::InputType))
                .await;
        assert_eq!(sent[0]["input"][0], "where is it?");
        assert_eq!(sent[0]["input_type"], "query");
        assert_eq!(sent[1]["input"][0], "it is here");
        assert_eq!(sent[1]["input_type"], "passage");
        assert!(sent[2].get("input_type").is_none());
        let none =
            bodies(|url| HttpEmbedder::new(url, "e5", 3).with_convention(Convention::None)).await;
        assert_eq!(none[0]["input"][0], "where is it?");
        assert!(none[0].get("input_type").is_none());
    }

    #[test]
    fn conventions_parse_by_name() {
        assert_eq!("e5".parse::<Convention>().unwrap(), Convention::e5());
        assert_eq!(
            "input-type".parse::<Convention>().unwrap(),
            Convention::InputType
        );
        assert_eq!("none".parse::<Convention>().unwrap(), Convention::None);
        let error = "E5-ish".parse::<Convention>().unwrap_err();
        assert!(
            error.to_string().contains("CHATCTX_EMBEDDING_CONVENTION"),
            "{error}"
        );
    }
}
