//! Durable sessions: conversations kept in a database between requests, shared by many servers.
//!
//! A chat tool is usually a stateless server (or several) in front of a chat API; between two
//! user turns the conversation lives in a [`SessionStore`]: its messages, an append-only log
//! stored as their exact JSON, and its [`SessionState`] (the policy's state, the pins, the
//! calibration and the archived reasoning), versioned.
//!
//! Every conversation has a version, 0 before it exists, raised by one on every write. Every
//! write names the version it was based on; a write based on any other version is refused with
//! [`Error::Conflict`] and nothing is written. [`crate::Session::resume`],
//! [`crate::Session::save`] and [`crate::Session::prepare_and_save`] build on this: two servers
//! preparing the same conversation at once never both keep a summary; one wins, the other
//! reloads and prepares again from the winner's state.
//!
//! | Store | Feature | For |
//! |---|---|---|
//! | [`SqliteStore`] | `sqlite` (in `cli`) | one machine: a file, bundled SQLite, nothing to install |
//! | [`PostgresStore`] | `postgres` | many servers on one database, over TLS when the URL asks |
//!
//! Both keep the schema's version in the database: opening a database written by a newer
//! chatctx (or of a schema it does not know) is an [`Error::SessionStore`], never a silent
//! reinterpretation.

#[cfg(feature = "postgres")]
mod postgres;
#[cfg(feature = "sqlite")]
mod sqlite;

#[cfg(feature = "postgres")]
pub use postgres::PostgresStore;
#[cfg(feature = "sqlite")]
pub use sqlite::SqliteStore;

use std::collections::BTreeMap;
use std::sync::Arc;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use crate::calibration::Calibration;
use crate::conversation::ReasoningRetention;
use crate::error::{Error, Result};
use crate::message::Message;
use crate::policy::PolicyState;

/// The version of a stored conversation: 0 before it exists, one more after every write.
pub type Version = u64;

/// The schema version this chatctx writes and reads (both stores).
pub const SCHEMA_VERSION: u32 = 1;

/// The format version of the serialized [`SessionState`].
pub const STATE_FORMAT: u32 = 1;

/// The longest conversation id, in bytes.
pub const MAX_ID_BYTES: usize = 512;

/// Everything a session keeps between requests besides its messages.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct SessionState {
    /// The policy's state: the rolling summary, where `compact` last cut.
    #[serde(default)]
    pub policy: PolicyState,
    /// Messages pinned with [`crate::Session::pin`], ascending.
    #[serde(default)]
    pub pins: Vec<usize>,
    /// The observed counting error.
    #[serde(default)]
    pub calibration: Calibration,
    /// Reasoning recorded with replies but kept out of the history, by message index.
    #[serde(default)]
    pub reasoning: BTreeMap<usize, String>,
    /// The reasoning rule of the transcript.
    #[serde(default)]
    pub retention: ReasoningRetention,
}

impl SessionState {
    /// The state as stored: a JSON object, its format version first.
    pub fn to_json(&self) -> String {
        let mut object = serde_json::Map::new();
        object.insert("format".into(), serde_json::Value::from(STATE_FORMAT));
        if let Ok(serde_json::Value::Object(fields)) = serde_json::to_value(self) {
            object.extend(fields);
        }
        serde_json::Value::Object(object).to_string()
    }

    /// Parse a stored state; a state of another format is an [`Error::SessionStore`].
    pub fn from_json(text: &str) -> Result<Self> {
        let value: serde_json::Value =
            serde_json::from_str(text).map_err(|err| Error::SessionStore {
                reason: format!("stored state is not valid JSON: {err}"),
            })?;
        let serde_json::Value::Object(mut object) = value else {
            return Err(Error::SessionStore {
                reason: "stored state is not a JSON object".to_string(),
            });
        };
        let format = object.shift_remove("format");
        if format.as_ref().and_then(serde_json::Value::as_u64) != Some(u64::from(STATE_FORMAT)) {
            return Err(Error::SessionStore {
                reason: format!(
                    "stored state has format {}, this chatctx reads format {STATE_FORMAT}",
                    format.map_or_else(|| "(none)".to_string(), |f| f.to_string())
                ),
            });
        }
        serde_json::from_value(serde_json::Value::Object(object)).map_err(|err| {
            Error::SessionStore {
                reason: format!("stored state is malformed: {err}"),
            }
        })
    }

    /// The state of the first `at` messages of a conversation (for a fork): pins, archived
    /// reasoning, a summary and a compaction point past `at` are dropped.
    pub fn truncated(&self, at: usize) -> SessionState {
        let mut state = self.clone();
        state.pins.retain(|&pin| pin < at);
        state.reasoning.retain(|&index, _| index < at);
        if state
            .policy
            .summary
            .as_ref()
            .is_some_and(|summary| summary.covers_until > at)
        {
            state.policy.summary = None;
        }
        if state.policy.compact_from.is_some_and(|from| from > at) {
            state.policy.compact_from = None;
        }
        state
    }
}

