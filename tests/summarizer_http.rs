//! The HTTP summarizer against a hand-rolled OpenAI-compatible stub on 127.0.0.1.
#![cfg(all(feature = "http", feature = "all-vocabularies"))]
#![allow(clippy::unwrap_used)]

use chatctx::message::Message;
use chatctx::summarizer::{HttpSummarizer, Summarizer, SummaryInput};
use chatctx::Error;
#[path = "common/http_stub.rs"]
mod http_stub;

/// Serve one request with `status` and `body`; resolves to the raw request received.
async fn stub(
    status: &'static str,
    body: &'static str,
) -> (String, tokio::task::JoinHandle<String>) {
    let (url, server) = http_stub::serve(vec![(status, "", body)]).await;
    let handle = tokio::spawn(async move {
        let mut arrivals = server.await.unwrap();
        arrivals
            .pop()
            .map(|arrival| arrival.request)
            .unwrap_or_default()
    });
    (url, handle)
}

fn input() -> SummaryInput {
    SummaryInput::new(
        vec![
            Message::user("我妹妹的猫叫 Pistachio。"),
            Message::assistant("Noted!"),
        ],
        Some("User likes cats.".into()),
    )
}

#[tokio::test]
async fn posts_the_conversation_and_reads_the_summary() {
    let (url, server) = stub(
        "200 OK",
        r#"{"choices":[{"message":{"role":"assistant","content":" The user's sister has a cat, Pistachio. "}}],"usage":{"total_tokens":57}}"#,
    )
    .await;
    let http = HttpSummarizer::new(url, "deepseek-chat")
        .with_api_key("sk-test")
        .with_prompt("Summarize.");
    let summary = http.summarize(input()).await.unwrap();
    assert_eq!(summary.text, "The user's sister has a cat, Pistachio.");
    assert_eq!(summary.tokens_used, Some(57));
    let request = server.await.unwrap();
    assert!(
        request.starts_with("POST /v1/chat/completions HTTP/1.1"),
        "{request}"
    );
    assert!(request
        .to_ascii_lowercase()
        .contains("authorization: bearer sk-test"));
    let body: serde_json::Value =
        serde_json::from_str(request.split("\r\n\r\n").nth(1).unwrap()).unwrap();
    assert_eq!(body["model"], "deepseek-chat");
    assert_eq!(body["messages"][0]["content"], "Summarize.");
    let conversation = body["messages"][1]["content"].as_str().unwrap();
    assert!(conversation.contains("Previous summary:\nUser likes cats."));
    assert!(conversation.contains("user: 我妹妹的猫叫 Pistachio。\nassistant: Noted!"));
}

#[tokio::test]
async fn an_error_status_is_a_summarizer_error_quoting_the_body() {
    let (url, _server) = stub("401 Unauthorized", r#"{"error":{"message":"bad key"}}"#).await;
    let error = HttpSummarizer::new(url, "qwen-plus")
        .summarize(input())
        .await
        .unwrap_err();
    let Error::Summarizer { reason } = error else {
        panic!("wrong kind")
    };
    assert!(reason.contains("HTTP 401 Unauthorized"), "{reason}");
    assert!(reason.contains("bad key"), "{reason}");
}
