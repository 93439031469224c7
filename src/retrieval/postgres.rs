//! A vector store in PostgreSQL with the pgvector extension (feature `postgres`).

use std::fmt::Write as _;

use async_trait::async_trait;
use tokio_postgres::Client;

use super::{check_vector, Entry, Hit, VectorStore};
use crate::error::{Error, Result};
use crate::pg_tls;

/// Any number identifying chatctx's schema lock (`pg_advisory_xact_lock`).
const SCHEMA_LOCK: i64 = 0x0063_6861_7463_7478;

/// Keeps the vectors in a PostgreSQL table with a pgvector `vector(N)` column and an HNSW
/// index (`vector_cosine_ops`); searches by cosine distance (`<=>`) within one conversation.
///
/// [`Postgres::connect`] creates what is missing on first use, under an advisory lock so that
/// concurrent clients do not race:
///
/// ```sql
/// CREATE EXTENSION IF NOT EXISTS vector;
/// CREATE TABLE IF NOT EXISTS chatctx_rounds (
///     conversation text NOT NULL, round bigint NOT NULL,
///     first_message bigint NOT NULL, end_message bigint NOT NULL, tokens bigint NOT NULL,
///     embedding vector(N) NOT NULL,
///     PRIMARY KEY (conversation, round));
/// CREATE INDEX IF NOT EXISTS chatctx_rounds_embedding
///     ON chatctx_rounds USING hnsw (embedding vector_cosine_ops);
/// ```
///
/// It then checks that an existing table has vectors of N numbers
/// ([`Error::DimensionMismatch`] otherwise) and turns on pgvector's iterative index scans
/// (`hnsw.iterative_scan = strict_order`, pgvector ≥ 0.8) so that filtering by conversation
/// still returns k rounds. Vectors travel as text literals (`'[0.1,0.2]'::vector`). The
/// connection is TCP or a Unix socket, over TLS (rustls) as the URL's `sslmode` asks
/// (`disable`, `prefer` by default, `require`, `verify-ca`, `verify-full`, with the roots of
/// `sslrootcert=PATH`; see [`crate::store::PostgresStore`]), and runs on a task of the current
/// tokio runtime. Errors are [`Error::Store`] and never quote the URL (it may hold a password).
#[derive(Debug)]
pub struct Postgres {
    client: Client,
    table: String,
    dimension: usize,
}

impl Postgres {
    /// The default table.
    pub const DEFAULT_TABLE: &'static str = "chatctx_rounds";

    /// Connect to `url` (e.g. `postgres://user:password@127.0.0.1:5432/db` or
    /// `host=/tmp user=postgres`) and use [`Postgres::DEFAULT_TABLE`] for vectors of
    /// `dimension` numbers.
    pub async fn connect(url: &str, dimension: usize) -> Result<Self> {
        Postgres::connect_table(url, Postgres::DEFAULT_TABLE, dimension).await
    }

    /// Like [`Postgres::connect`], with the table `table` (lowercase letters, digits and
    /// underscores, not starting with a digit, at most 48 characters).
    pub async fn connect_table(url: &str, table: &str, dimension: usize) -> Result<Self> {
        check_table(table)?;
        if dimension == 0 || dimension > 16_000 {
            return Err(Error::config(
                "dimension",
                format!("{dimension} is not a pgvector dimension in 1..=16000"),
            ));
        }
        let target = pg_tls::parse(url).map_err(|reason| Error::Store {
            reason: format!("postgres: {reason}"),
        })?;
        let client = pg_tls::connect(&target)
            .await
            .map_err(|reason| Error::Store {
                reason: format!("postgres: {reason}"),
            })?;
        let store = Postgres {
            client,
            table: table.to_string(),
            dimension,
        };
        store.create_schema().await?;
        store.check_dimension().await?;
        // Older pgvector versions do not know the setting; their index scans are exact enough
        // for small tables, so a failure here is not an error.
        let _ = store
            .client
            .batch_execute("SET hnsw.iterative_scan = strict_order")
            .await;
        Ok(store)
    }

