//! The one error type of the crate.
//!
//! Every fallible operation returns [`Error`]. Its variants are matchable, and each message names
//! what was wrong: the message index, the offending value, the numbers that did not fit.

use std::fmt;

/// Shorthand for `Result<T, chatctx::Error>`.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything that can go wrong in chatctx.
///
/// The enum is `#[non_exhaustive]`: match the variants you care about and keep a catch-all arm.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Error {
    /// The input is not valid JSON (or not the expected JSON shape at the top level).
    Json {
        /// 1-based line of the error, 0 when unknown.
        line: usize,
        /// 1-based column of the error, 0 when unknown.
        column: usize,
        /// What the JSON parser said.
        message: String,
    },
    /// A message has no `role` field.
    MissingRole {
        /// Index of the message in the list.
        index: usize,
    },
    /// A message has a role chatctx does not know.
    UnknownRole {
        /// Index of the message in the list.
        index: usize,
        /// The role as given.
        role: String,
    },
    /// A field of a message has the wrong JSON type or value.
    InvalidField {
        /// Index of the message in the list.
        index: usize,
        /// The field, e.g. `content` or `tool_calls[0].function`.
        field: String,
        /// What is wrong with it.
        reason: String,
    },
    /// A tool result whose `tool_call_id` answers no earlier assistant tool call.
    OrphanToolResult {
        /// Index of the tool message.
        index: usize,
        /// The id it claims to answer.
        tool_call_id: String,
    },
    /// `prefix` / `partial` set on a message that is not the final assistant message.
    MisplacedPrefix {
        /// Index of the message carrying the flag.
        index: usize,
        /// `prefix` or `partial`.
        flag: &'static str,
        /// Why it is not allowed there.
        reason: &'static str,
    },
    /// A model name no table knows.
    UnknownModel {
        /// The name as given.
        name: String,
        /// The known names and patterns closest to it.
        known: Vec<String>,
    },
    /// A tokenizer name no table knows.
    UnknownTokenizer {
        /// The name as given.
        name: String,
        /// The tokenizer names that are known.
        known: Vec<String>,
    },
    /// A built-in vocabulary (or a model or tokenizer name that counts with it) that this
    /// build of chatctx leaves out: its cargo feature was not enabled.
    VocabularyNotCompiled {
        /// The name as given: a vocabulary, tokenizer or model name.
        name: String,
        /// The vocabulary it needs, e.g. `qwen2.5`.
        vocabulary: String,
        /// The cargo feature that compiles it in, e.g. `vocab-qwen2_5`.
        feature: String,
    },
    /// A vocabulary file could not be read or is malformed.
    Vocabulary {
        /// The vocabulary (name or path).
        name: String,
        /// What is wrong.
        reason: String,
    },
    /// A configuration value (policy spec, window, threshold...) is invalid.
    InvalidConfig {
        /// The setting, e.g. `window` or `policy`.
        setting: String,
        /// What is wrong, naming the value.
        reason: String,
    },
    /// The messages that must be sent (pinned messages plus the last round) do not fit.
    DoesNotFit {
        /// Tokens the mandatory part needs.
        required: usize,
        /// Tokens available (window minus reserved reply tokens).
        available: usize,
        /// What the mandatory part consists of.
        what: String,
    },
    /// The injected summarizer failed.
    Summarizer {
        /// What went wrong.
        reason: String,
    },
    /// The embedder failed.
    Embedder {
        /// What went wrong.
        reason: String,
    },
    /// The vector store failed.
    Store {
        /// What went wrong.
        reason: String,
    },
    /// Vectors of the wrong dimension: an embedder and a store that disagree, or an embedder
    /// that returned vectors of another size than it announced.
    DimensionMismatch {
        /// What disagrees, e.g. `embedder "ngrams" vs store "postgres table chatctx_rounds"`.
        what: String,
        /// The dimension expected.
        expected: usize,
        /// The dimension found.
        found: usize,
    },
    /// A write to a session store was based on a version of the conversation that is no
    /// longer the current one: nothing was written. Reload the conversation and retry.
    Conflict {
        /// The conversation id.
        conversation: String,
        /// The version the write was based on (0: the conversation was expected not to exist).
        expected: u64,
        /// The version found in the store (0: the conversation does not exist).
        found: u64,
    },
    /// A session store failed or refused (database error, unknown schema version...).
    SessionStore {
        /// What went wrong.
        reason: String,
    },
    /// A conversion to another crate's type would lose or change part of the value (a field
    /// the type has no place for, a value it would alter): nothing is converted, nothing is
    /// dropped silently.
    NotRepresentable {
        /// The target type, e.g. `async-openai ChatCompletionRequestMessage`.
        target: &'static str,
        /// The field, as a path such as `messages[3].reasoning_content` (empty: the whole
        /// value).
        field: String,
        /// What the target cannot hold, and why.
        reason: String,
    },
    /// Reading or writing a file or stream failed.
    Io {
        /// The path or stream name.
        path: String,
        /// The OS message.
        message: String,
    },
}

