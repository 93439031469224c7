//! DeepSeek-V4's prompt encoding: `<｜User｜>` / `<｜Assistant｜>` turns, `<think>` thinking
//! and tool calls in DeepSeek's DSML markup (`<｜DSML｜tool_calls>`).
//!
//! DeepSeek-V4 has no Jinja chat template; DeepSeek publishes a Python encoder instead
//! (`encoding/encoding_dsv4.py` of the deepseek-ai/DeepSeek-V4-Flash and -Pro model
//! repositories, with a README and golden test pairs). This file follows that encoder's rules
//! for the messages an OpenAI-format chat request carries; `scripts/gen_dsv4_fixtures.py` runs
//! the encoder itself on the seed fixtures and `tests/template_dsv4.rs` checks our renders and
//! counts against its output (`fixtures/templates/deepseek-v4.json`).
//!
//! The rules:
//! - `<｜begin▁of▁sentence｜>`, then each message in place: a system message is its text; a
//!   user message is `<｜User｜>` + text; an assistant message is (reasoning + `</think>` when
//!   kept) + content + tool calls + `<｜end▁of▁sentence｜>`;
//! - `tool` messages become `<tool_result>…</tool_result>` blocks of a user turn: consecutive
//!   results (and a user message right after them) are one turn, joined by `\n\n`, the results
//!   sorted in the order of the calls of the last assistant message with tool calls;
//! - a user turn followed by an assistant message (or ending the prompt) is followed by
//!   `<｜Assistant｜>` and `<think>` (thinking) or `</think>` (non-thinking);
//! - thinking mode without tools: reasoning is kept only after the last user turn (a tool
//!   result turn counts), and earlier user turns get `</think>`; with tools, every assistant
//!   message keeps its `reasoning_content` and every user turn gets `<think>`;
//! - tool calls: `\n\n<｜DSML｜tool_calls>\n`, per call `<｜DSML｜invoke name="NAME">\n` + one
//!   `<｜DSML｜parameter name="KEY" string="true|false">VALUE</｜DSML｜parameter>` line per
//!   argument (strings as they are, other values as Python's `json.dumps`) +
//!   `\n</｜DSML｜invoke>`, calls joined by `\n`, then `\n</｜DSML｜tool_calls>`;
//! - the request's `tools` ([`super::RequestTools`]) join the first message, a system message
//!   (an empty one is inserted when the prompt starts otherwise, as serving stacks do), as the
//!   encoder's `## Tools` section with each function's JSON schema;
//! - a final `prefix: true` assistant message (chat prefix completion) is left open: no
//!   `<｜end▁of▁sentence｜>` (the encoder's `wo_eos`).
//!
//! chatctx's choices where an API request has no counterpart in the encoder: a `developer`
//! message is rendered as a system message (the API does not accept the `developer` role), a
//! `function` message as a tool result, and tool-call arguments that are not a JSON object are
//! rendered as one string parameter named `arguments` (the encoder does this for arguments
//! that are not JSON, and fails on JSON that is not an object). Text is counted as ordinary
//! text: an added token spelled inside a message is not recognized, as in the other templates.
//!
//! For additivity, a user message's [`PromptCounter::message_tokens`] includes the
//! `<｜Assistant｜>` + `<think>`/`</think>` that follows it, and an assistant message's includes
//! its reasoning only in thinking mode, in the last round, without tool calls (where the
//! encoder always keeps it); [`PromptCounter::overhead`] covers the rest (BOS, the turns that
//! hold tool results, reasoning kept for tool calls).
//!
//! [`PromptCounter::message_tokens`]: super::PromptCounter::message_tokens
//! [`PromptCounter::overhead`]: super::PromptCounter::overhead

use std::collections::HashMap;
use std::sync::Arc;

use serde_json::{Map, Value};

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
const DSML: &str = "｜DSML｜";

/// The added tokens the V4 encoding writes (ids in the DeepSeek-V4 `tokenizer.json`; checked
/// by a test against the embedded added-token table).
pub const SPECIAL_TOKENS: [(&str, u32); 7] = [
    (BOS, 0),
    (EOS, 1),
    (USER, 128_803),
    (ASSISTANT, 128_804),
    (THINK, 128_821),
    (THINK_END, 128_822),
    (DSML, 128_825),
];

