//! Issue 17's acceptance: at every model call of the committed agent recordings,
//! `cap:8000+clear-tools:3+token-budget` (and the same with `rolling-summary`) on a 32K window
//! with 4K reserved returns a valid request within 28,000 tokens holding the system prompt, the
//! current user message and the newest step's call verbatim; `replay` bills every call within
//! the usable window. Without `cap`/`clear-tools` the same loops do not fit.
// Needs the CLI and every vocabulary (the default features).
#![cfg(all(feature = "cli", feature = "all-vocabularies"))]
#![allow(clippy::unwrap_used)]

mod common;

use chatctx::message::{validate_request, Message, Role};
use chatctx::policy::{Limits, PolicySpec};
use chatctx::replay::{replay, Billing};
use chatctx::{ChatRequest, Conversation, Error, Model, Session, Transcript};

const RECORDINGS: &[&str] = &[
    "agent/coding_agent.json",
    "agent/thinking_parallel.json",
    "agent/oversized_result.json",
];
const CHAINS: &[&str] = &[
    "cap:8000+clear-tools:3+token-budget",
    "cap:8000+clear-tools:3+rolling-summary",
];
const MODEL: &str = "deepseek-chat";

fn recording(name: &str) -> ChatRequest {
    ChatRequest::from_json(&common::read(name)).unwrap()
}

#[tokio::test]
async fn every_model_call_gets_a_valid_request_within_the_window() {
    let model = Model::resolve(MODEL).unwrap();
    let limits = Limits::new(32_000, 4_000);
    let mut checked = 0;
    let mut trimmed = 0;
    for name in RECORDINGS {
        let request = recording(name);
        for history in common::model_calls(&request.messages) {
            let conversation = Conversation::new(&history);
            let user = conversation.last_round().unwrap().start();
            let newest = conversation.last_steps().last().unwrap().start();
            for spec in CHAINS {
                let policy = spec.parse::<PolicySpec>().unwrap().build().unwrap();
                let mut session = Session::new(
                    Transcript::new(history.clone()),
                    policy,
                    model.prompt_counter(),
                    limits,
                );
                let (sent, report) = session.prepare().await.unwrap();
                validate_request(&sent).unwrap();
                assert!(
                    report.fits && report.tokens_after <= 28_000,
                    "{name} {spec}"
                );
                assert_eq!(
                    model.prompt_counter().count(&sent),
                    report.tokens_after,
                    "{name} {spec}"
                );
                assert_eq!(sent[0], history[0], "system prompt");
                for index in [user, newest] {
                    assert!(
                        sent.contains(&history[index]),
                        "{name} {spec}: message {index} not sent verbatim"
                    );
                }
                // the transcript is never altered
                assert_eq!(session.transcript().messages(), history.as_slice());
                checked += 1;
                trimmed += usize::from(!report.dropped.is_empty() || !report.cleared.is_empty());
            }
        }
    }
    let model_calls: usize = RECORDINGS
        .iter()
        .map(|name| common::model_calls(&recording(name).messages).len())
        .sum();
    assert_eq!(model_calls, 24);
    assert_eq!(checked, 2 * model_calls);
    // the later calls of each loop need clearing or dropping steps (9 per chain)
    assert_eq!(trimmed, 18);
}

#[tokio::test]
async fn without_editing_the_budget_policies_keep_only_the_newest_steps_or_fail() {
    let model = Model::resolve(MODEL).unwrap();
    let request = recording("agent/oversized_result.json");
    // the model call that reads the 45,009-token result: it is in the newest step
    let counter = model.prompt_counter();
    let history = common::model_calls(&request.messages)
        .into_iter()
        .find(|history| {
            history
                .last()
                .is_some_and(|m| counter.message_tokens(m, true) > 32_000)
        })
        .unwrap();
    for spec in ["token-budget", "rolling-summary", "compact:0.5"] {
        let policy = spec.parse::<PolicySpec>().unwrap().build().unwrap();
        let mut session = Session::new(
            Transcript::new(history.clone()),
            policy,
            model.prompt_counter(),
            Limits::new(32_000, 4_000),
        );
        // nothing but a cap can send that step
        let error = session.prepare().await.unwrap_err();
        assert!(matches!(error, Error::DoesNotFit { .. }), "{spec}: {error}");
        assert!(error.to_string().contains("newest step"), "{error}");
    }
}

#[tokio::test]
async fn replay_bills_every_model_call_within_the_usable_window() {
    let model = Model::resolve(MODEL).unwrap();
    for name in RECORDINGS {
        let request = recording(name);
        let calls = request
            .messages
            .iter()
            .filter(|m| m.role == Role::Assistant)
            .count();
        for spec in CHAINS {
            let policy = spec.parse::<PolicySpec>().unwrap().build().unwrap();
            let replay = replay(
                &request,
                spec,
                policy,
                model.prompt_counter(),
                Limits::new(32_000, 4_000),
                &Billing::for_model(MODEL),
                |_, _| {},
            )
            .await
            .unwrap();
            assert_eq!(replay.turns.len(), calls, "{name} {spec}");
            assert!(replay.totals.max_prompt_tokens <= 28_000, "{name} {spec}");
        }
    }
}

/// The command line takes the same chain, and refuses bad specs with one line and exit 2.
#[test]
fn the_command_line_fits_the_last_call_of_each_recording() {
    for name in RECORDINGS {
        let request = recording(name);
        let mut history = common::model_calls(&request.messages).pop().unwrap();
        chatctx::conversation::pin::strip_marks(&mut history);
        let body = serde_json::json!({
            "model": MODEL,
            "messages": serde_json::to_value(&history).unwrap(),
        });
        let out = common::run_chatctx(
            &[
                "fit",
                "--policy",
                "cap:8000+clear-tools:3+token-budget",
                "--model",
                MODEL,
                "--window",
                "32000",
                "--reserve",
                "4000",
                "-",
            ],
            body.to_string().as_bytes(),
        );
        assert!(
            out.status.success(),
            "{name}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let sent: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        let messages: Vec<Message> = serde_json::from_value(sent["messages"].clone()).unwrap();
        validate_request(&messages).unwrap();
        let tokens = Model::resolve(MODEL)
            .unwrap()
            .prompt_counter()
            .count(&messages);
        assert!(tokens <= 28_000, "{name}: {tokens}");
    }
    for bad in [
        "cap:0",
        "clear-tools:-1",
        r#"{"clear_tools": {"keep": 3, "keeep": 1}}"#,
    ] {
        let out = common::run_chatctx(&["fit", "--policy", bad, "--model", MODEL, "-"], b"[]");
        assert_eq!(out.status.code(), Some(2), "{bad}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(stderr.trim().lines().count(), 1, "{bad}: {stderr}");
        assert!(stderr.contains("policy"), "{bad}: {stderr}");
    }
}
