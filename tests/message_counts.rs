//! Per-message counts kept between policy calls ([`MessageCounts`]): the same counts, reports
//! and messages as counting from scratch, with only new or changed messages counted.
// Needs the DeepSeek and Qwen vocabularies.
#![cfg(feature = "all-vocabularies")]
#![allow(clippy::unwrap_used)]

mod common;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use chatctx::message::{Message, Role, ToolCall};
use chatctx::policy::{ContextPolicy, Input, Limits, MessageCounts, PolicySpec, PolicyState};
use chatctx::template::{Estimate, RequestTools};
use chatctx::tokens::TokenCounter;
use chatctx::{ChatRequest, Conversation, Model, PromptCounter, Session, Transcript};

/// A prompt counter that counts how often it is asked.
#[derive(Debug)]
struct Counting {
    inner: Arc<dyn PromptCounter>,
    messages: AtomicUsize,
    wholes: AtomicUsize,
}

impl Counting {
    fn new(model: &str) -> Self {
        Counting {
            inner: Model::resolve(model).unwrap().prompt_counter(),
            messages: AtomicUsize::new(0),
            wholes: AtomicUsize::new(0),
        }
    }

    /// (message_tokens calls, count calls) since the last `take`.
    fn take(&self) -> (usize, usize) {
        (
            self.messages.swap(0, Ordering::Relaxed),
            self.wholes.swap(0, Ordering::Relaxed),
        )
    }
}

impl PromptCounter for Counting {
    fn message_tokens(&self, message: &Message, in_last_round: bool) -> usize {
        self.messages.fetch_add(1, Ordering::Relaxed);
        self.inner.message_tokens(message, in_last_round)
    }
    fn overhead(&self, messages: &[Message]) -> usize {
        self.inner.overhead(messages)
    }
    fn is_exact(&self) -> bool {
        self.inner.is_exact()
    }
    fn text_counter(&self) -> Option<&dyn TokenCounter> {
        self.inner.text_counter()
    }
    fn count(&self, messages: &[Message]) -> usize {
        self.wholes.fetch_add(1, Ordering::Relaxed);
        self.inner.count(messages)
    }
    fn count_with_own(&self, messages: &[&Message], own: &[usize]) -> Option<usize> {
        self.inner.count_with_own(messages, own)
    }
    fn request_tokens(&self, messages: &[Message], request: &RequestTools) -> Estimate {
        self.inner.request_tokens(messages, request)
    }
    fn estimate(&self, messages: &[Message]) -> Estimate {
        self.wholes.fetch_add(1, Ordering::Relaxed);
        self.inner.estimate(messages)
    }
}

/// One user request, then `steps` calls of `read_file` with results of about 1 KB.
fn agent_loop(steps: usize) -> Vec<Message> {
    let mut messages = vec![
        Message::system("You are a coding agent. Read files before you change them."),
        Message::user("Find why the parser drops the last token, and fix it."),
    ];
    for step in 0..steps {
        push_step(&mut messages, step);
    }
    messages
}

