//! How fast is a policy on a 10,000-message history, and on a 2,000-step agent loop?
//!
//! The counter is warm, so the bench measures the policy, not the tokenizer: `memo` looks
//! precomputed counts up in a map keyed by the message text (its string hashing dominates),
//! `len` derives them from the text length in O(1), the floor of any memoized counter.

use std::collections::HashMap;
use std::hint::black_box;
use std::num::NonZeroUsize;
use std::sync::Arc;

use chatctx::conversation::Conversation;
use chatctx::message::{Content, Message, ToolCall};
use chatctx::policy::{
    Chain, ContextPolicy, Input, LastRounds, Limits, MessageCounts, PolicySpec, PolicyState,
    RollingSummary, TokenBudget,
};
use chatctx::summarizer::Extractive;
use chatctx::{Model, PromptCounter};
use criterion::{criterion_group, criterion_main, Criterion};

/// Counts looked up in a table filled before timing.
#[derive(Debug, Default)]
struct Memo(HashMap<String, usize>);

impl Memo {
    fn warm(messages: &[Message]) -> Self {
        let table = messages
            .iter()
            .map(|m| (m.content.text(), 4 + m.content.text().len().div_ceil(4)))
            .collect();
        Memo(table)
    }
}

impl PromptCounter for Memo {
    fn message_tokens(&self, message: &Message, _: bool) -> usize {
        match &message.content {
            Content::Text(text) => self.0.get(text.as_str()).copied().unwrap_or(4),
            _ => 4,
        }
    }
    fn overhead(&self, _: &[Message]) -> usize {
        3
    }
}

/// 4 + bytes / 4 from the text length alone.
#[derive(Debug)]
struct Len;

impl PromptCounter for Len {
    fn message_tokens(&self, message: &Message, _: bool) -> usize {
        match &message.content {
            Content::Text(text) => 4 + text.len().div_ceil(4),
            _ => 4,
        }
    }
    fn overhead(&self, _: &[Message]) -> usize {
        3
    }
}

fn history() -> Vec<Message> {
    let mut messages = vec![Message::system("You are a friendly conversation partner.")];
    for round in 0..5_000 {
        messages.push(Message::user(format!(
            "question {round}: how was your day, really?"
        )));
        messages.push(Message::assistant(format!(
            "answer {round}: it was fine, thanks for asking; I went for a walk and read a book."
        )));
    }
    messages.push(Message::user("And tomorrow?"));
    messages
}

fn policies(c: &mut Criterion) {
    let messages = history();
    let conversation = Conversation::new(&messages);
    let memo = Memo::warm(&messages);
    let counters: [(&str, &dyn PromptCounter); 2] = [("memo", &memo), ("len", &Len)];
    let limits = Limits::new(8192, 1024);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let cases: Vec<(&str, Box<dyn ContextPolicy>)> = vec![
        ("token-budget", Box::new(TokenBudget)),
        (
            "last-rounds:20",
            Box::new(LastRounds::new(NonZeroUsize::new(20).unwrap())),
        ),
        (
            "last-rounds:100+token-budget",
            Box::new(
                Chain::new(LastRounds::new(NonZeroUsize::new(100).unwrap())).then(TokenBudget),
            ),
        ),
    ];
    let mut group = c.benchmark_group("policy on 10k messages");
    for ((name, policy), (counter_name, counter)) in cases
        .iter()
        .flat_map(|case| counters.iter().map(move |counter| (case, counter)))
    {
        let counter = *counter;
        group.bench_function(format!("{name} ({counter_name})"), |b| {
            b.iter(|| {
                let input = Input::new(&messages, &conversation, limits, counter);
                let outcome = runtime.block_on(policy.apply(input, &mut PolicyState::default()));
                black_box(outcome.unwrap().messages.len())
            })
        });
    }
    // Steady state of a compacted conversation: the summary exists, below the threshold.
    let rolling = RollingSummary::new(Arc::new(Extractive::new()));
    let mut state = PolicyState::default();
    let counter = &Len;
    let input = Input::new(&messages, &conversation, limits, counter);
    runtime.block_on(rolling.apply(input, &mut state)).unwrap();
    group.bench_function("rolling-summary compacted, below threshold (len)", |b| {
        b.iter(|| {
            let input = Input::new(&messages, &conversation, limits, counter);
            let mut state = state.clone();
            let outcome = runtime.block_on(rolling.apply(input, &mut state));
            black_box(outcome.unwrap().report.summarizer_ran)
        })
    });
    group.finish();
}

/// One user request, then `steps` model calls: an assistant message with a `read_file` call
/// and its result of about 3 KB of source text.
fn agent_history(steps: usize) -> Vec<Message> {
    let mut messages = vec![
        Message::system("You are a coding agent. Read files before you change them."),
        Message::user("Find why the parser drops the last token, and fix it."),
    ];
    for step in 0..steps {
        let id = format!("call_{step}");
        let mut call = Message::assistant("");
        call.tool_calls = Some(vec![ToolCall::function(
            id.clone(),
            "read_file",
            format!(r#"{{"path":"src/module_{step}.rs"}}"#),
        )]);
        call.reasoning_content = Some(format!("Step {step}: the next file may hold the bug."));
        messages.push(call);
        let body: String = (0..60)
            .map(|line| {
                format!("    let token_{line} = parse_{step}(input, {line})?; // step {step}\n")
            })
            .collect();
        messages.push(Message::tool(id, body));
    }
    messages
}

/// How fast is a policy on a 2,000-step agent loop (one round, 4,002 messages), with the
/// DeepSeek counter warm and the per-message counts kept between calls ([`MessageCounts`])?
fn agent_loop(c: &mut Criterion) {
    let messages = agent_history(2_000);
    let conversation = Conversation::new(&messages);
    let counter = Model::resolve("deepseek-reasoner")
        .unwrap()
        .prompt_counter();
    counter.count(&messages);
    for message in &messages {
        counter.message_tokens(message, true);
    }
    let limits = Limits::new(131_072, 8_192);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let mut group = c.benchmark_group("policy on a 2000-step agent loop");
    for spec in [
        "token-budget",
        "cap:8000+clear-tools:3+token-budget",
        r#"{"chain": [{"clear_tools": {"keep": 3, "at_least": 20000}}, "token-budget"]}"#,
        "compact:0.5",
    ] {
        let policy = spec.parse::<PolicySpec>().unwrap().build().unwrap();
        // warm the counts of the placeholders and cuts too
        let input = Input::new(&messages, &conversation, limits, counter.as_ref());
        runtime
            .block_on(policy.apply(input, &mut PolicyState::default()))
            .unwrap();
        let name = spec.parse::<PolicySpec>().unwrap().to_string();
        let counters: [(&str, &dyn PromptCounter); 2] =
            [("deepseek", counter.as_ref()), ("len", &Len)];
        for (counter_name, counter) in counters {
            // As in a session: the counts are kept between calls (on a growing loop, each call
            // counts only its new messages).
            let mut counts = MessageCounts::new();
            counts.update(&messages, counter);
            let counts = &counts;
            group.bench_function(format!("{name} ({counter_name})"), |b| {
                b.iter(|| {
                    let input =
                        Input::new(&messages, &conversation, limits, counter).with_counts(counts);
                    let outcome =
                        runtime.block_on(policy.apply(input, &mut PolicyState::default()));
                    black_box(outcome.unwrap().messages.len())
                })
            });
        }
    }
    group.finish();
}

criterion_group!(benches, policies, agent_loop);
criterion_main!(benches);
