//! OpenAI's per-message formula, from the OpenAI cookbook "How to count tokens with tiktoken".
//!
//! Each message costs [`TOKENS_PER_MESSAGE`] plus the tokens of its role and content, plus
//! [`TOKENS_PER_NAME`] and the name's tokens when it has a `name`; every reply is primed with
//! [`REPLY_PRIMING`] tokens. Tool calls are counted as the tokens of their function name and
//! arguments text: an estimate, as OpenAI does not publish how it renders them. Images follow
//! the tile formula ([`super::media::openai_image_tokens`]). Tool definitions follow the
//! cookbook's tool formula ([`ToolFraming`], an estimate).

use std::sync::Arc;

use super::media::{openai_image_tokens, Estimate, ImageSize};
use super::memo::Memo;
use super::openai_tools;
use super::{PromptCounter, RequestTools};
use crate::message::{Content, ContentPart, Message};
use crate::tokens::TokenCounter;

pub use super::openai_tools::ToolFraming;

/// Tokens framing every message (`<|start|>{role}\n{content}<|end|>\n`); OpenAI cookbook,
/// "How to count tokens with tiktoken", `tokens_per_message = 3` for gpt-3.5-turbo-0613 and
/// later models.
pub const TOKENS_PER_MESSAGE: usize = 3;
/// Extra tokens of a `name` field (same cookbook section, `tokens_per_name = 1`).
pub const TOKENS_PER_NAME: usize = 1;
/// Every reply is primed with `<|start|>assistant<|message|>` (same cookbook section).
pub const REPLY_PRIMING: usize = 3;

/// The OpenAI prompt counter.
///
/// ```
/// use chatctx::template::openai::OpenAi;
/// use chatctx::tokens::Vocabulary;
/// use chatctx::{Message, PromptCounter};
///
/// let openai = OpenAi::new(Vocabulary::O200kBase.counter());
/// // 3 per message + "user" (1) + "hello" (1), then 3 for reply priming.
/// assert_eq!(openai.count(&[Message::user("hello")]), 8);
/// ```
#[derive(Debug)]
pub struct OpenAi {
    memo: Memo,
    tools: ToolFraming,
}

impl OpenAi {
    /// A counter over `counter` (memoized).
    pub fn new(counter: Arc<dyn TokenCounter>) -> Self {
        // The cookbook's gpt-4 / gpt-3.5-turbo constants go with their vocabulary.
        let tools = if counter.name().contains("cl100k") {
            ToolFraming::CL100K
        } else {
            ToolFraming::O200K
        };
        OpenAi {
            memo: Memo::new(counter),
            tools,
        }
    }

    /// The same counter with other tool constants (by default [`ToolFraming::CL100K`] over a
    /// cl100k vocabulary, [`ToolFraming::O200K`] otherwise).
    pub fn with_tool_framing(mut self, framing: ToolFraming) -> Self {
        self.tools = framing;
        self
    }

    fn message_estimate(&self, message: &Message) -> Estimate {
        let mut total =
            Estimate::exact(TOKENS_PER_MESSAGE + self.memo.count(message.role.as_str()));
        match &message.content {
            Content::Absent | Content::Null => {}
            Content::Text(text) => total = total + Estimate::exact(self.memo.count(text)),
            Content::Parts(parts) => {
                for part in parts {
                    total = total + self.part(part);
                }
            }
        }
        if let Some(name) = &message.name {
            total = total + Estimate::exact(TOKENS_PER_NAME + self.memo.count(name));
        }
        for call in message.tool_calls.as_deref().unwrap_or_default() {
            let tokens =
                self.memo.count(&call.function.name) + self.memo.count(&call.function.arguments);
            total = total + Estimate::estimated(tokens);
        }
        total
    }

    fn part(&self, part: &ContentPart) -> Estimate {
        match part {
            ContentPart::Text { text, .. } => Estimate::exact(self.memo.count(text)),
            ContentPart::ImageUrl { image_url, extra } => {
                openai_image_tokens(ImageSize::of(image_url, extra), image_url.detail.as_deref())
            }
            // Audio, video and unknown parts: not counted, so the count is an estimate.
            _ => Estimate::estimated(0),
        }
    }

    /// The count of `messages` with whether it is exact (false with tool calls, images of
    /// unknown size or parts the formula does not cover).
    pub fn estimate(&self, messages: &[Message]) -> Estimate {
        messages
            .iter()
            .map(|message| self.message_estimate(message))
            .fold(Estimate::exact(REPLY_PRIMING), |a, b| a + b)
    }
}

impl PromptCounter for OpenAi {
    fn message_tokens(&self, message: &Message, _in_last_round: bool) -> usize {
        self.message_estimate(message).tokens
    }

    fn overhead(&self, _messages: &[Message]) -> usize {
        REPLY_PRIMING
    }

    fn count_with_own(&self, messages: &[&Message], own: &[usize]) -> Option<usize> {
        // `count` is the sum of the messages' own tokens plus the reply priming.
        (own.len() == messages.len()).then(|| own.iter().sum::<usize>() + REPLY_PRIMING)
    }

    fn is_exact(&self) -> bool {
        self.memo.is_exact()
    }

    fn text_counter(&self) -> Option<&dyn TokenCounter> {
        Some(&self.memo)
    }

    fn request_tokens(&self, _messages: &[Message], request: &RequestTools) -> Estimate {
        openai_tools::tokens(&self.tools, &self.memo, request)
    }

    fn estimate(&self, messages: &[Message]) -> Estimate {
        let estimate = OpenAi::estimate(self, messages);
        Estimate {
            exact: estimate.exact && self.memo.is_exact(),
            ..estimate
        }
    }
}
