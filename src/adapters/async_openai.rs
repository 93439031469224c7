//! Conversions between chatctx's [`Message`] / [`ChatRequest`] and async-openai's request
//! types (feature `async-openai`, which enables only async-openai's `chat-completion-types`:
//! no HTTP client comes with it).
//!
//! | chatctx | async-openai |
//! |---|---|
//! | [`Message`] | `ChatCompletionRequestMessage` |
//! | [`ChatRequest`] | `CreateChatCompletionRequest` |
//! | `&[Message]` ([`to_async_openai`]) | `Vec<ChatCompletionRequestMessage>` ([`from_async_openai`]) |
//!
//! **chatctx → async-openai** is checked: the value is converted, converted back, and
//! compared with the original field by field. Anything async-openai's types cannot hold is
//! an [`Error::NotRepresentable`] naming the field (a path such as
//! `messages[3].reasoning_content`) and nothing is converted. Those are:
//!
//! - fields async-openai has no place for: unknown and vendor fields (`thinking`,
//!   `enable_thinking`, `cache_control`, ...), a thinking model's `reasoning_content`,
//!   DeepSeek's `prefix` and Qwen's `partial` flags, a tool call's streaming `index`;
//! - values it does not model: content parts other than its own (`video`, `video_url`, ...),
//!   a tool call without `"type": "function"`, a bare messages array or a request without
//!   `model` (its request type requires one);
//! - values it would change: an explicit `null` (async-openai writes the field out, so
//!   `"content": null` would come back absent), a number an `f32` field cannot hold exactly
//!   (`"temperature": 0.123456789`).
//!
//! Send such messages as JSON instead ([`ChatRequest::to_json`]), or clear the field first if
//! the provider does not need it back (most providers do not want `reasoning_content` in the
//! history; DeepSeek's thinking-mode tool loops do). An explicit `"content": null`, the usual
//! shape of an assistant tool-call message in JSON logs, converts once set to
//! [`Content::Absent`](crate::Content::Absent) (async-openai's own responses already leave
//! it absent).
//!
//! **async-openai → chatctx** keeps every field: chatctx's messages hold any JSON. It fails
//! only where chatctx's own checks do (a tool result answering no call, a `custom` tool call,
//! which has no `function`), with the usual typed error.
//!
//! A conversion that succeeds round-trips: converting back gives the same messages and the
//! same request fields, with two differences that carry no meaning in JSON: the order of an
//! object's fields (async-openai's structs have a fixed order) and the spelling of a number
//! (`1` may come back as `1.0`; numbers are compared by value).
//!
//! ```
//! use async_openai::types::chat::{ChatCompletionRequestMessage, CreateChatCompletionRequest};
//! use chatctx::{ChatRequest, Error, Message};
//!
//! let body = r#"{"model":"gpt-4o","messages":[{"role":"user","content":"Hi"}],"temperature":0.5}"#;
//! let request = ChatRequest::from_json(body)?;
//! let openai = CreateChatCompletionRequest::try_from(&request)?;
//! assert_eq!(openai.model, "gpt-4o");
//! assert_eq!(ChatRequest::try_from(&openai)?.to_value(), request.to_value());
//!
//! // DeepSeek's prefix flag has no place in async-openai's types: a typed error, not a loss.
//! let mut prefix = Message::assistant("```python\n");
//! prefix.prefix = Some(true);
//! let error = ChatCompletionRequestMessage::try_from(&prefix).unwrap_err();
//! assert!(matches!(&error, Error::NotRepresentable { field, .. } if field == "prefix"));
//! # Ok::<(), chatctx::Error>(())
//! ```

use ::async_openai::types::chat::{
    ChatCompletionMessageToolCalls, ChatCompletionRequestAssistantMessageContentPart,
    ChatCompletionRequestDeveloperMessageContentPart, ChatCompletionRequestMessage,
    ChatCompletionRequestSystemMessageContentPart, ChatCompletionRequestToolMessageContentPart,
    ChatCompletionRequestUserMessageContentPart, CreateChatCompletionRequest,
};
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::{Map, Value};

use crate::error::{Error, Result};
use crate::message::{ChatRequest, Message};

/// The name of async-openai's message type, in errors.
const MESSAGE: &str = "async-openai ChatCompletionRequestMessage";
/// The name of async-openai's request type, in errors.
const REQUEST: &str = "async-openai CreateChatCompletionRequest";

impl TryFrom<&Message> for ChatCompletionRequestMessage {
    type Error = Error;

    /// Converts a message, or names the first field async-openai cannot hold as it is.
    fn try_from(message: &Message) -> Result<Self> {
        message_to(message, "")
    }
}

impl TryFrom<&ChatCompletionRequestMessage> for Message {
    type Error = Error;

    /// Converts an async-openai message (fails only on what chatctx rejects, e.g. a `custom`
    /// tool call).
    fn try_from(message: &ChatCompletionRequestMessage) -> Result<Self> {
        Message::from_value(to_value(message, "chatctx Message")?, 0)
    }
}

