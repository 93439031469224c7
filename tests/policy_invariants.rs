//! Invariants of every policy over generated conversations: tool loops with matching results,
//! content parts, a trailing prefix message, Unicode text. The properties of the policies that
//! cut, recall or summarize count the generated cases that do, and fail when too few do: a
//! generator that never reaches the interesting case would make them pass by accident.
#![allow(clippy::unwrap_used)]

mod common;

use std::num::NonZeroUsize;
use std::sync::{Arc, Mutex};

use chatctx::conversation::{Conversation, Transcript};
use chatctx::message::{validate, Content, ContentPart, Message, ToolCall};
use chatctx::policy::{
    is_summary, summary_message, Chain, Compact, ContextPolicy, Input, LastRounds, Limits, Outcome,
    PassThrough, PolicyState, Recall, RollingSummary, TokenBudget,
};
use chatctx::retrieval::Index;
use chatctx::summarizer::{summarizer_fn, Summary, SummaryInput};
use chatctx::{Error, PromptCounter, Session};
use common::TestCounter;
use proptest::prelude::*;
use proptest::test_runner::{TestCaseError, TestRunner};

/// What follows a user turn.
#[derive(Debug, Clone)]
enum Reply {
    None,
    Text(String),
    Tools(usize, String),
}

#[derive(Debug, Clone)]
struct Spec {
    system: usize,
    rounds: Vec<(String, bool, Reply)>,
    prefix: Option<String>,
}

fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        "[a-zA-Z0-9 .!?]{0,40}",
        "[一-龥。！？]{0,16}",
        "[😀-😏é ß]{0,8}",
    ]
}

fn spec() -> impl Strategy<Value = Spec> {
    let reply = prop_oneof![
        Just(Reply::None),
        text().prop_map(Reply::Text),
        (1..3usize, text()).prop_map(|(calls, text)| Reply::Tools(calls, text)),
    ];
    (
        0..3usize,
        prop::collection::vec((text(), any::<bool>(), reply), 0..10),
        prop::option::of(text()),
    )
        .prop_map(|(system, rounds, prefix)| Spec {
            system,
            rounds,
            prefix,
        })
}

