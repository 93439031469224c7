//! The recall policy over `fixtures/chitchat/recall_fact.json` (a fact, 60 real chitchat
//! rounds, then the question) on every store, its invariants, and its failures.
// Needs every vocabulary (the default feature `all-vocabularies`).
#![cfg(feature = "all-vocabularies")]
#![allow(clippy::unwrap_used)]

mod common;

use std::collections::HashMap;
use std::num::NonZeroUsize;
use std::str::FromStr;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use chatctx::conversation::{Conversation, Transcript};
use chatctx::message::{Message, Role};
use chatctx::policy::{ContextPolicy, Input, Limits, PolicySpec, PolicyState, Recall, TokenBudget};
use chatctx::retrieval::{Embedder, Entry, Hit, Index, NGrams, VectorStore};
use chatctx::summarizer::Extractive;
use chatctx::{Error, Model, PromptCounter, Report, Session};
use common::stores::{conversation, memory, postgres};
use common::{fixture_messages, TestCounter};
use proptest::prelude::*;

/// 1024 usable tokens: the fixture is about 2,030 DeepSeek tokens, so truncation loses the
/// fact round (messages 1 and 2).
const LIMITS: Limits = Limits::new(1536, 512);

/// [`NGrams`], counting how often each text is embedded.
#[derive(Debug, Default)]
struct Counting {
    seen: Mutex<HashMap<String, usize>>,
}

#[async_trait]
impl Embedder for Counting {
    async fn embed(&self, texts: &[String]) -> chatctx::Result<Vec<Vec<f32>>> {
        {
            let mut seen = self.seen.lock().unwrap();
            for text in texts {
                *seen.entry(text.clone()).or_default() += 1;
            }
        }
        NGrams::new().embed(texts).await
    }
    fn dimension(&self) -> usize {
        NGrams::DEFAULT_DIMENSION
    }
    fn name(&self) -> String {
        "counting ngrams".into()
    }
}

/// Play the fixture through a session: every user turn pushed and prepared, every reply
/// recorded. Returns the last report.
async fn play(
    policy: Box<dyn ContextPolicy>,
    counter: Arc<dyn PromptCounter>,
) -> (Report, Session) {
    let fixture = fixture_messages("chitchat/recall_fact.json");
    let mut session = Session::new(
        Transcript::new(fixture[..1].to_vec()),
        policy,
        counter,
        LIMITS,
    );
    let mut report = None;
    for message in &fixture[1..] {
        if message.role == Role::User {
            session.push_user(message.content.text());
            report = Some(session.prepare().await.unwrap().1);
        } else {
            session.record_reply(message.clone());
        }
    }
    assert_eq!(session.transcript().messages(), &fixture[..]);
    (report.unwrap(), session)
}

async fn recalls_the_fact_that_truncation_loses(store: Arc<dyn VectorStore>, id: &str) {
    let counter = Model::resolve("deepseek-chat").unwrap().prompt_counter();
    let fixture = fixture_messages("chitchat/recall_fact.json");
    assert!(fixture[1].content.text().contains("Pistachio"));
    let last = fixture.len() - 1;
    assert!(fixture[last].content.text().contains("allergic"));

    let (budget, _) = play(Box::new(TokenBudget::new()), Arc::clone(&counter)).await;
    assert!(
        budget.dropped.contains(&1) && budget.dropped.contains(&2),
        "{budget:?}"
    );

    let embedder = Arc::new(Counting::default());
    let index = Index::new(embedder.clone(), store, id).unwrap();
    let policy = "recall:3"
        .parse::<PolicySpec>()
        .unwrap()
        .build_with_index(Arc::new(Extractive::new()), &index)
        .unwrap();
    let (report, session) = play(policy, counter).await;
    eprintln!(
        "recall:3 on {id}: {} of {} tokens, recalled {:?}, {} messages kept",
        report.tokens_after,
        report.tokens_before,
        report.recalled,
        report.kept.len()
    );
    assert_eq!(report.policy, "recall:3");
    assert!(report.fits, "{report:?}");
    assert!(report.tokens_after <= 1024);
    assert!(
        report.kept.contains(&1) && report.kept.contains(&2),
        "{report:?}"
    );
    assert!(report.recalled.starts_with(&[1, 2]), "{report:?}");
    assert!(report.recalled.len() <= 3 * 2);
    assert!(report.kept.contains(&last));
    // Every finished round embedded once, plus one query per request.
    let seen = embedder.seen.lock().unwrap().clone();
    let messages = session.transcript().messages();
    let conversation = Conversation::new(messages);
    let rounds = conversation.rounds().len();
    for round in &conversation.rounds()[..rounds - 1] {
        let texts: Vec<String> = messages[round.range()]
            .iter()
            .map(|m| m.content.text())
            .collect();
        assert_eq!(seen.get(&texts.join("\n")), Some(&1), "{round:?}");
    }
    let fact = format!(
        "{}\n{}",
        fixture[1].content.text(),
        fixture[2].content.text()
    );
    assert_eq!(seen.get(&fact), Some(&1), "the fact round is embedded once");
    assert_eq!(
        index.store().rounds(id).await.unwrap(),
        (0..rounds - 1).collect::<Vec<_>>()
    );
}

