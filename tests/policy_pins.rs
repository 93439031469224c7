//! Pinning: a message pinned mid-history survives every policy, in its place, counted in the
//! budget, never summarized; pinned content that alone exceeds the budget is a clear error.
#![allow(clippy::unwrap_used)]

mod common;

use std::sync::Arc;

use chatctx::conversation::{pin, Conversation, Transcript};
use chatctx::message::Message;
use chatctx::policy::{Input, Limits, PolicySpec, PolicyState};
use chatctx::summarizer::{summarizer_fn, Extractive, Summary, SummaryInput};
use chatctx::{Error, PromptCounter, Session};
use common::{fixture_messages, TestCounter};

/// Every policy the spec language builds, stateful ones included (recall with a fresh
/// in-memory index per build).
const SPECS: &[&str] = &[
    "pass-through",
    "last-rounds:2",
    "token-budget",
    "rolling-summary",
    "compact:0.5",
    "recall:3",
    "last-rounds:8+token-budget",
    "rolling-summary+token-budget",
    "recall:2+token-budget",
];

/// The first 81 messages of the fixture (40 rounds); message 21 (a user turn of round 10)
/// and 44 (an assistant reply) are pinned.
fn history() -> Vec<Message> {
    let mut messages = fixture_messages("chitchat/long_session_1.json");
    messages.truncate(81);
    messages
}

const PINNED: [usize; 2] = [21, 44];

fn check(messages: &[Message], spec: &str, sent: &[Message], sources: &[Option<usize>]) {
    for index in PINNED {
        let at = sources
            .iter()
            .position(|s| *s == Some(index))
            .unwrap_or_else(|| panic!("{spec}: pinned message {index} was not sent"));
        assert_eq!(sent[at], messages[index], "{spec}: sent unchanged");
    }
    // Original order: the history indices of the sent messages ascend.
    let order: Vec<usize> = sources.iter().flatten().copied().collect();
    assert!(order.windows(2).all(|w| w[0] < w[1]), "{spec}: {order:?}");
}

#[tokio::test]
async fn a_pinned_message_mid_history_survives_every_policy() {
    let messages = history();
    let conversation = Conversation::with_pins(&messages, |i, _| PINNED.contains(&i));
    // The whole history is ~1,000 test tokens; 400 usable forces every budget policy to cut.
    let total = TestCounter.count(&messages);
    assert!(total > 800, "{total}");
    let (mut cut_by, mut summarized_by, mut recalled_by) = (Vec::new(), Vec::new(), Vec::new());
    // A short summary, so that the rolling summary fits and summarizes (the extractive one
    // of 40 rounds is longer than this budget: the policy would fall back to truncation).
    let short = summarizer_fn(|input: SummaryInput| async move {
        Ok(Summary::new(format!("{} messages.", input.messages.len())))
    });
    let short = Arc::new(short);
    for spec in SPECS {
        let policy = spec
            .parse::<PolicySpec>()
            .unwrap()
            .build_with(short.clone())
            .unwrap();
        let limits = Limits::new(500, 100);
        let input = Input::new(&messages, &conversation, limits, &TestCounter);
        let outcome = policy
            .apply(input, &mut PolicyState::default())
            .await
            .unwrap();
        check(&messages, spec, &outcome.messages, &outcome.sources);
        let report = &outcome.report;
        for index in PINNED {
            assert!(report.kept.contains(&index), "{spec}: {report:?}");
            assert!(!report.summarized.contains(&index), "{spec}: summarized");
        }
        assert_eq!(report.summarizer_error, None, "{spec}");
        if *spec != "pass-through" && !spec.starts_with("last-rounds:2") {
            assert!(
                report.fits,
                "{spec}: {} > {}",
                report.tokens_after, report.usable
            );
        }
        if *spec != "pass-through" {
            assert!(
                !report.dropped.is_empty() || !report.summarized.is_empty(),
                "{spec}"
            );
        }
        cut_by.extend(report.dropped.first().map(|_| *spec));
        if !report.summarized.is_empty() {
            summarized_by.push(*spec);
        }
        if !report.recalled.is_empty() {
            // recalled rounds never include the pinned messages: those are always sent
            assert!(
                PINNED.iter().all(|i| !report.recalled.contains(i)),
                "{spec}"
            );
            recalled_by.push(*spec);
        }
    }
    // the budget forces cutting, summarizing and recalling, each by the policies that do it
    assert_eq!(
        cut_by,
        [
            "last-rounds:2",
            "token-budget",
            "compact:0.5",
            "recall:3",
            "last-rounds:8+token-budget",
            "recall:2+token-budget",
        ]
    );
    assert_eq!(
        summarized_by,
        ["rolling-summary", "rolling-summary+token-budget"]
    );
    assert_eq!(recalled_by, ["recall:3", "recall:2+token-budget"]);
}

#[tokio::test]
async fn pinned_content_alone_over_the_budget_is_named() {
    let messages = history();
    // Pin every message of the first 30 rounds: far more than 200 usable tokens.
    let conversation = Conversation::with_pins(&messages, |i, _| i < 61);
    for spec in [
        "token-budget",
        "rolling-summary",
        "compact:0.5",
        "recall:3",
        "last-rounds:2+token-budget",
    ] {
        let policy = spec
            .parse::<PolicySpec>()
            .unwrap()
            .build_with(Arc::new(Extractive::new()))
            .unwrap();
        let input = Input::new(
            &messages,
            &conversation,
            Limits::new(300, 100),
            &TestCounter,
        );
        let error = policy
            .apply(input, &mut PolicyState::default())
            .await
            .unwrap_err();
        let Error::DoesNotFit {
            required,
            available,
            what,
        } = &error
        else {
            panic!("{spec}: {error:?}");
        };
        assert_eq!(*available, 200, "{spec}");
        assert!(*required > 200, "{spec}");
        assert!(
            what.starts_with("the 61 pinned messages alone"),
            "{spec}: {what}"
        );
        assert!(error.to_string().contains(&required.to_string()));
    }
}

#[tokio::test]
async fn session_pins_by_index_and_by_wire_mark() {
    let messages = history();
    let policy = "token-budget"
        .parse::<PolicySpec>()
        .unwrap()
        .build()
        .unwrap();
    let mut session = Session::new(
        Transcript::new(messages[..1].to_vec()),
        policy,
        Arc::new(TestCounter),
        Limits::new(300, 100),
    );
    assert!(matches!(session.pin(5), Err(Error::InvalidConfig { .. })));
    for (index, message) in messages.iter().enumerate().skip(1) {
        let mut message = message.clone();
        if index == 44 {
            message.extra.insert(pin::PIN_FIELD.into(), true.into());
        }
        session.push_message(message);
        if index == 21 {
            session.pin(21).unwrap();
        }
    }
    assert_eq!(session.pins(), vec![21]);
    assert_eq!(session.conversation().pinned(), &[0, 21, 44]);
    let (sent, report) = session.prepare().await.unwrap();
    assert!(report.kept.contains(&21) && report.kept.contains(&44));
    assert!(report.dropped.contains(&20));
    // The mark is consumed: the provider never sees it.
    assert!(sent.iter().all(|m| !pin::is_marked(m)));
    assert!(sent.contains(&messages[44]));
    assert!(session.unpin(21));
    let (_, report) = session.prepare().await.unwrap();
    assert!(!report.kept.contains(&21));
}