    /// The table holding the vectors.
    pub fn table(&self) -> &str {
        &self.table
    }

    async fn create_schema(&self) -> Result<()> {
        let table = &self.table;
        let dimension = self.dimension;
        let sql = format!(
            "BEGIN;
             SELECT pg_advisory_xact_lock({SCHEMA_LOCK});
             CREATE EXTENSION IF NOT EXISTS vector;
             CREATE TABLE IF NOT EXISTS {table} (
                 conversation text NOT NULL,
                 round bigint NOT NULL,
                 first_message bigint NOT NULL,
                 end_message bigint NOT NULL,
                 tokens bigint NOT NULL,
                 embedding vector({dimension}) NOT NULL,
                 PRIMARY KEY (conversation, round));
             CREATE INDEX IF NOT EXISTS {table}_embedding
                 ON {table} USING hnsw (embedding vector_cosine_ops);
             COMMIT;"
        );
        self.client
            .batch_execute(&sql)
            .await
            .map_err(|err| failed("create the schema", &err))
    }

    async fn check_dimension(&self) -> Result<()> {
        let row = self
            .client
            .query_one(
                "SELECT atttypmod FROM pg_attribute \
                 WHERE attrelid = $1::text::regclass AND attname = 'embedding'",
                &[&self.table],
            )
            .await
            .map_err(|err| failed("read the table's dimension", &err))?;
        let found: i32 = row
            .try_get(0)
            .map_err(|err| failed("read the dimension", &err))?;
        if usize::try_from(found).ok() != Some(self.dimension) {
            return Err(Error::DimensionMismatch {
                what: format!("postgres table {}", self.table),
                expected: self.dimension,
                found: usize::try_from(found).unwrap_or(0),
            });
        }
        Ok(())
    }
}

/// Reject table names that are not plain lowercase identifiers (they go into SQL text).
fn check_table(table: &str) -> Result<()> {
    let mut chars = table.chars();
    let plain = chars
        .next()
        .is_some_and(|c| c.is_ascii_lowercase() || c == '_')
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
        && table.len() <= 48;
    if plain {
        Ok(())
    } else {
        Err(Error::config(
            "table",
            format!("{table:?} is not a lowercase SQL identifier of at most 48 characters"),
        ))
    }
}

fn failed(action: &str, err: &tokio_postgres::Error) -> Error {
    Error::Store {
        reason: format!("postgres: {action}: {}", pg_tls::describe(err)),
    }
}

fn to_i64(value: usize, what: &str) -> Result<i64> {
    i64::try_from(value).map_err(|_| Error::Store {
        reason: format!("postgres: {what} {value} does not fit a bigint"),
    })
}

fn to_usize(value: i64, what: &str) -> Result<usize> {
    usize::try_from(value).map_err(|_| Error::Store {
        reason: format!("postgres: stored {what} {value} is not a valid index"),
    })
}

/// The pgvector text form of a vector: `[0.1,-0.2]`.
fn literal(vector: &[f32]) -> String {
    let mut text = String::with_capacity(vector.len() * 12 + 2);
    text.push('[');
    for (position, x) in vector.iter().enumerate() {
        if position > 0 {
            text.push(',');
        }
        let _ = write!(text, "{x}");
    }
    text.push(']');
    text
}

#[async_trait]
impl VectorStore for Postgres {
    fn dimension(&self) -> usize {
        self.dimension
    }

    fn name(&self) -> String {
        format!(
            "postgres table {} ({} dimensions)",
            self.table, self.dimension
        )
    }