fn push_step(messages: &mut Vec<Message>, step: usize) {
    let id = format!("call_{step}");
    let mut call = Message::assistant("");
    call.tool_calls = Some(vec![ToolCall::function(
        id.clone(),
        "read_file",
        format!(r#"{{"path":"src/module_{step}.rs"}}"#),
    )]);
    call.reasoning_content = Some(format!("Step {step}: the next file may hold the bug."));
    messages.push(call);
    let body: String = (0..20)
        .map(|line| format!("    let token_{line} = parse_{step}(input, {line})?; // {step}\n"))
        .collect();
    messages.push(Message::tool(id, body));
}

/// Every count of `counts` is the counter's own count of that message.
fn assert_counts_exact(counts: &MessageCounts, messages: &[Message], counter: &dyn PromptCounter) {
    assert_eq!(counts.len(), messages.len());
    let last_user = messages
        .iter()
        .rposition(|m| m.role == Role::User)
        .unwrap_or(0);
    for (index, message) in messages.iter().enumerate() {
        assert_eq!(
            counts.get(index),
            Some(counter.message_tokens(message, index >= last_user)),
            "message {index}"
        );
    }
    assert_eq!(counts.total(messages, counter), counter.count(messages));
}

#[test]
fn only_new_and_changed_messages_are_counted_as_the_loop_grows() {
    for model in ["deepseek-reasoner", "deepseek-v3.1", "gpt-4o", "qwen3-max"] {
        let counter = Counting::new(model);
        let mut messages = agent_loop(3);
        let mut counts = MessageCounts::new();
        counts.update(&messages, &counter);
        assert_eq!(counter.take().0, messages.len(), "{model}");
        for step in 3..12 {
            push_step(&mut messages, step);
            counts.update(&messages, &counter);
            assert_eq!(counter.take(), (2, 0), "{model}: step {step}");
            assert_counts_exact(&counts, &messages, counter.inner.as_ref());
        }
        // Nothing new: nothing counted.
        counts.update(&messages, &counter);
        assert_eq!(counter.take(), (0, 0), "{model}");
        // A new request: the old last round moves out of it and is counted again on its side.
        let old_round = messages.len() - 1;
        messages.push(Message::user("Now write a test for it."));
        counts.update(&messages, &counter);
        assert_eq!(counter.take().0, old_round + 1, "{model}");
        assert_counts_exact(&counts, &messages, counter.inner.as_ref());
        // An edit in place that changes a message's shape is noticed; one that does not, told.
        messages[5] = messages[5].with_content("[cleared]");
        counts.update(&messages, &counter);
        assert_eq!(counter.take().0, 1, "{model}");
        assert_counts_exact(&counts, &messages, counter.inner.as_ref());
        messages[5] = messages[5].with_content("[CLEARED]");
        counts.forget_from(5);
        counts.update(&messages, &counter);
        assert_eq!(counter.take().0, messages.len() - 5, "{model}");
        assert_counts_exact(&counts, &messages, counter.inner.as_ref());
        // A shorter history drops the counts past its end.
        // (and the loop's messages are in the last round again)
        messages.truncate(9);
        counts.update(&messages, &counter);
        assert_eq!(counter.take().0, messages.len() - 1, "{model}");
        assert_counts_exact(&counts, &messages, counter.inner.as_ref());
    }
}

#[test]
fn counts_of_another_counter_are_not_used() {
    let deepseek = Model::resolve("deepseek-chat").unwrap().prompt_counter();
    let qwen = Model::resolve("qwen3-max").unwrap().prompt_counter();
    let messages = agent_loop(4);
    let mut counts = MessageCounts::new();
    counts.update(&messages, deepseek.as_ref());
    assert!(counts.is_for(&messages, deepseek.as_ref()));
    assert!(!counts.is_for(&messages, qwen.as_ref()));
    assert_eq!(
        counts.total(&messages, qwen.as_ref()),
        qwen.count(&messages)
    );
    counts.update(&messages, qwen.as_ref());
    assert_counts_exact(&counts, &messages, qwen.as_ref());
    // Stale counts (a message edited in place, no update) are not read either.
    let mut edited = messages.clone();
    edited[3] = edited[3].with_content("[cleared]");
    assert!(!counts.is_for(&edited, qwen.as_ref()));
    assert_eq!(counts.total(&edited, qwen.as_ref()), qwen.count(&edited));
}

/// Deterministic pseudo-random numbers (an LCG).
struct Lcg(u64);

impl Lcg {
    fn below(&mut self, n: u64) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (self.0 >> 33) % n
    }
}

