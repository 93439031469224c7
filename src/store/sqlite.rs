//! The SQLite session store (feature `sqlite`): one file, bundled SQLite.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use async_trait::async_trait;
use rusqlite::{params, Connection, OptionalExtension, TransactionBehavior};

use super::{
    check_id, fork_past_end, message_json, push_stored, stored, unknown, wrong_schema,
    ConversationInfo, SessionState, SessionStore, Stored, Version, SCHEMA_VERSION,
};
use crate::error::{Error, Result};
use crate::message::Message;

/// How long a write waits for another connection's write to finish before failing.
const BUSY_TIMEOUT: Duration = Duration::from_secs(60);

/// Conversations in a SQLite database file.
///
/// The file is in WAL mode with `synchronous = FULL`: a write that returned is on disk, and a
/// process killed in the middle of a write leaves the database as it was before that write.
/// Many processes may open the same file; their writes take turns (each waits up to a
/// minute for the others'). The schema, created on first use:
///
/// ```sql
/// CREATE TABLE chatctx_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
///     -- ('schema_version', '1')
/// CREATE TABLE chatctx_conversations (key INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE,
///     version INTEGER NOT NULL, message_count INTEGER NOT NULL, state TEXT);
/// CREATE TABLE chatctx_messages (conversation INTEGER NOT NULL, seq INTEGER NOT NULL,
///     body TEXT NOT NULL, PRIMARY KEY (conversation, seq));
/// ```
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> chatctx::Result<()> {
/// use chatctx::store::{SessionStore, SqliteStore};
/// use chatctx::Message;
///
/// let store = SqliteStore::open_in_memory()?;
/// let v1 = store.append("c1", 0, &[Message::system("Be brief.")]).await?;
/// let v2 = store.append("c1", v1, &[Message::user("Hi!")]).await?;
/// assert_eq!(v2, 2);
/// // a write based on a stale version is refused, and nothing is written
/// let stale = store.append("c1", v1, &[Message::user("Hello?")]).await;
/// assert!(matches!(stale, Err(chatctx::Error::Conflict { expected: 1, found: 2, .. })));
/// assert_eq!(store.load("c1").await?.map(|c| c.messages.len()), Some(2));
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone)]
pub struct SqliteStore {
    connection: Arc<Mutex<Connection>>,
    name: String,
}

impl SqliteStore {
    /// Open (creating when missing) the database file at `path`.
    ///
    /// A database of another schema version is an [`Error::SessionStore`].
    pub fn open(path: impl AsRef<Path>) -> Result<Self> {
        let path: PathBuf = path.as_ref().to_path_buf();
        let name = format!("sqlite:{}", path.display());
        let connection = Connection::open(&path).map_err(|err| failed(&name, "open", &err))?;
        SqliteStore::setup(connection, name, true)
    }

    /// A private database in memory (for tests and examples).
    pub fn open_in_memory() -> Result<Self> {
        let name = "sqlite::memory:".to_string();
        let connection = Connection::open_in_memory().map_err(|err| failed(&name, "open", &err))?;
        SqliteStore::setup(connection, name, false)
    }

