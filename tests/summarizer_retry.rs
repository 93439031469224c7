//! The HTTP summarizer retries rate limits and server errors, honouring `Retry-After`, against
//! a loopback stub that answers a scripted sequence of responses.
#![cfg(feature = "http")]
#![allow(clippy::unwrap_used)]

use std::time::{Duration, Instant};

use chatctx::message::Message;
use chatctx::openai_compat::Retry;
use chatctx::summarizer::{HttpSummarizer, Summarizer, SummaryInput};
use chatctx::Error;
#[path = "common/http_stub.rs"]
mod http_stub;
use tokio::task::JoinHandle;

const OK: &str = r#"{"choices":[{"message":{"content":"A summary."}}]}"#;

/// Answer one connection per scripted `(status line, extra headers, body)`; resolves to the
/// times the requests arrived.
async fn stub(
    script: Vec<(&'static str, &'static str, &'static str)>,
) -> (String, JoinHandle<Vec<Instant>>) {
    let (url, server) = http_stub::serve(script).await;
    let handle = tokio::spawn(async move {
        server
            .await
            .unwrap()
            .into_iter()
            .map(|arrival| arrival.at)
            .collect()
    });
    (url, handle)
}

fn input() -> SummaryInput {
    SummaryInput::new(vec![Message::user("hi"), Message::assistant("hello")], None)
}

#[tokio::test]
async fn rate_limit_waits_for_retry_after_then_succeeds() {
    let (url, server) = stub(vec![
        (
            "429 Too Many Requests",
            "retry-after: 1\r\n",
            r#"{"error":"slow down"}"#,
        ),
        ("200 OK", "", OK),
    ])
    .await;
    // A tiny backoff: only Retry-After can explain a one-second wait.
    let http = HttpSummarizer::new(url, "m")
        .with_retry(Retry::default().with_backoff(Duration::from_millis(1)));
    let summary = http.summarize(input()).await.unwrap();
    assert_eq!(summary.text, "A summary.");
    let arrivals = server.await.unwrap();
    let waited = arrivals[1] - arrivals[0];
    assert!(waited >= Duration::from_millis(950), "{waited:?}");
    assert!(waited < Duration::from_secs(3), "{waited:?}");
}

#[tokio::test]
async fn server_errors_back_off_and_retry() {
    let (url, server) = stub(vec![
        ("503 Service Unavailable", "", "{}"),
        ("502 Bad Gateway", "", "{}"),
        ("200 OK", "", OK),
    ])
    .await;
    let retry = Retry::default().with_backoff(Duration::from_millis(20));
    let summary = HttpSummarizer::new(url, "m")
        .with_retry(retry)
        .summarize(input())
        .await
        .unwrap();
    assert_eq!(summary.text, "A summary.");
    let arrivals = server.await.unwrap();
    assert!(arrivals[1] - arrivals[0] >= Duration::from_millis(20));
    assert!(
        arrivals[2] - arrivals[1] >= Duration::from_millis(40),
        "doubled"
    );
}

#[tokio::test]
async fn attempts_are_bounded() {
    let (url, server) = stub(vec![
        ("500 Internal Server Error", "", r#"{"error":"boom"}"#);
        3
    ])
    .await;
    let retry = Retry::default()
        .with_attempts(3)
        .with_backoff(Duration::from_millis(5));
    let error = HttpSummarizer::new(url, "m")
        .with_retry(retry)
        .summarize(input())
        .await
        .unwrap_err();
    let Error::Summarizer { reason } = error else {
        panic!("wrong kind");
    };
    assert!(
        reason.contains("HTTP 500") && reason.contains("after 3 attempts"),
        "{reason}"
    );
    assert_eq!(server.await.unwrap().len(), 3);
}

#[tokio::test]
async fn connection_errors_are_retried() {
    // Nothing listens on this port (bound, then closed).
    let port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let retry = Retry::default()
        .with_attempts(2)
        .with_backoff(Duration::from_millis(5));
    let error = HttpSummarizer::new(format!("http://127.0.0.1:{port}/v1"), "m")
        .with_retry(retry)
        .summarize(input())
        .await
        .unwrap_err();
    assert!(error.to_string().contains("after 2 attempts"), "{error}");
}

#[tokio::test]
async fn client_errors_are_not_retried() {
    let (url, server) = stub(vec![("400 Bad Request", "", r#"{"error":"no"}"#)]).await;
    let error = HttpSummarizer::new(url, "m")
        .summarize(input())
        .await
        .unwrap_err();
    assert!(!error.to_string().contains("attempts"), "{error}");
    assert_eq!(server.await.unwrap().len(), 1);
}
