//! The seeds' multi-round loop: append the user's turn, send, record the model's reply.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::Conversation;
use crate::error::{Error, Result};
use crate::message::{validate, Message, Role};

/// What happens to a thinking model's `reasoning_content` when a reply is recorded.
///
/// DeepSeek and Qwen ignore or refuse reasoning sent back in history, with one exception: the
/// reasoning of assistant messages that make tool calls. DeepSeek's thinking-mode guide
/// requires it while the tool loop runs, and its current API answers 400 ("Missing
/// `reasoning_content` field in the assistant message at message index N") when it is missing
/// from a tool-call message of an earlier turn too. Hence the default keeps reasoning on every
/// tool-call message and drops it everywhere else.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ReasoningRetention {
    /// Never send reasoning back.
    Drop,
    /// Send back reasoning only on assistant tool-call messages of the current, unfinished tool
    /// loop; drop it once the next user turn starts.
    CurrentToolLoop,
    /// Send back reasoning on every assistant message that makes tool calls, in any turn;
    /// drop it on plain replies. The default (what DeepSeek's thinking mode requires).
    #[default]
    ToolCalls,
    /// Send all reasoning back (for providers that want it).
    Keep,
}

/// The full history of one conversation, grown turn by turn.
///
/// Reasoning that the [`ReasoningRetention`] rule keeps out of the history is not lost: it is
/// archived and available from [`Transcript::reasoning`].
///
/// ```
/// use chatctx::conversation::Transcript;
/// use chatctx::message::Message;
///
/// let mut transcript = Transcript::new(vec![Message::system("You are a helpful assistant.")]);
/// transcript.push_user("What's the highest mountain in the world?");
/// let mut reply = Message::assistant("Mount Everest.");
/// reply.reasoning_content = Some("The user asks about height above sea level...".into());
/// transcript.record_reply(reply);
/// transcript.push_user("What is the second?");
///
/// assert_eq!(transcript.messages().len(), 4);
/// assert_eq!(transcript.messages()[2].reasoning_content, None); // not sent back
/// assert!(transcript.reasoning(2).is_some()); // but kept
/// ```
#[derive(Debug, Clone, Default)]
pub struct Transcript {
    messages: Vec<Message>,
    reasoning: BTreeMap<usize, String>,
    retention: ReasoningRetention,
}

impl Transcript {
    /// A transcript starting from `messages` (usually the system prompt).
    pub fn new(messages: Vec<Message>) -> Self {
        Transcript {
            messages,
            reasoning: BTreeMap::new(),
            retention: ReasoningRetention::default(),
        }
    }

    /// A transcript of already validated messages (see [`crate::message::validate`]).
    pub fn from_messages(messages: Vec<Message>) -> Result<Self> {
        validate(&messages)?;
        Ok(Transcript::new(messages))
    }

    /// Set the reasoning rule (applies to replies recorded from now on).
    pub fn with_retention(mut self, retention: ReasoningRetention) -> Self {
        self.retention = retention;
        self
    }

    /// The reasoning rule in force.
    pub fn retention(&self) -> ReasoningRetention {
        self.retention
    }

    /// The history as it is sent.
    pub fn messages(&self) -> &[Message] {
        &self.messages
    }

    /// The rounds of the history.
    pub fn conversation(&self) -> Conversation {
        Conversation::new(&self.messages)
    }

    /// The reasoning that was recorded for message `index` but is not in the history.
    pub fn reasoning(&self, index: usize) -> Option<&str> {
        self.reasoning.get(&index).map(String::as_str)
    }

    /// All reasoning kept out of the history, by message index (to save a session).
    pub fn archived_reasoning(&self) -> &BTreeMap<usize, String> {
        &self.reasoning
    }

    /// The same transcript with this archived reasoning (to resume a saved session).
    pub fn with_archived_reasoning(mut self, reasoning: BTreeMap<usize, String>) -> Self {
        self.reasoning = reasoning;
        self
    }

    /// Append the user's next turn. Under [`ReasoningRetention::CurrentToolLoop`] this ends the
    /// previous tool loop, so its reasoning moves to the archive.
    pub fn push_user(&mut self, text: impl Into<String>) -> usize {
        self.push_message(Message::user(text))
    }

    /// Append any message (a user turn with parts, a tool result...), applying the reasoning
    /// rule. Returns its index.
    pub fn push_message(&mut self, message: Message) -> usize {
        if message.role == Role::User && self.retention == ReasoningRetention::CurrentToolLoop {
            self.archive_tool_loop_reasoning();
        }
        let index = self.messages.len();
        self.messages.push(message);
        index
    }

    /// Record the model's reply (the `message` object of a response) into history, applying
    /// the reasoning rule. Returns its index.
    pub fn record_reply(&mut self, mut reply: Message) -> usize {
        let index = self.messages.len();
        let keep = match self.retention {
            ReasoningRetention::Drop => false,
            ReasoningRetention::Keep => true,
            ReasoningRetention::CurrentToolLoop | ReasoningRetention::ToolCalls => {
                reply.has_tool_calls()
            }
        };
        if !keep {
            if let Some(reasoning) = reply.reasoning_content.take() {
                self.reasoning.insert(index, reasoning);
            }
        }
        self.messages.push(reply);
        index
    }

    /// Record a whole chat-completion response (`choices[0].message`).
    pub fn record_response(&mut self, response: &Value) -> Result<usize> {
        let message = response
            .get("choices")
            .and_then(|choices| choices.get(0))
            .and_then(|choice| choice.get("message"))
            .cloned()
            .ok_or_else(|| Error::Json {
                line: 0,
                column: 0,
                message: "a chat completion response needs `choices[0].message`".to_string(),
            })?;
        let index = self.messages.len();
        let reply = Message::from_value(message, index)?;
        Ok(self.record_reply(reply))
    }

    /// Consume the transcript, giving back the history.
    pub fn into_messages(self) -> Vec<Message> {
        self.messages
    }

    fn archive_tool_loop_reasoning(&mut self) {
        let loop_start = self
            .messages
            .iter()
            .rposition(|message| message.role == Role::User)
            .map_or(0, |user| user + 1);
        for (index, message) in self.messages.iter_mut().enumerate().skip(loop_start) {
            if let Some(reasoning) = message.reasoning_content.take() {
                self.reasoning.insert(index, reasoning);
            }
        }
    }
}
