//! The vector stores under test: in-memory always, Postgres when `CHATCTX_TEST_POSTGRES_URL`
//! names a server with the pgvector extension (`.ci/services.sh` starts one). Under `CI=true`
//! a missing URL fails the test: CI must never pass by skipping the Postgres half.

use std::sync::Arc;

use chatctx::retrieval::{InMemory, VectorStore};

/// The environment variable naming the test database.
pub const POSTGRES_URL: &str = "CHATCTX_TEST_POSTGRES_URL";

/// Whether the tests run in CI (`CI` set to anything but empty, `0` or `false`), where a
/// missing service is a failure, not a skip.
pub fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|value| !matches!(value.as_str(), "" | "0" | "false"))
}

/// The Postgres test URL, or `None` after printing why the Postgres test is skipped.
///
/// # Panics
/// Under `CI=true` when the URL is not set: the service is part of the CI run.
pub fn postgres_url(test: &str) -> Option<String> {
    match std::env::var(POSTGRES_URL) {
        Ok(url) if !url.is_empty() => Some(url),
        _ if in_ci() => panic!(
            "{test}: CI is set but {POSTGRES_URL} is not: the PostgreSQL service did not start \
             (see the `services:` lines of .ci/services.sh above)"
        ),
        _ => {
            eprintln!(
                "{test}: skipped on Postgres: {POSTGRES_URL} is not set (see .ci/services.sh)"
            );
            None
        }
    }
}

/// A conversation id unique to this test process and `test`.
pub fn conversation(test: &str) -> String {
    format!("{test}-{}", std::process::id())
}

/// The in-memory store of `dimension`.
pub fn memory(dimension: usize) -> Arc<dyn VectorStore> {
    Arc::new(InMemory::new(dimension))
}

/// A Postgres store of `dimension` in the table `chatctx_test_{dimension}`, or `None` when no
/// test database is configured. A configured database that fails is a test failure.
#[cfg(feature = "postgres")]
pub async fn postgres(test: &str, dimension: usize) -> Option<Arc<dyn VectorStore>> {
    let url = postgres_url(test)?;
    let table = format!("chatctx_test_{dimension}");
    match chatctx::retrieval::Postgres::connect_table(&url, &table, dimension).await {
        Ok(store) => Some(Arc::new(store)),
        Err(err) => panic!("{test}: {POSTGRES_URL} is set but the store fails: {err}"),
    }
}

/// Without the `postgres` feature there is no Postgres store (CI builds with every feature).
#[cfg(not(feature = "postgres"))]
pub async fn postgres(test: &str, _dimension: usize) -> Option<Arc<dyn VectorStore>> {
    eprintln!("{test}: skipped on Postgres: built without the `postgres` feature");
    None
}