/// The encoder's `TOOLS_TEMPLATE` (`encoding_dsv4.py`), with `{dsml_token}`,
/// `{thinking_start_token}` and `{thinking_end_token}` filled in; the tool schemas follow.
const TOOLS_HEAD: &str = "## Tools\n\nYou have access to a set of tools to help answer the user's question. You can invoke tools by writing a \"<｜DSML｜tool_calls>\" block like the following:\n\n<｜DSML｜tool_calls>\n<｜DSML｜invoke name=\"$TOOL_NAME\">\n<｜DSML｜parameter name=\"$PARAMETER_NAME\" string=\"true|false\">$PARAMETER_VALUE</｜DSML｜parameter>\n...\n</｜DSML｜invoke>\n<｜DSML｜invoke name=\"$TOOL_NAME2\">\n...\n</｜DSML｜invoke>\n</｜DSML｜tool_calls>\n\nString parameters should be specified as is and set `string=\"true\"`. For all other types (numbers, booleans, arrays, objects), pass the value in JSON format and set `string=\"false\"`.\n\nIf thinking_mode is enabled (triggered by <think>), you MUST output your complete reasoning inside <think>...</think> BEFORE any tool calls or final response.\n\nOtherwise, output directly after </think> with tool calls or final response.\n\n### Available Tool Schemas\n\n";

/// The end of `TOOLS_TEMPLATE`, after the schemas.
const TOOLS_TAIL: &str =
    "\n\nYou MUST strictly follow the above defined tool name and parameter schemas to invoke tool calls.\n";

/// The DeepSeek-V4 prompt counter.
///
/// ```
/// # if chatctx::tokens::Vocabulary::compiled().len() < 5 { return; } // needs all-vocabularies
/// use chatctx::template::deepseek_v4::DeepSeekV4;
/// use chatctx::tokens::Vocabulary;
/// use chatctx::{Message, PromptCounter};
///
/// let chat = DeepSeekV4::new(Vocabulary::DeepseekV3.counter()).thinking(false);
/// // <BOS> <User> "hi" <Assistant> </think>
/// assert_eq!(chat.count(&[Message::user("hi")]), 5);
/// ```
#[derive(Debug)]
pub struct DeepSeekV4 {
    thinking: bool,
    memo: Memo,
}

impl DeepSeekV4 {
    /// A counter in thinking mode (the API's default for `deepseek-v4-*`) over `counter`.
    pub fn new(counter: Arc<dyn TokenCounter>) -> Self {
        DeepSeekV4 {
            thinking: true,
            memo: Memo::new(counter),
        }
    }

    /// Thinking (`thinking: {"type": "enabled"}`) or non-thinking mode.
    pub fn thinking(mut self, thinking: bool) -> Self {
        self.thinking = thinking;
        self
    }

    /// Whether the counter is in thinking mode.
    pub fn is_thinking(&self) -> bool {
        self.thinking
    }

    /// The prompt of `messages` with the request's tools, as text (special tokens spelled
    /// out), for comparing with the reference encoder.
    pub fn render_text(&self, messages: &[Message], request: &RequestTools) -> String {
        let mut out = Pieces::default();
        self.render_with(messages, request, &mut out);
        out.to_text()
    }
}

