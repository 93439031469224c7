//! DeepSeek's template: `<｜begin▁of▁sentence｜>` + system, `<｜User｜>`, `<｜Assistant｜>`.
//!
//! Follows the official `chat_template` of deepseek-ai/DeepSeek-V3.1
//! (`fixtures/templates/deepseek-v3.1.jinja`), non-thinking unless configured:
//! - all system messages, joined by `\n\n`, right after `<｜begin▁of▁sentence｜>`;
//! - a user turn is `<｜User｜>` + text; the assistant turn after it opens with
//!   `<｜Assistant｜></think>` (`<｜Assistant｜><think>` for a thinking continuation);
//! - an assistant reply ends with `<｜end▁of▁sentence｜>`; text up to a `</think>` in an
//!   earlier reply is dropped, and `reasoning_content` is never rendered;
//! - tool calls: `<｜tool▁calls▁begin｜>` then per call `<｜tool▁call▁begin｜>` name
//!   `<｜tool▁sep｜>` arguments `<｜tool▁call▁end｜>`, then `<｜tool▁calls▁end｜>`;
//! - a tool result: `<｜tool▁output▁begin｜>` + text + `<｜tool▁output▁end｜>`; the reply
//!   after tool results has no `<｜Assistant｜>` opener;
//! - the generation prompt `<｜Assistant｜></think>` follows only a final user message.
//!
//! - `tools` ([`super::RequestTools`]): the template ignores them; the model card's
//!   `tool_description` (`## Tools` ...) is rendered after the system prompt, as an estimate
//!   (how the hosted API renders tools is not published).
//!
//! A final `prefix: true` message (chat prefix completion) is left open: no
//! `<｜end▁of▁sentence｜>`.
//!
//! For additivity, a user message's [`PromptCounter::message_tokens`] includes the
//! `<｜Assistant｜></think>` opener of the reply that follows it (or of the generation
//! prompt); [`PromptCounter::overhead`] corrects the rare sequences where none follows.
//!
//! [`PromptCounter::message_tokens`]: super::PromptCounter::message_tokens
//! [`PromptCounter::overhead`]: super::PromptCounter::overhead

use std::sync::Arc;

use serde_json::Value;

use super::memo::Memo;
use super::render::Pieces;
use super::{pyjson, Frames, RequestTools};
use crate::message::{Message, Role};
use crate::tokens::TokenCounter;

const BOS: &str = "<｜begin▁of▁sentence｜>";
const EOS: &str = "<｜end▁of▁sentence｜>";
const USER: &str = "<｜User｜>";
const ASSISTANT: &str = "<｜Assistant｜>";
const THINK: &str = "<think>";
const THINK_END: &str = "</think>";
const CALLS_BEGIN: &str = "<｜tool▁calls▁begin｜>";
const CALLS_END: &str = "<｜tool▁calls▁end｜>";
const CALL_BEGIN: &str = "<｜tool▁call▁begin｜>";
const CALL_END: &str = "<｜tool▁call▁end｜>";
const SEP: &str = "<｜tool▁sep｜>";
const OUTPUT_BEGIN: &str = "<｜tool▁output▁begin｜>";
const OUTPUT_END: &str = "<｜tool▁output▁end｜>";

/// The DeepSeek prompt counter.
///
/// ```
/// # if chatctx::tokens::Vocabulary::compiled().len() < 5 { return; } // needs all-vocabularies
/// use chatctx::template::deepseek::DeepSeek;
/// use chatctx::tokens::Vocabulary;
/// use chatctx::{Message, PromptCounter};
///
/// let deepseek = DeepSeek::new(Vocabulary::Cl100kBase.counter());
/// // <BOS> <User> "hi" <Assistant> </think>
/// assert_eq!(deepseek.count(&[Message::user("hi")]), 5);
/// ```
#[derive(Debug)]
pub struct DeepSeek {
    thinking: bool,
    memo: Memo,
}

