//! Turning command-line names into library values: models, tokenizers, limits, policies.

use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use clap::Args;

use chatctx::model::{Model, ModelSpec};
use chatctx::policy::{ContextPolicy, Limits, PolicySpec};
#[cfg(feature = "http")]
use chatctx::retrieval::{Cached, HttpEmbedder};
use chatctx::retrieval::{Embedder, InMemory, Index, NGrams, Postgres};
use chatctx::summarizer::SummarizerSpec;
use chatctx::template::Family;
use chatctx::tokens::Vocabulary;
use chatctx::{ChatRequest, Error, PromptCounter, TokenCounter};

/// What to count with: a resolved model, or a bare vocabulary with its family's template.
#[derive(Debug)]
pub(crate) struct Counting {
    /// The model name, when one was given or found in the request.
    pub(crate) model: Option<String>,
    /// The model's spec (for a bare vocabulary: its family's defaults).
    pub(crate) spec: ModelSpec,
}

impl Counting {
    /// From `--model`, else `--tokenizer`, else the request's `model` field.
    pub(crate) fn resolve(
        model: Option<&str>,
        tokenizer: Option<&str>,
        request_model: Option<&str>,
    ) -> Result<Self, Error> {
        if let Some(name) = model {
            return Ok(Counting::of_model(Model::resolve(name)?));
        }
        if let Some(name) = tokenizer {
            return match Vocabulary::from_str(name) {
                Ok(vocabulary) => Ok(Counting {
                    model: None,
                    spec: ModelSpec::new(vocabulary, family_of(vocabulary)),
                }),
                // a model name is accepted wherever a tokenizer is
                Err(err) => Model::resolve(name)
                    .map(Counting::of_model)
                    .map_err(|model_err| prefer_not_compiled(err, model_err)),
            };
        }
        match request_model {
            Some(name) => Ok(Counting::of_model(Model::resolve(name)?)),
            None => Err(Error::InvalidConfig {
                setting: "model".to_string(),
                reason: "none given: pass --model (or --tokenizer), or put `model` in the request"
                    .to_string(),
            }),
        }
    }

    fn of_model(model: Model) -> Self {
        Counting {
            model: Some(model.name.clone()),
            spec: model.spec,
        }
    }

    /// The request's `thinking` field applied (it decides DeepSeek's thinking mode).
    pub(crate) fn with_request(self, request: &ChatRequest) -> Result<Self, Error> {
        let model = Model::custom(self.model.clone().unwrap_or_default(), self.spec)
            .for_request(&request.fields)?;
        Ok(Counting {
            model: self.model,
            spec: model.spec,
        })
    }

    /// The prompt counter.
    pub(crate) fn prompt_counter(&self) -> Arc<dyn PromptCounter> {
        Model::custom(self.model.clone().unwrap_or_default(), self.spec.clone()).prompt_counter()
    }
}

/// Register the models of `--models FILE`, else of the file the `CHATCTX_MODELS` environment
/// variable names (nothing when neither is given).
pub(crate) fn register_models(flag: Option<&str>) -> Result<(), Error> {
    let path = match flag {
        Some(path) => path.to_string(),
        None => match std::env::var("CHATCTX_MODELS") {
            Ok(path) if !path.trim().is_empty() => path,
            _ => return Ok(()),
        },
    };
    for spec in chatctx::model::load_models(&path)? {
        Model::register(spec)?;
    }
    Ok(())
}

/// The template family a bare vocabulary is used with.
fn family_of(vocabulary: Vocabulary) -> Family {
    match vocabulary {
        Vocabulary::Cl100kBase | Vocabulary::O200kBase => Family::OpenAi,
        Vocabulary::Qwen25 => Family::Qwen25,
        Vocabulary::Qwen35 => Family::Qwen3,
        Vocabulary::DeepseekV3 => Family::DeepSeekV4,
    }
}

/// A text counter from a vocabulary or model name.
pub(crate) fn text_counter(name: &str) -> Result<Arc<dyn TokenCounter>, Error> {
    match Vocabulary::from_str(name) {
        Ok(vocabulary) => Ok(vocabulary.counter()),
        Err(err) => Model::resolve(name)
            .map(|model| model.spec.counter())
            .map_err(|model_err| prefer_not_compiled(err, model_err)),
    }
}

/// The error for a name that is neither a tokenizer nor a model: the tokenizer's, unless the
/// name is a model whose vocabulary this build leaves out.
fn prefer_not_compiled(tokenizer_err: Error, model_err: Error) -> Error {
    match model_err {
        Error::VocabularyNotCompiled { .. } => model_err,
        _ => tokenizer_err,
    }
}

/// Limits from the model's defaults and the flags.
pub(crate) fn limits(
    spec: &ModelSpec,
    window: Option<usize>,
    reserve: Option<usize>,
) -> Result<Limits, Error> {
    let window = window.unwrap_or(spec.window);
    let reserve = reserve.unwrap_or_else(|| spec.max_output.min(window / 4));
    let limits = Limits::new(window, reserve);
    limits.usable()?;
    Ok(limits)
}

