//! The PostgreSQL session store (feature `postgres`): many servers on one database.

use async_trait::async_trait;
use tokio::sync::Mutex;
use tokio_postgres::{Client, GenericClient, Transaction};

use super::{
    check_id, fork_past_end, message_json, push_stored, stored, unknown, wrong_schema,
    ConversationInfo, SessionState, SessionStore, Stored, Version, SCHEMA_VERSION,
};
use crate::error::{Error, Result};
use crate::message::Message;
use crate::pg_tls;

/// Any number identifying chatctx's session-schema lock (`pg_advisory_xact_lock`).
const SCHEMA_LOCK: i64 = 0x0063_6861_7473_7331;

/// Conversations in a PostgreSQL database, shared by any number of servers.
///
/// [`PostgresStore::connect`] takes a URL (`postgres://user:password@host:5432/db`) or a
/// `key=value` string; TLS (rustls) follows its `sslmode`: `disable`, `prefer` (the default:
/// TLS when the server offers it, as libpq), `require`, `verify-ca`, `verify-full`, with the
/// trusted roots from `sslrootcert=PATH` (a PEM file) or else the Mozilla roots. Every write
/// is one transaction that locks the conversation's row (`SELECT ... FOR UPDATE`), checks
/// the version it was based on and appends; the schema, created on first use under an
/// advisory lock:
///
/// ```sql
/// CREATE TABLE chatctx_meta (key text PRIMARY KEY, value text NOT NULL);
///     -- ('schema_version', '1')
/// CREATE TABLE chatctx_conversations (key bigserial PRIMARY KEY, id text NOT NULL UNIQUE,
///     version bigint NOT NULL, message_count bigint NOT NULL, state text);
/// CREATE TABLE chatctx_messages (conversation bigint NOT NULL, seq bigint NOT NULL,
///     body text NOT NULL, PRIMARY KEY (conversation, seq));
/// ```
///
/// Messages are kept as `text`, their exact JSON (not `jsonb`, which would reorder keys and
/// rewrite numbers). One store is one connection; its operations take turns. Errors never
/// quote the URL (it may hold a password): the store's [`SessionStore::name`] is
/// `postgres://user@host:port/db`.
#[derive(Debug)]
pub struct PostgresStore {
    client: Mutex<Client>,
    name: String,
}

impl PostgresStore {
    /// Connect to `url` and check (or create) the schema. A database of another schema
    /// version is an [`Error::SessionStore`].
    pub async fn connect(url: &str) -> Result<Self> {
        let target = pg_tls::parse(url).map_err(|reason| Error::InvalidConfig {
            setting: "store".to_string(),
            reason: format!("postgres: {reason}"),
        })?;
        let name = pg_tls::describe_target(&target.config);
        let mut client = pg_tls::connect(&target)
            .await
            .map_err(|reason| Error::SessionStore {
                reason: format!("{name}: {reason}"),
            })?;
        setup(&mut client, &name).await?;
        Ok(PostgresStore {
            client: Mutex::new(client),
            name,
        })
    }

    /// Whether the connection is encrypted (the server's `pg_stat_ssl` for this session).
    pub async fn is_encrypted(&self) -> Result<bool> {
        let client = self.client.lock().await;
        let row = client
            .query_one(
                "SELECT coalesce((SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()), false)",
                &[],
            )
            .await
            .map_err(|err| failed(&self.name, "read pg_stat_ssl", &err))?;
        row.try_get(0)
            .map_err(|err| failed(&self.name, "read pg_stat_ssl", &err))
    }