#[tokio::test]
async fn recalls_the_fact_in_memory() {
    let id = conversation("fact");
    recalls_the_fact_that_truncation_loses(memory(NGrams::DEFAULT_DIMENSION), &id).await;
}

#[tokio::test]
async fn recalls_the_fact_on_postgres() {
    let Some(store) = postgres("recalls_the_fact_on_postgres", NGrams::DEFAULT_DIMENSION).await
    else {
        return;
    };
    let id = conversation("fact");
    store.delete(&id).await.unwrap();
    recalls_the_fact_that_truncation_loses(store, &id).await;
}

/// An embedder that fails, or returns vectors of the wrong size.
#[derive(Debug)]
enum Broken {
    Fails,
    Short,
}

#[async_trait]
impl Embedder for Broken {
    async fn embed(&self, texts: &[String]) -> chatctx::Result<Vec<Vec<f32>>> {
        match self {
            Broken::Fails => Err(Error::Embedder {
                reason: "HTTP 503 Service Unavailable".into(),
            }),
            Broken::Short => Ok(texts.iter().map(|_| vec![0.5; 7]).collect()),
        }
    }
    fn dimension(&self) -> usize {
        NGrams::DEFAULT_DIMENSION
    }
    fn name(&self) -> String {
        "broken".into()
    }
}

/// A store that is down.
#[derive(Debug)]
struct Down;

#[async_trait]
impl VectorStore for Down {
    fn dimension(&self) -> usize {
        NGrams::DEFAULT_DIMENSION
    }
    fn name(&self) -> String {
        "down".into()
    }
    async fn upsert(&self, _: &[Entry]) -> chatctx::Result<()> {
        Err(Error::Store {
            reason: "connection refused".into(),
        })
    }
    async fn search(&self, _: &str, _: &[f32], _: usize) -> chatctx::Result<Vec<Hit>> {
        Err(Error::Store {
            reason: "connection refused".into(),
        })
    }
    async fn rounds(&self, _: &str) -> chatctx::Result<Vec<usize>> {
        Err(Error::Store {
            reason: "connection refused".into(),
        })
    }
    async fn delete(&self, _: &str) -> chatctx::Result<()> {
        Ok(())
    }
}

/// Prepare a two-round session under `index` with `fail_on_error`; the error, and the
/// transcript left intact.
async fn failing_prepare(index: Index) -> Error {
    let policy = Recall::new(index, NonZeroUsize::new(2).unwrap()).with_fail_on_error(true);
    let transcript = Transcript::new(vec![Message::system("Be kind.")]);
    let mut session = Session::new(transcript, policy, Arc::new(TestCounter), LIMITS);
    session.push_user("My sister's cat is Pistachio.");
    session.record_reply(Message::assistant("Noted."));
    session.push_user("What is her cat called?");
    let before = session.transcript().messages().to_vec();
    let error = session.prepare().await.unwrap_err();
    assert_eq!(session.transcript().messages(), &before[..]);
    assert_eq!(session.state(), &PolicyState::default());
    error
}

#[tokio::test]
async fn an_embedder_error_is_typed_and_leaves_the_transcript() {
    let index = Index::new(Arc::new(Broken::Fails), memory(512), "e").unwrap();
    let error = failing_prepare(index).await;
    assert_eq!(
        error,
        Error::Embedder {
            reason: "HTTP 503 Service Unavailable".into()
        }
    );
}