/// The embedder named by `--embedder`: `ngrams` (offline) or `http` (an OpenAI-compatible
/// embedding endpoint configured as `HttpEmbedder::from_env` says). The model's vectors are
/// cached by text, so each distinct round is embedded once per run.
pub(crate) fn embedder(name: &str, timeout: Option<Seconds>) -> Result<Arc<dyn Embedder>, Error> {
    #[cfg(feature = "http")]
    let model = || -> Result<Arc<dyn Embedder>, Error> {
        let mut http = HttpEmbedder::from_env()?;
        if let Some(seconds) = timeout {
            http = http.with_timeout(Duration::from_secs_f64(seconds.0));
        }
        Ok(Arc::new(Cached::new(Arc::new(http))))
    };
    #[cfg(not(feature = "http"))]
    let model = || -> Result<Arc<dyn Embedder>, Error> {
        let _ = timeout;
        Err(Error::InvalidConfig {
            setting: "embedder".to_string(),
            reason: "`http` needs chatctx built with the `http` cargo feature".to_string(),
        })
    };
    match name {
        "ngrams" => Ok(Arc::new(NGrams::new())),
        "http" => model(),
        other => Err(Error::InvalidConfig {
            setting: "embedder".to_string(),
            reason: format!("unknown embedder {other:?}; valid: ngrams, http"),
        }),
    }
}

/// A policy from its spec, the summarizer flag and (for `recall:K`) the vector store and
/// `embedder`.
///
/// Each call stores rounds under a fresh conversation id, so runs never see each other's
/// rounds; [`forget`] removes them from a persistent store afterwards.
pub(crate) async fn policy(
    spec: &str,
    budget: &BudgetArgs,
    embedder: &Arc<dyn Embedder>,
) -> Result<Built, Error> {
    let spec = PolicySpec::from_str(spec)?;
    let summarizer = SummarizerSpec::from_str(&budget.summarizer)?.build()?;
    let index = index(&budget.store, embedder).await?;
    let policy = match budget.summarizer_timeout {
        Some(seconds) => spec.build_with_summarizer_timeout(
            summarizer,
            &index,
            Duration::from_secs_f64(seconds.0),
        )?,
        None => spec.build_with_index(summarizer, &index)?,
    };
    Ok(Built {
        spec,
        policy,
        index,
    })
}

/// A built policy and the index its recall (if any) uses.
pub(crate) struct Built {
    pub(crate) spec: PolicySpec,
    pub(crate) policy: Box<dyn ContextPolicy>,
    pub(crate) index: Index,
}

/// Remove a run's rounds from the store (best effort: a failure is reported on stderr).
pub(crate) async fn forget(index: &Index) {
    if let Err(err) = index.store().delete(index.conversation()).await {
        eprintln!("chatctx: warning: could not clean up the vector store: {err}");
    }
}

fn conversation_id() -> String {
    use std::sync::atomic::{AtomicUsize, Ordering};
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |elapsed| elapsed.as_nanos());
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    format!("chatctx-cli-{}-{nanos}-{n}", std::process::id())
}

/// The vector store named by `--store` (`memory` or a `postgres://` URL), of the embedder's
/// dimension.
async fn index(store: &str, embedder: &Arc<dyn Embedder>) -> Result<Index, Error> {
    let dimension = embedder.dimension();
    if store == "memory" {
        let memory = Arc::new(InMemory::new(dimension));
        return Index::new(Arc::clone(embedder), memory, conversation_id());
    }
    if store.starts_with("postgres://") || store.starts_with("postgresql://") {
        // One table per dimension: the n-grams' (512) is the default table.
        let postgres = if dimension == NGrams::DEFAULT_DIMENSION {
            Postgres::connect(store, dimension).await?
        } else {
            let table = format!("{}_{dimension}", Postgres::DEFAULT_TABLE);
            Postgres::connect_table(store, &table, dimension).await?
        };
        return Index::new(Arc::clone(embedder), Arc::new(postgres), conversation_id());
    }
    Err(Error::InvalidConfig {
        setting: "store".to_string(),
        reason: format!(
            "unknown vector store {:?}; valid: memory, postgres://...",
            redact_password(store)
        ),
    })
}