impl TryFrom<&ChatRequest> for CreateChatCompletionRequest {
    type Error = Error;

    /// Converts a request, or names the first field async-openai cannot hold as it is.
    fn try_from(request: &ChatRequest) -> Result<Self> {
        if request.is_bare() {
            return Err(unrepresentable(
                REQUEST,
                "model",
                "a bare messages array has no `model`, which async-openai's request requires \
                 (convert the messages alone with `to_async_openai`)",
            ));
        }
        if request.model().is_none() {
            return Err(unrepresentable(
                REQUEST,
                "model",
                "missing or not a string; async-openai's request requires a model name",
            ));
        }
        // Messages first, each on its own, so that an error names the message.
        for (index, message) in request.messages.iter().enumerate() {
            message_to(message, &format!("messages[{index}]"))?;
        }
        let original = request.to_value();
        let converted = from_value::<CreateChatCompletionRequest>(original.clone(), REQUEST, "")
            .map_err(|error| locate_request_field(request, error))?;
        check_round_trip(&original, &converted, REQUEST, "")?;
        Ok(converted)
    }
}

impl TryFrom<&CreateChatCompletionRequest> for ChatRequest {
    type Error = Error;

    /// Converts an async-openai request (fails only on what chatctx rejects: a tool result
    /// answering no call, a `custom` tool call...).
    fn try_from(request: &CreateChatCompletionRequest) -> Result<Self> {
        ChatRequest::from_value(to_value(request, "chatctx ChatRequest")?)
    }
}

/// Converts messages (what [`crate::Session::prepare`] returns) to async-openai's; an error
/// names the message (`[2].reasoning_content`).
pub fn to_async_openai(messages: &[Message]) -> Result<Vec<ChatCompletionRequestMessage>> {
    messages
        .iter()
        .enumerate()
        .map(|(index, message)| message_to(message, &format!("[{index}]")))
        .collect()
}

/// Converts async-openai messages to chatctx's, checking them as a list (every tool result
/// answers an earlier call).
pub fn from_async_openai(messages: &[ChatCompletionRequestMessage]) -> Result<Vec<Message>> {
    let values = messages
        .iter()
        .map(|message| to_value(message, "chatctx Message"))
        .collect::<Result<Vec<_>>>()?;
    Message::list_from_value(Value::Array(values))
}

/// One message to async-openai's type; `path` prefixes field names in errors.
fn message_to(message: &Message, path: &str) -> Result<ChatCompletionRequestMessage> {
    let original = message.to_value();
    let converted = from_value::<ChatCompletionRequestMessage>(original.clone(), MESSAGE, path)
        .map_err(|error| locate_message_field(&original, path).unwrap_or(error))?;
    check_round_trip(&original, &converted, MESSAGE, path)?;
    Ok(converted)
}

/// Serialize an async-openai value to JSON.
fn to_value<T: Serialize>(value: &T, target: &'static str) -> Result<Value> {
    serde_json::to_value(value).map_err(|error| unrepresentable(target, "", error.to_string()))
}

/// Deserialize `value` into async-openai's `T`; a rejection is a typed error at `path`.
fn from_value<T: DeserializeOwned>(value: Value, target: &'static str, path: &str) -> Result<T> {
    serde_json::from_value(value).map_err(|error| {
        unrepresentable(
            target,
            path,
            format!("async-openai's types do not accept it: {error}"),
        )
    })
}

/// Serialize `converted` back and compare it with `original`: the first difference is an
/// error naming its field.
fn check_round_trip<T: Serialize>(
    original: &Value,
    converted: &T,
    target: &'static str,
    path: &str,
) -> Result<()> {
    let back = to_value(converted, target)?;
    match first_difference(original, &back, path, target) {
        Some((field, reason)) => Err(unrepresentable(target, field, reason)),
        None => Ok(()),
    }
}

/// Where `back` (the value after the conversion) first differs from `original`: the field
/// path and what happened to it. Objects compare without regard to key order, numbers by
/// value.
fn first_difference(
    original: &Value,
    back: &Value,
    path: &str,
    target: &str,
) -> Option<(String, String)> {
    match (original, back) {
        (Value::Object(original), Value::Object(back)) => {
            object_difference(original, back, path, target)
        }
        (Value::Array(original), Value::Array(back)) => {
            if original.len() != back.len() {
                return Some((
                    path.to_string(),
                    format!(
                        "{target} holds {} items of the {} given",
                        back.len(),
                        original.len()
                    ),
                ));
            }
            original
                .iter()
                .zip(back)
                .enumerate()
                .find_map(|(index, (a, b))| {
                    first_difference(a, b, &format!("{path}[{index}]"), target)
                })
        }
        (Value::Number(a), Value::Number(b)) if same_number(a, b) => None,
        (a, b) if a == b => None,
        (a, b) => Some((
            path.to_string(),
            format!("{target} would change the value {a} into {b}"),
        )),
    }
}