/// One turn of the encoder's message list (after `merge_tool_messages`).
enum Turn<'a> {
    System { text: String, tools: bool },
    User(Vec<Block<'a>>),
    Assistant { message: &'a Message, open: bool },
}

/// A part of a user turn.
enum Block<'a> {
    Text(String),
    ToolResult { id: &'a str, text: String },
}

/// Text with the encoder's special tokens (`｜DSML｜`, `<think>`, `</think>`) as specials.
fn marked(out: &mut Pieces, mut text: &str) {
    const MARKS: [&str; 3] = [DSML, THINK, THINK_END];
    loop {
        let next = MARKS
            .iter()
            .filter_map(|mark| text.find(mark).map(|at| (at, *mark)))
            .min_by_key(|(at, mark)| (*at, usize::MAX - mark.len()));
        match next {
            Some((at, mark)) => {
                out.text(&text[..at]).special(mark);
                text = &text[at + mark.len()..];
            }
            None => {
                out.text(text);
                return;
            }
        }
    }
}

/// The tool-call block of an assistant message (nothing without calls).
fn tool_calls(message: &Message, out: &mut Pieces) {
    let calls = message.tool_calls.as_deref().unwrap_or_default();
    if calls.is_empty() {
        return;
    }
    out.text("\n\n<").special(DSML).text("tool_calls>\n");
    for (i, call) in calls.iter().enumerate() {
        if i > 0 {
            out.text("\n");
        }
        out.text("<")
            .special(DSML)
            .text(format!("invoke name=\"{}\">\n", call.function.name));
        let arguments: Map<String, Value> =
            match serde_json::from_str::<Value>(&call.function.arguments) {
                Ok(Value::Object(map)) => map,
                _ => {
                    let mut map = Map::new();
                    map.insert(
                        "arguments".to_string(),
                        Value::String(call.function.arguments.clone()),
                    );
                    map
                }
            };
        for (j, (key, value)) in arguments.iter().enumerate() {
            if j > 0 {
                out.text("\n");
            }
            let (string, value) = match value {
                Value::String(text) => ("true", text.clone()),
                other => ("false", pyjson::dumps(other)),
            };
            out.text("<")
                .special(DSML)
                .text(format!(
                    "parameter name=\"{key}\" string=\"{string}\">{value}</"
                ))
                .special(DSML)
                .text("parameter>");
        }
        out.text("\n</").special(DSML).text("invoke>");
    }
    out.text("\n</").special(DSML).text("tool_calls>");
}

/// The `## Tools` section for the request's functions.
fn tools_section(request: &RequestTools, out: &mut Pieces) {
    marked(out, TOOLS_HEAD);
    let schemas: Vec<String> = request
        .functions()
        .map(|function| pyjson::dumps(&Value::Object(function.clone())))
        .collect();
    out.text(schemas.join("\n"));
    out.text(TOOLS_TAIL);
}

impl DeepSeekV4 {
    /// The encoder's message list: tool results merged into user turns and sorted by call
    /// order, the request's tools on a leading system message.
    fn turns<'a>(messages: &'a [Message], tools: bool) -> Vec<Turn<'a>> {
        let mut turns: Vec<Turn<'a>> = Vec::with_capacity(messages.len() + 1);
        let last = messages.len().saturating_sub(1);
        for (i, message) in messages.iter().enumerate() {
            match message.role {
                Role::System | Role::Developer => turns.push(Turn::System {
                    text: message.content.text(),
                    tools: false,
                }),
                Role::User => {
                    let block = Block::Text(message.content.text());
                    match turns.last_mut() {
                        Some(Turn::User(blocks)) => blocks.push(block),
                        _ => turns.push(Turn::User(vec![block])),
                    }
                }
                Role::Tool | Role::Function => {
                    let block = Block::ToolResult {
                        id: message.tool_call_id.as_deref().unwrap_or_default(),
                        text: message.content.text(),
                    };
                    match turns.last_mut() {
                        Some(Turn::User(blocks)) => blocks.push(block),
                        _ => turns.push(Turn::User(vec![block])),
                    }
                }
                Role::Assistant => turns.push(Turn::Assistant {
                    message,
                    open: i == last && message.is_continuation(),
                }),
            }
        }
        if tools {
            match turns.first_mut() {
                Some(Turn::System { tools, .. }) => *tools = true,
                _ => turns.insert(
                    0,
                    Turn::System {
                        text: String::new(),
                        tools: true,
                    },
                ),
            }
        }
        Self::sort_results(&mut turns);
        turns
    }

    /// `sort_tool_results_by_call_order`: the tool results of a user turn in the order of the
    /// calls of the last assistant message with calls (unknown ids first, order kept).
    fn sort_results<'a>(turns: &mut [Turn<'a>]) {
        let mut order: HashMap<&'a str, usize> = HashMap::new();
        for turn in turns.iter_mut() {
            match turn {
                Turn::Assistant { message, .. } if message.has_tool_calls() => {
                    let message: &'a Message = message;
                    order.clear();
                    for (i, call) in message.tool_calls.iter().flatten().enumerate() {
                        if !call.id.is_empty() {
                            order.insert(call.id.as_str(), i);
                        }
                    }
                }
                Turn::User(blocks) if !order.is_empty() => {
                    let results = blocks
                        .iter()
                        .filter(|block| matches!(block, Block::ToolResult { .. }))
                        .count();
                    if results < 2 {
                        continue;
                    }
                    // the results, stably sorted by call order, go back into their slots
                    let mut sorted: Vec<(usize, Block<'a>)> = Vec::with_capacity(results);
                    let mut slots: Vec<Option<Block<'a>>> = Vec::with_capacity(blocks.len());
                    for block in std::mem::take(blocks) {
                        match block {
                            Block::ToolResult { id, .. } => {
                                sorted.push((order.get(id).copied().unwrap_or(0), block));
                                slots.push(None);
                            }
                            text => slots.push(Some(text)),
                        }
                    }
                    sorted.sort_by_key(|(key, _)| *key);
                    let mut sorted = sorted.into_iter().map(|(_, block)| block);
                    *blocks = slots
                        .into_iter()
                        .filter_map(|slot| slot.or_else(|| sorted.next()))
                        .collect();
                }
                _ => {}
            }
        }
    }

    /// The text of a user turn of several messages (tool results, user text), as the
    /// render writes it: results sorted by the order of `caller`'s calls, blocks joined by
    /// `\n\n` ([`DeepSeekV4::sort_results`]).
    fn joined_turn(turn: &[&Message], caller: Option<&Message>) -> String {
        let mut order: HashMap<&str, usize> = HashMap::new();
        for (i, call) in caller
            .iter()
            .flat_map(|m| m.tool_calls.iter().flatten())
            .enumerate()
        {
            if !call.id.is_empty() {
                order.insert(call.id.as_str(), i);
            }
        }
        let is_result = |m: &Message| matches!(m.role, Role::Tool | Role::Function);
        let mut results: Vec<&Message> = turn.iter().copied().filter(|m| is_result(m)).collect();
        if !order.is_empty() && results.len() >= 2 {
            results.sort_by_key(|m| {
                order
                    .get(m.tool_call_id.as_deref().unwrap_or_default())
                    .copied()
                    .unwrap_or(0)
            });
        }
        let mut results = results.into_iter();
        let blocks: Vec<String> = turn
            .iter()
            .map(|m| {
                if is_result(m) {
                    let result = results.next().unwrap_or(m);
                    format!("<tool_result>{}</tool_result>", result.content.text())
                } else {
                    m.content.text()
                }
            })
            .collect();
        blocks.join("\n\n")
    }

    fn reply(&self, message: &Message, keep_reasoning: bool, open: bool, out: &mut Pieces) {
        if self.thinking && keep_reasoning {
            out.text(message.reasoning_content.as_deref().unwrap_or_default())
                .special(THINK_END);
        }
        out.text(message.content.text());
        tool_calls(message, out);
        if !open {
            out.special(EOS);
        }
    }
}