    /// Check that every conversation's messages are numbered 0, 1, 2... up to its message
    /// count, with no gap and nothing past it, and that no message is orphaned.
    pub async fn verify(&self) -> Result<()> {
        let client = self.client.lock().await;
        let bad = client
            .query_opt(
                "SELECT c.id FROM chatctx_conversations c
                 LEFT JOIN chatctx_messages m ON m.conversation = c.key
                 GROUP BY c.key, c.id, c.message_count
                 HAVING count(m.seq) != c.message_count
                     OR coalesce(max(m.seq), -1) != c.message_count - 1
                 LIMIT 1",
                &[],
            )
            .await
            .map_err(|err| failed(&self.name, "verify", &err))?;
        if let Some(row) = bad {
            let id: String = row.try_get(0).unwrap_or_default();
            return Err(Error::SessionStore {
                reason: format!(
                    "{}: conversation {id:?} has a gap or extra messages",
                    self.name
                ),
            });
        }
        let orphans: i64 = client
            .query_one(
                "SELECT count(*) FROM chatctx_messages m WHERE NOT EXISTS
                     (SELECT 1 FROM chatctx_conversations c WHERE c.key = m.conversation)",
                &[],
            )
            .await
            .and_then(|row| row.try_get(0))
            .map_err(|err| failed(&self.name, "verify", &err))?;
        if orphans > 0 {
            return Err(Error::SessionStore {
                reason: format!(
                    "{}: {orphans} messages belong to no conversation",
                    self.name
                ),
            });
        }
        Ok(())
    }
}

async fn setup(client: &mut Client, name: &str) -> Result<()> {
    let transaction = client
        .transaction()
        .await
        .map_err(|err| failed(name, "begin", &err))?;
    transaction
        .execute("SELECT pg_advisory_xact_lock($1)", &[&SCHEMA_LOCK])
        .await
        .map_err(|err| failed(name, "lock the schema", &err))?;
    let exists: bool = transaction
        .query_one("SELECT to_regclass('chatctx_meta') IS NOT NULL", &[])
        .await
        .and_then(|row| row.try_get(0))
        .map_err(|err| failed(name, "read the schema", &err))?;
    if exists {
        let version: Option<String> = transaction
            .query_opt(
                "SELECT value FROM chatctx_meta WHERE key = 'schema_version'",
                &[],
            )
            .await
            .map_err(|err| failed(name, "read the schema version", &err))?
            .and_then(|row| row.try_get(0).ok());
        let version = version.unwrap_or_else(|| "(none)".to_string());
        if version != SCHEMA_VERSION.to_string() {
            return Err(wrong_schema(name, &version));
        }
        return Ok(());
    }
    transaction
        .batch_execute(
            "CREATE TABLE chatctx_meta (key text PRIMARY KEY, value text NOT NULL);
             CREATE TABLE IF NOT EXISTS chatctx_conversations (
                 key bigserial PRIMARY KEY,
                 id text NOT NULL UNIQUE,
                 version bigint NOT NULL,
                 message_count bigint NOT NULL,
                 state text);
             CREATE TABLE IF NOT EXISTS chatctx_messages (
                 conversation bigint NOT NULL,
                 seq bigint NOT NULL,
                 body text NOT NULL,
                 PRIMARY KEY (conversation, seq));",
        )
        .await
        .map_err(|err| failed(name, "create the schema", &err))?;
    transaction
        .execute(
            "INSERT INTO chatctx_meta (key, value) VALUES ('schema_version', $1)",
            &[&SCHEMA_VERSION.to_string()],
        )
        .await
        .map_err(|err| failed(name, "create the schema", &err))?;
    transaction
        .commit()
        .await
        .map_err(|err| failed(name, "create the schema", &err))
}

fn failed(store: &str, action: &str, err: &tokio_postgres::Error) -> Error {
    Error::SessionStore {
        reason: format!("{store}: {action}: {}", pg_tls::describe(err)),
    }
}

fn to_u64(value: i64) -> u64 {
    u64::try_from(value).unwrap_or(0)
}

fn to_i64(value: u64) -> i64 {
    i64::try_from(value).unwrap_or(i64::MAX)
}

/// A conversation's row: key, version, message count, state.
type Row = (i64, i64, i64, Option<String>);

/// Starts a read-write transaction, or the store's "begin" error.
async fn begin<'a>(client: &'a mut Client, name: &str) -> Result<Transaction<'a>> {
    client
        .transaction()
        .await
        .map_err(|err| failed(name, "begin", &err))
}

/// Commits `transaction`, or the store's "commit" error.
async fn commit(transaction: Transaction<'_>, name: &str) -> Result<()> {
    transaction
        .commit()
        .await
        .map_err(|err| failed(name, "commit", &err))
}

