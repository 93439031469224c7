//! The OpenAI-compatible chat message model, lossless on the wire.
//!
//! A [`Message`] has the fields the providers document typed, and keeps every other field in
//! [`Message::extra`], in its original order, so that parsing and serializing gives back the same
//! JSON value. [`ChatRequest`] does the same for a whole request body.

mod content;
mod fields;
mod request;
mod role;
mod tool;
mod validate;

pub use content::{Content, ContentPart, ImageUrl};
pub use request::ChatRequest;
pub use role::Role;
pub use tool::{FunctionCall, ToolCall};
pub use validate::{validate, validate_request};

use serde::de::{Deserialize, Deserializer};
use serde::ser::{Serialize, SerializeMap, Serializer};
use serde_json::{Map, Value};

use crate::error::{Error, Result};
use fields::Fields;

/// One chat message.
///
/// ```
/// use chatctx::message::{Message, Role};
///
/// let json = r#"{"role":"assistant","content":"```python\n","prefix":true,"x_trace":7}"#;
/// let message: Message = serde_json::from_str(json).unwrap();
/// assert_eq!(message.role, Role::Assistant);
/// assert_eq!(message.prefix, Some(true));
/// assert_eq!(serde_json::to_string(&message).unwrap(), json);
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Message {
    /// Who wrote it.
    pub role: Role,
    /// What it says.
    pub content: Content,
    /// The optional participant `name`.
    pub name: Option<String>,
    /// Tool calls requested by an assistant message.
    pub tool_calls: Option<Vec<ToolCall>>,
    /// On a `tool` message: the id of the call it answers.
    pub tool_call_id: Option<String>,
    /// A thinking model's reasoning (DeepSeek, Qwen). Not sent back in history by default.
    pub reasoning_content: Option<String>,
    /// DeepSeek chat-prefix completion: the final assistant message the model continues.
    pub prefix: Option<bool>,
    /// Qwen's equivalent of `prefix` (partial mode).
    pub partial: Option<bool>,
    /// Every other field, kept as given, in order.
    pub extra: Map<String, Value>,
}

impl Message {
    /// A copy of this message with `content` instead of its own (every other field, unknown
    /// ones included, cloned), without copying the old content.
    pub fn with_content(&self, content: impl Into<Content>) -> Message {
        Message {
            role: self.role,
            content: content.into(),
            name: self.name.clone(),
            tool_calls: self.tool_calls.clone(),
            tool_call_id: self.tool_call_id.clone(),
            reasoning_content: self.reasoning_content.clone(),
            prefix: self.prefix,
            partial: self.partial,
            extra: self.extra.clone(),
        }
    }

    /// A message with the given role and text and no other field.
    pub fn new(role: Role, content: impl Into<Content>) -> Self {
        Message {
            role,
            content: content.into(),
            name: None,
            tool_calls: None,
            tool_call_id: None,
            reasoning_content: None,
            prefix: None,
            partial: None,
            extra: Map::new(),
        }
    }

    /// A system message.
    pub fn system(text: impl Into<String>) -> Self {
        Message::new(Role::System, Content::Text(text.into()))
    }

    /// A user message.
    pub fn user(text: impl Into<String>) -> Self {
        Message::new(Role::User, Content::Text(text.into()))
    }

    /// An assistant message.
    pub fn assistant(text: impl Into<String>) -> Self {
        Message::new(Role::Assistant, Content::Text(text.into()))
    }

    /// A tool result answering the call `tool_call_id`.
    pub fn tool(tool_call_id: impl Into<String>, text: impl Into<String>) -> Self {
        let mut message = Message::new(Role::Tool, Content::Text(text.into()));
        message.tool_call_id = Some(tool_call_id.into());
        message
    }

    /// Whether this message is a trailing assistant message for the model to continue
    /// (`prefix: true` for DeepSeek, `partial: true` for Qwen).
    pub fn is_continuation(&self) -> bool {
        self.role == Role::Assistant && (self.prefix == Some(true) || self.partial == Some(true))
    }

    /// Whether this assistant message asks for tool calls.
    pub fn has_tool_calls(&self) -> bool {
        self.tool_calls
            .as_ref()
            .is_some_and(|calls| !calls.is_empty())
    }

