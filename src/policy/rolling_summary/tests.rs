//! Unit tests of the rolling summary, on `testing::history` (20 tokens a round).
#![allow(clippy::unwrap_used)]

use std::sync::{Arc, Mutex};
use std::time::Duration;

use super::*;
use crate::conversation::Conversation;
use crate::policy::testing::{history, TestCounter};
use crate::policy::Limits;
use crate::summarizer::is_summary;
use crate::summarizer::{summarizer_fn, Summary};

/// 200 usable tokens: the threshold is 140.
const LIMITS: Limits = Limits::new(250, 50);

type Calls = Arc<Mutex<Vec<SummaryInput>>>;

/// A summarizer answering `answer` and recording what it was given.
fn recording(answer: Result<&'static str>) -> (Arc<dyn Summarizer>, Calls) {
    let calls = Calls::default();
    let log = Arc::clone(&calls);
    let summarizer = summarizer_fn(move |input: SummaryInput| {
        log.lock().unwrap().push(input);
        let answer = answer.clone().map(Summary::new);
        async move { answer }
    });
    (Arc::new(summarizer), calls)
}

async fn apply(policy: &RollingSummary, messages: &[Message], state: &mut PolicyState) -> Outcome {
    let conversation = Conversation::new(messages);
    let input = Input::new(messages, &conversation, LIMITS, &TestCounter);
    policy.apply(input, state).await.unwrap()
}

#[tokio::test]
async fn below_the_threshold_sends_everything_without_summarizing() {
    let (summarizer, calls) = recording(Ok("S"));
    let messages = history(5); // 3 + 6 + 100 + 8 = 117 < 140
    let outcome = apply(
        &RollingSummary::new(summarizer),
        &messages,
        &mut PolicyState::default(),
    )
    .await;
    assert_eq!(outcome.messages, messages);
    assert!(!outcome.report.summarizer_ran);
    assert!(calls.lock().unwrap().is_empty());
}

#[tokio::test]
async fn summarizes_the_older_half_then_only_newly_aged_rounds() {
    let (summarizer, calls) = recording(Ok("S"));
    let policy = RollingSummary::new(summarizer);
    let mut state = PolicyState::default();

    // 197 tokens >= 140: rounds 1..11 (100 of the 188 pending tokens) are summarized.
    let messages = history(9);
    let outcome = apply(&policy, &messages, &mut state).await;
    let report = &outcome.report;
    assert!(report.summarizer_ran);
    assert_eq!(report.kept, [vec![0], (11..20).collect()].concat());
    assert_eq!(report.summarized, (1..11).collect::<Vec<_>>());
    assert!(report.dropped.is_empty());
    assert_eq!(report.tokens_after, 3 + 6 + 14 + 80 + 8);
    assert_eq!(outcome.messages[1], summary_message("S"));
    assert!(is_summary(&outcome.messages[1]));
    assert_eq!(outcome.sources[..3], [Some(0), None, Some(11)]);
    assert_eq!(
        state.summary,
        Some(SummaryState {
            text: "S".into(),
            covers_until: 11
        })
    );

    // Four more rounds: 191 tokens again; the next five rounds (11..21) go with "S".
    let messages = history(13);
    let outcome = apply(&policy, &messages, &mut state).await;
    assert_eq!(outcome.report.summarized, (1..21).collect::<Vec<_>>());
    assert_eq!(outcome.report.kept, [vec![0], (21..28).collect()].concat());
    let calls = calls.lock().unwrap();
    assert_eq!(calls.len(), 2);
    assert_eq!(calls[0].messages, messages[1..11]);
    assert_eq!(calls[0].previous, None);
    assert_eq!(calls[1].messages, messages[11..21]);
    assert_eq!(calls[1].previous.as_deref(), Some("S"));
}

#[tokio::test]
async fn unusable_summaries_fall_back_to_the_token_budget_and_say_why() {
    let long: &'static str = "x".repeat(2000).leak();
    let failures: [(Result<&'static str>, &str); 3] = [
        (
            Err(Error::Summarizer {
                reason: "offline".into(),
            }),
            "summarizer failed: offline",
        ),
        (Ok("  "), "the summarizer returned an empty summary"),
        (
            Ok(long),
            "the summary (514 tokens) is not shorter than what it replaces (120 tokens)",
        ),
    ];
    for (answer, why) in failures {
        let (summarizer, _) = recording(answer);
        let mut state = PolicyState::default();
        let messages = history(10); // 217 tokens: the first round does not fit 200
        let outcome = apply(&RollingSummary::new(summarizer), &messages, &mut state).await;
        let report = &outcome.report;
        assert!(report.summarizer_ran);
        assert_eq!(report.summarizer_error.as_deref(), Some(why));
        assert_eq!(report.kept, [vec![0], (3..22).collect()].concat());
        assert_eq!(report.dropped, vec![1, 2]);
        assert!(report.fits);
        assert_eq!(state, PolicyState::default());
    }
}

#[tokio::test]
async fn a_slow_summarizer_times_out() {
    let slow = summarizer_fn(|_: SummaryInput| async {
        tokio::time::sleep(Duration::from_secs(10)).await;
        Ok(Summary::new("late"))
    });
    let policy = RollingSummary::new(Arc::new(slow)).with_timeout(Duration::from_millis(20));
    let outcome = apply(&policy, &history(9), &mut PolicyState::default()).await;
    assert_eq!(
        outcome.report.summarizer_error.as_deref(),
        Some("timed out after 20ms")
    );
    assert_eq!(outcome.report.kept, (0..20).collect::<Vec<_>>()); // 197 tokens fit
}

#[tokio::test]
async fn rejects_bad_settings_and_foreign_state() {
    let (summarizer, _) = recording(Ok("S"));
    let messages = history(3);
    let conversation = Conversation::new(&messages);
    for policy in [
        RollingSummary::new(Arc::clone(&summarizer)).with_threshold(0.0),
        RollingSummary::new(Arc::clone(&summarizer)).with_fraction(1.5),
    ] {
        let input = Input::new(&messages, &conversation, LIMITS, &TestCounter);
        let error = policy
            .apply(input, &mut PolicyState::default())
            .await
            .unwrap_err();
        assert!(matches!(error, Error::InvalidConfig { .. }));
    }
    let mut state = PolicyState {
        summary: Some(SummaryState {
            text: "S".into(),
            covers_until: 2,
        }),
        ..PolicyState::default()
    };
    let input = Input::new(&messages, &conversation, LIMITS, &TestCounter);
    let error = RollingSummary::new(summarizer)
        .apply(input, &mut state)
        .await
        .unwrap_err();
    assert!(
        error
            .to_string()
            .contains("message 2, which starts no round"),
        "{error}"
    );
}