impl Error {
    /// The index of the message the error is about, if it is about one.
    pub fn message_index(&self) -> Option<usize> {
        match self {
            Error::MissingRole { index }
            | Error::UnknownRole { index, .. }
            | Error::InvalidField { index, .. }
            | Error::OrphanToolResult { index, .. }
            | Error::MisplacedPrefix { index, .. } => Some(*index),
            _ => None,
        }
    }

    /// Build an [`Error::Json`] from a `serde_json` error.
    pub(crate) fn json(err: &serde_json::Error) -> Self {
        Error::Json {
            line: err.line(),
            column: err.column(),
            message: strip_position(&err.to_string()),
        }
    }

    /// Build an [`Error::InvalidField`].
    pub(crate) fn field(index: usize, field: impl Into<String>, reason: impl Into<String>) -> Self {
        Error::InvalidField {
            index,
            field: field.into(),
            reason: reason.into(),
        }
    }

    /// Build an [`Error::InvalidConfig`].
    #[allow(dead_code)]
    pub(crate) fn config(setting: impl Into<String>, reason: impl Into<String>) -> Self {
        Error::InvalidConfig {
            setting: setting.into(),
            reason: reason.into(),
        }
    }
}

/// serde_json appends " at line L column C"; we print the position ourselves.
fn strip_position(message: &str) -> String {
    match message.rfind(" at line ") {
        Some(at) => message[..at].to_string(),
        None => message.to_string(),
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Json {
                line,
                column,
                message,
            } => write!(f, "invalid JSON at line {line}, column {column}: {message}"),
            Error::MissingRole { index } => write!(f, "message {index}: missing `role`"),
            Error::UnknownRole { index, role } => write!(
                f,
                "message {index}: unknown role {role:?} (expected system, developer, user, assistant or tool)"
            ),
            Error::InvalidField {
                index,
                field,
                reason,
            } => write!(f, "message {index}: field `{field}`: {reason}"),
            Error::OrphanToolResult {
                index,
                tool_call_id,
            } => write!(
                f,
                "message {index}: tool result answers tool_call_id {tool_call_id:?}, which no earlier assistant message called"
            ),
            Error::MisplacedPrefix {
                index,
                flag,
                reason,
            } => write!(f, "message {index}: `{flag}: true` {reason}"),
            Error::UnknownModel { name, known } => {
                write!(f, "unknown model {name:?}; closest known: {}", known.join(", "))
            }
            Error::UnknownTokenizer { name, known } => {
                write!(f, "unknown tokenizer {name:?}; known: {}", known.join(", "))
            }
            Error::VocabularyNotCompiled {
                name,
                vocabulary,
                feature,
            } => {
                if name != vocabulary {
                    write!(f, "{name:?} counts with the vocabulary {vocabulary}; ")?;
                }
                write!(
                    f,
                    "vocabulary {vocabulary} is not compiled into this build of chatctx: enable the cargo feature `{feature}` (or `all-vocabularies`)"
                )
            }
            Error::Vocabulary { name, reason } => write!(f, "vocabulary {name}: {reason}"),
            Error::InvalidConfig { setting, reason } => write!(f, "invalid {setting}: {reason}"),
            Error::DoesNotFit {
                required,
                available,
                what,
            } => write!(
                f,
                "{what} need {required} tokens but only {available} are available (window minus reserved reply tokens)"
            ),
            Error::Summarizer { reason } => write!(f, "summarizer failed: {reason}"),
            Error::Embedder { reason } => write!(f, "embedder failed: {reason}"),
            Error::Store { reason } => write!(f, "vector store failed: {reason}"),
            Error::DimensionMismatch {
                what,
                expected,
                found,
            } => write!(
                f,
                "dimension mismatch: {what}: expected vectors of dimension {expected}, found {found}"
            ),
            Error::Conflict {
                conversation,
                expected,
                found,
            } => write!(
                f,
                "conflict on conversation {conversation:?}: the write was based on version {expected} but the store holds version {found}; nothing was written"
            ),
            Error::SessionStore { reason } => write!(f, "session store failed: {reason}"),
            Error::NotRepresentable {
                target,
                field,
                reason,
            } if field.is_empty() => write!(f, "cannot convert to {target}: {reason}"),
            Error::NotRepresentable {
                target,
                field,
                reason,
            } => write!(f, "cannot convert to {target}: field `{field}`: {reason}"),
            Error::Io { path, message } => write!(f, "{path}: {message}"),
        }
    }
}

impl std::error::Error for Error {}
