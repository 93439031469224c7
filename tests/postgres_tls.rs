#![cfg(feature = "postgres")]
//! PostgreSQL over TLS (rustls), against the server `.ci/services.sh` starts with a
//! self-signed CA: it accepts TLS connections only (`hostssl`), so every connection that works
//! here is encrypted. `CHATCTX_TEST_POSTGRES_TLS_URL` asks for `sslmode=verify-full` against
//! `CHATCTX_TEST_POSTGRES_CA`. Under `CI=true` missing variables fail the tests.

#[path = "common/session_stores.rs"]
mod session_stores;

use chatctx::message::Message;
use chatctx::retrieval::{Postgres, VectorStore};
use chatctx::store::{PostgresStore, SessionStore};
use chatctx::Error;

use session_stores::{required_env, unique_id, POSTGRES_CA, POSTGRES_TLS_URL};

/// The TLS URL and the CA file, or `None` (skipped outside CI).
fn tls(test: &str) -> Option<(String, String)> {
    let url = required_env(POSTGRES_TLS_URL, test)?;
    let ca = required_env(POSTGRES_CA, test)?;
    Some((url, ca))
}

/// The URL without its query, plus `query`.
fn with_query(url: &str, query: &str) -> String {
    let base = url.split_once('?').map_or(url, |(base, _)| base);
    format!("{base}?{query}")
}

#[tokio::test]
async fn the_session_store_verifies_the_server_and_encrypts() {
    let Some((url, ca)) = tls("the_session_store_verifies_the_server_and_encrypts") else {
        return;
    };
    let store = PostgresStore::connect(&url)
        .await
        .expect("verify-full connects");
    assert!(store.is_encrypted().await.expect("pg_stat_ssl"));
    let id = unique_id("tls");
    let secret = Message::user("a conversation that must not cross the network in clear");
    let version = store
        .append(&id, 0, std::slice::from_ref(&secret))
        .await
        .expect("append");
    let stored = store.load(&id).await.expect("load").expect("exists");
    assert_eq!((stored.version, stored.messages), (version, vec![secret]));
    store.delete(&id).await.expect("delete");

    // verify-ca, and require (encrypted, certificate not checked), work too
    for query in [
        format!("sslmode=verify-ca&sslrootcert={ca}"),
        "sslmode=require".to_string(),
        "sslmode=prefer".to_string(),
    ] {
        let store = PostgresStore::connect(&with_query(&url, &query))
            .await
            .unwrap_or_else(|err| panic!("{query}: {err}"));
        assert!(store.is_encrypted().await.expect("pg_stat_ssl"), "{query}");
    }
    // without TLS the server refuses (hostssl only)
    let err = PostgresStore::connect(&with_query(&url, "sslmode=disable"))
        .await
        .unwrap_err();
    assert!(err.to_string().contains("no encryption"), "{err}");
}

#[tokio::test]
async fn a_certificate_that_does_not_verify_is_refused() {
    let Some((url, ca)) = tls("a_certificate_that_does_not_verify_is_refused") else {
        return;
    };
    // the Mozilla roots do not know the test CA
    let err = PostgresStore::connect(&with_query(&url, "sslmode=verify-full"))
        .await
        .unwrap_err();
    assert!(matches!(err, Error::SessionStore { .. }), "{err}");
    assert!(err.to_string().contains("certificate"), "{err}");
    // a root file that holds no certificate
    let dir = session_stores::temp_dir("tls-roots");
    let empty = dir.join("empty.pem");
    std::fs::write(&empty, "not a certificate\n").expect("write");
    let err = PostgresStore::connect(&with_query(
        &url,
        &format!("sslmode=verify-full&sslrootcert={}", empty.display()),
    ))
    .await
    .unwrap_err();
    assert!(err.to_string().contains("no PEM certificate"), "{err}");
    let err = PostgresStore::connect(&with_query(
        &url,
        "sslmode=verify-full&sslrootcert=/nonexistent/ca.pem",
    ))
    .await
    .unwrap_err();
    assert!(err.to_string().contains("/nonexistent/ca.pem"), "{err}");
    let _ = std::fs::remove_dir_all(&dir);
    // and the right CA works with the URL as given
    assert!(url.contains(&ca));
}

#[tokio::test]
async fn verify_full_checks_the_host_name() {
    let Some((url, ca)) = tls("verify_full_checks_the_host_name") else {
        return;
    };
    // `localhost` is in the certificate too; an address the certificate does not name is not
    // (the server listens on 127.0.0.1 only, so reach it as 127.0.0.1 under another name with
    // hostaddr, as libpq allows)
    let (rest, _) = url.split_once('?').expect("query");
    let port = rest
        .rsplit(':')
        .next()
        .and_then(|tail| tail.split('/').next())
        .expect("port");
    let other = format!(
        "host=other.invalid hostaddr=127.0.0.1 port={port} user=postgres dbname=postgres sslmode=verify-full sslrootcert={ca}"
    );
    let err = PostgresStore::connect(&other).await.unwrap_err();
    assert!(err.to_string().contains("certificate"), "{err}");
    let same = other.replace("sslmode=verify-full", "sslmode=verify-ca");
    let store = PostgresStore::connect(&same)
        .await
        .expect("verify-ca ignores the name");
    assert!(store.is_encrypted().await.expect("pg_stat_ssl"));
    let named = other.replace("host=other.invalid", "host=localhost");
    let store = PostgresStore::connect(&named)
        .await
        .expect("localhost is in the certificate");
    assert!(store.is_encrypted().await.expect("pg_stat_ssl"));
}

/// The pgvector store connects through the same TLS code. The TLS test server is Debian's
/// PostgreSQL, which may lack the pgvector extension: then the connection (TLS handshake,
/// verification, login) succeeds and the store fails later, creating its schema.
#[tokio::test]
async fn the_vector_store_connects_over_tls() {
    let Some((url, _)) = tls("the_vector_store_connects_over_tls") else {
        return;
    };
    match Postgres::connect_table(&url, "chatctx_tls_test", 4).await {
        Ok(store) => {
            let conversation = unique_id("tls-vectors");
            assert!(store
                .rounds(&conversation)
                .await
                .expect("rounds")
                .is_empty());
        }
        Err(err) => {
            let text = err.to_string();
            assert!(text.contains("create the schema"), "{text}");
            assert!(text.contains("vector"), "{text}");
        }
    }
    let err = Postgres::connect_table(
        &with_query(&url, "sslmode=verify-full"),
        "chatctx_tls_test",
        4,
    )
    .await
    .unwrap_err();
    assert!(err.to_string().contains("connect"), "{err}");
    assert!(err.to_string().contains("certificate"), "{err}");
    let err = Postgres::connect_table(&with_query(&url, "sslmode=disable"), "chatctx_tls_test", 4)
        .await
        .unwrap_err();
    assert!(err.to_string().contains("no encryption"), "{err}");
}
