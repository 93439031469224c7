//! Summarizers: turn the older part of a conversation into a short text.
//!
//! The [`Summarizer`] trait is what [`crate::policy::RollingSummary`] calls when the request
//! grows past its threshold. It gets the messages to summarize and the previous summary (so
//! that summaries are incremental: no message is read twice), and returns the new summary.
//!
//! | Summarizer | Spec | What it does |
//! |---|---|---|
//! | [`Extractive`] | `extractive` | offline, deterministic: picks salient sentences |
//! | [`CommandSummarizer`] | `command:CMD` | runs `sh -c CMD`, messages as JSON on stdin, summary on stdout |
//! | `HttpSummarizer` (feature `http`) | `http` | asks an OpenAI-compatible chat endpoint |
//! | [`summarizer_fn`] | | any async closure |
//!
//! ```
//! use chatctx::summarizer::{summarizer_fn, Summarizer, Summary, SummaryInput};
//! use chatctx::message::Message;
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() {
//! let count = summarizer_fn(|input: SummaryInput| async move {
//!     Ok(Summary::new(format!("{} messages were exchanged.", input.messages.len())))
//! });
//! let input = SummaryInput::new(vec![Message::user("Hi"), Message::assistant("Hello!")], None);
//! let summary = count.summarize(input).await.unwrap();
//! assert_eq!(summary.text, "2 messages were exchanged.");
//! # }
//! ```

pub(crate) mod background;
mod blocking;
mod command;
mod extractive;
#[cfg(feature = "http")]
mod http;
pub(crate) mod message;
mod spec;
mod unwind;

pub(crate) use blocking::{run_blocking, timeout};
pub use command::CommandSummarizer;
pub use extractive::Extractive;
#[cfg(feature = "http")]
pub use http::HttpSummarizer;
pub use message::{is_summary, summary_message, SUMMARY_NAME};
pub use spec::SummarizerSpec;
pub(crate) use unwind::catch_panic;

use std::future::Future;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use crate::error::Result;
use crate::message::Message;

/// The instructions given to model-based summarizers (the [`CommandSummarizer`] receives them too).
pub const DEFAULT_PROMPT: &str = "You maintain the memory of a long conversation between a user \
and an assistant. Write a concise summary of the conversation below, merged with the previous \
summary if one is given. Keep every fact that may matter later: names, numbers, dates, \
decisions, preferences, open questions and promises. Drop greetings and small talk. Write in \
the language of the conversation, in short plain sentences, without a preamble.";

/// What a summarizer is asked to summarize.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SummaryInput {
    /// The messages to fold into the summary, oldest first. They were never summarized before.
    pub messages: Vec<Message>,
    /// The summary of everything before them, if there is one.
    pub previous: Option<String>,
    /// The messages the conversation's own requests start with: its pinned instructions, then
    /// the current summary message (if any), exactly as they are sent. Model-based summarizers
    /// send them first, so that on providers with prefix caching most of the summarization
    /// request is a cache hit (see [`SummaryInput::to_messages`]). Empty when unknown.
    #[serde(default)]
    pub prefix: Vec<Message>,
}

impl SummaryInput {
    /// Messages to summarize, after the `previous` summary.
    pub fn new(messages: Vec<Message>, previous: Option<String>) -> Self {
        SummaryInput {
            messages,
            previous,
            prefix: Vec::new(),
        }
    }

    /// The same input with the conversation's request prefix.
    pub fn with_prefix(mut self, prefix: Vec<Message>) -> Self {
        self.prefix = prefix;
        self
    }

