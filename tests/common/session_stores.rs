//! The session stores under test: SQLite (a temporary file) always, PostgreSQL when
//! `CHATCTX_TEST_POSTGRES_URL` names a server (`.ci/services.sh` starts one). Under `CI=true`
//! a missing server is a test failure, never a skip.
#![allow(dead_code, unreachable_pub)]

use std::path::PathBuf;
use std::sync::Arc;

use chatctx::store::SessionStore;

/// The environment variable naming the test database.
pub const POSTGRES_URL: &str = "CHATCTX_TEST_POSTGRES_URL";
/// The environment variable naming the TLS test database (`sslmode=verify-full`).
pub const POSTGRES_TLS_URL: &str = "CHATCTX_TEST_POSTGRES_TLS_URL";
/// The environment variable naming the TLS test server's CA file.
pub const POSTGRES_CA: &str = "CHATCTX_TEST_POSTGRES_CA";

fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|value| value == "true")
}

/// The value of `variable`, or `None` after saying why the test is skipped; under `CI=true`
/// a missing value fails the test.
pub fn required_env(variable: &str, test: &str) -> Option<String> {
    match std::env::var(variable) {
        Ok(value) if !value.is_empty() => Some(value),
        _ if in_ci() => panic!(
            "{test}: CI=true but {variable} is not set: .ci/services.sh must start the server \
             this test needs"
        ),
        _ => {
            eprintln!("{test}: skipped on PostgreSQL: {variable} is not set (see .ci/services.sh)");
            None
        }
    }
}

/// The PostgreSQL test URL (see [`required_env`]).
pub fn postgres_url(test: &str) -> Option<String> {
    required_env(POSTGRES_URL, test)
}

/// A fresh temporary directory for `test`.
pub fn temp_dir(test: &str) -> PathBuf {
    let dir =
        std::env::temp_dir().join(format!("chatctx-{test}-{}-{}", std::process::id(), nanos()));
    std::fs::create_dir_all(&dir).expect("temporary directory");
    dir
}

fn nanos() -> u128 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |elapsed| elapsed.as_nanos())
}

/// A conversation id unique to this process and call (the PostgreSQL database is shared by
/// all test processes and may outlive them).
pub fn unique_id(label: &str) -> String {
    use std::sync::atomic::{AtomicUsize, Ordering};
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    format!(
        "{label}-{}-{}-{}",
        std::process::id(),
        nanos(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    )
}

/// The store specs to run `test` on: a new SQLite file in `dir`, and the PostgreSQL URL.
pub fn specs(test: &str, dir: &std::path::Path) -> Vec<String> {
    let mut specs = vec![format!("sqlite:{}", dir.join("sessions.db").display())];
    specs.extend(postgres_url(test));
    specs
}

/// Open a store from its spec; failing is a test failure.
pub async fn open(spec: &str) -> Arc<dyn SessionStore> {
    match chatctx::store::open(spec).await {
        Ok(store) => store,
        Err(err) => panic!("cannot open the session store: {err}"),
    }
}
