//! A `TokenCounter` over tiktoken-rs's cl100k `CoreBPE` drives the prompt counters and the
//! policies exactly as chatctx's own cl100k counter does: the same counts, the same messages
//! selected, the same reports, on the chat fixtures, for several policies and templates.
#![cfg(feature = "tiktoken-rs")]
#![allow(clippy::unwrap_used)]

mod common;

use std::sync::Arc;

use chatctx::adapters::tiktoken_rs::TiktokenCounter;
use chatctx::conversation::Conversation;
use chatctx::policy::{ContextPolicy, Input, Limits, Outcome, PolicySpec, PolicyState};
use chatctx::template::Family;
use chatctx::tokens::{TokenCounter, Vocabulary};
use chatctx::{ChatRequest, Message, PromptCounter, Session, Transcript};

fn tiktoken() -> Arc<dyn TokenCounter> {
    Arc::new(TiktokenCounter::from_static(
        "cl100k_base (tiktoken-rs)",
        tiktoken_rs::cl100k_base_singleton(),
    ))
}

/// The chat fixtures: every 20th chitchat conversation, a long session, the agent loops and
/// the tool-loop seeds.
fn conversations() -> Vec<(String, Vec<Message>)> {
    let mut out = Vec::new();
    for (index, text) in common::chitchat_requests().iter().enumerate() {
        if index % 20 == 0 || index == 200 {
            let request = ChatRequest::from_json(text).unwrap();
            out.push((format!("chitchat #{index}"), request.messages));
        }
    }
    for name in [
        "agent/coding_agent.json",
        "agent/oversized_result.json",
        "agent/thinking_parallel.json",
        "seeds/tool_loop.json",
        "seeds/tool_loop_reasoning.json",
        "seeds/qwen_multi_round.json",
    ] {
        out.push((name.to_string(), common::fixture_messages(name)));
    }
    out
}

const POLICIES: [&str; 6] = [
    "token-budget",
    "last-rounds:6+token-budget",
    "compact:0.5",
    "rolling-summary:0.6",
    "clear-tools:1+cap:64+token-budget",
    "recall:2",
];

#[test]
fn text_counts_and_boundaries_agree() {
    let ours = Vocabulary::Cl100kBase.counter();
    let theirs = tiktoken();
    let mut texts = 0;
    for (name, messages) in conversations() {
        for message in &messages {
            let text = message.content.text();
            assert_eq!(theirs.count(&text), ours.count(&text), "{name}: {text:?}");
            let n = ours.count(&text);
            for k in [0, 1, n / 2, n.saturating_sub(1), n] {
                assert_eq!(
                    theirs.token_boundary(&text, k),
                    ours.token_boundary(&text, k),
                    "{name}: k = {k} of {text:?}"
                );
            }
            texts += 1;
        }
    }
    assert!(texts > 1000, "{texts}");
    println!("{texts} texts");
    // tiktoken-rs's cl100k has five special tokens (chatctx's also has ChatML's).
    let specials = tiktoken_rs::cl100k_base_singleton().special_tokens();
    assert_eq!(specials.len(), 5);
    for special in specials {
        assert!(theirs.special_token(special).is_some(), "{special}");
        assert_eq!(theirs.special_token(special), ours.special_token(special));
    }
    assert_eq!(theirs.special_token("<|im_start|>"), None);
}

/// One policy applied once, from a fresh state.
async fn run(
    spec: &PolicySpec,
    messages: &[Message],
    conversation: &Conversation,
    limits: Limits,
    counter: &dyn PromptCounter,
) -> chatctx::Result<Outcome> {
    let policy = spec.build()?;
    let input = Input::new(messages, conversation, limits, counter);
    policy.apply(input, &mut PolicyState::default()).await
}

#[tokio::test]
async fn policies_select_the_same_messages_with_the_same_reports() {
    let mut outcomes = 0;
    let mut reduced = 0;
    for family in [Family::OpenAi, Family::Qwen3, Family::DeepSeekV4] {
        let ours = family.prompt_counter(Vocabulary::Cl100kBase.counter());
        let theirs = family.prompt_counter(tiktoken());
        for (name, messages) in conversations() {
            let full = ours.count(&messages);
            assert_eq!(theirs.count(&messages), full, "{family} {name}");
            // A window of about half the conversation, so that every policy has to choose.
            let limits = Limits::new(full / 2 + 600, 256);
            let conversation = Conversation::new(&messages);
            for spec in POLICIES {
                let spec: PolicySpec = spec.parse().unwrap();
                let a = run(&spec, &messages, &conversation, limits, ours.as_ref()).await;
                let b = run(&spec, &messages, &conversation, limits, theirs.as_ref()).await;
                let context = format!("{family} {name} {spec}");
                match (a, b) {
                    (Ok(a), Ok(b)) => {
                        assert_eq!(a.report, b.report, "{context}");
                        assert_eq!(a.messages, b.messages, "{context}");
                        if a.report.tokens_after < a.report.tokens_before {
                            reduced += 1;
                        }
                        outcomes += 1;
                    }
                    (Err(a), Err(b)) => assert_eq!(a, b, "{context}"),
                    (a, b) => panic!("{context}: {a:?} vs {b:?}"),
                }
            }
        }
    }
    // Every policy ran on every conversation, and most had to leave something out.
    assert_eq!(outcomes, 3 * 17 * POLICIES.len());
    assert!(reduced * 2 > outcomes, "{reduced} of {outcomes}");
}

#[tokio::test]
async fn a_session_over_the_tiktoken_counter_prepares_the_same_requests() {
    let messages = common::fixture_messages("chitchat/long_session_1.json");
    let mut sessions: Vec<Session> = [Vocabulary::Cl100kBase.counter(), tiktoken()]
        .into_iter()
        .map(|counter| {
            let spec: PolicySpec = "token-budget".parse().unwrap();
            Session::new(
                Transcript::new(messages[..1].to_vec()),
                spec.build().unwrap(),
                Family::OpenAi.prompt_counter(counter),
                Limits::new(2048, 256),
            )
        })
        .collect();
    let mut dropped = 0;
    for message in &messages[1..80] {
        let mut prepared = Vec::new();
        for session in &mut sessions {
            session.push_message(message.clone());
            if message.role == chatctx::Role::User {
                prepared.push(session.prepare().await.unwrap());
            }
        }
        if let [(a, ra), (b, rb)] = &prepared[..] {
            assert_eq!(a, b);
            assert_eq!(ra, rb);
            dropped += ra.dropped.len();
        }
    }
    assert!(dropped > 0, "the window never filled");
}
