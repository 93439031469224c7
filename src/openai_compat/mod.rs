//! What the OpenAI-compatible HTTP clients ([`crate::summarizer::HttpSummarizer`],
//! [`crate::retrieval::HttpEmbedder`]) share; [`Retry`], their retry policy, is the public
//! part. Inside: configuration from
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

/// What `Debug` shows in place of a secret.
pub(crate) const REDACTED: &str = "<redacted>";

/// Shows `Some(<redacted>)` for a present secret and `None` for an absent one.
pub(crate) struct Redacted<'a>(pub(crate) &'a Option<String>);

impl std::fmt::Debug for Redacted<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.0 {
            Some(_) => write!(f, "Some({REDACTED})"),
            None => f.write_str("None"),
        }
    }
}

/// `url` with the password of its user part (`scheme://user:password@host`) replaced by
/// `<redacted>`, for errors and `Debug`.
pub(crate) fn redact_url(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_string();
    };
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, path) = rest.split_at(authority_end);
    match authority.rsplit_once('@') {
        Some((user_info, host)) if user_info.contains(':') => {
            let user = user_info.split(':').next().unwrap_or_default();
            format!("{scheme}://{user}:{REDACTED}@{host}{path}")
        }
        _ => url.to_string(),
    }
}

/// One OpenAI-compatible endpoint (`{base_url}/{path}`), its key and its retries: what the
/// summarizer and the embedder both hold. `Debug` never shows the key.
#[derive(Clone)]
pub(crate) struct Endpoint {
    client: reqwest::Client,
    url: String,
    /// The URL as errors and `Debug` show it: without a password.
    shown_url: String,
    pub(crate) api_key: Option<String>,
    pub(crate) retry: Retry,
    /// The longest a whole call (every attempt and wait) may take; `None`: no limit.
    pub(crate) timeout: Option<Duration>,
}

impl std::fmt::Debug for Endpoint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Endpoint")
            .field("url", &self.shown_url)
            .field("api_key", &Redacted(&self.api_key))
            .field("retry", &self.retry)
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

impl Endpoint {
    /// `{base_url}/{path}` (trailing slashes of `base_url` ignored), without a key, with
    /// [`Retry::default`].
    pub(crate) fn new(base_url: &str, path: &str) -> Self {
        let url = format!("{}/{path}", base_url.trim_end_matches('/'));
        Endpoint {
            client: reqwest::Client::new(),
            shown_url: redact_url(&url),
            url,
            api_key: None,
            retry: Retry::default(),
            timeout: None,
        }
    }

    /// The URL, which errors name (without a password, if it holds one).
    pub(crate) fn shown_url(&self) -> &str {
        &self.shown_url
    }

    /// POSTs `body` as JSON (with the bearer key, if any) and returns the success response's
    /// body, retrying rate limits, server errors and connection failures as `retry` says, all
    /// within `timeout` when one is set.
    pub(crate) async fn post_json(&self, body: &Value) -> Result<String, PostFailure> {
        let Some(limit) = self.timeout else {
            return self.post_json_unbounded(body).await;
        };
        tokio::time::timeout(limit, self.post_json_unbounded(body))
            .await
            .unwrap_or_else(|_| {
                Err(PostFailure {
                    reason: format!("timed out after {limit:?}"),
                    attempts: 1,
                })
            })
    }

    async fn post_json_unbounded(&self, body: &Value) -> Result<String, PostFailure> {
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