#[tokio::test]
async fn dimension_mismatches_are_typed() {
    let error = Index::new(Arc::new(NGrams::new()), memory(384), "d").unwrap_err();
    assert!(
        matches!(
            error,
            Error::DimensionMismatch {
                expected: 384,
                found: 512,
                ..
            }
        ),
        "{error}"
    );
    let index = Index::new(Arc::new(Broken::Short), memory(512), "d").unwrap();
    let error = failing_prepare(index).await;
    assert!(
        matches!(
            error,
            Error::DimensionMismatch {
                expected: 512,
                found: 7,
                ..
            }
        ),
        "{error}"
    );
    assert!(error.to_string().contains("dimension mismatch"), "{error}");
}

/// Fails while `failing` is set, then embeds with [`NGrams`], counting the texts it embedded.
#[derive(Debug, Default)]
struct Flaky {
    failing: std::sync::atomic::AtomicBool,
    embedded: Mutex<Vec<String>>,
}

#[async_trait]
impl Embedder for Flaky {
    async fn embed(&self, texts: &[String]) -> chatctx::Result<Vec<Vec<f32>>> {
        if self.failing.load(std::sync::atomic::Ordering::SeqCst) {
            return Err(Error::Embedder {
                reason: "connection refused".into(),
            });
        }
        self.embedded.lock().unwrap().extend(texts.iter().cloned());
        NGrams::new().embed(texts).await
    }
    fn dimension(&self) -> usize {
        NGrams::DEFAULT_DIMENSION
    }
    fn name(&self) -> String {
        "flaky".into()
    }
}

#[tokio::test]
async fn an_embedder_failure_falls_back_to_recency_and_loses_no_round() {
    let fixture = fixture_messages("chitchat/recall_fact.json");
    let counter: Arc<dyn PromptCounter> = Model::resolve("deepseek-chat").unwrap().prompt_counter();
    let flaky = Arc::new(Flaky::default());
    flaky
        .failing
        .store(true, std::sync::atomic::Ordering::SeqCst);
    let store = memory(NGrams::DEFAULT_DIMENSION);
    let index = Index::new(flaky.clone(), Arc::clone(&store), "flaky").unwrap();
    let recall = Recall::new(index, NonZeroUsize::new(3).unwrap());
    let conversation = Conversation::new(&fixture);
    let input = || Input::new(&fixture, &conversation, LIMITS, counter.as_ref());

    // Down: the newest rounds that fit, exactly what token-budget sends, and the reason.
    let fallback = recall
        .apply(input(), &mut PolicyState::default())
        .await
        .unwrap();
    let budget = TokenBudget::new()
        .apply(input(), &mut PolicyState::default())
        .await
        .unwrap();
    assert_eq!(fallback.messages, budget.messages);
    assert!(fallback.report.recalled.is_empty());
    let why = fallback.report.recall_error.clone().unwrap();
    assert!(why.contains("connection refused"), "{why}");
    assert!(store.rounds("flaky").await.unwrap().is_empty());
    let json = serde_json::to_value(&fallback.report).unwrap();
    assert!(json["recall_error"]
        .as_str()
        .unwrap()
        .contains("connection refused"));

    // Back up: every finished round is embedded (once) on the next request, and the fact
    // truncation lost is recalled.
    flaky
        .failing
        .store(false, std::sync::atomic::Ordering::SeqCst);
    let recovered = recall
        .apply(input(), &mut PolicyState::default())
        .await
        .unwrap();
    assert_eq!(recovered.report.recall_error, None);
    let finished = conversation.rounds().len() - 1;
    assert_eq!(
        store.rounds("flaky").await.unwrap(),
        (0..finished).collect::<Vec<_>>()
    );
    assert!(
        recovered.report.recalled.contains(&1),
        "{:?}",
        recovered.report
    );
    let embedded = flaky.embedded.lock().unwrap().clone();
    // the finished rounds, then the question
    assert_eq!(embedded.len(), finished + 1);
    assert_eq!(budget.report.recall_error, None);
}

#[tokio::test]
async fn a_store_failure_falls_back_and_is_reported_through_a_chain() {
    let fixture = fixture_messages("chitchat/recall_fact.json");
    let counter: Arc<dyn PromptCounter> = Model::resolve("deepseek-chat").unwrap().prompt_counter();
    let index = Index::new(Arc::new(NGrams::new()), Arc::new(Down), "down").unwrap();
    let policy = PolicySpec::from_str("recall:2+token-budget")
        .unwrap()
        .build_with_index(Arc::new(Extractive::new()), &index)
        .unwrap();
    let conversation = Conversation::new(&fixture);
    let input = Input::new(&fixture, &conversation, LIMITS, counter.as_ref());
    let outcome = policy
        .apply(input, &mut PolicyState::default())
        .await
        .unwrap();
    let why = outcome.report.recall_error.unwrap();
    assert!(why.contains("connection refused"), "{why}");
    assert!(outcome.report.fits);
}