    /// Parse one message from a JSON value; `index` is its position, used in errors.
    pub fn from_value(value: Value, index: usize) -> Result<Self> {
        let map = match value {
            Value::Object(map) => map,
            other => {
                return Err(Error::field(
                    index,
                    "",
                    format!(
                        "a message must be a JSON object, found {}",
                        fields::kind_of(&other)
                    ),
                ))
            }
        };
        let mut fields = Fields::new(map, index, "");
        let role = match fields.take("role") {
            None | Some(Value::Null) => return Err(Error::MissingRole { index }),
            Some(Value::String(role)) => role
                .parse::<Role>()
                .map_err(|()| Error::UnknownRole { index, role })?,
            Some(other) => {
                return Err(Error::UnknownRole {
                    index,
                    role: other.to_string(),
                })
            }
        };
        let content = Content::from_value(fields.take("content"), index)?;
        let name = fields.opt_string("name")?;
        let tool_calls = match fields.take("tool_calls") {
            None => None,
            Some(Value::Null) => {
                fields.restore("tool_calls", Value::Null);
                None
            }
            Some(value) => Some(ToolCall::list_from_value(value, fields.index())?),
        };
        let tool_call_id = fields.opt_string("tool_call_id")?;
        let reasoning_content = fields.opt_string("reasoning_content")?;
        let prefix = fields.opt_bool("prefix")?;
        let partial = fields.opt_bool("partial")?;
        Ok(Message {
            role,
            content,
            name,
            tool_calls,
            tool_call_id,
            reasoning_content,
            prefix,
            partial,
            extra: fields.into_rest(),
        })
    }

    /// Parse a JSON array of messages, checking each one and the list as a whole.
    pub fn list_from_value(value: Value) -> Result<Vec<Message>> {
        let items = match value {
            Value::Array(items) => items,
            other => {
                return Err(Error::Json {
                    line: 0,
                    column: 0,
                    message: format!(
                        "`messages` must be an array, found {}",
                        fields::kind_of(&other)
                    ),
                })
            }
        };
        let messages = items
            .into_iter()
            .enumerate()
            .map(|(index, item)| Message::from_value(item, index))
            .collect::<Result<Vec<_>>>()?;
        validate(&messages)?;
        Ok(messages)
    }

    /// The message as a JSON value.
    pub fn to_value(&self) -> Value {
        serde_json::to_value(self).unwrap_or(Value::Null)
    }
}

impl Serialize for Message {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(None)?;
        map.serialize_entry("role", self.role.as_str())?;
        if !self.content.is_absent() {
            map.serialize_entry("content", &self.content)?;
        }
        if let Some(name) = &self.name {
            map.serialize_entry("name", name)?;
        }
        if let Some(tool_calls) = &self.tool_calls {
            map.serialize_entry("tool_calls", tool_calls)?;
        }
        if let Some(id) = &self.tool_call_id {
            map.serialize_entry("tool_call_id", id)?;
        }
        if let Some(reasoning) = &self.reasoning_content {
            map.serialize_entry("reasoning_content", reasoning)?;
        }
        if let Some(prefix) = self.prefix {
            map.serialize_entry("prefix", &prefix)?;
        }
        if let Some(partial) = self.partial {
            map.serialize_entry("partial", &partial)?;
        }
        for (key, value) in &self.extra {
            if !self.shadows(key) {
                map.serialize_entry(key, value)?;
            }
        }
        map.end()
    }
}

impl Message {
    /// Whether an extra field is superseded by a typed field that is set (an explicit `null`
    /// kept from parsing must not be written twice once the field gets a value).
    fn shadows(&self, key: &str) -> bool {
        match key {
            "role" => true,
            "content" => !self.content.is_absent(),
            "name" => self.name.is_some(),
            "tool_calls" => self.tool_calls.is_some(),
            "tool_call_id" => self.tool_call_id.is_some(),
            "reasoning_content" => self.reasoning_content.is_some(),
            "prefix" => self.prefix.is_some(),
            "partial" => self.partial.is_some(),
            _ => false,
        }
    }
}

impl<'de> Deserialize<'de> for Message {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let value = Value::deserialize(deserializer)?;
        Message::from_value(value, 0).map_err(serde::de::Error::custom)
    }
}
