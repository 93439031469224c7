//! Qwen's ChatML template: `<|im_start|>role\ncontent<|im_end|>\n` per message.
//!
//! Follows the official `chat_template` of Qwen/Qwen2.5-7B-Instruct and Qwen/Qwen3-8B
//! (`fixtures/templates/qwen2.5.jinja`, `qwen3.jinja`):
//! - With `tools` ([`super::RequestTools`]), the system block becomes the system prompt
//!   (Qwen2.5: or its default), `# Tools`, one `json.dumps` line per tool inside
//!   `<tools>...</tools>`, and the `<tool_call>` instructions.
//! - Qwen2.5 injects the system prompt [`QWEN25_DEFAULT_SYSTEM`] when the request has none;
//!   Qwen3 does not.
//! - Assistant tool calls: `<tool_call>\n{"name": ..., "arguments": ...}\n</tool_call>`, the
//!   arguments re-serialized as the serving stack renders them (Python `json.dumps` style).
//! - Tool results: `<|im_start|>user` + `\n<tool_response>\n...\n</tool_response>` per
//!   result + `<|im_end|>\n`, consecutive results sharing one user block.
//! - Qwen3: an assistant message after the last user query shows its reasoning as
//!   `<think>\n...\n</think>\n\n`; earlier ones drop it (and any `<think>` in their content).
//! - Images: `<|vision_start|>` + the `<|image_pad|>` tokens + `<|vision_end|>`.
//! - The generation prompt `<|im_start|>assistant\n`, except after a continuation message
//!   (`partial: true`), which is left open (no `<|im_end|>`).
//!
//! Qwen3.5/3.6 are rendered like Qwen3 (their template writes tool calls as XML
//! `<function=...>` blocks; counts with tool calls are then approximate).
//!
//! `developer` messages are rendered as `system`, `function` ones as tool results.

use std::sync::Arc;

use serde_json::Value;

use super::media::{ImageSize, QwenVision};
use super::memo::Memo;
use super::render::Pieces;
use super::{pyjson, Frames, RequestTools};
use crate::message::{Content, ContentPart, Message, Role};
use crate::tokens::TokenCounter;

/// The system prompt Qwen2.5's template injects when the request has no system message.
pub const QWEN25_DEFAULT_SYSTEM: &str =
    "You are Qwen, created by Alibaba Cloud. You are a helpful assistant.";

const IM_START: &str = "<|im_start|>";
const IM_END: &str = "<|im_end|>";
const TOOL_CALL: &str = "<tool_call>";
const TOOL_CALL_END: &str = "</tool_call>";
const VISION_START: &str = "<|vision_start|>";
const VISION_END: &str = "<|vision_end|>";
const THINK: &str = "<think>";
const THINK_END: &str = "</think>";
const TOOL_RESPONSE: &str = "<tool_response>";
const TOOL_RESPONSE_END: &str = "</tool_response>";
/// The tools header of both templates, up to the tool list.
const TOOLS_INTRO: &str = "# Tools\n\nYou may call one or more functions to assist with the user query.\n\nYou are provided with function signatures within <tools></tools> XML tags:\n<tools>";
/// After the tool list, up to the `<tool_call>` special tokens.
const TOOLS_OUTRO: &str = "\n</tools>\n\nFor each function call, return a json object with function name and arguments within ";

/// Which Qwen template.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Flavor {
    /// Qwen2.5 (and Qwen2, qwen-plus/max/turbo): default system prompt, no reasoning.
    Qwen25,
    /// Qwen3, Qwen3.5, Qwen3.6: no default system prompt, `<think>` blocks,
    /// `<tool_response>` and `<think>` are special tokens.
    Qwen3,
}

/// The Qwen ChatML prompt counter.
///
/// ```
/// # if chatctx::tokens::Vocabulary::compiled().len() < 5 { return; } // needs all-vocabularies
/// use chatctx::template::chatml::{ChatMl, Flavor};
/// use chatctx::tokens::Vocabulary;
/// use chatctx::{Message, PromptCounter};
///
/// let qwen = ChatMl::new(Flavor::Qwen3, Vocabulary::Cl100kBase.counter());
/// let messages = [Message::user("hi")];
/// // <|im_start|> "user\nhi" <|im_end|> "\n" <|im_start|> "assistant\n"
/// assert_eq!(qwen.count(&messages), 1 + 3 + 1 + 1 + 1 + 2);
/// ```
#[derive(Debug)]
pub struct ChatMl {
    flavor: Flavor,
    vision: QwenVision,
    memo: Memo,
}

