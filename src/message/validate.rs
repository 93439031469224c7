//! Checks a message list must pass before any policy looks at it.

use std::collections::HashMap;

use super::{Content, Message, Role};
use crate::error::{Error, Result};

/// Check a message list as the chat APIs would, returning the first problem found.
///
/// - `user`, `system`, `developer` and `tool` messages need content;
/// - only assistant messages carry `tool_calls`;
/// - a `tool` message needs a `tool_call_id` that answers a call of an earlier assistant message
///   in the same round (no user message in between);
/// - `prefix: true` / `partial: true` only on the last message, and only on an assistant one.
///
/// ```
/// use chatctx::message::{validate, Message};
/// use chatctx::Error;
///
/// let messages = vec![Message::user("hi"), Message::tool("call_1", "42")];
/// let err = validate(&messages).unwrap_err();
/// assert!(matches!(err, Error::OrphanToolResult { index: 1, .. }));
/// ```
pub fn validate(messages: &[Message]) -> Result<()> {
    // id -> (index of the calling message, index of the last user message before it)
    let mut calls: HashMap<&str, usize> = HashMap::new();
    let mut last_user: Option<usize> = None;
    let last = messages.len().saturating_sub(1);
    for (index, message) in messages.iter().enumerate() {
        check_content(index, message)?;
        check_continuation(index, message, index == last)?;
        match message.role {
            Role::User => last_user = Some(index),
            Role::Assistant => {
                for call in message.tool_calls.iter().flatten() {
                    calls.insert(call.id.as_str(), index);
                }
            }
            Role::Tool => check_tool_result(index, message, &calls, last_user)?,
            _ => {}
        }
        if message.role != Role::Assistant && message.tool_calls.is_some() {
            return Err(Error::field(
                index,
                "tool_calls",
                format!(
                    "only assistant messages carry tool calls, not {}",
                    message.role
                ),
            ));
        }
    }
    Ok(())
}

/// [`validate`], and also that every tool call is answered: a request ready to send has a
/// `tool` result for each call of its assistant messages, within the call's round (the
/// providers answer 400 otherwise). Every request a chatctx policy returns from a valid
/// history passes this check.
///
/// ```
/// use chatctx::message::{validate_request, Message, ToolCall};
///
/// let mut call = Message::assistant("");
/// call.tool_calls = Some(vec![ToolCall::function("call_1", "now", "{}")]);
/// let mut messages = vec![Message::user("time?"), call];
/// assert!(validate_request(&messages).is_err());
/// messages.push(Message::tool("call_1", "12:00"));
/// assert!(validate_request(&messages).is_ok());
/// ```
pub fn validate_request(messages: &[Message]) -> Result<()> {
    validate(messages)?;
    // call id -> index of the assistant message making it, for calls still unanswered
    let mut open: HashMap<&str, usize> = HashMap::new();
    for (index, message) in messages.iter().enumerate() {
        match message.role {
            Role::User => check_answered(&open)?,
            Role::Assistant => {
                for call in message.tool_calls.iter().flatten() {
                    open.insert(call.id.as_str(), index);
                }
            }
            Role::Tool => {
                if let Some(id) = message.tool_call_id.as_deref() {
                    open.remove(id);
                }
            }
            _ => {}
        }
    }
    check_answered(&open)
}

fn check_answered(open: &HashMap<&str, usize>) -> Result<()> {
    match open.iter().min_by_key(|(id, &index)| (index, *id)) {
        None => Ok(()),
        Some((id, &index)) => Err(Error::field(
            index,
            "tool_calls",
            format!("the call {id:?} has no tool result answering it"),
        )),
    }
}

fn check_content(index: usize, message: &Message) -> Result<()> {
    let needs_content = !matches!(message.role, Role::Assistant);
    match &message.content {
        Content::Absent | Content::Null if needs_content => Err(Error::field(
            index,
            "content",
            format!("a {} message needs content", message.role),
        )),
        _ => Ok(()),
    }
}

fn check_continuation(index: usize, message: &Message, is_last: bool) -> Result<()> {
    for (flag, value) in [("prefix", message.prefix), ("partial", message.partial)] {
        if value != Some(true) {
            continue;
        }
        if message.role != Role::Assistant {
            return Err(Error::MisplacedPrefix {
                index,
                flag,
                reason: "is only allowed on an assistant message",
            });
        }
        if !is_last {
            return Err(Error::MisplacedPrefix {
                index,
                flag,
                reason: "is only allowed on the last message",
            });
        }
    }
    Ok(())
}

fn check_tool_result(
    index: usize,
    message: &Message,
    calls: &HashMap<&str, usize>,
    last_user: Option<usize>,
) -> Result<()> {
    let Some(id) = message.tool_call_id.as_deref() else {
        return Err(Error::field(
            index,
            "tool_call_id",
            "missing (a tool result must name the call it answers)",
        ));
    };
    match calls.get(id) {
        None => Err(Error::OrphanToolResult {
            index,
            tool_call_id: id.to_string(),
        }),
        Some(&call) if last_user.is_some_and(|user| user > call) => Err(Error::field(
            index,
            "tool_call_id",
            format!(
                "answers the call in message {call}, but the user message {} lies between; \
                 a tool result must follow its call within the same round",
                last_user.unwrap_or_default()
            ),
        )),
        Some(_) => Ok(()),
    }
}