impl DeepSeek {
    /// A non-thinking counter over `counter` (memoized).
    pub fn new(counter: Arc<dyn TokenCounter>) -> Self {
        DeepSeek {
            thinking: false,
            memo: Memo::new(counter),
        }
    }

    /// Thinking mode (`deepseek-reasoner`): a prefix continuation opens with `<think>`.
    pub fn thinking(mut self, thinking: bool) -> Self {
        self.thinking = thinking;
        self
    }

    fn opener(&self, message: &Message, out: &mut Pieces) {
        let think = message.prefix == Some(true) && self.thinking;
        out.special(ASSISTANT)
            .special(if think { THINK } else { THINK_END });
    }

    fn calls(message: &Message, out: &mut Pieces) {
        out.text(message.content.text());
        out.special(CALLS_BEGIN);
        for call in message.tool_calls.as_deref().unwrap_or_default() {
            out.special(CALL_BEGIN)
                .text(&call.function.name)
                .special(SEP)
                .text(&call.function.arguments)
                .special(CALL_END);
        }
        out.special(CALLS_END).special(EOS);
    }

    fn reply(message: &Message, after_tool: bool, open: bool, out: &mut Pieces) {
        let text = message.content.text();
        let content = match text.split_once(THINK_END) {
            Some((_, after)) if !after_tool => after,
            _ => text.as_str(),
        };
        out.text(content);
        if !open {
            out.special(EOS);
        }
    }
}

impl DeepSeek {
    /// The `tool_description` of the DeepSeek-V3.1 model card ("ToolCall" section): the
    /// official chat template does not render `tools`; the model card tells to place this
    /// text after the system prompt.
    fn tool_description(request: &RequestTools, out: &mut Pieces) {
        out.text("## Tools\nYou have access to the following tools:\n");
        for function in request.functions() {
            let field = |key: &str| match function.get(key) {
                Some(Value::String(text)) => text.clone(),
                _ => String::new(),
            };
            let parameters = function
                .get("parameters")
                .map_or_else(String::new, pyjson::dumps);
            out.text(format!(
                "\n### {}\nDescription: {}\n\nParameters: {parameters}\n",
                field("name"),
                field("description")
            ));
        }
        out.text("\nIMPORTANT: ALWAYS adhere to this exact format for tool use:\n")
            .special(CALLS_BEGIN)
            .special(CALL_BEGIN)
            .text("tool_call_name")
            .special(SEP)
            .text("tool_call_arguments")
            .special(CALL_END)
            .text("{{additional_tool_calls}}")
            .special(CALLS_END)
            .text(TOOL_RULES);
    }
}

/// The end of the model card's tool description.
const TOOL_RULES: &str = "\n\nWhere:\n\n- `tool_call_name` must be an exact match to one of the available tools\n- `tool_call_arguments` must be valid JSON that strictly follows the tool's Parameters Schema\n- For multiple tool calls, chain them directly without separators or spaces\n";

impl Frames for DeepSeek {
    fn memo(&self) -> &Memo {
        &self.memo
    }

    fn render(&self, messages: &[Message], out: &mut Pieces) {
        self.render_with(messages, &RequestTools::new(), out);
    }

    fn tools_exact(&self) -> bool {
        false
    }

    fn render_with(&self, messages: &[Message], request: &RequestTools, out: &mut Pieces) {
        out.special(BOS);
        let system = system_text(messages);
        out.text(&system);
        if !request.tools().is_empty() {
            if !system.is_empty() {
                out.text("\n\n");
            }
            Self::tool_description(request, out);
        }
        let (mut last_user, mut after_tool) = (false, false);
        let last = messages.len().saturating_sub(1);
        for (i, message) in messages.iter().enumerate() {
            match message.role {
                Role::System | Role::Developer => {}
                Role::User => {
                    (last_user, after_tool) = (true, false);
                    out.special(USER).text(message.content.text());
                }
                Role::Assistant if message.tool_calls.is_some() => {
                    if last_user {
                        self.opener(message, out);
                    }
                    (last_user, after_tool) = (false, false);
                    Self::calls(message, out);
                }
                Role::Assistant => {
                    if last_user {
                        self.opener(message, out);
                    }
                    last_user = false;
                    let open = i == last && message.is_continuation();
                    Self::reply(message, after_tool, open, out);
                    after_tool = false;
                }
                Role::Tool | Role::Function => {
                    (last_user, after_tool) = (false, true);
                    out.special(OUTPUT_BEGIN)
                        .text(message.content.text())
                        .special(OUTPUT_END);
                }
            }
        }
        if last_user && !after_tool {
            out.special(ASSISTANT)
                .special(if self.thinking { THINK } else { THINK_END });
        }
    }