impl ChatMl {
    /// A counter for `flavor` over `counter` (memoized), with Qwen2.5-VL image settings.
    pub fn new(flavor: Flavor, counter: Arc<dyn TokenCounter>) -> Self {
        ChatMl {
            flavor,
            vision: QwenVision::QWEN25_VL,
            memo: Memo::new(counter),
        }
    }

    /// The same counter with other image settings (e.g. [`QwenVision::QWEN3_VL`]).
    pub fn with_vision(mut self, vision: QwenVision) -> Self {
        self.vision = vision;
        self
    }

    fn specials_split(&self, out: &mut Pieces, token: &'static str) {
        match self.flavor {
            Flavor::Qwen3 => out.special(token),
            // Qwen2.5's vocabulary has no `<tool_response>` token: it is text there.
            Flavor::Qwen25 => out.text(token),
        };
    }

    fn content(&self, content: &Content, out: &mut Pieces) {
        match content {
            Content::Absent | Content::Null => {}
            Content::Text(text) => {
                out.text(text);
            }
            Content::Parts(parts) => {
                for part in parts {
                    match part {
                        ContentPart::Text { text, .. } => {
                            out.text(text);
                        }
                        ContentPart::ImageUrl { image_url, extra } => {
                            let size = ImageSize::of(image_url, extra);
                            let pads = self
                                .vision
                                .for_part(image_url, extra)
                                .image_pad_tokens(size);
                            out.special(VISION_START).tokens(pads).special(VISION_END);
                        }
                        _ => {}
                    }
                }
            }
        }
    }

    fn plain(&self, role: &str, message: &Message, out: &mut Pieces) {
        out.special(IM_START).text(role).text("\n");
        self.content(&message.content, out);
        out.special(IM_END).text("\n");
    }

    fn assistant(&self, message: &Message, show_reasoning: bool, last: bool, out: &mut Pieces) {
        let calls = message.tool_calls.as_deref().unwrap_or_default();
        if self.flavor == Flavor::Qwen25 {
            if calls.is_empty() {
                out.special(IM_START).text("assistant\n");
                self.content(&message.content, out);
                if !(last && message.is_continuation()) {
                    out.special(IM_END).text("\n");
                }
                return;
            }
            out.special(IM_START).text("assistant");
            if !message.content.is_empty() {
                out.text("\n");
                self.content(&message.content, out);
            }
            for call in calls {
                let arguments = pyjson::arguments(&call.function.arguments).unwrap_or_else(|| {
                    pyjson::dumps(&serde_json::Value::String(call.function.arguments.clone()))
                });
                out.text("\n").special(TOOL_CALL);
                out.text(format!(
                    "\n{{\"name\": \"{}\", \"arguments\": {arguments}}}\n",
                    call.function.name
                ));
                out.special(TOOL_CALL_END);
            }
            out.special(IM_END).text("\n");
            return;
        }
        // Qwen3.
        let text = message.content.text();
        let (mut content, mut reasoning) = (text.as_str(), "");
        if let Some(given) = &message.reasoning_content {
            reasoning = given;
        } else if let Some((before, _)) = text.split_once(THINK_END) {
            let after = text.rsplit(THINK_END).next().unwrap_or_default();
            content = after.trim_start_matches('\n');
            let before = before.trim_end_matches('\n');
            reasoning = before
                .rsplit(THINK)
                .next()
                .unwrap_or_default()
                .trim_start_matches('\n');
        }
        out.special(IM_START).text("assistant\n");
        if show_reasoning && (last || !reasoning.is_empty()) {
            out.special(THINK)
                .text("\n")
                .text(reasoning.trim_matches('\n'))
                .text("\n")
                .special(THINK_END)
                .text("\n\n")
                .text(content.trim_start_matches('\n'));
        } else {
            out.text(content);
        }
        for (i, call) in calls.iter().enumerate() {
            if i > 0 || !content.is_empty() {
                out.text("\n");
            }
            let arguments = pyjson::arguments(&call.function.arguments)
                .unwrap_or_else(|| call.function.arguments.clone());
            out.special(TOOL_CALL).text(format!(
                "\n{{\"name\": \"{}\", \"arguments\": {arguments}}}\n",
                call.function.name
            ));
            out.special(TOOL_CALL_END);
        }
        if !(last && message.is_continuation()) {
            out.special(IM_END).text("\n");
        }
    }