    fn setup(mut connection: Connection, name: String, file: bool) -> Result<Self> {
        connection
            .busy_timeout(BUSY_TIMEOUT)
            .map_err(|err| failed(&name, "set the busy timeout", &err))?;
        if file {
            // Changing the journal mode needs a moment alone with the file: retry while
            // another process holds it.
            let mut attempt = 0;
            loop {
                let mode = connection.query_row("PRAGMA journal_mode = WAL", [], |row| {
                    row.get::<_, String>(0)
                });
                match mode {
                    Ok(_) => break,
                    Err(err) if attempt < 100 && is_busy(&err) => {
                        attempt += 1;
                        std::thread::sleep(Duration::from_millis(20));
                    }
                    Err(err) => return Err(failed(&name, "switch to WAL mode", &err)),
                }
            }
        }
        connection
            .execute_batch("PRAGMA synchronous = FULL;")
            .map_err(|err| failed(&name, "set synchronous", &err))?;
        let transaction = connection
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(|err| failed(&name, "begin", &err))?;
        let has_meta: bool = transaction
            .query_row(
                "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'chatctx_meta'",
                [],
                |row| row.get::<_, i64>(0),
            )
            .map_err(|err| failed(&name, "read the schema", &err))?
            > 0;
        if has_meta {
            let version: Option<String> = transaction
                .query_row(
                    "SELECT value FROM chatctx_meta WHERE key = 'schema_version'",
                    [],
                    |row| row.get(0),
                )
                .optional()
                .map_err(|err| failed(&name, "read the schema version", &err))?;
            let version = version.unwrap_or_else(|| "(none)".to_string());
            if version != SCHEMA_VERSION.to_string() {
                return Err(wrong_schema(&name, &version));
            }
        } else {
            transaction
                .execute_batch(
                    "CREATE TABLE chatctx_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
                     CREATE TABLE chatctx_conversations (
                         key INTEGER PRIMARY KEY,
                         id TEXT NOT NULL UNIQUE,
                         version INTEGER NOT NULL,
                         message_count INTEGER NOT NULL,
                         state TEXT);
                     CREATE TABLE chatctx_messages (
                         conversation INTEGER NOT NULL,
                         seq INTEGER NOT NULL,
                         body TEXT NOT NULL,
                         PRIMARY KEY (conversation, seq));",
                )
                .map_err(|err| failed(&name, "create the schema", &err))?;
            transaction
                .execute(
                    "INSERT INTO chatctx_meta (key, value) VALUES ('schema_version', ?1)",
                    params![SCHEMA_VERSION.to_string()],
                )
                .map_err(|err| failed(&name, "create the schema", &err))?;
        }
        transaction
            .commit()
            .map_err(|err| failed(&name, "create the schema", &err))?;
        Ok(SqliteStore {
            connection: Arc::new(Mutex::new(connection)),
            name,
        })
    }

    /// Check the database: SQLite's `integrity_check`, and that every conversation's messages
    /// are numbered 0, 1, 2... up to its message count, with no gap and nothing past it.
    pub async fn verify(&self) -> Result<()> {
        let name = self.name.clone();
        self.run(move |connection| {
            let report: String = connection
                .query_row("PRAGMA integrity_check", [], |row| row.get(0))
                .map_err(|err| failed(&name, "integrity_check", &err))?;
            if report != "ok" {
                return Err(Error::SessionStore {
                    reason: format!("{name}: integrity_check: {report}"),
                });
            }
            let bad: Option<String> = connection
                .query_row(
                    "SELECT c.id FROM chatctx_conversations c
                     LEFT JOIN chatctx_messages m ON m.conversation = c.key
                     GROUP BY c.key
                     HAVING count(m.seq) != c.message_count
                         OR coalesce(max(m.seq), -1) != c.message_count - 1
                     LIMIT 1",
                    [],
                    |row| row.get(0),
                )
                .optional()
                .map_err(|err| failed(&name, "verify", &err))?;
            if let Some(id) = bad {
                return Err(Error::SessionStore {
                    reason: format!("{name}: conversation {id:?} has a gap or extra messages"),
                });
            }
            let orphans: i64 = connection
                .query_row(
                    "SELECT count(*) FROM chatctx_messages
                     WHERE conversation NOT IN (SELECT key FROM chatctx_conversations)",
                    [],
                    |row| row.get(0),
                )
                .map_err(|err| failed(&name, "verify", &err))?;
            if orphans > 0 {
                return Err(Error::SessionStore {
                    reason: format!("{name}: {orphans} messages belong to no conversation"),
                });
            }
            Ok(())
        })
        .await
    }

    /// Run `work` on the connection, on tokio's blocking threads when in a tokio runtime.
    async fn run<T, F>(&self, work: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&mut Connection) -> Result<T> + Send + 'static,
    {
        let connection = Arc::clone(&self.connection);
        let task = move || {
            let mut guard = connection.lock().unwrap_or_else(PoisonError::into_inner);
            work(&mut guard)
        };
        match tokio::runtime::Handle::try_current() {
            Ok(handle) => handle
                .spawn_blocking(task)
                .await
                .map_err(|err| Error::SessionStore {
                    reason: format!("{}: the database task failed: {err}", self.name),
                })?,
            Err(_) => task(),
        }
    }
}

fn is_busy(err: &rusqlite::Error) -> bool {
    matches!(
        err.sqlite_error_code(),
        Some(rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked)
    )
}

fn failed(store: &str, action: &str, err: &rusqlite::Error) -> Error {
    Error::SessionStore {
        reason: format!("{store}: {action}: {err}"),
    }
}

fn to_u64(value: i64) -> u64 {
    u64::try_from(value).unwrap_or(0)
}

/// A conversation's row: key, version, message count, state.
type Row = (i64, i64, i64, Option<String>);