/// A conversation as loaded from a store.
#[derive(Debug, Clone, PartialEq)]
pub struct Stored {
    /// Its version.
    pub version: Version,
    /// Its messages, exactly as appended.
    pub messages: Vec<Message>,
    /// Its state (the default state when none was saved).
    pub state: SessionState,
}

/// One conversation of a store's [`SessionStore::list`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConversationInfo {
    /// The conversation id.
    pub id: String,
    /// Its version.
    pub version: Version,
    /// Its number of messages.
    pub messages: usize,
}

/// Where durable sessions live.
///
/// Implementations make every write atomic (all of it or nothing, also when the process is
/// killed) and refuse a write whose `based_on` is not the conversation's current version with
/// [`Error::Conflict`], writing nothing.
#[async_trait]
pub trait SessionStore: Send + Sync + std::fmt::Debug {
    /// A description for messages (never containing a password).
    fn name(&self) -> String;

    /// The conversation `id`, or `None` when the store has none of that id.
    async fn load(&self, id: &str) -> Result<Option<Stored>>;

    /// The current version of `id` (0 when it does not exist).
    async fn version(&self, id: &str) -> Result<Version>;

    /// Append `messages` to `id` and, when given, replace its state, in one atomic write
    /// based on version `based_on` (0 creates the conversation). Returns the new version.
    async fn write(
        &self,
        id: &str,
        based_on: Version,
        messages: &[Message],
        state: Option<&SessionState>,
    ) -> Result<Version>;

    /// Append `messages` to `id` based on version `based_on`; returns the new version.
    async fn append(&self, id: &str, based_on: Version, messages: &[Message]) -> Result<Version> {
        self.write(id, based_on, messages, None).await
    }

    /// Replace the state of `id` based on version `based_on`; returns the new version.
    async fn save_state(
        &self,
        id: &str,
        based_on: Version,
        state: &SessionState,
    ) -> Result<Version> {
        self.write(id, based_on, &[], Some(state)).await
    }

    /// Copy the first `at` messages of `id` (and the part of its state that concerns them,
    /// see [`SessionState::truncated`]) into the new conversation `new_id`, at version 1.
    /// An existing `new_id` is an [`Error::Conflict`]; an unknown `id` or an `at` past its end
    /// is an [`Error::InvalidConfig`].
    async fn fork(&self, id: &str, at: usize, new_id: &str) -> Result<Version>;

    /// Remove everything of `id`; returns whether it existed.
    async fn delete(&self, id: &str) -> Result<bool>;

    /// Every conversation, by id.
    async fn list(&self) -> Result<Vec<ConversationInfo>>;
}

/// Open the store named by `spec`: `sqlite:PATH` ([`SqliteStore`], the file is created when
/// missing) or a `postgres://` / `postgresql://` URL ([`PostgresStore`]; TLS as its
/// `sslmode` asks). Errors never quote the spec (a URL may hold a password).
pub async fn open(spec: &str) -> Result<Arc<dyn SessionStore>> {
    if let Some(path) = spec.strip_prefix("sqlite:") {
        #[cfg(feature = "sqlite")]
        {
            if path.is_empty() {
                return Err(Error::config(
                    "store",
                    "sqlite: needs a path, e.g. sqlite:chatctx.db",
                ));
            }
            return Ok(Arc::new(SqliteStore::open(path)?));
        }
        #[cfg(not(feature = "sqlite"))]
        {
            let _ = path;
            return Err(Error::config(
                "store",
                "this chatctx was built without the `sqlite` feature",
            ));
        }
    }
    if spec.starts_with("postgres://") || spec.starts_with("postgresql://") {
        #[cfg(feature = "postgres")]
        return Ok(Arc::new(PostgresStore::connect(spec).await?));
        #[cfg(not(feature = "postgres"))]
        return Err(Error::config(
            "store",
            "this chatctx was built without the `postgres` feature",
        ));
    }
    let scheme = spec.split(':').next().unwrap_or_default();
    Err(Error::config(
        "store",
        format!(
            "unknown session store {:?}: expected sqlite:PATH or a postgres:// URL",
            shorten(if scheme.len() < spec.len() {
                scheme
            } else {
                spec
            })
        ),
    ))
}

/// Check a conversation id: 1 to [`MAX_ID_BYTES`] bytes, no NUL or other control character.
/// Quotes, SQL fragments and any other text are fine (ids are always bound, never spliced).
pub fn check_id(id: &str) -> Result<()> {
    let reason = if id.is_empty() {
        Some("it is empty".to_string())
    } else if id.len() > MAX_ID_BYTES {
        Some(format!(
            "it has {} bytes, more than {MAX_ID_BYTES}",
            id.len()
        ))
    } else {
        id.char_indices()
            .find(|(_, c)| c.is_control())
            .map(|(at, c)| format!("it contains the control character {c:?} at byte {at}"))
    };
    match reason {
        None => Ok(()),
        Some(reason) => Err(Error::config(
            "conversation id",
            format!("{:?} is not a valid conversation id: {reason}", shorten(id)),
        )),
    }
}

/// At most 80 characters of `text`, for messages.
fn shorten(text: &str) -> String {
    match text.char_indices().nth(80) {
        Some((at, _)) => format!("{}...", &text[..at]),
        None => text.to_string(),
    }
}

