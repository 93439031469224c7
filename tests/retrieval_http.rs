//! The HTTP embedder against a hand-rolled OpenAI-compatible stub on 127.0.0.1, including its
//! retries of rate limits and server errors.
#![cfg(feature = "http")]
#![allow(clippy::unwrap_used)]

use std::time::Duration;

use chatctx::openai_compat::Retry;
use chatctx::retrieval::{Embedder, HttpEmbedder};
use chatctx::Error;
#[path = "common/http_stub.rs"]
mod http_stub;

/// Serve one request per body in `bodies` with `status`; resolves to the raw requests.
async fn stub(
    status: &'static str,
    bodies: Vec<&'static str>,
) -> (String, tokio::task::JoinHandle<Vec<String>>) {
    let (url, server) =
        http_stub::serve(bodies.into_iter().map(|b| (status, "", b)).collect()).await;
    let handle = tokio::spawn(async move {
        server
            .await
            .unwrap()
            .into_iter()
            .map(|arrival| arrival.request)
            .collect()
    });
    (url, handle)
}

use http_stub::body;

/// The reason of the embedder error `http` must fail with when embedding one text.
async fn embedder_error(http: HttpEmbedder) -> String {
    match http.embed(&["hi".to_string()]).await {
        Err(Error::Embedder { reason }) => reason,
        other => panic!("expected an embedder error, got {other:?}"),
    }
}

#[tokio::test]
async fn posts_batches_and_reads_vectors_in_index_order() {
    let (url, server) = stub(
        "200 OK",
        vec![
            // Out of order on purpose: `index` decides.
            r#"{"data":[{"index":1,"embedding":[0.0,1.0,0.0]},{"index":0,"embedding":[1.0,0.0,0.0]}],"usage":{"total_tokens":9}}"#,
            r#"{"data":[{"index":0,"embedding":[0.0,0.0,1e-3]}]}"#,
        ],
    )
    .await;
    let http = HttpEmbedder::new(url, "text-embedding-v4", 3)
        .with_api_key("sk-test")
        .with_dimensions_parameter(true)
        .with_batch(2);
    let texts = ["我妹妹的猫叫 Pistachio。", "salmon", "indie"].map(String::from);
    let vectors = http.embed(&texts).await.unwrap();
    assert_eq!(
        vectors,
        vec![
            vec![1.0, 0.0, 0.0],
            vec![0.0, 1.0, 0.0],
            vec![0.0, 0.0, 0.001]
        ]
    );
    assert_eq!(http.dimension(), 3);
    let requests = server.await.unwrap();
    assert!(
        requests[0].starts_with("POST /v1/embeddings HTTP/1.1"),
        "{}",
        requests[0]
    );
    assert!(requests[0]
        .to_ascii_lowercase()
        .contains("authorization: bearer sk-test"));
    let first = body(&requests[0]);
    assert_eq!(first["model"], "text-embedding-v4");
    assert_eq!(first["input"][0], "我妹妹的猫叫 Pistachio。");
    assert_eq!(first["input"].as_array().unwrap().len(), 2);
    assert_eq!(first["dimensions"], 3);
    assert_eq!(first["encoding_format"], "float");
    assert_eq!(body(&requests[1])["input"][0], "indie");
}

