//! A summarizer that asks an OpenAI-compatible chat-completions endpoint (feature `http`).

use async_trait::async_trait;
use serde_json::{json, Value};

use super::{Summarizer, Summary, SummaryInput, DEFAULT_PROMPT};
use crate::error::{Error, Result};
use crate::openai_compat::Retry;
use crate::openai_compat::{self, Endpoint};

/// Summarizes with a chat model behind an OpenAI-compatible API: OpenAI, DeepSeek
/// (`https://api.deepseek.com`), Qwen/DashScope
/// (`https://dashscope.aliyuncs.com/compatible-mode/v1`), or a local server.
///
/// It sends [`SummaryInput::to_messages`]: the conversation's own request prefix (pinned
/// instructions and the current summary), the messages to summarize as they were sent, then the
/// summarization prompt as a final user message, so that on providers with prefix caching most
/// of the call is a cache hit (without a prefix: the prompt as system message and the rendered
/// conversation as one user message). It reads `choices[0].message.content` and
/// `usage.total_tokens`. Uses reqwest with rustls, so it runs inside a tokio runtime.
///
/// Rate limits (429), server errors (5xx) and connection failures are retried as [`Retry`]
/// says, honouring `Retry-After`; see [`HttpSummarizer::with_retry`].
///
/// # Default
///
/// From [`HttpSummarizer::from_env`]: base URL `CHATCTX_BASE_URL` or `https://api.openai.com/v1`, model
/// `CHATCTX_SUMMARY_MODEL` or `gpt-4o-mini`, key `CHATCTX_API_KEY` or `OPENAI_API_KEY`, prompt
/// [`DEFAULT_PROMPT`], retries [`Retry::default`]. No deadline of its own: the policy calling
/// it sets one ([`crate::policy::RollingSummary::with_timeout`], `--summarizer-timeout`).
///
/// `Debug` shows `api_key: Some(<redacted>)`, never the key.
#[derive(Clone)]
pub struct HttpSummarizer {
    endpoint: Endpoint,
    model: String,
    prompt: String,
}

impl HttpSummarizer {
    /// A summarizer calling `{base_url}/chat/completions` with `model`, without an API key.
    pub fn new(base_url: impl Into<String>, model: impl Into<String>) -> Self {
        HttpSummarizer {
            endpoint: Endpoint::new(&base_url.into(), "chat/completions"),
            model: model.into(),
            prompt: DEFAULT_PROMPT.to_string(),
        }
    }

    /// Configure from the environment (see the defaults above).
    pub fn from_env() -> Result<Self> {
        let var = openai_compat::env;
        let base =
            var("CHATCTX_BASE_URL").unwrap_or_else(|| openai_compat::DEFAULT_BASE_URL.into());
        let model = var("CHATCTX_SUMMARY_MODEL").unwrap_or_else(|| "gpt-4o-mini".into());
        let mut http = HttpSummarizer::new(base, model);
        http.endpoint.api_key = openai_compat::api_key_from_env();
        Ok(http)
    }

    /// Send `Authorization: Bearer KEY`.
    pub fn with_api_key(mut self, key: impl Into<String>) -> Self {
        self.endpoint.api_key = Some(key.into());
        self
    }

    /// Replace the summarization prompt.
    pub fn with_prompt(mut self, prompt: impl Into<String>) -> Self {
        self.prompt = prompt.into();
        self
    }

    /// Retry rate limits, server errors and connection failures this way.
    pub fn with_retry(mut self, retry: Retry) -> Self {
        self.endpoint.retry = retry;
        self
    }

    fn failed(&self, reason: impl std::fmt::Display) -> Error {
        Error::Summarizer {
            reason: format!("{}: {reason}", self.endpoint.shown_url()),
        }
    }
}

impl std::fmt::Debug for HttpSummarizer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HttpSummarizer")
            .field("url", &self.endpoint.shown_url())
            .field("api_key", &openai_compat::Redacted(&self.endpoint.api_key))
            .field("model", &self.model)
            .field("prompt", &self.prompt)
            .field("retry", &self.endpoint.retry)
            .finish()
    }
}

#[async_trait]
impl Summarizer for HttpSummarizer {
    async fn summarize(&self, input: SummaryInput) -> Result<Summary> {
        let body = json!({
            "model": self.model,
            "messages": input.to_messages(&self.prompt),
            "stream": false,
        });
        let text = self
            .endpoint
            .post_json(&body)
            .await
            .map_err(|failure| self.failed(failure))?;
        let value: Value = serde_json::from_str(&text).map_err(|err| self.failed(err))?;
        let content = value
            .pointer("/choices/0/message/content")
            .and_then(Value::as_str)
            .ok_or_else(|| self.failed("the response has no choices[0].message.content"))?;
        let mut summary = Summary::new(content.trim());
        if let Some(tokens) = value.pointer("/usage/total_tokens").and_then(Value::as_u64) {
            summary = summary.with_tokens_used(tokens);
        }
        Ok(summary)
    }
}
