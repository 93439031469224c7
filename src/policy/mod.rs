//! Context policies: which part of a conversation's history to send with the next request.
//!
//! Chat-completion APIs are stateless: every request carries the whole history, and the model
//! reads at most its context window. A [`ContextPolicy`] takes the full history (never altered)
//! and decides what to send: everything ([`PassThrough`]), the newest rounds ([`LastRounds`]),
//! as many newest rounds as fit the window ([`TokenBudget`]), or a summary of the older part
//! plus the newest rounds ([`RollingSummary`]), or the older rounds relevant to the question
//! plus the newest rounds ([`Recall`]). Policies compose with [`Chain`], and a
//! [`PolicySpec`] builds any of them from a CLI string such as `last-rounds:8+token-budget`.
//!
//! Agent loops put most of their tokens inside one round: tens of model calls, each an
//! assistant message with tool calls and results of thousands of tokens. [`ClearTools`]
//! replaces old tool results by placeholders, [`Cap`] cuts one oversized message to its ends,
//! and the budget policies keep the newest whole *steps* (see
//! [`crate::conversation::Step`]) of a last round too large to send whole.
//!
//! Every policy counts tokens only through a [`PromptCounter`], keeps or drops whole rounds
//! and, inside the last round, whole steps (a tool result never loses its call, nor a call
//! its result), always keeps the pinned messages, the request that opens the last round and
//! its newest step, and returns an [`Outcome`]: the messages to send and a serializable
//! [`Report`]. A message is sent unchanged unless the report lists it as `cleared` or
//! `capped`.
//!
//! ```
//! use chatctx::conversation::Conversation;
//! use chatctx::message::Message;
//! use chatctx::policy::{ContextPolicy, Input, Limits, PolicyState, TokenBudget};
//! use chatctx::template::PromptCounter;
//!
//! /// One token per byte of text, three per message.
//! #[derive(Debug)]
//! struct Bytes;
//! impl PromptCounter for Bytes {
//!     fn message_tokens(&self, message: &Message, _: bool) -> usize {
//!         3 + message.content.text().len()
//!     }
//!     fn overhead(&self, _: &[Message]) -> usize {
//!         2
//!     }
//! }
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() {
//! let history = vec![
//!     Message::system("Be brief."),             // 12 tokens, pinned
//!     Message::user("What is the capital of France?"),
//!     Message::assistant("Paris."),
//!     Message::user("And of Italy?"),          // 16 tokens
//!     Message::assistant("Rome."),             // 8 tokens
//!     Message::user("Thanks!"),                // 10 tokens
//! ];
//! let conversation = Conversation::new(&history);
//! let input = Input::new(&history, &conversation, Limits::new(64, 8), &Bytes);
//! let mut state = PolicyState::default();
//! let outcome = TokenBudget::new().apply(input, &mut state).await.unwrap();
//! // 2 + 12 + 16 + 8 + 10 = 48 <= 56 usable; the first round (42 tokens) does not fit.
//! assert_eq!(outcome.report.kept, vec![0, 3, 4, 5]);
//! assert_eq!(outcome.report.dropped, vec![1, 2]);
//! assert_eq!(outcome.report.tokens_after, 48);
//! # }
//! ```

mod cap;
mod chain;
mod clear_tools;
mod compact;
mod counts;
mod last_rounds;
mod pass_through;
mod recall;
mod report;
mod rolling_summary;
mod select;
mod spec;
mod token_budget;

#[cfg(test)]
pub(crate) mod testing;

pub use crate::summarizer::{is_summary, summary_message, SUMMARY_NAME};
pub use cap::Cap;
pub use chain::Chain;
pub use clear_tools::ClearTools;
pub use compact::Compact;
pub use counts::MessageCounts;
pub use last_rounds::LastRounds;
pub use pass_through::PassThrough;
pub use recall::Recall;
pub use report::Report;
pub use rolling_summary::RollingSummary;
pub use spec::PolicySpec;
pub use token_budget::TokenBudget;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use crate::conversation::Conversation;
use crate::error::{Error, Result};
use crate::message::Message;
use crate::template::PromptCounter;

/// Decides which messages of a conversation's history go into the next request.
///
/// Implementations must keep the pinned messages, the message that opens the last round and
/// the last round's newest step, keep messages in their original order, never split a step,
/// and send every message unchanged except the placeholders and cuts their report lists
/// (`cleared`, `capped`). The trait is object safe:
/// `Box<dyn ContextPolicy>` is how a [`PolicySpec`] hands out policies.
///
/// A three-line policy that sends the history unchanged:
///
/// ```
/// use async_trait::async_trait;
/// use chatctx::policy::{ContextPolicy, Input, Outcome, PolicyState};
///
/// #[derive(Debug)]
/// struct Everything;
///
/// #[async_trait]
/// impl ContextPolicy for Everything {
///     async fn apply(&self, input: Input<'_>, _: &mut PolicyState) -> chatctx::Result<Outcome> {
///         let all: Vec<usize> = (0..input.messages.len()).collect();
///         Outcome::keep(&input, "everything", &all)
///     }
/// }
/// ```
#[async_trait]
pub trait ContextPolicy: Send + Sync + std::fmt::Debug {
    /// Select the messages to send. `state` belongs to one conversation and persists between
    /// calls (the rolling summary keeps its summary there).
    async fn apply(&self, input: Input<'_>, state: &mut PolicyState) -> Result<Outcome>;
}

#[async_trait]
impl<P: ContextPolicy + ?Sized> ContextPolicy for Box<P> {
    async fn apply(&self, input: Input<'_>, state: &mut PolicyState) -> Result<Outcome> {
        (**self).apply(input, state).await
    }
}

#[async_trait]
impl<P: ContextPolicy + ?Sized> ContextPolicy for std::sync::Arc<P> {
    async fn apply(&self, input: Input<'_>, state: &mut PolicyState) -> Result<Outcome> {
        (**self).apply(input, state).await
    }
}

/// The model's context limits, in tokens.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Limits {
    /// The context window: prompt plus reply.
    pub window: usize,
    /// Tokens reserved for the reply (`max_tokens`).
    pub reserved: usize,
}

impl Limits {
    /// A window of `window` tokens with `reserved` of them kept for the reply.
    pub const fn new(window: usize, reserved: usize) -> Self {
        Limits { window, reserved }
    }

    /// Tokens available to the prompt: `window - reserved`.
    ///
    /// A zero window, or a reservation that leaves nothing for the prompt, is an
    /// [`Error::InvalidConfig`].
    pub fn usable(&self) -> Result<usize> {
        if self.window == 0 {
            return Err(Error::config(
                "window",
                "the context window must be positive",
            ));
        }
        match self.window.checked_sub(self.reserved) {
            Some(usable) if usable > 0 => Ok(usable),
            _ => Err(Error::config(
                "reserved",
                format!(
                    "{} reserved reply tokens leave nothing of the {}-token window for the prompt",
                    self.reserved, self.window
                ),
            )),
        }
    }
}

/// What a policy works on: the history, its structure, the limits and the token counter.
#[derive(Debug, Clone, Copy)]
pub struct Input<'a> {
    /// The full history, as it would be sent without a policy.
    pub messages: &'a [Message],
    /// The rounds and pinned messages of `messages`.
    pub conversation: &'a Conversation,
    /// The model's limits.
    pub limits: Limits,
    /// How prompt tokens are counted.
    pub counter: &'a dyn PromptCounter,
    /// Prompt tokens of the request-level fields (tools, response format; see
    /// [`PromptCounter::request_tokens`]), taken from the budget before any message.
    pub request_tokens: usize,
    /// Counts of `messages` kept between calls ([`Input::with_counts`]); `None`: count
    /// everything through `counter`.
    pub counts: Option<&'a MessageCounts>,
}