    /// The chat messages of a summarization request.
    ///
    /// With a prefix, the request reuses the conversation's own stable prefix: the prefix,
    /// then the messages to summarize exactly as the conversation sent them, then one user
    /// message with the instruction at the end. The conversation's previous request started
    /// with those very messages, so a provider's prefix cache serves almost all of the input.
    /// Without a prefix it is the instruction as system message and the rendered conversation
    /// ([`render`]) as user message.
    ///
    /// ```
    /// use chatctx::summarizer::{SummaryInput, DEFAULT_PROMPT};
    /// use chatctx::Message;
    ///
    /// let prefix = vec![Message::system("You are a helpful assistant.")];
    /// let aged = vec![Message::user("My cat is Pistachio."), Message::assistant("Noted!")];
    /// let input = SummaryInput::new(aged.clone(), None).with_prefix(prefix.clone());
    /// let request = input.to_messages(DEFAULT_PROMPT);
    /// assert_eq!(request[..1], prefix[..]);
    /// assert_eq!(request[1..3], aged[..]);
    /// assert!(request[3].content.text().starts_with(DEFAULT_PROMPT));
    /// ```
    pub fn to_messages(&self, prompt: &str) -> Vec<Message> {
        if self.prefix.is_empty() {
            return vec![Message::system(prompt), Message::user(render(self))];
        }
        let mut messages = self.prefix.clone();
        messages.extend(self.messages.iter().cloned());
        let mut instruction = prompt.to_string();
        if self.previous.is_some() {
            instruction.push_str(
                "\n\nThe previous summary is the system message named chatctx_summary above; \
                 merge the conversation after it into it.",
            );
        }
        instruction.push_str("\n\nSummarize the conversation above now.");
        messages.push(Message::user(instruction));
        messages
    }
}

/// A summarizer's answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Summary {
    /// The new summary, replacing the previous one.
    pub text: String,
    /// Tokens spent making it, when the summarizer knows (a model's `usage.total_tokens`).
    pub tokens_used: Option<u64>,
}

impl Summary {
    /// A summary with no token usage.
    pub fn new(text: impl Into<String>) -> Self {
        Summary {
            text: text.into(),
            tokens_used: None,
        }
    }

    /// Set the tokens spent.
    pub fn with_tokens_used(mut self, tokens: u64) -> Self {
        self.tokens_used = Some(tokens);
        self
    }
}

/// Summarizes messages, incrementally.
///
/// Any `Fn(SummaryInput) -> impl Future<Output = Result<Summary>>` is a summarizer; wrap it
/// in [`summarizer_fn`] to give it a `Debug` implementation.
#[async_trait]
pub trait Summarizer: Send + Sync {
    /// Merge `input.previous` and `input.messages` into one summary.
    async fn summarize(&self, input: SummaryInput) -> Result<Summary>;
}

#[async_trait]
impl<F, Fut> Summarizer for F
where
    F: Fn(SummaryInput) -> Fut + Send + Sync,
    Fut: Future<Output = Result<Summary>> + Send,
{
    async fn summarize(&self, input: SummaryInput) -> Result<Summary> {
        self(input).await
    }
}

/// A summarizer made from an async closure; see [`summarizer_fn`].
#[derive(Clone, Copy)]
pub struct FnSummarizer<F>(F);

impl<F> std::fmt::Debug for FnSummarizer<F> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("FnSummarizer")
    }
}

/// Make a summarizer of an async closure.
pub fn summarizer_fn<F, Fut>(f: F) -> FnSummarizer<F>
where
    F: Fn(SummaryInput) -> Fut + Send + Sync,
    Fut: Future<Output = Result<Summary>> + Send,
{
    FnSummarizer(f)
}

#[async_trait]
impl<F, Fut> Summarizer for FnSummarizer<F>
where
    F: Fn(SummaryInput) -> Fut + Send + Sync,
    Fut: Future<Output = Result<Summary>> + Send,
{
    async fn summarize(&self, input: SummaryInput) -> Result<Summary> {
        (self.0)(input).await
    }
}

/// The conversation as plain text for a model: one `role: text` paragraph per message, after
/// the previous summary.
pub fn render(input: &SummaryInput) -> String {
    let mut text = String::new();
    if let Some(previous) = &input.previous {
        text.push_str("Previous summary:\n");
        text.push_str(previous);
        text.push_str("\n\nConversation to add:\n");
    }
    for message in &input.messages {
        text.push_str(message.role.as_str());
        text.push_str(": ");
        text.push_str(message.content.text().trim());
        if let Some(calls) = &message.tool_calls {
            for call in calls {
                text.push_str(&format!(
                    " [calls {}]",
                    serde_json::to_string(call).unwrap_or_default()
                ));
            }
        }
        text.push('\n');
    }
    text
}