/// The flags `fit` and `replay` share: the model, its limits and the summarizer. `Debug`
/// hides the password of a `--store` URL.
#[derive(Args)]
pub(crate) struct BudgetArgs {
    /// The model (default: the request's `model`): tokenizer, template, window and prices.
    #[arg(long)]
    pub(crate) model: Option<String>,
    /// Context window in tokens (default: the model's).
    #[arg(long)]
    pub(crate) window: Option<usize>,
    /// Tokens reserved for the reply (default: the model's max output, at most window/4).
    #[arg(long)]
    pub(crate) reserve: Option<usize>,
    /// Summarizer for rolling-summary: extractive (offline), command:CMD (messages as a JSON
    /// array on stdin, summary on stdout), http (OpenAI-compatible endpoint from the
    /// CHATCTX_BASE_URL, CHATCTX_SUMMARY_MODEL and CHATCTX_API_KEY environment variables).
    #[arg(long, default_value = "extractive")]
    pub(crate) summarizer: String,
    /// Give up on the summarizer after SECS seconds (default: 120) and fall back to truncation;
    /// a command summarizer is then killed with every process it started.
    #[arg(long, value_name = "SECS")]
    pub(crate) summarizer_timeout: Option<Seconds>,
    /// Vector store for recall:K: memory (default) or a postgres:// URL (PostgreSQL with
    /// pgvector; the table, chatctx_rounds or chatctx_rounds_DIMENSION for an embedder of
    /// another dimension than 512, is created on first use).
    #[arg(long, default_value = "memory")]
    pub(crate) store: String,
    /// Embedder for recall:K: ngrams (offline hashed character n-grams) or http (an
    /// OpenAI-compatible /embeddings endpoint: CHATCTX_EMBEDDING_BASE_URL,
    /// CHATCTX_EMBEDDING_MODEL, CHATCTX_EMBEDDING_DIMENSION, CHATCTX_EMBEDDING_CONVENTION and
    /// CHATCTX_API_KEY). When the endpoint fails, recall falls back to the newest rounds and
    /// the report says why.
    #[arg(long, default_value = "ngrams", value_parser = ["ngrams", "http"])]
    pub(crate) embedder: String,
    /// Give up on one embedding request after SECS seconds, retries included (default: 120).
    #[arg(long, value_name = "SECS")]
    pub(crate) embedder_timeout: Option<Seconds>,
}

impl std::fmt::Debug for BudgetArgs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BudgetArgs")
            .field("model", &self.model)
            .field("window", &self.window)
            .field("reserve", &self.reserve)
            .field("summarizer", &self.summarizer)
            .field("summarizer_timeout", &self.summarizer_timeout)
            .field("store", &redact_password(&self.store))
            .field("embedder", &self.embedder)
            .field("embedder_timeout", &self.embedder_timeout)
            .finish()
    }
}

/// A connection URL with the password of its user part (`scheme://user:password@host`, or
/// `password=...` in the key=value form) replaced by `<redacted>`.
pub(crate) fn redact_password(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        // key=value form: `host=/tmp user=chat password=secret`
        return url
            .split(' ')
            .map(|pair| match pair.split_once('=') {
                Some(("password", _)) => "password=<redacted>",
                _ => pair,
            })
            .collect::<Vec<_>>()
            .join(" ");
    };
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, path) = rest.split_at(end);
    match authority.rsplit_once('@') {
        Some((user_info, host)) if user_info.contains(':') => {
            let user = user_info.split(':').next().unwrap_or_default();
            format!("{scheme}://{user}:<redacted>@{host}{path}")
        }
        _ => url.to_string(),
    }
}

/// A positive, finite number of seconds (`--summarizer-timeout`).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Seconds(f64);

impl FromStr for Seconds {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        text.parse::<f64>()
            .ok()
            .filter(|seconds| *seconds > 0.0 && *seconds <= 1e9)
            .map(Seconds)
            .ok_or_else(|| format!("{text:?} is not a number of seconds in (0, 1e9]"))
    }
}

impl BudgetArgs {
    /// The embedder of `--embedder` and `--embedder-timeout`.
    pub(crate) fn embedder(&self) -> Result<Arc<dyn Embedder>, Error> {
        embedder(&self.embedder, self.embedder_timeout)
    }

    /// The model to count with (its thinking mode from the request's `thinking` field) and
    /// its limits.
    pub(crate) fn resolve(&self, request: &ChatRequest) -> Result<(Counting, Limits), Error> {
        let counting = Counting::resolve(self.model.as_deref(), None, request.model())?
            .with_request(request)?;
        let limits = limits(&counting.spec, self.window, self.reserve)?;
        Ok((counting, limits))
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn debug_of_the_flags_hides_the_store_password() {
        let args = BudgetArgs {
            model: None,
            window: None,
            reserve: None,
            summarizer: "extractive".into(),
            summarizer_timeout: Some("2.5".parse().unwrap()),
            store: "postgres://chat:hunter2@db.example:5432/chat?sslmode=disable".into(),
            embedder: "ngrams".into(),
            embedder_timeout: None,
        };
        let shown = format!("{args:?}");
        assert!(!shown.contains("hunter2"), "{shown}");
        assert!(
            shown.contains("postgres://chat:<redacted>@db.example:5432/chat?sslmode=disable"),
            "{shown}"
        );
        assert_eq!(
            redact_password("host=/tmp user=chat password=hunter2"),
            "host=/tmp user=chat password=<redacted>"
        );
        for kept in ["memory", "postgres://chat@db/chat", "host=/tmp user=chat"] {
            assert_eq!(redact_password(kept), kept);
        }
        assert!("0".parse::<Seconds>().is_err() && "-1".parse::<Seconds>().is_err());
        assert!("inf".parse::<Seconds>().is_err() && "NaN".parse::<Seconds>().is_err());
    }
}