#[tokio::test]
async fn a_store_error_is_typed_and_leaves_the_transcript() {
    let index = Index::new(Arc::new(NGrams::new()), Arc::new(Down), "s").unwrap();
    let error = failing_prepare(index).await;
    assert!(matches!(error, Error::Store { .. }), "{error}");
}

#[cfg(feature = "postgres")]
#[tokio::test]
async fn an_unreachable_database_fails_before_the_session_starts() {
    let port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let url = format!("postgres://postgres@127.0.0.1:{port}/postgres");
    let error = chatctx::retrieval::Postgres::connect(&url, 512)
        .await
        .unwrap_err();
    assert!(matches!(error, Error::Store { .. }), "{error}");
}

fn block_on<F: std::future::Future>(future: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap()
        .block_on(future)
}

/// Chitchat-like turns over a small vocabulary, so that rounds resemble each other.
fn turn() -> impl Strategy<Value = String> {
    prop::collection::vec(
        prop::sample::select(vec![
            "cat",
            "salmon",
            "music",
            "indie",
            "class",
            "猫",
            "三文鱼",
            "pizza",
            "rain",
            "my",
            "sister",
            "is",
            "the",
            "what",
        ]),
        0..12,
    )
    .prop_map(|words| words.join(" "))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn recall_keeps_whole_rounds_within_the_budget(
        rounds in prop::collection::vec((turn(), prop::option::of(turn())), 1..25),
        window in 20..400usize,
        k in 1..5usize,
    ) {
        let mut messages = vec![Message::system("Be kind.")];
        for (user, reply) in &rounds {
            messages.push(Message::user(user.clone()));
            if let Some(reply) = reply {
                messages.push(Message::assistant(reply.clone()));
            }
        }
        let conversation = Conversation::new(&messages);
        let limits = Limits::new(window, 10);
        let policy = Recall::new(Index::in_memory("p"), NonZeroUsize::new(k).unwrap());
        let input = Input::new(&messages, &conversation, limits, &TestCounter);
        let result = block_on(policy.apply(input, &mut PolicyState::default()));
        let budget = block_on(TokenBudget::new().apply(input, &mut PolicyState::default()));
        let outcome = match (result, budget) {
            (Err(Error::DoesNotFit { .. }), Err(Error::DoesNotFit { .. })) => return Ok(()),
            (Ok(outcome), Ok(_)) => outcome,
            (a, b) => panic!("recall {a:?} vs token budget {b:?}"),
        };
        let report = &outcome.report;
        prop_assert!(report.fits);
        prop_assert!(report.tokens_after <= window - 10);
        prop_assert_eq!(report.tokens_after, TestCounter.count(&outcome.messages));
        // Original order, no duplicates.
        let sources: Vec<usize> = outcome.sources.iter().map(|s| s.unwrap()).collect();
        prop_assert!(sources.windows(2).all(|w| w[0] < w[1]));
        prop_assert_eq!(&sources, &report.kept);
        for (message, &index) in outcome.messages.iter().zip(&sources) {
            prop_assert_eq!(message, &messages[index]);
        }
        // Whole rounds, the last one and the pinned messages always.
        let last = conversation.last_round().unwrap();
        prop_assert!(last.range().all(|i| report.kept.contains(&i)));
        prop_assert!(report.kept.contains(&0));
        for round in conversation.rounds() {
            let kept = round.range().filter(|i| report.kept.contains(i)).count();
            prop_assert!(kept == 0 || kept == round.len(), "round {:?} split", round);
        }
        // Recalled rounds are kept, at most k of them, all older than the recent run.
        let recalled_rounds = conversation.rounds().iter()
            .filter(|r| report.recalled.contains(&r.start())).count();
        prop_assert!(recalled_rounds <= k);
        prop_assert!(report.recalled.iter().all(|i| report.kept.contains(i)));
        let mut all: Vec<usize> = [&report.kept[..], &report.dropped].concat();
        all.sort_unstable();
        prop_assert_eq!(all, (0..messages.len()).collect::<Vec<_>>());
    }
}