/// A conversation's row: key, version, message count.
fn row_of(connection: &Connection, name: &str, id: &str) -> Result<Option<Row>> {
    connection
        .query_row(
            "SELECT key, version, message_count, state FROM chatctx_conversations WHERE id = ?1",
            params![id],
            |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?, row.get(3)?)),
        )
        .optional()
        .map_err(|err| failed(name, "read a conversation", &err))
}

#[async_trait]
impl SessionStore for SqliteStore {
    fn name(&self) -> String {
        self.name.clone()
    }

    async fn load(&self, id: &str) -> Result<Option<Stored>> {
        check_id(id)?;
        let id = id.to_string();
        let name = self.name.clone();
        self.run(move |connection| {
            let transaction = connection
                .transaction()
                .map_err(|err| failed(&name, "begin", &err))?;
            let Some((key, version, count, state)) = row_of(&transaction, &name, &id)? else {
                return Ok(None);
            };
            let mut statement = transaction
                .prepare_cached(
                    "SELECT seq, body FROM chatctx_messages WHERE conversation = ?1 ORDER BY seq",
                )
                .map_err(|err| failed(&name, "read messages", &err))?;
            let rows = statement
                .query_map(params![key], |row| {
                    Ok((row.get::<_, i64>(0)?, row.get::<_, String>(1)?))
                })
                .map_err(|err| failed(&name, "read messages", &err))?;
            let mut messages = Vec::with_capacity(usize::try_from(count).unwrap_or(0));
            for row in rows {
                let (seq, body) = row.map_err(|err| failed(&name, "read a message", &err))?;
                push_stored(&name, &id, &mut messages, seq, &body)?;
            }
            stored(&name, &id, count, version, messages, state)
        })
        .await
    }

    async fn version(&self, id: &str) -> Result<Version> {
        check_id(id)?;
        let id = id.to_string();
        let name = self.name.clone();
        self.run(move |connection| {
            Ok(row_of(connection, &name, &id)?.map_or(0, |row| to_u64(row.1)))
        })
        .await
    }

    async fn write(
        &self,
        id: &str,
        based_on: Version,
        messages: &[Message],
        state: Option<&SessionState>,
    ) -> Result<Version> {
        check_id(id)?;
        let id = id.to_string();
        let name = self.name.clone();
        let bodies = messages
            .iter()
            .map(message_json)
            .collect::<Result<Vec<_>>>()?;
        let state = state.map(SessionState::to_json);
        self.run(move |connection| {
            let transaction = connection
                .transaction_with_behavior(TransactionBehavior::Immediate)
                .map_err(|err| failed(&name, "begin", &err))?;
            let added = bodies.len() as i64;
            let (key, version, start) = match row_of(&transaction, &name, &id)? {
                None if based_on == 0 => {
                    transaction
                        .execute(
                            "INSERT INTO chatctx_conversations (id, version, message_count, state)
                             VALUES (?1, 1, ?2, ?3)",
                            params![id, added, state],
                        )
                        .map_err(|err| failed(&name, "create a conversation", &err))?;
                    (transaction.last_insert_rowid(), 1, 0)
                }
                None => {
                    return Err(Error::Conflict {
                        conversation: id,
                        expected: based_on,
                        found: 0,
                    })
                }
                Some((_, version, _, _)) if to_u64(version) != based_on => {
                    return Err(Error::Conflict {
                        conversation: id,
                        expected: based_on,
                        found: to_u64(version),
                    })
                }
                Some((key, version, count, _)) => {
                    transaction
                        .execute(
                            "UPDATE chatctx_conversations
                             SET version = ?2, message_count = ?3, state = coalesce(?4, state)
                             WHERE key = ?1",
                            params![key, version + 1, count + added, state],
                        )
                        .map_err(|err| failed(&name, "update a conversation", &err))?;
                    (key, version + 1, count)
                }
            };
            {
                let mut insert = transaction
                    .prepare_cached(
                        "INSERT INTO chatctx_messages (conversation, seq, body) VALUES (?1, ?2, ?3)",
                    )
                    .map_err(|err| failed(&name, "append", &err))?;
                for (offset, body) in bodies.iter().enumerate() {
                    insert
                        .execute(params![key, start + offset as i64, body])
                        .map_err(|err| failed(&name, "append", &err))?;
                }
            }
            transaction
                .commit()
                .map_err(|err| failed(&name, "commit", &err))?;
            Ok(to_u64(version))
        })
        .await
    }