    /// The render's count from the messages' own ones (`render_one`): a user message owns
    /// the `<｜Assistant｜></think>` opener, which the render writes only when an assistant
    /// message or the generation prompt follows; a final continuation has no
    /// `<｜end▁of▁sentence｜>`; the system messages are joined into one text run after
    /// `<｜begin▁of▁sentence｜>`. Every other text run lies between special tokens in both
    /// renders, so it counts the same. `None` for the two cases where text runs differ: a
    /// first reply whose text follows the system run directly, and a reply after a tool
    /// result holding `</think>` (kept whole there, cut in `render_one`).
    fn count_with_own(&self, messages: &[&Message], own: &[usize]) -> Option<usize> {
        if own.len() != messages.len() {
            return None;
        }
        let system = system_text(messages.iter().copied());
        let rest: Vec<usize> = (0..messages.len())
            .filter(|&i| messages.get(i).is_some_and(|m| !m.role.is_instruction()))
            .collect();
        let first = rest.first().and_then(|&i| messages.get(i));
        if !system.is_empty() && first.is_some_and(|m| m.role == Role::Assistant) {
            return None;
        }
        let mut total = 1 + self.memo.count(&system);
        let last = messages.len().saturating_sub(1);
        let mut after_tool = false;
        for (k, &i) in rest.iter().enumerate() {
            let (message, tokens) = (messages.get(i)?, *own.get(i)?);
            match message.role {
                Role::System | Role::Developer => {}
                Role::User => {
                    let next = rest.get(k + 1).and_then(|&j| messages.get(j));
                    let opened = next.map_or(true, |m| m.role == Role::Assistant);
                    total += tokens.checked_sub(2)? + if opened { 2 } else { 0 };
                    after_tool = false;
                }
                Role::Assistant if message.tool_calls.is_some() => {
                    total += tokens;
                    after_tool = false;
                }
                Role::Assistant => {
                    if after_tool && message.content.text().contains(THINK_END) {
                        return None;
                    }
                    total += tokens;
                    if i == last && message.is_continuation() {
                        total = total.checked_sub(1)?;
                    }
                    after_tool = false;
                }
                Role::Tool | Role::Function => {
                    total += tokens;
                    after_tool = true;
                }
            }
        }
        Some(total)
    }

    fn render_one(&self, message: &Message, _in_last_round: bool, out: &mut Pieces) {
        match message.role {
            Role::System | Role::Developer => {
                out.text(message.content.text());
            }
            Role::User => {
                out.special(USER)
                    .text(message.content.text())
                    .special(ASSISTANT)
                    .special(THINK_END);
            }
            Role::Assistant if message.tool_calls.is_some() => Self::calls(message, out),
            Role::Assistant => Self::reply(message, false, false, out),
            Role::Tool | Role::Function => {
                out.special(OUTPUT_BEGIN)
                    .text(message.content.text())
                    .special(OUTPUT_END);
            }
        }
    }
}

/// The texts of the instruction (system) messages, joined by a blank line: the template puts
/// them first, before any turn.
fn system_text<'a>(messages: impl IntoIterator<Item = &'a Message>) -> String {
    messages
        .into_iter()
        .filter(|m| m.role.is_instruction())
        .map(|m| m.content.text())
        .collect::<Vec<_>>()
        .join("\n\n")
}
