//! What a message costs inside a prompt: chat-template framing on top of the text tokens.
//!
//! Providers bill the rendered prompt, not the bare text: OpenAI adds a few tokens per message,
//! Qwen wraps every message in ChatML, DeepSeek frames turns with its own special tokens. A
//! [`PromptCounter`] knows one family's framing and one vocabulary, and answers the question
//! every policy asks: how many prompt tokens would these messages cost?
//!
//! One file per family: [`openai`] (the cookbook formula), [`chatml`] (Qwen), [`deepseek`]
//! (DeepSeek-V3.x), [`deepseek_v4`] (DeepSeek-V4, DSML tool calls).
//! The ChatML and DeepSeek counters render the official template into special tokens (one
//! token each) and text runs between them (counted on their own, which is exact because a
//! tokenizer never merges across a special token). Every text run goes through a [`Memo`], so
//! counting a conversation again after one more round only tokenizes the new messages.

pub mod chatml;
pub mod deepseek;
pub mod deepseek_v4;
pub mod media;
mod memo;
pub mod openai;
mod openai_tools;
mod pyjson;
mod render;
mod tools;

use std::fmt;
use std::str::FromStr;
use std::sync::Arc;

pub use media::Estimate;
pub use memo::{Memo, DEFAULT_CAPACITY};
pub use tools::RequestTools;

use crate::error::Error;
use crate::message::{Message, Role};
use crate::tokens::TokenCounter;
use render::Pieces;

/// Counts the prompt tokens of messages under one chat template and vocabulary.
///
/// The count is additive: the prompt of a selection of messages costs
/// [`PromptCounter::overhead`] plus the sum of [`PromptCounter::message_tokens`] of each
/// selected message. Whether a message lies in the last round matters (templates drop the
/// reasoning of earlier turns), and a policy never moves a message across that line.
///
/// ```
/// use chatctx::template::Family;
/// use chatctx::tokens::Vocabulary;
/// use chatctx::{Message, PromptCounter};
///
/// let counter = Family::Qwen3.prompt_counter(Vocabulary::Cl100kBase.counter());
/// let messages = [Message::system("Be brief."), Message::user("hi")];
/// let sum: usize = messages.iter().map(|m| counter.message_tokens(m, true)).sum();
/// assert_eq!(counter.count(&messages), sum + counter.overhead(&messages));
/// ```
pub trait PromptCounter: Send + Sync + fmt::Debug {
    /// Tokens `message` adds to the prompt, template framing included. `in_last_round` is
    /// true for messages after the last user message (and for that message itself).
    fn message_tokens(&self, message: &Message, in_last_round: bool) -> usize;

    /// Tokens the prompt costs beyond its messages (reply priming, BOS, an injected default
    /// system prompt when `messages` has none...).
    fn overhead(&self, messages: &[Message]) -> usize;

    /// Whether counts are exact for the provider (false for estimates).
    fn is_exact(&self) -> bool {
        true
    }

    /// The vocabulary that counts the text inside messages, when the counter has one: cutting
    /// a message at exact token boundaries ([`crate::policy::Cap`]) needs it. `None` (the
    /// default) makes such policies measure text through [`PromptCounter::message_tokens`].
    fn text_counter(&self) -> Option<&dyn TokenCounter> {
        None
    }

    /// The prompt tokens of `messages` as a whole request.
    fn count(&self, messages: &[Message]) -> usize {
        let last_user = messages
            .iter()
            .rposition(|message| message.role == crate::message::Role::User)
            .unwrap_or(0);
        let body: usize = messages
            .iter()
            .enumerate()
            .map(|(index, message)| self.message_tokens(message, index >= last_user))
            .sum();
        body + self.overhead(messages)
    }

    /// [`PromptCounter::count`] of `messages` derived from their own tokens, when the counter
    /// can do it without reading their texts again: `own[i]` is
    /// `message_tokens(messages[i], i >= j)`, `j` being the index of the last user message
    /// (0 if none). Policies use it with counts kept between calls
    /// ([`crate::policy::MessageCounts`]), so that a long history is not counted again.
    ///
    /// `None` (the default) when the counter cannot; a `Some` equals `count` exactly. Policies
    /// ask once with no messages whether a counter derives at all, so a counter that does
    /// answers `Some` for an empty list. The
    /// OpenAI and DeepSeek-V3 counters answer (DeepSeek-V3 except when a reply's text would
    /// join the system prompt's, or a reply after a tool result holds `</think>`).
    fn count_with_own(&self, messages: &[&Message], own: &[usize]) -> Option<usize> {
        let _ = (messages, own);
        None
    }

