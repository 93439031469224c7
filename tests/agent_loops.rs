//! Invariants of every policy and chain over generated agent loops: random step counts,
//! parallel calls, result sizes, pins, thinking messages. Counted with the real DeepSeek
//! template, so `cap` cuts at real token boundaries.
// Needs every vocabulary (the default feature `all-vocabularies`).
#![cfg(feature = "all-vocabularies")]
#![allow(clippy::unwrap_used)]

use std::collections::BTreeSet;
use std::sync::{Arc, LazyLock};

use chatctx::conversation::{pin, Conversation};
use chatctx::message::{validate_request, Content, Message, ToolCall};
use chatctx::policy::{is_summary, Input, Limits, Outcome, PolicySpec, PolicyState};
use chatctx::summarizer::Extractive;
use chatctx::{Error, Model, PromptCounter, Role};
use proptest::prelude::*;

static COUNTER: LazyLock<Arc<dyn PromptCounter>> = LazyLock::new(|| {
    Model::resolve("deepseek-reasoner")
        .unwrap()
        .prompt_counter()
});

/// The policies and chains under test.
const SPECS: &[&str] = &[
    "token-budget",
    "compact:0.5",
    "recall:2",
    "rolling-summary",
    "clear-tools:2",
    "cap:200",
    "cap:200+clear-tools:2+token-budget",
    "cap:300+clear-tools:1+rolling-summary",
    r#"{"chain": [{"clear_tools": {"keep": 1, "at_least": 500, "clear_inputs": true}}, "token-budget"]}"#,
    "clear-tools:0+compact:0.5",
    "cap:150+recall:2",
];

/// One step of the loop: parallel calls with their results' sizes, then maybe a plain reply.
#[derive(Debug, Clone)]
struct StepSpec {
    results: Vec<usize>,
    pin: bool,
}

#[derive(Debug, Clone)]
struct LoopSpec {
    earlier: usize,
    steps: Vec<StepSpec>,
    thinking: bool,
    usable: usize,
    pin_user: bool,
}

fn loop_spec() -> impl Strategy<Value = LoopSpec> {
    let step = (
        prop::collection::vec(0..4000usize, 1..4),
        prop::bool::weighted(0.1),
    )
        .prop_map(|(results, pin)| StepSpec { results, pin });
    (
        0..3usize,
        prop::collection::vec(step, 1..14),
        any::<bool>(),
        200..6000usize,
        prop::bool::weighted(0.2),
    )
        .prop_map(|(earlier, steps, thinking, usable, pin_user)| LoopSpec {
            earlier,
            steps,
            thinking,
            usable,
            pin_user,
        })
}

/// Real-looking text of about `bytes` bytes: numbered source lines.
fn text(tag: &str, bytes: usize) -> String {
    let mut out = String::new();
    let mut line = 0;
    while out.len() < bytes {
        out.push_str(&format!(
            "{tag} line {line}: let value = compute(x, y); // 数据\n"
        ));
        line += 1;
    }
    out
}

fn marked(mut message: Message, pinned: bool) -> Message {
    if pinned {
        message.extra.insert(pin::PIN_FIELD.into(), true.into());
    }
    message
}

