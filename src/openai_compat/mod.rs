//! What the OpenAI-compatible HTTP clients (summarizer, embedder) share: configuration from
//! the environment, the endpoint with its key and its retrying JSON POST, and how a failed
//! response is quoted in an error.

mod retry;

use std::time::Duration;

use serde_json::Value;

pub use retry::Retry;
use retry::{parse_retry_after, retryable_status};

/// The base URL used when none is configured.
pub(crate) const DEFAULT_BASE_URL: &str = "https://api.openai.com/v1";

/// Most characters of an error response quoted in an error.
const BODY_EXCERPT: usize = 500;

/// An environment variable, if set and not empty.
pub(crate) fn env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|value| !value.is_empty())
}

/// The API key: `CHATCTX_API_KEY`, else `OPENAI_API_KEY`.
pub(crate) fn api_key_from_env() -> Option<String> {
    env("CHATCTX_API_KEY").or_else(|| env("OPENAI_API_KEY"))
}

/// `HTTP {status}: {the start of the body}`, for errors about a non-success response.
pub(crate) fn http_error(status: reqwest::StatusCode, body: &str) -> String {
    let excerpt: String = body.chars().take(BODY_EXCERPT).collect();
    format!("HTTP {status}: {excerpt}")
}

/// Why a POST failed for good: the reason and how many requests were made.
#[derive(Debug)]
pub(crate) struct PostFailure {
    reason: String,
    attempts: u32,
}

impl std::fmt::Display for PostFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.attempts > 1 {
            write!(f, "{} (after {} attempts)", self.reason, self.attempts)
        } else {
            f.write_str(&self.reason)
        }
    }
}

/// One OpenAI-compatible endpoint (`{base_url}/{path}`), its key and its retries: what the
/// summarizer and the embedder both hold.
#[derive(Debug, Clone)]
pub(crate) struct Endpoint {
    client: reqwest::Client,
    url: String,
    pub(crate) api_key: Option<String>,
    pub(crate) retry: Retry,
}

impl Endpoint {
    /// `{base_url}/{path}` (trailing slashes of `base_url` ignored), without a key, with
    /// [`Retry::default`].
    pub(crate) fn new(base_url: &str, path: &str) -> Self {
        Endpoint {
            client: reqwest::Client::new(),
            url: format!("{}/{path}", base_url.trim_end_matches('/')),
            api_key: None,
            retry: Retry::default(),
        }
    }

    /// The URL, which errors name.
    pub(crate) fn url(&self) -> &str {
        &self.url
    }

    /// POSTs `body` as JSON (with the bearer key, if any) and returns the success response's
    /// body, retrying rate limits, server errors and connection failures as `retry` says.
    pub(crate) async fn post_json(&self, body: &Value) -> Result<String, PostFailure> {
        let mut failures = 0;
        loop {
            match attempt(&self.client, &self.url, self.api_key.as_deref(), body).await {
                Ok(text) => return Ok(text),
                Err((Some(retry_after), _)) if failures + 1 < self.retry.attempts() => {
                    tokio::time::sleep(self.retry.delay(failures, retry_after)).await;
                    failures += 1;
                }
                Err((_, reason)) => {
                    return Err(PostFailure {
                        reason,
                        attempts: failures + 1,
                    })
                }
            }
        }
    }
}

/// One request: the response body, or why it failed and, if worth retrying, `Some` of the
/// server's `Retry-After`.
async fn attempt(
    client: &reqwest::Client,
    url: &str,
    api_key: Option<&str>,
    body: &Value,
) -> Result<String, (Option<Option<Duration>>, String)> {
    let mut request = client.post(url).json(body);
    if let Some(key) = api_key {
        request = request.bearer_auth(key);
    }
    let response = request.send().await.map_err(|err| {
        let retry = (err.is_connect() || err.is_timeout()).then_some(None);
        (retry, err.to_string())
    })?;
    let status = response.status();
    let retry_after = response
        .headers()
        .get(reqwest::header::RETRY_AFTER)
        .and_then(|value| value.to_str().ok())
        .and_then(parse_retry_after);
    let text = response
        .text()
        .await
        .map_err(|err| (Some(None), err.to_string()))?;
    if status.is_success() {
        return Ok(text);
    }
    let retry = retryable_status(status.as_u16()).then_some(retry_after);
    Err((retry, http_error(status, &text)))
}