    /// The system block the templates write when the request has `tools`: the system
    /// prompt (Qwen2.5: or its default), then `# Tools` and one JSON line per tool.
    fn tools_header(&self, system: Option<&Message>, tools: &[Value], out: &mut Pieces) {
        out.special(IM_START).text("system\n");
        match (system, self.flavor) {
            (Some(system), Flavor::Qwen25) => self.content(&system.content, out),
            (None, Flavor::Qwen25) => {
                out.text(QWEN25_DEFAULT_SYSTEM);
            }
            (Some(system), Flavor::Qwen3) => {
                self.content(&system.content, out);
                out.text("\n\n");
            }
            (None, Flavor::Qwen3) => {}
        }
        if self.flavor == Flavor::Qwen25 {
            out.text("\n\n");
        }
        out.text(TOOLS_INTRO);
        for tool in tools {
            out.text("\n").text(pyjson::dumps(tool));
        }
        out.text(TOOLS_OUTRO)
            .special(TOOL_CALL)
            .special(TOOL_CALL_END);
        out.text(" XML tags:\n").special(TOOL_CALL);
        // Qwen2.5's template writes the braces doubled (a `{{` inside a string literal).
        out.text(match self.flavor {
            Flavor::Qwen25 => {
                "\n{{\"name\": <function-name>, \"arguments\": <args-json-object>}}\n"
            }
            Flavor::Qwen3 => "\n{\"name\": <function-name>, \"arguments\": <args-json-object>}\n",
        });
        out.special(TOOL_CALL_END).special(IM_END).text("\n");
    }

    fn tool_body(&self, message: &Message, out: &mut Pieces) {
        out.text("\n");
        self.specials_split(out, TOOL_RESPONSE);
        out.text("\n");
        self.content(&message.content, out);
        out.text("\n");
        self.specials_split(out, TOOL_RESPONSE_END);
    }

    fn is_tool(message: &Message) -> bool {
        matches!(message.role, Role::Tool | Role::Function)
    }

    /// Index of the last real user query (Qwen3's `last_query_index`): a user message whose
    /// text is not a wrapped `<tool_response>`.
    fn last_query(messages: &[Message]) -> usize {
        messages
            .iter()
            .rposition(|m| {
                m.role == Role::User && {
                    let text = m.content.text();
                    !(text.starts_with(TOOL_RESPONSE) && text.ends_with(TOOL_RESPONSE_END))
                }
            })
            .unwrap_or(messages.len().saturating_sub(1))
    }
}

impl Frames for ChatMl {
    fn memo(&self) -> &Memo {
        &self.memo
    }

    fn render(&self, messages: &[Message], out: &mut Pieces) {
        self.render_with(messages, &RequestTools::new(), out);
    }

    fn render_with(&self, messages: &[Message], request: &RequestTools, out: &mut Pieces) {
        let has_system = messages.first().is_some_and(|m| m.role.is_instruction());
        let tools = request.tools();
        if !tools.is_empty() {
            self.tools_header(messages.first().filter(|_| has_system), tools, out);
        } else if !has_system && self.flavor == Flavor::Qwen25 {
            out.special(IM_START)
                .text("system\n")
                .text(QWEN25_DEFAULT_SYSTEM)
                .special(IM_END)
                .text("\n");
        }
        let last_query = Self::last_query(messages);
        let last = messages.len().saturating_sub(1);
        for (i, message) in messages.iter().enumerate() {
            match message.role {
                // With tools, the first system message is inside the tools header.
                Role::System | Role::Developer if i == 0 && !tools.is_empty() => {}
                Role::System | Role::Developer => self.plain("system", message, out),
                Role::User => self.plain("user", message, out),
                Role::Assistant => self.assistant(message, i > last_query, i == last, out),
                Role::Tool | Role::Function => {
                    let prev_tool = i > 0 && messages.get(i - 1).is_some_and(Self::is_tool);
                    if !prev_tool {
                        out.special(IM_START).text("user");
                    }
                    self.tool_body(message, out);
                    if !messages.get(i + 1).is_some_and(Self::is_tool) {
                        out.special(IM_END).text("\n");
                    }
                }
            }
        }
        if !messages.last().is_some_and(Message::is_continuation) {
            out.special(IM_START).text("assistant\n");
        }
    }

    fn render_one(&self, message: &Message, in_last_round: bool, out: &mut Pieces) {
        match message.role {
            Role::System | Role::Developer => self.plain("system", message, out),
            Role::User => self.plain("user", message, out),
            Role::Assistant => self.assistant(message, in_last_round, false, out),
            // A tool result inside a block; the block's own framing is overhead.
            Role::Tool | Role::Function => self.tool_body(message, out),
        }
    }
}