impl Frames for DeepSeekV4 {
    fn memo(&self) -> &Memo {
        &self.memo
    }

    fn render(&self, messages: &[Message], out: &mut Pieces) {
        self.render_with(messages, &RequestTools::new(), out);
    }

    fn render_with(&self, messages: &[Message], request: &RequestTools, out: &mut Pieces) {
        let has_tools = request.functions().next().is_some();
        let turns = Self::turns(messages, has_tools);
        // `drop_thinking` is on by default and off when tools are given
        let drop_thinking = !has_tools;
        let last_user = turns.iter().rposition(|turn| matches!(turn, Turn::User(_)));
        out.special(BOS);
        for (i, turn) in turns.iter().enumerate() {
            match turn {
                Turn::System { text, tools } => {
                    out.text(text);
                    if *tools {
                        out.text("\n\n");
                        tools_section(request, out);
                    }
                }
                Turn::User(blocks) => {
                    out.special(USER);
                    for (j, block) in blocks.iter().enumerate() {
                        if j > 0 {
                            out.text("\n\n");
                        }
                        match block {
                            Block::Text(text) => out.text(text),
                            Block::ToolResult { text, .. } => {
                                out.text(format!("<tool_result>{text}</tool_result>"))
                            }
                        };
                    }
                    let next_is_reply = turns
                        .get(i + 1)
                        .map_or(true, |next| matches!(next, Turn::Assistant { .. }));
                    if next_is_reply {
                        let think = self.thinking
                            && (!drop_thinking || last_user.is_some_and(|last| i >= last));
                        out.special(ASSISTANT)
                            .special(if think { THINK } else { THINK_END });
                    }
                }
                Turn::Assistant { message, open } => {
                    let keep = !drop_thinking || last_user.map_or(true, |last| i > last);
                    self.reply(message, keep, *open, out);
                }
            }
        }
    }

