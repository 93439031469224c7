//! Steps: the atoms inside a round.
//!
//! In an agent loop one round (one user request) holds tens of model calls. A *step* is an
//! assistant message that makes tool calls together with every tool result answering those
//! calls (parallel calls stay together); any other message is a step of its own. Policies that
//! trim inside a round keep or drop whole steps, so a tool result never loses its call and a
//! call never loses its result.

use std::collections::HashMap;
use std::ops::Range;

use crate::message::{Message, Role};

/// A contiguous run of messages inside a round: one message, or an assistant message with
/// tool calls and everything up to the last tool result that answers one of them.
///
/// ```
/// use chatctx::conversation::Conversation;
/// use chatctx::message::{Message, ToolCall};
///
/// let mut call = Message::assistant("");
/// call.tool_calls = Some(vec![
///     ToolCall::function("a", "read_file", r#"{"path":"a.rs"}"#),
///     ToolCall::function("b", "read_file", r#"{"path":"b.rs"}"#),
/// ]);
/// let messages = vec![
///     Message::user("Fix the bug."),
///     call,
///     Message::tool("a", "fn a() {}"),
///     Message::tool("b", "fn b() {}"),
///     Message::assistant("Done."),
/// ];
/// let conversation = Conversation::new(&messages);
/// let steps: Vec<_> = conversation.steps(0).iter().map(|s| s.range()).collect();
/// assert_eq!(steps, vec![0..1, 1..4, 4..5]);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Step {
    start: usize,
    end: usize,
}

super::span::message_span!(Step);

/// Cut `messages[range]` (one round) into steps, appending them to `steps`.
pub(crate) fn split_round(messages: &[Message], range: Range<usize>, steps: &mut Vec<Step>) {
    // The last message answering each call id of this round.
    let mut answered: HashMap<&str, usize> = HashMap::new();
    for index in range.clone() {
        if let Some(message) = messages.get(index) {
            if message.role == Role::Tool {
                if let Some(id) = message.tool_call_id.as_deref() {
                    answered.insert(id, index);
                }
            }
        }
    }
    let mut index = range.start;
    while index < range.end {
        let mut end = index + 1;
        let mut probe = index;
        // Grow the step while a message inside it makes calls answered further on.
        while probe < end {
            if let Some(message) = messages.get(probe) {
                if message.role == Role::Assistant {
                    for call in message.tool_calls.iter().flatten() {
                        if let Some(&last) = answered.get(call.id.as_str()) {
                            if last >= end && last < range.end {
                                end = last + 1;
                            }
                        }
                    }
                }
            }
            probe += 1;
        }
        steps.push(Step::new(index, end));
        index = end;
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::message::ToolCall;

    fn calls(ids: &[&str]) -> Message {
        let mut message = Message::assistant("");
        message.tool_calls = Some(
            ids.iter()
                .map(|id| ToolCall::function(*id, "f", "{}"))
                .collect(),
        );
        message
    }

    fn steps_of(messages: &[Message]) -> Vec<Range<usize>> {
        let mut steps = Vec::new();
        split_round(messages, 0..messages.len(), &mut steps);
        steps.iter().map(Step::range).collect()
    }

    #[test]
    fn a_call_and_its_results_are_one_step() {
        let messages = vec![
            Message::user("go"),
            calls(&["a"]),
            Message::tool("a", "1"),
            calls(&["b", "c"]),
            Message::tool("c", "3"),
            Message::tool("b", "2"),
            Message::assistant("done"),
        ];
        assert_eq!(steps_of(&messages), vec![0..1, 1..3, 3..6, 6..7]);
    }

    #[test]
    fn interleaved_calls_merge_into_one_step() {
        // b's call comes before a's result: the two calls cannot be separated.
        let messages = vec![
            Message::user("go"),
            calls(&["a"]),
            calls(&["b"]),
            Message::tool("a", "1"),
            Message::assistant("thinking aloud"),
            Message::tool("b", "2"),
            Message::user("next"),
        ];
        assert_eq!(steps_of(&messages), vec![0..1, 1..6, 6..7]);
    }

    #[test]
    fn an_unanswered_call_is_a_step_of_its_own() {
        let messages = vec![Message::user("go"), calls(&["a"])];
        assert_eq!(steps_of(&messages), vec![0..1, 1..2]);
    }
}