/// A conversation's row (key, version, message count, state), locked when `lock`.
async fn row_of(
    client: &impl GenericClient,
    name: &str,
    id: &str,
    lock: bool,
) -> Result<Option<Row>> {
    let sql = if lock {
        "SELECT key, version, message_count, state FROM chatctx_conversations WHERE id = $1 FOR UPDATE"
    } else {
        "SELECT key, version, message_count, state FROM chatctx_conversations WHERE id = $1"
    };
    let row = client
        .query_opt(sql, &[&id])
        .await
        .map_err(|err| failed(name, "read a conversation", &err))?;
    row.map(|row| {
        Ok((
            row.try_get(0)
                .map_err(|err| failed(name, "read a conversation", &err))?,
            row.try_get(1)
                .map_err(|err| failed(name, "read a conversation", &err))?,
            row.try_get(2)
                .map_err(|err| failed(name, "read a conversation", &err))?,
            row.try_get(3)
                .map_err(|err| failed(name, "read a conversation", &err))?,
        ))
    })
    .transpose()
}

#[async_trait]
impl SessionStore for PostgresStore {
    fn name(&self) -> String {
        self.name.clone()
    }

    async fn load(&self, id: &str) -> Result<Option<Stored>> {
        check_id(id)?;
        let name = &self.name;
        let mut client = self.client.lock().await;
        let transaction = client
            .build_transaction()
            .isolation_level(tokio_postgres::IsolationLevel::RepeatableRead)
            .read_only(true)
            .start()
            .await
            .map_err(|err| failed(name, "begin", &err))?;
        let Some((key, version, count, state)) = row_of(&transaction, name, id, false).await?
        else {
            return Ok(None);
        };
        let rows = transaction
            .query(
                "SELECT seq, body FROM chatctx_messages WHERE conversation = $1 ORDER BY seq",
                &[&key],
            )
            .await
            .map_err(|err| failed(name, "read messages", &err))?;
        commit(transaction, name).await?;
        let mut messages = Vec::with_capacity(rows.len());
        for row in rows {
            let seq: i64 = row
                .try_get(0)
                .map_err(|err| failed(name, "read a message", &err))?;
            let body: &str = row
                .try_get(1)
                .map_err(|err| failed(name, "read a message", &err))?;
            push_stored(name, id, &mut messages, seq, body)?;
        }
        stored(name, id, count, version, messages, state)
    }

    async fn version(&self, id: &str) -> Result<Version> {
        check_id(id)?;
        let client = self.client.lock().await;
        Ok(row_of(&*client, &self.name, id, false)
            .await?
            .map_or(0, |row| to_u64(row.1)))
    }

    async fn write(
        &self,
        id: &str,
        based_on: Version,
        messages: &[Message],
        state: Option<&SessionState>,
    ) -> Result<Version> {
        check_id(id)?;
        let name = &self.name;
        let bodies = messages
            .iter()
            .map(message_json)
            .collect::<Result<Vec<_>>>()?;
        let state = state.map(SessionState::to_json);
        let added = bodies.len() as i64;
        let mut client = self.client.lock().await;
        let transaction = begin(&mut client, name).await?;
        let (key, version, start) = match row_of(&transaction, name, id, true).await? {
            None if based_on == 0 => {
                let created = transaction
                    .query_opt(
                        "INSERT INTO chatctx_conversations (id, version, message_count, state)
                         VALUES ($1, 1, $2, $3) ON CONFLICT (id) DO NOTHING RETURNING key",
                        &[&id, &added, &state],
                    )
                    .await
                    .map_err(|err| failed(name, "create a conversation", &err))?;
                match created {
                    Some(row) => (
                        row.try_get::<_, i64>(0)
                            .map_err(|err| failed(name, "create a conversation", &err))?,
                        1,
                        0,
                    ),
                    None => {
                        // created by another writer since the row was read
                        let found = row_of(&transaction, name, id, false)
                            .await?
                            .map_or(0, |row| to_u64(row.1));
                        return Err(Error::Conflict {
                            conversation: id.to_string(),
                            expected: 0,
                            found,
                        });
                    }
                }
            }
            None => {
                return Err(Error::Conflict {
                    conversation: id.to_string(),
                    expected: based_on,
                    found: 0,
                })
            }
            Some((_, version, _, _)) if to_u64(version) != based_on => {
                return Err(Error::Conflict {
                    conversation: id.to_string(),
                    expected: based_on,
                    found: to_u64(version),
                })
            }
            Some((key, version, count, _)) => {
                transaction
                    .execute(
                        "UPDATE chatctx_conversations
                         SET version = $2, message_count = $3, state = coalesce($4, state)
                         WHERE key = $1",
                        &[&key, &(version + 1), &(count + added), &state],
                    )
                    .await
                    .map_err(|err| failed(name, "update a conversation", &err))?;
                (key, version + 1, count)
            }
        };
        if !bodies.is_empty() {
            transaction
                .execute(
                    "INSERT INTO chatctx_messages (conversation, seq, body)
                     SELECT $1, $2 + ord - 1, body
                     FROM unnest($3::text[]) WITH ORDINALITY AS u(body, ord)",
                    &[&key, &start, &bodies],
                )
                .await
                .map_err(|err| failed(name, "append", &err))?;
        }
        commit(transaction, name).await?;
        Ok(to_u64(version))
    }