fn build(spec: &LoopSpec) -> Vec<Message> {
    let mut messages = vec![Message::system("You are a coding agent.")];
    for round in 0..spec.earlier {
        messages.push(Message::user(format!("earlier question {round}")));
        messages.push(Message::assistant(text(&format!("a{round}"), 600)));
    }
    messages.push(marked(
        Message::user("Find and fix the bug in the parser."),
        spec.pin_user,
    ));
    for (k, step) in spec.steps.iter().enumerate() {
        let mut call = Message::assistant("");
        call.tool_calls = Some(
            (0..step.results.len())
                .map(|j| {
                    ToolCall::function(
                        format!("call_{k}_{j}"),
                        if j == 2 { "grep" } else { "read_file" },
                        format!(r#"{{"path":"src/file_{k}_{j}.rs"}}"#),
                    )
                })
                .collect(),
        );
        if spec.thinking {
            call.reasoning_content = Some(format!("I should look at file {k}."));
        }
        messages.push(marked(call, step.pin));
        for (j, &bytes) in step.results.iter().enumerate() {
            messages.push(Message::tool(
                format!("call_{k}_{j}"),
                text(&format!("r{k}.{j}"), bytes),
            ));
        }
    }
    messages
}

/// The indices a request cannot do without: pinned messages, the request that opens the last
/// round, and the last round's newest step.
fn mandatory(conversation: &Conversation) -> BTreeSet<usize> {
    let mut set: BTreeSet<usize> = conversation.pinned().iter().copied().collect();
    if let Some(round) = conversation.last_round() {
        set.insert(round.start());
    }
    if let Some(step) = conversation.last_steps().last() {
        set.extend(step.range());
    }
    set
}

async fn apply(
    spec: &str,
    messages: &[Message],
    usable: usize,
) -> (Conversation, Result<Outcome, Error>) {
    let conversation = Conversation::with_pins(messages, pin::is_marked_at);
    let policy = spec
        .parse::<PolicySpec>()
        .unwrap()
        .build_with(Arc::new(Extractive::new()))
        .unwrap();
    let counter = COUNTER.as_ref();
    let input = Input::new(
        messages,
        &conversation,
        Limits::new(usable + 100, 100),
        counter,
    );
    let outcome = policy.apply(input, &mut PolicyState::default()).await;
    (conversation, outcome)
}

fn check(
    spec: &str,
    messages: &[Message],
    usable: usize,
    conversation: &Conversation,
    outcome: Result<Outcome, Error>,
) -> Result<&'static str, TestCaseError> {
    let must = mandatory(conversation);
    let must_messages: Vec<Message> = must.iter().map(|&i| messages[i].clone()).collect();
    let must_tokens = COUNTER.count(&must_messages);
    let outcome = match outcome {
        Ok(outcome) => outcome,
        Err(Error::DoesNotFit { .. }) => {
            // only when the mandatory part does not fit as it is (editing policies may
            // still fail when even their edits leave it too large)
            prop_assert!(
                must_tokens > usable,
                "{spec}: DoesNotFit although {must_tokens} <= {usable}"
            );
            return Ok("does not fit");
        }
        Err(other) => return Err(TestCaseError::fail(format!("{spec}: {other}"))),
    };
    let report = &outcome.report;
    validate_request(&outcome.messages).map_err(|e| TestCaseError::fail(format!("{spec}: {e}")))?;
    // only the editing policies alone may leave a request too large
    let budgeted = ["token-budget", "compact", "recall", "rolling-summary"]
        .iter()
        .any(|name| spec.contains(name));
    if budgeted && must_tokens <= usable {
        prop_assert!(report.fits, "{spec}: {} > {usable}", report.tokens_after);
    }
    prop_assert_eq!(COUNTER.count(&outcome.messages), report.tokens_after);
    let kept: BTreeSet<usize> = report.kept.iter().copied().collect();
    for index in &must {
        prop_assert!(
            kept.contains(index),
            "{}: lost mandatory message {}",
            spec,
            index
        );
    }
    // whole steps: every message of a step is sent, or none that is not pinned
    for round in 0..conversation.rounds().len() {
        for step in conversation.steps(round) {
            let sent = step.range().filter(|i| kept.contains(i)).count();
            let summarized = step
                .range()
                .filter(|i| report.summarized.contains(i))
                .count();
            prop_assert!(
                sent == 0 || sent == step.len() || summarized + sent == step.len(),
                "{}: step {:?} split: {} of {} sent",
                spec,
                step.range(),
                sent,
                step.len()
            );
        }
    }
    // nothing altered but marked placeholders and caps
    for (message, source) in outcome.messages.iter().zip(&outcome.sources) {
        let Some(index) = *source else {
            prop_assert!(is_summary(message));
            continue;
        };
        let original = &messages[index];
        if report.cleared.contains(&index) {
            prop_assert_eq!(message.role, original.role);
            prop_assert_eq!(&message.tool_call_id, &original.tool_call_id);
            prop_assert_eq!(&message.reasoning_content, &original.reasoning_content);
            let placeholder = message.content.text().contains("cleared by chatctx");
            let inputs = message.role == Role::Assistant;
            prop_assert!(
                placeholder || inputs,
                "{}: cleared {} unmarked",
                spec,
                index
            );
        } else if report.capped.contains(&index) {
            let text = message.content.text();
            prop_assert!(text.contains("tokens cut by chatctx"));
            prop_assert!(!conversation.is_pinned(index));
        } else {
            prop_assert_eq!(message, original, "{}: message {} altered", spec, index);
        }
    }
    // the newest step's call is sent verbatim
    if let Some(step) = conversation.last_steps().last() {
        let at = outcome
            .sources
            .iter()
            .position(|s| *s == Some(step.start()));
        prop_assert!(at.is_some());
        prop_assert_eq!(&outcome.messages[at.unwrap()], &messages[step.start()]);
    }
    let trimmed = conversation
        .last_round()
        .is_some_and(|round| round.range().any(|i| !kept.contains(&i)));
    Ok(if !report.cleared.is_empty() {
        "cleared"
    } else if !report.capped.is_empty() {
        "capped"
    } else if trimmed {
        "steps trimmed"
    } else {
        "whole"
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    fn every_policy_returns_a_valid_request_that_keeps_what_it_must(spec in loop_spec()) {
        let messages = build(&spec);
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        for policy in SPECS {
            let (conversation, outcome) = runtime.block_on(apply(policy, &messages, spec.usable));
            let kind = check(policy, &messages, spec.usable, &conversation, outcome)?;
            REACHED.lock().unwrap().insert((policy.to_string(), kind));
        }
    }
}

static REACHED: LazyLock<std::sync::Mutex<BTreeSet<(String, &'static str)>>> =
    LazyLock::new(Default::default);

/// The generator reaches the interesting cases: steps trimmed, results cleared, messages
/// capped, requests that cannot fit.
#[test]
fn the_generator_reaches_every_case() {
    every_policy_returns_a_valid_request_that_keeps_what_it_must();
    let reached = REACHED.lock().unwrap();
    let kinds = |policy: &str| -> BTreeSet<&str> {
        reached
            .iter()
            .filter(|(p, _)| p == policy)
            .map(|(_, kind)| *kind)
            .collect()
    };
    for policy in ["token-budget", "compact:0.5", "recall:2", "rolling-summary"] {
        let kinds = kinds(policy);
        assert!(kinds.contains("steps trimmed"), "{policy}: {kinds:?}");
        assert!(kinds.contains("does not fit"), "{policy}: {kinds:?}");
    }
    assert!(kinds("clear-tools:2").contains("cleared"));
    assert!(kinds("cap:200").contains("capped"));
    let chain = kinds("cap:200+clear-tools:2+token-budget");
    assert!(
        chain.contains("cleared") && chain.contains("capped"),
        "{chain:?}"
    );
}

#[tokio::test]
async fn content_of_other_kinds_passes_untouched() {
    // content parts are never capped
    let messages = vec![
        Message::user("look"),
        Message::new(
            Role::Assistant,
            Content::Parts(vec![chatctx::ContentPart::text(text("p", 5000))]),
        ),
        Message::user("and now?"),
    ];
    let (_, outcome) = apply("cap:100", &messages, 100_000).await;
    let outcome = outcome.unwrap();
    assert!(outcome.report.capped.is_empty());
    assert_eq!(outcome.messages, messages);
}