impl<'a> Input<'a> {
    /// Bundle a policy's input.
    pub fn new(
        messages: &'a [Message],
        conversation: &'a Conversation,
        limits: Limits,
        counter: &'a dyn PromptCounter,
    ) -> Self {
        Input {
            messages,
            conversation,
            limits,
            counter,
            request_tokens: 0,
            counts: None,
        }
    }

    /// The same input reading per-message counts from `counts` (updated for these messages
    /// with this counter, see [`MessageCounts::update`]) instead of counting every message
    /// again. Counts made for other messages or another counter are ignored; the outcome is
    /// the same either way, only faster.
    pub const fn with_counts(mut self, counts: &'a MessageCounts) -> Self {
        self.counts = Some(counts);
        self
    }

    /// The same input with `tokens` of request-level fields to take from the budget.
    pub const fn with_request_tokens(mut self, tokens: usize) -> Self {
        self.request_tokens = tokens;
        self
    }

    /// Check that the conversation describes these messages; returns the tokens usable by
    /// the messages (the usable tokens minus the request-level fields').
    pub(crate) fn check(&self) -> Result<usize> {
        let usable = self.check_limits()?;
        match usable.checked_sub(self.request_tokens) {
            Some(left) if left > 0 => Ok(left),
            _ => Err(Error::DoesNotFit {
                required: self.request_tokens,
                available: usable,
                what: "the request's tool definitions and response format".into(),
            }),
        }
    }

    fn check_limits(&self) -> Result<usize> {
        if self.conversation.message_count() != self.messages.len() {
            return Err(Error::config(
                "conversation",
                format!(
                    "the conversation describes {} messages but the history has {}",
                    self.conversation.message_count(),
                    self.messages.len()
                ),
            ));
        }
        self.limits.usable()
    }
}

/// The result of a policy: the messages to send and what was done.
#[derive(Debug, Clone, PartialEq)]
pub struct Outcome {
    /// The messages to send, in order.
    pub messages: Vec<Message>,
    /// For each sent message, its index in the history, or `None` for a summary message.
    pub sources: Vec<Option<usize>>,
    /// What the policy did.
    pub report: Report,
}

impl Outcome {
    /// The outcome of keeping exactly the history messages `kept` (ascending indices), with
    /// nothing summarized. Useful to write simple policies.
    pub fn keep(input: &Input<'_>, policy: &str, kept: &[usize]) -> Result<Outcome> {
        let usable = input.check()?;
        let view = select::View::new(input, usable);
        Ok(view.finish(policy, select::Selection::keep(kept.to_vec())))
    }
}

/// A policy's memory for one conversation, kept between requests.
///
/// Only stateful policies use it (the rolling summary stores its summary here); it serializes
/// so that a conversation can be resumed later.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct PolicyState {
    /// The rolling summary so far, if one was made.
    pub summary: Option<SummaryState>,
    /// Where [`Compact`] last cut the history: the first history index it still sends
    /// (besides the pinned messages).
    #[serde(default)]
    pub compact_from: Option<usize>,
}

/// The rolling summary of a conversation's older part.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SummaryState {
    /// The summary text.
    pub text: String,
    /// The history up to (not including) this index is represented by the summary, except the
    /// pinned messages, which are always sent as they are.
    pub covers_until: usize,
}