/// The messages of a spec; every text starts with a unique tag.
fn build(spec: &Spec) -> Vec<Message> {
    let mut messages: Vec<Message> = (0..spec.system)
        .map(|k| Message::system(format!("s{k} be nice")))
        .collect();
    for (k, (text, parts, reply)) in spec.rounds.iter().enumerate() {
        let user = format!("u{k} {text}");
        messages.push(if *parts {
            Message::new(
                chatctx::Role::User,
                Content::Parts(vec![
                    ContentPart::text(user),
                    ContentPart::image_url("https://x/y.png"),
                ]),
            )
        } else {
            Message::user(user)
        });
        match reply {
            Reply::None => {}
            Reply::Text(text) => messages.push(Message::assistant(format!("a{k} {text}"))),
            Reply::Tools(calls, text) => {
                let mut call = Message::new(chatctx::Role::Assistant, Content::Null);
                call.tool_calls = Some(
                    (0..*calls)
                        .map(|j| ToolCall::function(format!("c{k}_{j}"), "lookup", r#"{"q":1}"#))
                        .collect(),
                );
                messages.push(call);
                for j in 0..*calls {
                    messages.push(Message::tool(
                        format!("c{k}_{j}"),
                        format!("t{k}_{j} {text}"),
                    ));
                }
                messages.push(Message::assistant(format!("a{k} {text}")));
            }
        }
    }
    if let (Some(prefix), Some(_)) = (&spec.prefix, spec.rounds.last()) {
        let mut message = Message::assistant(format!("p {prefix}"));
        message.prefix = Some(true);
        messages.push(message);
    }
    validate(&messages).unwrap();
    messages
}

fn run(
    policy: &dyn ContextPolicy,
    messages: &[Message],
    limits: Limits,
) -> chatctx::Result<Outcome> {
    run_with(policy, messages, limits, &mut PolicyState::default())
}

fn run_with(
    policy: &dyn ContextPolicy,
    messages: &[Message],
    limits: Limits,
    state: &mut PolicyState,
) -> chatctx::Result<Outcome> {
    let conversation = Conversation::new(messages);
    let input = Input::new(messages, &conversation, limits, &TestCounter);
    futures_block_on(policy.apply(input, state))
}

/// Run the property `case` on `cases` generated values; it returns whether the value reached
/// the interesting behaviour. Fails (with the counts) when fewer than `at_least` did.
fn reaching<S: Strategy>(
    what: &str,
    cases: u32,
    at_least: u32,
    strategy: S,
    case: impl Fn(S::Value) -> Result<bool, TestCaseError>,
) {
    let reached = std::cell::Cell::new(0u32);
    let mut runner = TestRunner::new(ProptestConfig::with_cases(cases));
    let result = runner.run(&strategy, |value| {
        if case(value)? {
            reached.set(reached.get() + 1);
        }
        Ok(())
    });
    if let Err(failure) = result {
        panic!("{what}: {failure}");
    }
    let reached = reached.get();
    eprintln!("{what}: {reached} of {cases} cases");
    assert!(
        reached >= at_least,
        "{what}: only {reached} of {cases} generated cases (at least {at_least} needed)"
    );
}

/// The requests of a growing conversation: the history up to each user message, then the
/// whole of it.
fn requests(messages: &[Message]) -> Vec<&[Message]> {
    let mut out: Vec<&[Message]> = messages
        .iter()
        .enumerate()
        .filter(|(_, message)| message.role == chatctx::Role::User)
        .map(|(index, _)| &messages[..=index])
        .collect();
    out.push(messages);
    out
}

fn futures_block_on<F: std::future::Future>(future: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .unwrap()
        .block_on(future)
}

/// Tokens of the pinned messages and the last round alone.
fn mandatory(messages: &[Message]) -> usize {
    let conversation = Conversation::new(messages);
    let start = conversation
        .last_round()
        .map_or(messages.len(), |r| r.start());
    let mut selected: Vec<Message> = conversation
        .pinned()
        .iter()
        .map(|&i| messages[i].clone())
        .collect();
    selected.extend_from_slice(&messages[start..]);
    TestCounter.count(&selected)
}

/// Tokens of what no policy may leave out: the pinned messages, the message that opens the
/// last round and the last round's newest step.
fn mandatory_steps(messages: &[Message]) -> usize {
    let conversation = Conversation::new(messages);
    let mut indices: std::collections::BTreeSet<usize> =
        conversation.pinned().iter().copied().collect();
    if let Some(round) = conversation.last_round() {
        indices.insert(round.start());
    }
    if let Some(step) = conversation.last_steps().last() {
        indices.extend(step.range());
    }
    let selected: Vec<Message> = indices.iter().map(|&i| messages[i].clone()).collect();
    TestCounter.count(&selected)
}

/// The shape every outcome has: original messages in order, at most one summary right after
/// the pinned ones, whole rounds, the last round and the pinned messages always there.
fn check_shape(messages: &[Message], outcome: &Outcome) {
    let conversation = Conversation::new(messages);
    let report = &outcome.report;
    assert_eq!(outcome.messages.len(), outcome.sources.len());
    let mut previous = None;
    for (position, source) in outcome.sources.iter().enumerate() {
        match source {
            Some(index) => {
                assert_eq!(outcome.messages[position], messages[*index]);
                assert!(previous < Some(*index));
                previous = Some(*index);
            }
            None => {
                assert_eq!(position, conversation.leading());
                assert!(is_summary(&outcome.messages[position]));
            }
        }
    }
    let kept: Vec<usize> = outcome.sources.iter().flatten().copied().collect();
    assert_eq!(report.kept, kept);
    let mut all: Vec<usize> = [&report.kept[..], &report.dropped, &report.summarized].concat();
    all.sort_unstable();
    assert_eq!(all, (0..messages.len()).collect::<Vec<_>>());
    for &pinned in conversation.pinned() {
        assert!(kept.contains(&pinned));
    }
    // the last round: its opening message and a suffix of its steps, the newest included
    if let Some(last) = conversation.last_round() {
        assert!(kept.contains(&last.start()));
        let steps = conversation.last_steps();
        let sent: Vec<bool> = steps
            .iter()
            .map(|step| step.range().all(|index| kept.contains(&index)))
            .collect();
        for (step, &whole) in steps.iter().zip(&sent) {
            let any = step.range().any(|index| kept.contains(&index));
            assert_eq!(any, whole, "step {:?} split", step.range());
        }
        let first_sent = sent
            .iter()
            .skip(1)
            .position(|&s| s)
            .map_or(sent.len(), |p| p + 1);
        assert!(
            sent[first_sent..].iter().all(|&s| s),
            "steps sent: {sent:?}"
        );
    }
    let last_round = conversation.rounds().len().saturating_sub(1);
    for round in conversation.rounds().iter().take(last_round) {
        let fates: Vec<bool> = round.range().map(|index| kept.contains(&index)).collect();
        assert!(
            fates.iter().all(|&f| f == fates[0]),
            "round {round:?} split"
        );
    }
    assert_eq!(report.tokens_after, TestCounter.count(&outcome.messages));
    assert_eq!(report.fits, report.tokens_after <= report.usable);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    #[test]
    fn pass_through_is_the_identity(spec in spec(), window in 10..600usize) {
        let messages = build(&spec);
        let outcome = run(&PassThrough, &messages, Limits::new(window, 5)).unwrap();
        check_shape(&messages, &outcome);
        prop_assert_eq!(&outcome.messages, &messages);
        prop_assert_eq!(outcome.report.fits, TestCounter.count(&messages) <= window - 5);
    }

    #[test]
    fn last_rounds_keeps_exactly_n_rounds(spec in spec(), n in 1..6usize) {
        let messages = build(&spec);
        let policy = LastRounds::new(NonZeroUsize::new(n).unwrap());
        let outcome = run(&policy, &messages, Limits::new(100, 0)).unwrap();
        check_shape(&messages, &outcome);
        let conversation = Conversation::new(&messages);
        let rounds = conversation.rounds();
        let expected: Vec<usize> = conversation.pinned().iter().copied()
            .chain(rounds[rounds.len().saturating_sub(n)..].iter().flat_map(|r| r.range()))
            .collect();
        prop_assert_eq!(&outcome.report.kept, &expected);
        let again = run(&policy, &outcome.messages, Limits::new(100, 0)).unwrap();
        prop_assert_eq!(again.messages, outcome.messages);
    }

    #[test]
    fn token_budget_keeps_the_maximal_fitting_suffix(spec in spec(), window in 10..400usize, reserved in 0..10usize) {
        let messages = build(&spec);
        let limits = Limits::new(window, reserved);
        let Ok(usable) = limits.usable() else {
            let invalid = matches!(run(&TokenBudget, &messages, limits), Err(Error::InvalidConfig { .. }));
            prop_assert!(invalid);
            return Ok(());
        };
        let whole = mandatory(&messages);
        let required = mandatory_steps(&messages);
        match run(&TokenBudget, &messages, limits) {
            Err(Error::DoesNotFit { required: r, available, .. }) => {
                prop_assert!(required > usable);
                // the error names the part that cannot fit: the pinned messages alone when
                // they already exceed the budget, else the pinned messages, the last round's
                // opening message and its newest step (the whole round when it is one step)
                prop_assert!(r > usable && r <= whole, "{} of {}", r, whole);
                prop_assert_eq!(available, usable);
            }
            Err(other) => prop_assert!(false, "{other}"),
            Ok(outcome) => {
                prop_assert!(required <= usable);
                check_shape(&messages, &outcome);
                prop_assert!(outcome.report.fits);
                // the whole last round is sent whenever it fits
                let conversation = Conversation::new(&messages);
                if let Some(last) = conversation.last_round() {
                    let all = last.range().all(|i| outcome.report.kept.contains(&i));
                    prop_assert_eq!(all, whole <= usable);
                }
                // One more round would not fit.
                let conversation = Conversation::new(&messages);
                let first_kept = conversation.rounds().iter().position(|r| outcome.report.kept.contains(&r.start()));
                if let Some(older) = first_kept.and_then(|i| i.checked_sub(1)) {
                    let start = conversation.rounds()[older].start();
                    let mut more: Vec<Message> = conversation.pinned().iter().map(|&i| messages[i].clone()).collect();
                    more.extend_from_slice(&messages[start..]);
                    prop_assert!(TestCounter.count(&more) > usable);
                }
                let again = run(&TokenBudget, &outcome.messages, limits).unwrap();
                prop_assert_eq!(again.messages, outcome.messages);
                let chained = Chain::new(LastRounds::new(NonZeroUsize::MIN.saturating_add(1))).then(TokenBudget);
                let chained = run(&chained, &messages, limits).unwrap();
                check_shape(&messages, &chained);
                prop_assert!(chained.report.fits);
            }
        }
    }
}

#[test]
fn rolling_summary_compacts_at_the_threshold_and_reads_each_message_once() {
    let strategy = (
        prop::collection::vec((1..120usize, 1..120usize), 5..60),
        150..400usize,
        prop_oneof![Just(0.5), Just(0.7), Just(0.9)],
    );
    reaching(
        "rolling summary: a summary used",
        128,
        64,
        strategy,
        rolling_summary_case,
    );
}

/// One rolling-summary case: a session growing turn by turn; whether a summary was used.
fn rolling_summary_case(
    (sizes, window, threshold): (Vec<(usize, usize)>, usize, f64),
) -> Result<bool, TestCaseError> {
    let calls: Arc<Mutex<Vec<SummaryInput>>> = Arc::default();
    let log = Arc::clone(&calls);
    let summarizer = summarizer_fn(move |input: SummaryInput| {
        let mut log = log.lock().unwrap();
        log.push(input);
        let text = format!("S{}", log.len());
        async move { Ok(Summary::new(text)) }
    });
    let policy = RollingSummary::new(Arc::new(summarizer)).with_threshold(threshold);
    let limits = Limits::new(window, 20);
    let usable = window - 20;
    let limit = threshold * usable as f64;
    let transcript = Transcript::new(vec![Message::system("Be kind.")]);
    let mut session = Session::new(transcript, policy, Arc::new(TestCounter), limits);
    let mut accepted = Vec::new();
    for (k, (user, reply)) in sizes.iter().enumerate() {
        session.push_user(format!("u{k} {}", "x".repeat(*user)));
        let messages = session.transcript().messages().to_vec();
        let before = session.state().clone();
        // The request as it stands: system, current summary, pending messages.
        let mut current = vec![messages[0].clone()];
        let covered = before.summary.as_ref().map_or(1, |s| s.covers_until);
        if let Some(summary) = &before.summary {
            current.push(summary_message(&summary.text));
        }
        current.extend_from_slice(&messages[covered..]);
        let now = TestCounter.count(&current);
        let pending = Conversation::new(&messages)
            .rounds()
            .iter()
            .filter(|r| r.start() >= covered)
            .count();
        let (request, report) = futures_block_on(session.prepare()).unwrap();
        let outcome = Outcome {
            messages: request,
            sources: Vec::new(),
            report: report.clone(),
        };
        prop_assert!(outcome.report.fits);
        prop_assert_eq!(report.summarizer_ran, now as f64 >= limit && pending >= 2);
        if report.summarizer_ran && report.summarizer_error.is_none() {
            accepted.push(calls.lock().unwrap().len() - 1);
            let last_user = messages.len() - 1;
            let floor = TestCounter.count(&[
                outcome.messages[0].clone(),
                outcome.messages[1].clone(),
                messages[last_user].clone(),
            ]);
            if (floor as f64) < limit {
                prop_assert!(
                    (report.tokens_after as f64) < limit,
                    "{} >= {}",
                    report.tokens_after,
                    limit
                );
            }
        }
        if (now as f64) < limit {
            prop_assert_eq!(report.tokens_after, now); // sent as it stands
        }
        session.record_reply(Message::assistant(format!("a{k} {}", "y".repeat(*reply))));
    }
    // No message reaches the summarizer twice in summaries that were used; each call
    // continues the last used summary.
    let calls = calls.lock().unwrap();
    let mut seen = std::collections::HashSet::new();
    let mut last_used: Option<String> = None;
    for (call, input) in calls.iter().enumerate() {
        prop_assert_eq!(&input.previous, &last_used);
        if !accepted.contains(&call) {
            continue;
        }
        last_used = Some(format!("S{}", call + 1));
        for message in &input.messages {
            prop_assert!(
                seen.insert(message.content.text()),
                "seen twice: {:?}",
                message
            );
        }
    }
    Ok(!accepted.is_empty())
}

#[test]
fn compact_grows_untouched_and_cuts_to_the_low_mark_only_when_full() {
    let strategy = (
        spec(),
        40..250usize,
        prop_oneof![Just(0.3), Just(0.5), Just(0.8)],
    );
    reaching("compact: a cut", 128, 24, strategy, compact_case);
}

/// One compaction case: the requests of a growing conversation, with the policy's state kept
/// from one to the next; whether the history was cut at least once.
fn compact_case((spec, window, low): (Spec, usize, f64)) -> Result<bool, TestCaseError> {
    let messages = build(&spec);
    let policy = Compact::new(low).unwrap();
    let limits = Limits::new(window, 5);
    let usable = window - 5;
    let target = (usable as f64 * low).floor() as usize;
    let mut state = PolicyState::default();
    let mut previous: Option<(usize, Vec<Message>)> = None;
    let mut cuts = 0;
    for request in requests(&messages) {
        let outcome = match run_with(&policy, request, limits, &mut state) {
            Err(Error::DoesNotFit { .. }) => {
                // only when the pinned messages, the last round's opening message and its
                // newest step alone are too many
                prop_assert!(mandatory_steps(request) > usable);
                break;
            }
            Err(other) => return Err(TestCaseError::fail(other.to_string())),
            Ok(outcome) => outcome,
        };
        check_shape(request, &outcome);
        prop_assert!(outcome.report.fits);
        // what growing untouched would send: the last request, then everything since
        let untouched = previous.as_ref().map(|(length, sent)| {
            let mut grown = sent.clone();
            grown.extend_from_slice(&request[*length..]);
            grown
        });
        match untouched {
            Some(grown) if outcome.messages == grown => {}
            Some(grown) => {
                cuts += 1;
                // cut only when growing would not fit, and then down to the low mark (or as
                // little as fits when the last round alone is above it)
                prop_assert!(TestCounter.count(&grown) > usable, "cut while it fitted");
                if mandatory(request) <= target {
                    prop_assert!(
                        outcome.report.tokens_after <= target,
                        "{} > low mark {}",
                        outcome.report.tokens_after,
                        target
                    );
                }
            }
            None => {}
        }
        previous = Some((request.len(), outcome.messages));
    }
    Ok(cuts > 0)
}

#[test]
fn recall_brings_back_whole_older_rounds_within_the_budget() {
    let strategy = (spec(), 30..300usize, 1..4usize);
    reaching("recall: a round recalled", 128, 10, strategy, recall_case);
}

/// One recall case: the requests of a growing conversation against one index (each round is
/// embedded on the first request after it ends); whether a round was recalled.
fn recall_case((spec, window, k): (Spec, usize, usize)) -> Result<bool, TestCaseError> {
    let messages = build(&spec);
    let policy = Recall::new(Index::in_memory("case"), NonZeroUsize::new(k).unwrap());
    let limits = Limits::new(window, 5);
    let usable = window - 5;
    let mut recalled_any = false;
    for request in requests(&messages) {
        let outcome = match run(&policy, request, limits) {
            Err(Error::DoesNotFit { .. }) => {
                prop_assert!(mandatory_steps(request) > usable);
                continue;
            }
            Err(other) => return Err(TestCaseError::fail(other.to_string())),
            Ok(outcome) => outcome,
        };
        check_shape(request, &outcome);
        prop_assert!(outcome.report.fits);
        let report = &outcome.report;
        let conversation = Conversation::new(request);
        let rounds = conversation.rounds();
        let kept = |round: &chatctx::Round| report.kept.contains(&round.start());
        let recalled: Vec<usize> = (0..rounds.len())
            .filter(|&position| report.recalled.contains(&rounds[position].start()))
            .collect();
        prop_assert!(
            recalled.len() <= k,
            "{} rounds recalled, k = {}",
            recalled.len(),
            k
        );
        for &position in &recalled {
            let round = &rounds[position];
            // whole rounds, sent, older than the last, and not part of the newest run of kept
            // rounds (those the recency fill sends anyway)
            prop_assert!(round.range().all(|i| report.recalled.contains(&i)));
            prop_assert!(kept(round));
            prop_assert!(position + 1 < rounds.len());
            prop_assert!(rounds[position + 1..].iter().any(|later| !kept(later)));
        }
        let in_rounds: usize = recalled.iter().map(|&p| rounds[p].range().len()).sum();
        prop_assert_eq!(in_rounds, report.recalled.len());
        // the newest rounds fill the rest, newest first, up to the first that does not fit
        // (a step of the last round, when that round is not sent whole)
        let newest_run = rounds.iter().rev().take_while(|round| kept(round)).count();
        let last_whole = rounds
            .last()
            .is_some_and(|round| round.range().all(|i| report.kept.contains(&i)));
        if newest_run < rounds.len() && last_whole {
            let skipped = &rounds[rounds.len() - newest_run - 1];
            let mut more: Vec<Message> = outcome.messages.clone();
            more.extend(skipped.range().map(|i| request[i].clone()));
            prop_assert!(TestCounter.count(&more) > usable, "a newer round fitted");
        }
        recalled_any |= !recalled.is_empty();
    }
    Ok(recalled_any)
}