fn object_difference(
    original: &Map<String, Value>,
    back: &Map<String, Value>,
    path: &str,
    target: &str,
) -> Option<(String, String)> {
    let join = |key: &str| {
        if path.is_empty() {
            key.to_string()
        } else {
            format!("{path}.{key}")
        }
    };
    for (key, value) in original {
        let Some(other) = back.get(key) else {
            let reason = match value {
                Value::Null => format!(
                    "an explicit null, which {target} cannot tell from an absent field \
                     (it would come back absent)"
                ),
                _ => format!("{target} has no place for it{}", hint(key)),
            };
            return Some((join(key), reason));
        };
        if let Some(difference) = first_difference(value, other, &join(key), target) {
            return Some(difference);
        }
    }
    back.iter()
        .find(|(key, _)| !original.contains_key(*key))
        .map(|(key, value)| {
            (
                join(key),
                format!("{target} would add it (as {value}), which was not there"),
            )
        })
}

/// Why a known field has no place in async-openai's types.
fn hint(key: &str) -> &'static str {
    match key {
        "reasoning_content" => {
            " (a thinking model's reasoning, DeepSeek/Qwen; clear it if the provider does not \
             need it back, or send the request as JSON)"
        }
        "prefix" => " (DeepSeek chat-prefix completion; send the request as JSON)",
        "partial" => " (Qwen partial mode; send the request as JSON)",
        _ => " (a vendor or unknown field; send the request as JSON)",
    }
}

/// Whether two JSON numbers have the same value (`1` and `1.0` do).
fn same_number(a: &serde_json::Number, b: &serde_json::Number) -> bool {
    if let (Some(a), Some(b)) = (a.as_i64(), b.as_i64()) {
        return a == b;
    }
    if let (Some(a), Some(b)) = (a.as_u64(), b.as_u64()) {
        return a == b;
    }
    match (a.as_f64(), b.as_f64()) {
        (Some(x), Some(y)) => x == y && x.is_finite(),
        _ => a == b,
    }
}

/// When async-openai rejects a message, the part or tool call it rejects, if one is to blame.
fn locate_message_field(message: &Value, path: &str) -> Option<Error> {
    let role = message.get("role").and_then(Value::as_str).unwrap_or("");
    let join = |field: String| {
        if path.is_empty() {
            field
        } else {
            format!("{path}.{field}")
        }
    };
    if let Some(Value::Array(parts)) = message.get("content") {
        for (index, part) in parts.iter().enumerate() {
            let accepted = match role {
                "system" => accepts::<ChatCompletionRequestSystemMessageContentPart>(part.clone()),
                "developer" => {
                    accepts::<ChatCompletionRequestDeveloperMessageContentPart>(part.clone())
                }
                "user" => accepts::<ChatCompletionRequestUserMessageContentPart>(part.clone()),
                "assistant" => {
                    accepts::<ChatCompletionRequestAssistantMessageContentPart>(part.clone())
                }
                "tool" => accepts::<ChatCompletionRequestToolMessageContentPart>(part.clone()),
                _ => Ok(()),
            };
            if let Err(reason) = accepted {
                return Some(unrepresentable(
                    MESSAGE,
                    join(format!("content[{index}]")),
                    format!("async-openai has no such {role} content part: {reason}"),
                ));
            }
        }
    }
    if let Some(Value::Array(calls)) = message.get("tool_calls") {
        for (index, call) in calls.iter().enumerate() {
            if let Err(reason) = accepts::<ChatCompletionMessageToolCalls>(call.clone()) {
                return Some(unrepresentable(
                    MESSAGE,
                    join(format!("tool_calls[{index}]")),
                    format!("async-openai does not accept this tool call: {reason}"),
                ));
            }
        }
    }
    None
}

/// When async-openai rejects a request whose messages it accepts one by one, the request
/// field it rejects: each field is tried alone beside the model.
fn locate_request_field(request: &ChatRequest, error: Error) -> Error {
    let model = request.model().unwrap_or_default();
    for (key, value) in &request.fields {
        if key == "model" {
            continue;
        }
        let mut alone = Map::new();
        alone.insert("model".to_string(), Value::String(model.to_string()));
        alone.insert("messages".to_string(), Value::Array(Vec::new()));
        alone.insert(key.clone(), value.clone());
        if let Err(reason) = accepts::<CreateChatCompletionRequest>(Value::Object(alone)) {
            return unrepresentable(
                REQUEST,
                key.clone(),
                format!("async-openai's types do not accept it: {reason}"),
            );
        }
    }
    error
}

/// Whether async-openai's `T` deserializes from `value`; the rejection otherwise.
fn accepts<T: DeserializeOwned>(value: Value) -> std::result::Result<(), String> {
    serde_json::from_value::<T>(value)
        .map(drop)
        .map_err(|error| error.to_string())
}

fn unrepresentable(
    target: &'static str,
    field: impl Into<String>,
    reason: impl Into<String>,
) -> Error {
    Error::NotRepresentable {
        target,
        field: field.into(),
        reason: reason.into(),
    }
}