    /// Tokens the request-level fields (`tools`, `functions`, `response_format`) add to the
    /// prompt of `messages`: the difference between the prompt rendered with and without them.
    ///
    /// The default is a rough estimate (one token per 4 bytes of their JSON); the built-in
    /// counters render them as their provider does (see [`RequestTools`]).
    fn request_tokens(&self, messages: &[Message], request: &RequestTools) -> Estimate {
        let _ = messages;
        if request.is_empty() {
            return Estimate::exact(0);
        }
        let bytes: usize = request
            .tools()
            .iter()
            .chain(request.json_schema())
            .map(|value| value.to_string().len())
            .sum();
        Estimate::estimated(bytes.div_ceil(4))
    }

    /// [`PromptCounter::count`] with whether it is exact: false when the vocabulary is an
    /// estimate or some part (an image of unknown size, a tool call under OpenAI) is.
    fn estimate(&self, messages: &[Message]) -> Estimate {
        Estimate {
            tokens: self.count(messages),
            exact: self.is_exact(),
        }
    }
}

/// The index of the first message of the last round (the last user message), 0 if none.
pub(crate) fn last_round_start(messages: &[Message]) -> usize {
    messages
        .iter()
        .rposition(|message| message.role == Role::User)
        .unwrap_or(0)
}

/// A template rendered into pieces: the whole prompt exactly, or one message in its usual
/// context (for [`PromptCounter::message_tokens`]).
pub(crate) trait Frames {
    /// The memoized counter of text runs.
    fn memo(&self) -> &Memo;
    /// The whole prompt, generation prompt included.
    fn render(&self, messages: &[Message], out: &mut Pieces);
    /// One message in its usual context.
    fn render_one(&self, message: &Message, in_last_round: bool, out: &mut Pieces);
    /// The whole prompt with the request's tools rendered in; without tools, `render`.
    fn render_with(&self, messages: &[Message], request: &RequestTools, out: &mut Pieces) {
        let _ = request;
        self.render(messages, out);
    }
    /// [`PromptCounter::count_with_own`] for this template (`None`: render and count).
    fn count_with_own(&self, messages: &[&Message], own: &[usize]) -> Option<usize> {
        let _ = (messages, own);
        None
    }
    /// Whether [`Frames::render_with`] follows an official template (false: documented
    /// format, rendering by the hosted API unknown).
    fn tools_exact(&self) -> bool {
        true
    }
}

/// `PromptCounter` for a [`Frames`] template: `count` renders the whole prompt (exact), and
/// `overhead` is `count` minus the messages' own tokens (floored at zero), which covers the
/// framing that depends on neighbours (shared tool-result blocks, turn openers).
macro_rules! frames_prompt_counter {
    ($type:ty) => {
        impl $crate::template::PromptCounter for $type {
            fn message_tokens(
                &self,
                message: &$crate::message::Message,
                in_last_round: bool,
            ) -> usize {
                let mut out = $crate::template::render::Pieces::default();
                $crate::template::Frames::render_one(self, message, in_last_round, &mut out);
                out.count($crate::template::Frames::memo(self)).tokens
            }

            fn overhead(&self, messages: &[$crate::message::Message]) -> usize {
                let start = $crate::template::last_round_start(messages);
                let own: usize = messages
                    .iter()
                    .enumerate()
                    .map(|(i, m)| self.message_tokens(m, i >= start))
                    .sum();
                self.count(messages).saturating_sub(own)
            }

            fn is_exact(&self) -> bool {
                $crate::tokens::TokenCounter::is_exact($crate::template::Frames::memo(self))
            }

            fn text_counter(&self) -> Option<&dyn $crate::tokens::TokenCounter> {
                Some($crate::template::Frames::memo(self))
            }

            fn count(&self, messages: &[$crate::message::Message]) -> usize {
                self.estimate(messages).tokens
            }

            fn count_with_own(
                &self,
                messages: &[&$crate::message::Message],
                own: &[usize],
            ) -> Option<usize> {
                $crate::template::Frames::count_with_own(self, messages, own)
            }

            fn request_tokens(
                &self,
                messages: &[$crate::message::Message],
                request: &$crate::template::RequestTools,
            ) -> $crate::template::Estimate {
                if request.is_empty() {
                    return $crate::template::Estimate::exact(0);
                }
                let memo = $crate::template::Frames::memo(self);
                let mut with = $crate::template::render::Pieces::default();
                $crate::template::Frames::render_with(self, messages, request, &mut with);
                let mut without = $crate::template::render::Pieces::default();
                $crate::template::Frames::render(self, messages, &mut without);
                let (with, without) = (with.count(memo), without.count(memo));
                $crate::template::Estimate {
                    tokens: with.tokens.saturating_sub(without.tokens),
                    exact: with.exact
                        && without.exact
                        && self.is_exact()
                        && $crate::template::Frames::tools_exact(self),
                }
            }

            fn estimate(
                &self,
                messages: &[$crate::message::Message],
            ) -> $crate::template::Estimate {
                let mut out = $crate::template::render::Pieces::default();
                $crate::template::Frames::render(self, messages, &mut out);
                let estimate = out.count($crate::template::Frames::memo(self));
                $crate::template::Estimate {
                    exact: estimate.exact && self.is_exact(),
                    ..estimate
                }
            }
        }
    };
}

