//! No public type that can hold an API key or a password prints it: `{:?}` of every one of
//! them, alone and inside the policies and the session that hold them, shows
//! `api_key: Some(<redacted>)` instead. Errors naming an endpoint leave out a URL's password.
#![cfg(all(feature = "http", feature = "postgres"))]
#![allow(clippy::unwrap_used)]

mod common;

use std::num::NonZeroUsize;
use std::sync::Arc;

use chatctx::policy::{Chain, Limits, PolicySpec, Recall, RollingSummary, TokenBudget};
use chatctx::retrieval::{self, Embedder, InMemory, Index};
use chatctx::summarizer::{self, Summarizer, SummaryInput};
use chatctx::{Message, Model, Session, Transcript};

const KEY: &str = "sk-live-0123456789abcdef-SECRET";
const PASSWORD: &str = "hunter2-PASSWORD";

fn summarizer() -> summarizer::HttpSummarizer {
    summarizer::HttpSummarizer::new(
        format!("https://user:{PASSWORD}@api.example/v1"),
        "gpt-4o-mini",
    )
    .with_api_key(KEY)
}

fn embedder() -> retrieval::HttpEmbedder {
    retrieval::HttpEmbedder::new(
        format!("https://user:{PASSWORD}@api.example/v1"),
        "text-embedding-3-small",
        8,
    )
    .with_api_key(KEY)
}

/// `shown` is the `Debug` of `what`: neither secret is in it.
fn assert_hidden(what: &str, shown: &str) {
    assert!(!shown.contains(KEY), "{what} prints the API key: {shown}");
    assert!(
        !shown.contains(PASSWORD),
        "{what} prints the password: {shown}"
    );
}

#[test]
fn debug_output_never_holds_a_key_or_a_password() {
    let summarizer = Arc::new(summarizer());
    let embedder = Arc::new(embedder());
    let shown = format!("{summarizer:?}");
    assert_hidden("summarizer::HttpSummarizer", &shown);
    assert!(shown.contains("api_key: Some(<redacted>)"), "{shown}");
    assert!(shown.contains("user:<redacted>@api.example"), "{shown}");
    let shown = format!("{embedder:?}");
    assert_hidden("retrieval::HttpEmbedder", &shown);
    assert!(shown.contains("api_key: Some(<redacted>)"), "{shown}");
    // without a key: None, as before
    let keyless = format!(
        "{:?}",
        summarizer::HttpSummarizer::new("http://127.0.0.1:1/v1", "m")
    );
    assert!(keyless.contains("api_key: None"), "{keyless}");

    // everything that can hold them, pretty-printed too
    let index = Index::new(
        embedder.clone() as Arc<dyn Embedder>,
        Arc::new(InMemory::new(8)),
        "chat",
    )
    .unwrap();
    let recall = Recall::new(index.clone(), NonZeroUsize::new(2).unwrap());
    let rolling = RollingSummary::new(summarizer.clone() as Arc<dyn Summarizer>);
    let chain = Chain::new(rolling.clone())
        .then(recall.clone())
        .then(TokenBudget);
    let built = PolicySpec::Chain(vec![
        PolicySpec::RollingSummary { threshold: 0.7 },
        PolicySpec::Recall(NonZeroUsize::new(2).unwrap()),
    ])
    .build_with_index(summarizer.clone(), &index)
    .unwrap();
    let counter = Model::resolve("gpt-4o").unwrap().prompt_counter();
    let session = Session::new(
        Transcript::new(vec![Message::user("hi")]),
        chain,
        counter,
        Limits::new(4000, 500),
    );
    let shown: Vec<(&str, String)> = vec![
        ("Index", format!("{index:?}")),
        ("Recall", format!("{recall:#?}")),
        ("RollingSummary", format!("{rolling:?}")),
        ("built policy", format!("{built:?}")),
        ("Session", format!("{session:?}")),
        ("Session (pretty)", format!("{session:#?}")),
    ];
    for (what, text) in &shown {
        assert_hidden(what, text);
    }
    assert!(shown[0].1.contains("<redacted>"), "{}", shown[0].1);
}

/// A failed call names its endpoint, never the password in its URL.
#[tokio::test]
async fn errors_name_the_endpoint_without_its_password() {
    let port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let url = format!("http://user:{PASSWORD}@127.0.0.1:{port}/v1");
    let retry = chatctx::openai_compat::Retry::none();
    let error = summarizer::HttpSummarizer::new(&url, "m")
        .with_api_key(KEY)
        .with_retry(retry)
        .summarize(SummaryInput::new(vec![Message::user("hi")], None))
        .await
        .unwrap_err()
        .to_string();
    assert_hidden("summarizer error", &error);
    assert!(
        error.contains(&format!("http://user:<redacted>@127.0.0.1:{port}/v1")),
        "{error}"
    );
    let error = retrieval::HttpEmbedder::new(&url, "m", 4)
        .with_api_key(KEY)
        .with_retry(retry)
        .embed(&["hi".to_string()])
        .await
        .unwrap_err()
        .to_string();
    assert_hidden("embedder error", &error);
}

/// The PostgreSQL store, connected with a password in its URL (the test server trusts any
/// password), prints neither the URL nor the password.
#[tokio::test]
async fn a_connected_postgres_store_hides_its_password() {
    let Some(url) = common::stores::postgres_url("a_connected_postgres_store_hides_its_password")
    else {
        return;
    };
    let (scheme, rest) = url.split_once("://").unwrap();
    let (user_info, host) = rest.split_once('@').unwrap();
    let (user, password) = match user_info.split_once(':') {
        Some((user, password)) => (user.to_string(), password.to_string()),
        None => (user_info.to_string(), PASSWORD.to_string()),
    };
    let url = format!("{scheme}://{user}:{password}@{host}");
    let store = retrieval::Postgres::connect_table(&url, "chatctx_test_secrets", 8)
        .await
        .unwrap();
    let store = Arc::new(store);
    let ngrams = retrieval::NGrams::with_dimension(8).unwrap();
    let index = Index::new(Arc::new(ngrams), store.clone(), "c");
    for shown in [format!("{store:?}"), format!("{:#?}", index.unwrap())] {
        assert!(!shown.contains(&password), "{shown}");
        assert!(!shown.contains(&url), "{shown}");
    }
}