    async fn fork(&self, id: &str, at: usize, new_id: &str) -> Result<Version> {
        check_id(id)?;
        check_id(new_id)?;
        let (id, new_id) = (id.to_string(), new_id.to_string());
        let name = self.name.clone();
        self.run(move |connection| {
            let transaction = connection
                .transaction_with_behavior(TransactionBehavior::Immediate)
                .map_err(|err| failed(&name, "begin", &err))?;
            let Some((key, _, count, state)) = row_of(&transaction, &name, &id)? else {
                return Err(unknown(&id, &name));
            };
            if at as i64 > count {
                return Err(fork_past_end(&id, at, usize::try_from(count).unwrap_or(0)));
            }
            if let Some((_, version, _, _)) = row_of(&transaction, &name, &new_id)? {
                return Err(Error::Conflict {
                    conversation: new_id,
                    expected: 0,
                    found: to_u64(version),
                });
            }
            let state = match state {
                Some(text) => Some(SessionState::from_json(&text)?.truncated(at).to_json()),
                None => None,
            };
            transaction
                .execute(
                    "INSERT INTO chatctx_conversations (id, version, message_count, state)
                     VALUES (?1, 1, ?2, ?3)",
                    params![new_id, at as i64, state],
                )
                .map_err(|err| failed(&name, "fork", &err))?;
            let new_key = transaction.last_insert_rowid();
            transaction
                .execute(
                    "INSERT INTO chatctx_messages (conversation, seq, body)
                     SELECT ?1, seq, body FROM chatctx_messages
                     WHERE conversation = ?2 AND seq < ?3",
                    params![new_key, key, at as i64],
                )
                .map_err(|err| failed(&name, "fork", &err))?;
            transaction
                .commit()
                .map_err(|err| failed(&name, "commit", &err))?;
            Ok(1)
        })
        .await
    }

    async fn delete(&self, id: &str) -> Result<bool> {
        check_id(id)?;
        let id = id.to_string();
        let name = self.name.clone();
        self.run(move |connection| {
            let transaction = connection
                .transaction_with_behavior(TransactionBehavior::Immediate)
                .map_err(|err| failed(&name, "begin", &err))?;
            let Some((key, ..)) = row_of(&transaction, &name, &id)? else {
                return Ok(false);
            };
            transaction
                .execute(
                    "DELETE FROM chatctx_messages WHERE conversation = ?1",
                    params![key],
                )
                .map_err(|err| failed(&name, "delete", &err))?;
            transaction
                .execute(
                    "DELETE FROM chatctx_conversations WHERE key = ?1",
                    params![key],
                )
                .map_err(|err| failed(&name, "delete", &err))?;
            transaction
                .commit()
                .map_err(|err| failed(&name, "commit", &err))?;
            Ok(true)
        })
        .await
    }

    async fn list(&self) -> Result<Vec<ConversationInfo>> {
        let name = self.name.clone();
        self.run(move |connection| {
            let mut statement = connection
                .prepare("SELECT id, version, message_count FROM chatctx_conversations ORDER BY id")
                .map_err(|err| failed(&name, "list", &err))?;
            let rows = statement
                .query_map([], |row| {
                    Ok(ConversationInfo {
                        id: row.get(0)?,
                        version: to_u64(row.get(1)?),
                        messages: usize::try_from(row.get::<_, i64>(2)?).unwrap_or(0),
                    })
                })
                .map_err(|err| failed(&name, "list", &err))?;
            rows.collect::<rusqlite::Result<Vec<_>>>()
                .map_err(|err| failed(&name, "list", &err))
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_newer_schema_is_refused() {
        let dir = std::env::temp_dir().join(format!("chatctx-schema-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        let path = dir.join("s.db");
        let _ = std::fs::remove_file(&path);
        let store = SqliteStore::open(&path).expect("open");
        store
            .append("c", 0, &[Message::user("hi")])
            .await
            .expect("append");
        drop(store);
        {
            let connection = Connection::open(&path).expect("raw open");
            connection
                .execute(
                    "UPDATE chatctx_meta SET value = '2' WHERE key = 'schema_version'",
                    [],
                )
                .expect("bump");
        }
        let err = SqliteStore::open(&path).expect_err("newer schema");
        assert!(matches!(err, Error::SessionStore { .. }), "{err}");
        assert!(err.to_string().contains("schema version 2"), "{err}");
        let _ = std::fs::remove_dir_all(&dir);
    }
}