/// A random history of every role, with the template's corner cases: system messages in the
/// middle, consecutive user messages, a user message before a tool result, `</think>` in
/// replies, empty texts, a final continuation.
fn random_history(rng: &mut Lcg) -> Vec<Message> {
    let texts = [
        "",
        "hi",
        "Paris.",
        "a</think>b",
        "  two  words\n\n",
        "x</think>",
    ];
    let length = 1 + rng.below(9) as usize;
    let mut messages = Vec::new();
    for position in 0..length {
        let text = texts[rng.below(texts.len() as u64) as usize];
        let message = match rng.below(6) {
            0 => Message::system(text),
            1 | 2 => Message::user(text),
            3 => Message::assistant(text),
            4 => {
                let mut call = Message::assistant(text);
                call.tool_calls = Some(vec![ToolCall::function("c", "read", r#"{"a":1}"#)]);
                call
            }
            _ => Message::tool("c", text),
        };
        let mut message = message;
        if message.role == Role::Assistant && rng.below(2) == 0 {
            message.reasoning_content =
                Some(["", "Think first.", "a</think>"][rng.below(3) as usize].into());
        }
        if position + 1 == length && message.role == Role::Assistant && rng.below(2) == 0 {
            message.prefix = Some(true);
        }
        messages.push(message);
    }
    messages
}

#[test]
fn the_whole_count_derived_from_own_counts_is_exact() {
    let mut rng = Lcg(7);
    for model in [
        "deepseek-v3.1",
        "deepseek-chat",
        "deepseek-reasoner",
        "gpt-4o",
    ] {
        let counter = Model::resolve(model).unwrap().prompt_counter();
        let mut derived = 0;
        for _ in 0..3000 {
            let messages = random_history(&mut rng);
            let mut counts = MessageCounts::new();
            counts.update(&messages, counter.as_ref());
            let last_user = messages
                .iter()
                .rposition(|m| m.role == Role::User)
                .unwrap_or(0);
            let own: Vec<usize> = (0..messages.len())
                .map(|i| counter.message_tokens(&messages[i], i >= last_user))
                .collect();
            let refs: Vec<&Message> = messages.iter().collect();
            if let Some(total) = counter.count_with_own(&refs, &own) {
                assert_eq!(total, counter.count(&messages), "{model}: {messages:?}");
                derived += 1;
            }
            assert_eq!(
                counts.total(&messages, counter.as_ref()),
                counter.count(&messages)
            );
        }
        // the cases left to the counter (text runs of two messages meet) are the fewer
        assert!(derived > 500, "{model}: only {derived} of 3000 derived");
    }
}

const SPECS: &[&str] = &[
    "token-budget",
    "last-rounds:2+token-budget",
    "cap:200+clear-tools:3+token-budget",
    "cap:64+clear-tools:1+token-budget",
    r#"{"chain": [{"clear_tools": {"keep": 2, "at_least": 500, "clear_inputs": true}}, "token-budget"]}"#,
    "compact:0.5",
    "clear-tools:2+compact:0.5",
];

/// The outcome of `spec` on `messages`, with or without counts; the counter's calls.
async fn run(
    spec: &str,
    messages: &[Message],
    counter: &Counting,
    limits: Limits,
    counts: Option<&MessageCounts>,
    state: &mut PolicyState,
) -> (chatctx::Result<chatctx::policy::Outcome>, (usize, usize)) {
    let policy = spec.parse::<PolicySpec>().unwrap().build().unwrap();
    let conversation = Conversation::new(messages);
    let mut input = Input::new(messages, &conversation, limits, counter);
    if let Some(counts) = counts {
        input = input.with_counts(counts);
    }
    counter.take();
    let outcome = policy.apply(input, state).await;
    (outcome, counter.take())
}

#[tokio::test]
async fn policies_give_the_same_outcome_with_kept_counts() {
    for model in [
        "deepseek-reasoner",
        "deepseek-chat",
        "deepseek-v3.1",
        "gpt-4o",
        "qwen3-max",
    ] {
        let counter = Counting::new(model);
        for spec in SPECS {
            for window in [3_000, 6_000, 20_000] {
                let limits = Limits::new(window, 500);
                let mut messages = agent_loop(4);
                let mut counts = MessageCounts::new();
                let (mut plain_state, mut kept_state) =
                    (PolicyState::default(), PolicyState::default());
                for step in 4..40 {
                    push_step(&mut messages, step);
                    if step == 20 {
                        messages.push(Message::user("And the lexer?"));
                    }
                    let (plain, _) =
                        run(spec, &messages, &counter, limits, None, &mut plain_state).await;
                    counts.update(&messages, &counter);
                    let (kept, (kept_calls, kept_wholes)) = run(
                        spec,
                        &messages,
                        &counter,
                        limits,
                        Some(&counts),
                        &mut kept_state,
                    )
                    .await;
                    let what = format!("{model} {spec} window {window} step {step}");
                    assert_eq!(plain, kept, "{what}");
                    assert_eq!(plain_state, kept_state, "{what}");
                    let Ok(kept) = kept else { continue };
                    // the report's counts are the counter's from scratch
                    let inner = counter.inner.as_ref();
                    assert_eq!(kept.report.tokens_before, inner.count(&messages), "{what}");
                    assert_eq!(
                        kept.report.tokens_after,
                        inner.count(&kept.messages),
                        "{what}"
                    );
                    // Only messages a policy writes are counted: a placeholder per tool result
                    // that may be cleared, its call without arguments (`clear_inputs`), cuts,
                    // in each stage they reach.
                    let tools = messages.iter().filter(|m| m.role == Role::Tool).count();
                    assert!(kept_calls <= 5 * tools, "{what}: {kept_calls} calls");
                    if !model.starts_with("qwen") {
                        // the whole prompt's count is derived from the kept counts
                        assert_eq!(kept_wholes, 0, "{what}");
                    }
                    if !spec.contains("clear") && !spec.contains("cap") {
                        assert_eq!(kept_calls, 0, "{what}");
                    }
                }
            }
        }
    }
}

/// The histories before each model call of a recorded agent session.
fn recorded_calls(name: &str) -> Vec<Vec<Message>> {
    let request = ChatRequest::from_json(&common::read(name)).unwrap();
    common::model_calls(&request.messages)
}

#[tokio::test]
async fn a_session_counts_each_message_once_on_recorded_agent_loops() {
    for name in [
        "agent/coding_agent.json",
        "agent/thinking_parallel.json",
        "agent/oversized_result.json",
    ] {
        let calls = recorded_calls(name);
        let Some(last) = calls.last() else { continue };
        for spec in ["token-budget", "cap:8000+clear-tools:3+token-budget"] {
            let counter = Arc::new(Counting::new("deepseek-chat"));
            let limits = Limits::new(32_000, 4_000);
            let policy = spec.parse::<PolicySpec>().unwrap().build().unwrap();
            let mut session =
                Session::new(Transcript::new(Vec::new()), policy, counter.clone(), limits);
            let mut seen = 0;
            let mut shadow = MessageCounts::new();
            for history in &calls {
                for message in history.get(seen..).unwrap_or_default() {
                    session.push_message(message.clone());
                }
                seen = history.len();
                counter.take();
                let prepared = session.prepare().await;
                let report_failed = prepared.is_err();
                let (calls_made, _) = counter.take();
                // the same request as the policy without kept counts
                let fresh = spec.parse::<PolicySpec>().unwrap().build().unwrap();
                let conversation = Conversation::new(history);
                let input = Input::new(history, &conversation, limits, counter.as_ref());
                let expected = fresh.apply(input, &mut PolicyState::default()).await;
                match (prepared, expected) {
                    (Ok((sent, report)), Ok(expected)) => {
                        assert_eq!(sent, expected.messages, "{name} {spec}");
                        assert_eq!(report, expected.report, "{name} {spec}");
                    }
                    (prepared, expected) => {
                        assert_eq!(prepared.err(), expected.err(), "{name} {spec}")
                    }
                }
                // what is new since the last call (the new messages, and the old last round
                // after a new request) is counted, and nothing else
                let before = shadow.counted();
                shadow.update(history, counter.inner.as_ref());
                let new = shadow.counted() - before;
                if spec == "token-budget" {
                    // (when nothing fits, the error names the system message's count alone,
                    // counted outside the last round)
                    let failed = usize::from(report_failed);
                    assert_eq!(calls_made, new + failed, "{name}");
                } else {
                    // and the placeholders and cuts the chain writes, in each of its stages
                    let tools = history.iter().filter(|m| m.role == Role::Tool).count();
                    assert!(
                        calls_made <= new + 5 * tools,
                        "{name} {spec}: {calls_made} calls, {new} new, {tools} results, {} messages",
                        history.len()
                    );
                }
            }
            assert_eq!(seen, last.len());
        }
    }
}