    /// The render's count from the messages' own ones (`render_one`), turn by turn: a user
    /// message's own count holds the `<｜Assistant｜>` opener the render writes after its turn;
    /// a tool result's lacks the `<｜User｜>` and opener of its turn (3 tokens); an assistant
    /// message's reasoning (+ `</think>`) is rendered when it comes after the last user turn
    /// (tool results count) in thinking mode, and counted in its own count when it lies in the
    /// last round without calls: the difference is counted; a final continuation has no
    /// `<｜end▁of▁sentence｜>`. `None` where text runs of two messages meet: a user turn of
    /// several messages (parallel tool results), a system message after a system message or a
    /// user turn, an assistant message after a system message.
    fn count_with_own(&self, messages: &[&Message], own: &[usize]) -> Option<usize> {
        #[derive(Clone, Copy, PartialEq)]
        enum Kind {
            System,
            User,
            Assistant,
        }
        if own.len() != messages.len() {
            return None;
        }
        // (kind, first message, end) of each turn
        let mut turns: Vec<(Kind, usize, usize)> = Vec::with_capacity(messages.len());
        for (index, message) in messages.iter().enumerate() {
            let kind = match message.role {
                Role::System | Role::Developer => Kind::System,
                Role::User | Role::Tool | Role::Function => Kind::User,
                Role::Assistant => Kind::Assistant,
            };
            match turns.last_mut() {
                Some((Kind::User, _, end)) if kind == Kind::User => *end = index + 1,
                _ => turns.push((kind, index, index + 1)),
            }
        }
        let last_user_turn = turns.iter().rposition(|&(kind, _, _)| kind == Kind::User);
        let last_user = messages
            .iter()
            .rposition(|message| message.role == Role::User)
            .unwrap_or(0);
        let last = messages.len().saturating_sub(1);
        let mut total = 1;
        // the calls of the last assistant message with calls: the order of the results
        let mut caller: Option<&Message> = None;
        for (t, &(kind, index, end)) in turns.iter().enumerate() {
            let (message, tokens) = (messages.get(index)?, *own.get(index)?);
            let previous = t
                .checked_sub(1)
                .and_then(|p| turns.get(p))
                .map(|&(k, _, _)| k);
            let next = turns.get(t + 1).map(|&(k, _, _)| k);
            match kind {
                Kind::System => {
                    if matches!(previous, Some(Kind::System | Kind::User)) {
                        return None;
                    }
                    total += tokens;
                }
                Kind::User => {
                    if next.is_some_and(|next| next != Kind::Assistant) {
                        return None;
                    }
                    if end - index > 1 {
                        // blocks joined by "\n\n" into one text run: count the run
                        let turn = messages.get(index..end)?;
                        total += 3 + self.memo.count(&Self::joined_turn(turn, caller));
                        continue;
                    }
                    total += tokens;
                    if message.role != Role::User {
                        total += 3;
                    }
                }
                Kind::Assistant => {
                    if previous == Some(Kind::System) {
                        return None;
                    }
                    if message.has_tool_calls() {
                        caller = Some(message);
                    }
                    total += tokens;
                    let rendered = last_user_turn.map_or(true, |last| t > last);
                    let owned = index >= last_user && !message.has_tool_calls();
                    if self.thinking && rendered != owned {
                        let reasoning = message.reasoning_content.as_deref().unwrap_or_default();
                        let tokens = 1 + self.memo.count(reasoning);
                        if rendered {
                            total += tokens;
                        } else {
                            total = total.checked_sub(tokens)?;
                        }
                    }
                    if index == last && message.is_continuation() {
                        total = total.checked_sub(1)?;
                    }
                }
            }
        }
        Some(total)
    }

    fn render_one(&self, message: &Message, in_last_round: bool, out: &mut Pieces) {
        match message.role {
            Role::System | Role::Developer => {
                out.text(message.content.text());
            }
            Role::User => {
                out.special(USER)
                    .text(message.content.text())
                    .special(ASSISTANT)
                    .special(if self.thinking && in_last_round {
                        THINK
                    } else {
                        THINK_END
                    });
            }
            Role::Assistant => {
                let keep = in_last_round && !message.has_tool_calls();
                self.reply(message, keep, false, out);
            }
            Role::Tool | Role::Function => {
                out.text(format!(
                    "<tool_result>{}</tool_result>",
                    message.content.text()
                ));
            }
        }
    }
}