    async fn fork(&self, id: &str, at: usize, new_id: &str) -> Result<Version> {
        check_id(id)?;
        check_id(new_id)?;
        let name = &self.name;
        let mut client = self.client.lock().await;
        let transaction = begin(&mut client, name).await?;
        let Some((key, _, count, state)) = row_of(&transaction, name, id, true).await? else {
            return Err(unknown(id, name));
        };
        if at as u64 > to_u64(count) {
            return Err(fork_past_end(id, at, usize::try_from(count).unwrap_or(0)));
        }
        let at = to_i64(at as u64);
        let state = match state {
            Some(text) => Some(
                SessionState::from_json(&text)?
                    .truncated(usize::try_from(at).unwrap_or(0))
                    .to_json(),
            ),
            None => None,
        };
        let created = transaction
            .query_opt(
                "INSERT INTO chatctx_conversations (id, version, message_count, state)
                 VALUES ($1, 1, $2, $3) ON CONFLICT (id) DO NOTHING RETURNING key",
                &[&new_id, &at, &state],
            )
            .await
            .map_err(|err| failed(name, "fork", &err))?;
        let Some(created) = created else {
            let found = row_of(&transaction, name, new_id, false)
                .await?
                .map_or(0, |row| to_u64(row.1));
            return Err(Error::Conflict {
                conversation: new_id.to_string(),
                expected: 0,
                found,
            });
        };
        let new_key: i64 = created
            .try_get(0)
            .map_err(|err| failed(name, "fork", &err))?;
        transaction
            .execute(
                "INSERT INTO chatctx_messages (conversation, seq, body)
                 SELECT $1, seq, body FROM chatctx_messages WHERE conversation = $2 AND seq < $3",
                &[&new_key, &key, &at],
            )
            .await
            .map_err(|err| failed(name, "fork", &err))?;
        commit(transaction, name).await?;
        Ok(1)
    }

    async fn delete(&self, id: &str) -> Result<bool> {
        check_id(id)?;
        let name = &self.name;
        let mut client = self.client.lock().await;
        let transaction = begin(&mut client, name).await?;
        let Some((key, ..)) = row_of(&transaction, name, id, true).await? else {
            return Ok(false);
        };
        transaction
            .execute(
                "DELETE FROM chatctx_messages WHERE conversation = $1",
                &[&key],
            )
            .await
            .map_err(|err| failed(name, "delete", &err))?;
        transaction
            .execute("DELETE FROM chatctx_conversations WHERE key = $1", &[&key])
            .await
            .map_err(|err| failed(name, "delete", &err))?;
        commit(transaction, name).await?;
        Ok(true)
    }

    async fn list(&self) -> Result<Vec<ConversationInfo>> {
        let client = self.client.lock().await;
        let rows = client
            .query(
                "SELECT id, version, message_count FROM chatctx_conversations ORDER BY id",
                &[],
            )
            .await
            .map_err(|err| failed(&self.name, "list", &err))?;
        rows.iter()
            .map(|row| {
                let get = |column: usize| -> Result<i64> {
                    row.try_get(column)
                        .map_err(|err| failed(&self.name, "list", &err))
                };
                Ok(ConversationInfo {
                    id: row
                        .try_get(0)
                        .map_err(|err| failed(&self.name, "list", &err))?,
                    version: to_u64(get(1)?),
                    messages: usize::try_from(get(2)?).unwrap_or(0),
                })
            })
            .collect()
    }
}