    async fn upsert(&self, entries: &[Entry]) -> Result<()> {
        if entries.is_empty() {
            return Ok(());
        }
        let mut columns: (
            Vec<String>,
            Vec<i64>,
            Vec<i64>,
            Vec<i64>,
            Vec<i64>,
            Vec<String>,
        ) = Default::default();
        for entry in entries {
            check_vector(&entry.vector, self.dimension, &self.name())?;
            columns.0.push(entry.conversation.clone());
            columns.1.push(to_i64(entry.round, "round")?);
            columns.2.push(to_i64(entry.start, "message index")?);
            columns.3.push(to_i64(entry.end, "message index")?);
            columns.4.push(to_i64(entry.tokens, "token count")?);
            columns.5.push(literal(&entry.vector));
        }
        let sql = format!(
            "INSERT INTO {0} (conversation, round, first_message, end_message, tokens, embedding)
             SELECT c, r, f, e, t, v::vector FROM unnest(
                 $1::text[], $2::int8[], $3::int8[], $4::int8[], $5::int8[], $6::text[]
             ) AS u(c, r, f, e, t, v)
             ON CONFLICT (conversation, round) DO UPDATE SET
                 first_message = EXCLUDED.first_message, end_message = EXCLUDED.end_message,
                 tokens = EXCLUDED.tokens, embedding = EXCLUDED.embedding",
            self.table
        );
        self.client
            .execute(
                &sql,
                &[
                    &columns.0, &columns.1, &columns.2, &columns.3, &columns.4, &columns.5,
                ],
            )
            .await
            .map_err(|err| failed("upsert", &err))?;
        Ok(())
    }

    async fn search(&self, conversation: &str, query: &[f32], k: usize) -> Result<Vec<Hit>> {
        check_vector(query, self.dimension, &self.name())?;
        let sql = format!(
            "SELECT round, first_message, end_message, tokens,
                    1 - (embedding <=> $2::text::vector) AS score
             FROM {} WHERE conversation = $1
             ORDER BY embedding <=> $2::text::vector, round LIMIT $3",
            self.table
        );
        let rows = self
            .client
            .query(&sql, &[&conversation, &literal(query), &to_i64(k, "k")?])
            .await
            .map_err(|err| failed("search", &err))?;
        rows.iter()
            .map(|row| {
                let get = |column: usize| -> Result<i64> {
                    row.try_get(column)
                        .map_err(|err| failed("read a hit", &err))
                };
                let score: f64 = row.try_get(4).map_err(|err| failed("read a score", &err))?;
                Ok(Hit {
                    round: to_usize(get(0)?, "round")?,
                    start: to_usize(get(1)?, "message index")?,
                    end: to_usize(get(2)?, "message index")?,
                    tokens: to_usize(get(3)?, "token count")?,
                    score: score as f32,
                })
            })
            .collect()
    }

    async fn rounds(&self, conversation: &str) -> Result<Vec<usize>> {
        let sql = format!(
            "SELECT round FROM {} WHERE conversation = $1 ORDER BY round",
            self.table
        );
        let rows = self
            .client
            .query(&sql, &[&conversation])
            .await
            .map_err(|err| failed("list rounds", &err))?;
        rows.iter()
            .map(|row| {
                let round: i64 = row.try_get(0).map_err(|err| failed("read a round", &err))?;
                to_usize(round, "round")
            })
            .collect()
    }

    async fn delete(&self, conversation: &str) -> Result<()> {
        let sql = format!("DELETE FROM {} WHERE conversation = $1", self.table);
        self.client
            .execute(&sql, &[&conversation])
            .await
            .map_err(|err| failed("delete", &err))?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_names_are_plain_identifiers() {
        for good in ["chatctx_rounds", "_t1", "a"] {
            assert!(check_table(good).is_ok(), "{good}");
        }
        for bad in [
            "",
            "1t",
            "Rounds",
            "t; DROP TABLE x",
            "t-1",
            &"a".repeat(49),
        ] {
            assert!(
                matches!(check_table(bad), Err(Error::InvalidConfig { .. })),
                "{bad}"
            );
        }
    }

    #[test]
    fn literals_are_pgvector_text() {
        assert_eq!(literal(&[0.5, -1.0, 0.0]), "[0.5,-1,0]");
        assert_eq!(literal(&[]), "[]");
    }
}