frames_prompt_counter!(chatml::ChatMl);
frames_prompt_counter!(deepseek::DeepSeek);
frames_prompt_counter!(deepseek_v4::DeepSeekV4);

/// The rendered prompt of `messages` under a template family, as text (for debugging and for
/// comparing with a reference render); `None` for OpenAI, which has no published template.
pub fn render(family: Family, messages: &[Message]) -> Option<String> {
    render_with(family, messages, &RequestTools::new())
}

/// [`render`] with the request's tools rendered in, as the family's template does.
pub fn render_with(family: Family, messages: &[Message], request: &RequestTools) -> Option<String> {
    let counter = crate::tokens::Vocabulary::Cl100kBase.counter();
    let mut out = Pieces::default();
    match family {
        Family::OpenAi => return None,
        Family::Qwen25 => chatml::ChatMl::new(chatml::Flavor::Qwen25, counter)
            .render_with(messages, request, &mut out),
        Family::Qwen3 => chatml::ChatMl::new(chatml::Flavor::Qwen3, counter)
            .render_with(messages, request, &mut out),
        Family::DeepSeek => {
            deepseek::DeepSeek::new(counter).render_with(messages, request, &mut out)
        }
        Family::DeepSeekV4 => {
            deepseek_v4::DeepSeekV4::new(counter).render_with(messages, request, &mut out)
        }
    }
    Some(out.to_text())
}

/// The chat-template families chatctx knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Family {
    /// OpenAI chat models: the cookbook formula ([`openai::OpenAi`]).
    OpenAi,
    /// Qwen2.5 ChatML, with its default system prompt ([`chatml::Flavor::Qwen25`]).
    Qwen25,
    /// Qwen3 / 3.5 / 3.6 ChatML ([`chatml::Flavor::Qwen3`]).
    Qwen3,
    /// DeepSeek-V3.x ([`deepseek::DeepSeek`]).
    DeepSeek,
    /// DeepSeek-V4: DSML tool calls, thinking by default ([`deepseek_v4::DeepSeekV4`]).
    DeepSeekV4,
}

impl Family {
    /// Every family.
    pub const ALL: [Family; 5] = [
        Family::OpenAi,
        Family::Qwen25,
        Family::Qwen3,
        Family::DeepSeek,
        Family::DeepSeekV4,
    ];

    /// The family name: `openai`, `qwen2.5`, `qwen3`, `deepseek`, `deepseek-v4`.
    pub const fn name(self) -> &'static str {
        match self {
            Family::OpenAi => "openai",
            Family::Qwen25 => "qwen2.5",
            Family::Qwen3 => "qwen3",
            Family::DeepSeek => "deepseek",
            Family::DeepSeekV4 => "deepseek-v4",
        }
    }

    /// A prompt counter of this family over `counter`, in the family's default mode
    /// (DeepSeek-V4: thinking; DeepSeek-V3.x: non-thinking).
    pub fn prompt_counter(self, counter: Arc<dyn TokenCounter>) -> Arc<dyn PromptCounter> {
        self.prompt_counter_with(counter, None)
    }

    /// [`Family::prompt_counter`] with the thinking mode set (`None`: the family's default;
    /// families without a thinking switch in their template ignore it).
    pub fn prompt_counter_with(
        self,
        counter: Arc<dyn TokenCounter>,
        thinking: Option<bool>,
    ) -> Arc<dyn PromptCounter> {
        match self {
            Family::OpenAi => Arc::new(openai::OpenAi::new(counter)),
            Family::Qwen25 => Arc::new(chatml::ChatMl::new(chatml::Flavor::Qwen25, counter)),
            Family::Qwen3 => Arc::new(chatml::ChatMl::new(chatml::Flavor::Qwen3, counter)),
            Family::DeepSeek => {
                Arc::new(deepseek::DeepSeek::new(counter).thinking(thinking.unwrap_or(false)))
            }
            Family::DeepSeekV4 => {
                Arc::new(deepseek_v4::DeepSeekV4::new(counter).thinking(thinking.unwrap_or(true)))
            }
        }
    }
}

impl fmt::Display for Family {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Family {
    type Err = Error;

    /// A family name ([`Family::name`]), or one of the template names of a models file:
    /// `chatml` (Qwen3's ChatML, no default system prompt) and `deepseek-v3` (`deepseek`).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "chatml" => return Ok(Family::Qwen3),
            "deepseek-v3" => return Ok(Family::DeepSeek),
            _ => {}
        }
        Family::ALL
            .into_iter()
            .find(|family| family.name() == s)
            .ok_or_else(|| {
                Error::config(
                    "template",
                    format!(
                        "unknown template {s:?}; known: openai, chatml, deepseek-v3, deepseek-v4 \
                         (and the family names qwen2.5, qwen3, deepseek)"
                    ),
                )
            })
    }
}
