//! What a policy did to a history, as a serializable report.

use serde::{Deserialize, Serialize};

/// What a policy did: the tokens before and after, and the fate of every history message.
///
/// Indices refer to the history the policy was given. Every index is in exactly one of
/// `kept`, `dropped` and `summarized`; a kept message is sent unchanged unless it is listed in
/// `cleared` (replaced by a placeholder) or `capped` (cut). The CLI writes the report as JSON.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Report {
    /// The policy, as its spec spells it (e.g. `token-budget`).
    pub policy: String,
    /// Prompt tokens of the full history.
    pub tokens_before: usize,
    /// Prompt tokens of the messages to send.
    pub tokens_after: usize,
    /// Tokens available to the prompt (window minus reserved).
    pub usable: usize,
    /// History messages sent as they are, ascending.
    pub kept: Vec<usize>,
    /// History messages neither sent nor represented by a summary, ascending.
    pub dropped: Vec<usize>,
    /// History messages represented by the summary message instead, ascending.
    pub summarized: Vec<usize>,
    /// History messages sent because vector recall found their round relevant to the question
    /// (a subset of `kept`, older than the recent rounds sent), ascending.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub recalled: Vec<usize>,
    /// History messages sent as a placeholder instead ([`super::ClearTools`]): old tool
    /// results, and with `clear_inputs` the calls that made them (a subset of `kept`),
    /// ascending.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub cleared: Vec<usize>,
    /// Prompt tokens saved by the placeholders of `cleared`.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub tokens_cleared: usize,
    /// History messages sent cut to their first and last parts ([`super::Cap`]; a subset of
    /// `kept`), ascending.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub capped: Vec<usize>,
    /// Prompt tokens saved by cutting the messages of `capped`.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub tokens_capped: usize,
    /// Whether a summarizer was called for this request.
    pub summarizer_ran: bool,
    /// Why the summarizer's result was not used, if it was called and failed.
    pub summarizer_error: Option<String>,
    /// Tokens the summarizer reported spending, when it reports them.
    pub summarizer_tokens: Option<u64>,
    /// Why vector recall found nothing this time, when its embedder or store failed: the
    /// policy then sent the newest rounds that fit, like [`super::TokenBudget`], and the
    /// rounds not yet embedded are embedded on a later request.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recall_error: Option<String>,
    /// Prompt tokens of the request-level fields (tools, response format), counted apart
    /// from the messages and already taken out of `usable`.
    #[serde(default)]
    pub request_tokens: usize,
    /// Whether `tokens_after <= usable`.
    pub fits: bool,
}

impl Report {
    /// Tokens saved by the policy.
    pub fn saved(&self) -> usize {
        self.tokens_before.saturating_sub(self.tokens_after)
    }
}

fn is_zero(value: &usize) -> bool {
    *value == 0
}
