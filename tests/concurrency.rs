//! Sessions are `Send`, counters and policies `Send + Sync`: 64 conversations replayed at once
//! on a multi-threaded runtime, sharing counters, give exactly the sequential results.
// Needs every vocabulary (the default feature `all-vocabularies`).
#![cfg(feature = "all-vocabularies")]
#![allow(clippy::unwrap_used)]

mod common;

use std::sync::Arc;

use chatctx::conversation::Transcript;
use chatctx::policy::{Limits, PolicySpec, Report};
use chatctx::{
    ChatRequest, ContextPolicy, Message, Model, PromptCounter, Role, Session, TokenCounter,
};

/// Compile-time: the promised auto traits.
const _: () = {
    const fn send_sync<T: Send + Sync + ?Sized>() {}
    const fn send<T: Send + ?Sized>() {}
    send_sync::<Arc<dyn TokenCounter>>();
    send_sync::<Arc<dyn PromptCounter>>();
    send_sync::<Box<dyn ContextPolicy>>();
    send_sync::<chatctx::policy::PolicyState>();
    send::<Session>();
};

const SESSIONS: usize = 64;
/// User turns replayed per conversation (keeps the debug-build test quick).
const TURNS: usize = 12;
const POLICIES: [&str; 5] = [
    "token-budget",
    "compact:0.5",
    "rolling-summary:0.6",
    "last-rounds:3",
    "last-rounds:4+token-budget",
];

/// What one turn sent: the messages and the report.
type Turn = (Vec<Message>, Report);

fn conversations() -> Vec<Vec<Message>> {
    common::read("chitchat/conversations.jsonl")
        .lines()
        .filter(|line| !line.trim().is_empty())
        .take(SESSIONS)
        .map(|line| ChatRequest::from_json(line).unwrap().messages)
        .collect()
}

/// Replay `messages` turn by turn: push each user turn, prepare, record the recorded reply.
async fn replay(
    index: usize,
    messages: Vec<Message>,
    counter: Arc<dyn PromptCounter>,
) -> (Vec<Turn>, Transcript) {
    let policy = POLICIES[index % POLICIES.len()]
        .parse::<PolicySpec>()
        .unwrap()
        .build()
        .unwrap();
    let first_user = messages
        .iter()
        .position(|m| m.role == Role::User)
        .unwrap_or(messages.len());
    let (head, rest) = messages.split_at(first_user);
    // windows of different sizes so that every policy has work to do
    let limits = Limits::new(600 + 50 * (index % 7), 50);
    let mut session = Session::new(Transcript::new(head.to_vec()), policy, counter, limits);
    let mut turns = Vec::new();
    for message in rest {
        match message.role {
            Role::User => {
                if turns.len() == TURNS {
                    break;
                }
                session.push_message(message.clone());
                // yield between turns so sessions interleave across worker threads
                tokio::task::yield_now().await;
                turns.push(session.prepare().await.unwrap());
            }
            _ => {
                session.record_reply(message.clone());
            }
        }
    }
    (turns, session.transcript().clone())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_sessions_match_sequential_runs() {
    let conversations = conversations();
    assert_eq!(conversations.len(), SESSIONS);
    // one shared counter per model family, as an application would hold them
    let counters: Vec<Arc<dyn PromptCounter>> = ["deepseek-chat", "gpt-4o", "qwen-plus"]
        .iter()
        .map(|name| Model::resolve(name).unwrap().prompt_counter())
        .collect();
    let counter = |index: usize| Arc::clone(&counters[index % counters.len()]);

    let mut sequential = Vec::new();
    for (index, messages) in conversations.iter().enumerate() {
        sequential.push(replay(index, messages.clone(), counter(index)).await);
    }

    let handles: Vec<_> = conversations
        .into_iter()
        .enumerate()
        .map(|(index, messages)| tokio::spawn(replay(index, messages, counter(index))))
        .collect();
    let mut summarized = 0;
    for (index, handle) in handles.into_iter().enumerate() {
        let concurrent = handle.await.unwrap();
        assert_eq!(
            concurrent.1.messages(),
            sequential[index].1.messages(),
            "transcript {index}"
        );
        assert_eq!(
            concurrent.0, sequential[index].0,
            "requests of session {index}"
        );
        summarized += usize::from(
            concurrent
                .0
                .iter()
                .any(|(_, report)| !report.summarized.is_empty()),
        );
        if !POLICIES[index % POLICIES.len()].starts_with("last-rounds:3") {
            assert!(
                concurrent.0.iter().all(|(_, report)| report.fits),
                "session {index}"
            );
        }
    }
    assert!(summarized > 0, "no session exercised the rolling summary");
}