/// The stored form of a message: its exact JSON.
#[cfg_attr(not(any(feature = "sqlite", feature = "postgres")), allow(dead_code))]
pub(crate) fn message_json(message: &Message) -> Result<String> {
    serde_json::to_string(message).map_err(|err| Error::SessionStore {
        reason: format!("cannot serialize a message: {err}"),
    })
}

/// A stored message back.
#[cfg_attr(not(any(feature = "sqlite", feature = "postgres")), allow(dead_code))]
pub(crate) fn parse_message(id: &str, seq: i64, body: &str) -> Result<Message> {
    serde_json::from_str(body).map_err(|err| Error::SessionStore {
        reason: format!("conversation {id:?}: stored message {seq} is not a valid message: {err}"),
    })
}

/// Append the message stored at `seq` of conversation `id`, read back in `seq` order: it must
/// follow the ones before it.
#[cfg_attr(not(any(feature = "sqlite", feature = "postgres")), allow(dead_code))]
pub(crate) fn push_stored(
    store: &str,
    id: &str,
    messages: &mut Vec<Message>,
    seq: i64,
    body: &str,
) -> Result<()> {
    if seq != messages.len() as i64 {
        return Err(Error::SessionStore {
            reason: format!(
                "{store}: conversation {id:?} misses message {}",
                messages.len()
            ),
        });
    }
    messages.push(parse_message(id, seq, body)?);
    Ok(())
}

/// A conversation read back: its messages (all `count` of them), its version and its state.
#[cfg_attr(not(any(feature = "sqlite", feature = "postgres")), allow(dead_code))]
pub(crate) fn stored(
    store: &str,
    id: &str,
    count: i64,
    version: i64,
    messages: Vec<Message>,
    state: Option<String>,
) -> Result<Option<Stored>> {
    if messages.len() as i64 != count {
        return Err(Error::SessionStore {
            reason: format!(
                "{store}: conversation {id:?} should have {count} messages, has {}",
                messages.len()
            ),
        });
    }
    let state = match state {
        Some(text) => SessionState::from_json(&text)?,
        None => SessionState::default(),
    };
    Ok(Some(Stored {
        version: u64::try_from(version).unwrap_or(0),
        messages,
        state,
    }))
}

/// The error for a conversation the store does not hold.
#[cfg_attr(not(any(feature = "sqlite", feature = "postgres")), allow(dead_code))]
pub(crate) fn unknown(id: &str, store: &str) -> Error {
    Error::config(
        "conversation",
        format!("{store} has no conversation {:?}", shorten(id)),
    )
}

/// The error for a fork point past the end.
#[cfg_attr(not(any(feature = "sqlite", feature = "postgres")), allow(dead_code))]
pub(crate) fn fork_past_end(id: &str, at: usize, count: usize) -> Error {
    Error::config(
        "fork",
        format!(
            "cannot fork {:?} at message {at}: it has {count} messages",
            shorten(id)
        ),
    )
}

/// The error for a stored schema other than [`SCHEMA_VERSION`].
#[cfg_attr(not(any(feature = "sqlite", feature = "postgres")), allow(dead_code))]
pub(crate) fn wrong_schema(store: &str, found: &str) -> Error {
    Error::SessionStore {
        reason: format!(
            "{store} has schema version {found}, this chatctx knows version {SCHEMA_VERSION} only; \
             refusing to read or write it (use the chatctx that wrote it)"
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::SummaryState;

    #[test]
    fn ids_are_checked() {
        for good in [
            "a",
            "it's \"quoted\"",
            "x'; DROP TABLE chatctx_messages; --",
            "日本",
        ] {
            assert!(check_id(good).is_ok(), "{good}");
        }
        let long = "a".repeat(MAX_ID_BYTES + 1);
        for bad in ["", "a\0b", "line\nbreak", long.as_str()] {
            assert!(
                matches!(check_id(bad), Err(Error::InvalidConfig { .. })),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn state_round_trips_with_its_format() {
        let mut state = SessionState::default();
        state.policy.summary = Some(SummaryState {
            text: "They talked about \"cats\".".into(),
            covers_until: 7,
        });
        state.policy.compact_from = Some(5);
        state.pins = vec![1, 3];
        state.reasoning.insert(2, "thinking".into());
        let json = state.to_json();
        assert!(json.starts_with("{\"format\":1,"), "{json}");
        assert_eq!(SessionState::from_json(&json), Ok(state.clone()));
        let newer = json.replacen("\"format\":1", "\"format\":2", 1);
        let err = SessionState::from_json(&newer).expect_err("newer format");
        assert!(err.to_string().contains("format 2"), "{err}");
        assert!(SessionState::from_json("{}").is_err());

        let cut = state.truncated(5);
        assert_eq!(cut.pins, vec![1, 3]);
        assert_eq!(cut.policy.summary, None);
        assert_eq!(cut.policy.compact_from, Some(5));
        let cut = state.truncated(2);
        assert_eq!(cut.pins, vec![1]);
        assert!(cut.reasoning.is_empty());
        assert_eq!(cut.policy.compact_from, None);
    }
}