#[tokio::test]
async fn an_error_status_is_an_embedder_error_quoting_the_body() {
    let (url, _server) = stub(
        "401 Unauthorized",
        vec![r#"{"error":{"message":"bad key"}}"#],
    )
    .await;
    let reason = embedder_error(HttpEmbedder::new(url, "text-embedding-3-small", 3)).await;
    assert!(reason.contains("HTTP 401 Unauthorized"), "{reason}");
    assert!(reason.contains("bad key"), "{reason}");
}

#[tokio::test]
async fn a_malformed_answer_is_an_embedder_error() {
    for answer in [
        r#"{"object":"list"}"#,
        r#"{"data":[{"index":0,"embedding":"AAAA"}]}"#,
        r#"{"data":[{"index":7,"embedding":[1.0]}]}"#,
        r#"{"data":[]}"#,
        "not json",
    ] {
        let (url, _server) = stub("200 OK", vec![answer]).await;
        let error = HttpEmbedder::new(url, "m", 1)
            .embed(&["hi".to_string()])
            .await
            .unwrap_err();
        assert!(matches!(error, Error::Embedder { .. }), "{answer}: {error}");
    }
}

#[tokio::test]
async fn an_unreachable_endpoint_is_an_embedder_error() {
    let port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let error = HttpEmbedder::new(format!("http://127.0.0.1:{port}/v1"), "m", 4)
        .with_retry(Retry::none())
        .embed(&["hi".to_string()])
        .await
        .unwrap_err();
    assert!(matches!(error, Error::Embedder { .. }), "{error}");
}

#[tokio::test]
async fn rate_limits_and_server_errors_are_retried() {
    let (url, server) = http_stub::serve(vec![
        ("503 Service Unavailable", "", r#"{"error":"busy"}"#),
        (
            "429 Too Many Requests",
            "retry-after: 0\r\n",
            r#"{"error":"slow down"}"#,
        ),
        (
            "200 OK",
            "",
            r#"{"data":[{"index":0,"embedding":[1.0,0.5,0.0]}]}"#,
        ),
    ])
    .await;
    let retry = Retry::default().with_backoff(Duration::from_millis(5));
    let vectors = HttpEmbedder::new(url, "m", 3)
        .with_retry(retry)
        .embed(&["hi".to_string()])
        .await
        .unwrap();
    assert_eq!(vectors, vec![vec![1.0, 0.5, 0.0]]);
    let arrivals = server.await.unwrap();
    assert_eq!(arrivals.len(), 3, "two failures, then the answer");
    assert!(arrivals
        .iter()
        .all(|a| body(&a.request)["input"][0] == "hi"));
}

#[tokio::test]
async fn retries_are_bounded_and_counted_in_the_error() {
    let (url, server) = http_stub::serve(vec![
        ("500 Internal Server Error", "", r#"{"error":"down"}"#),
        ("502 Bad Gateway", "", r#"{"error":"still down"}"#),
    ])
    .await;
    let retry = Retry::default()
        .with_attempts(2)
        .with_backoff(Duration::from_millis(1));
    let reason = embedder_error(HttpEmbedder::new(url, "m", 3).with_retry(retry)).await;
    assert!(reason.contains("HTTP 502 Bad Gateway"), "{reason}");
    assert!(reason.contains("(after 2 attempts)"), "{reason}");
    assert_eq!(server.await.unwrap().len(), 2);
}

#[tokio::test]
async fn client_errors_are_not_retried() {
    let (url, server) = http_stub::serve(vec![("400 Bad Request", "", r#"{"error":"no"}"#)]).await;
    let reason = embedder_error(HttpEmbedder::new(url, "m", 3)).await;
    assert!(reason.contains("HTTP 400"), "{reason}");
    assert!(!reason.contains("attempts"), "{reason}");
    assert_eq!(server.await.unwrap().len(), 1);
}

#[tokio::test]
async fn a_server_that_never_answers_hits_the_timeout() {
    // accepts connections and reads, never answers
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/v1", listener.local_addr().unwrap());
    let server = tokio::spawn(async move {
        let mut held = Vec::new();
        loop {
            let (socket, _) = listener.accept().await.unwrap();
            held.push(socket);
        }
    });
    let http = HttpEmbedder::new(url, "m", 3).with_timeout(Duration::from_millis(300));
    assert!(format!("{http:?}").contains("timeout: Some(300ms)"));
    let reason = embedder_error(http).await;
    server.abort();
    assert!(reason.ends_with(": timed out after 300ms"), "{reason}");
}
