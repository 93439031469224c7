//! Cache-aware compaction against a sliding window on long real conversations, priced with
//! DeepSeek's cache, and the stable-prefix property of `compact:LOW`.
// Needs every vocabulary (the default feature `all-vocabularies`).
#![cfg(feature = "all-vocabularies")]

mod common;

use std::sync::Arc;

use chatctx::message::Message;
use chatctx::policy::{Compact, ContextPolicy, Input, Limits, PolicySpec, PolicyState};
use chatctx::replay::{replay, Billing};
use chatctx::{ChatRequest, Conversation, Model};
use proptest::prelude::*;

async fn run(messages: &[Message], spec: &str, window: usize) -> chatctx::replay::Totals {
    let policy = spec.parse::<PolicySpec>().unwrap().build().unwrap();
    let counter = Model::resolve("deepseek-chat").unwrap().prompt_counter();
    let billing = Billing::for_model("deepseek-chat");
    replay(
        &ChatRequest::new(messages.to_vec()),
        spec,
        policy,
        counter,
        Limits::new(window, 0),
        &billing,
        |_, _| {},
    )
    .await
    .unwrap()
    .totals
}

#[tokio::test]
async fn compact_keeps_as_much_context_for_at_most_60_percent_of_the_cost() {
    for session in 1..=3 {
        let messages = common::fixture_messages(&format!("chitchat/long_session_{session}.json"));
        assert!(Conversation::new(&messages).rounds().len() >= 300);
        let compact = run(&messages, "compact:0.5", 4000).await;
        let sliding = run(&messages, "token-budget", 3000).await;
        assert!(compact.max_prompt_tokens <= 4000 && sliding.max_prompt_tokens <= 3000);
        // every policy had to act: the full history is far above both windows
        assert!(sliding.prompt_tokens < compact.turns * 3000);
        assert!(
            compact.mean_retained_rounds >= sliding.mean_retained_rounds,
            "session {session}: compact keeps {} rounds, sliding {}",
            compact.mean_retained_rounds,
            sliding.mean_retained_rounds
        );
        let (c, s) = (compact.cost_usd.unwrap(), sliding.cost_usd.unwrap());
        assert!(
            c <= 0.6 * s,
            "session {session}: compact ${c:.5} vs sliding ${s:.5}"
        );
        assert!(compact.cache_hit_tokens > sliding.cache_hit_tokens);
    }
}

/// A recording's `tools` go with every request: replay counts them in each turn's prompt
/// tokens and bills them as the start of the cached prefix.
#[tokio::test]
async fn replay_counts_and_caches_the_request_tools() {
    let messages = common::fixture_messages("chitchat/long_session_1.json");
    let messages = messages[..41].to_vec();
    let tools = serde_json::json!([{
        "type": "function",
        "function": {
            "name": "get_weather",
            "description": "The current weather in a city.",
            "parameters": {
                "type": "object",
                "properties": {"city": {"type": "string", "description": "The city."}},
                "required": ["city"]
            }
        }
    }]);
    let mut with_tools = ChatRequest::new(messages.clone());
    with_tools.fields.insert("tools".into(), tools);
    let without = ChatRequest::new(messages);
    let replay_of = |recording: ChatRequest| async move {
        let policy = "pass-through"
            .parse::<PolicySpec>()
            .unwrap()
            .build()
            .unwrap();
        let counter = Model::resolve("deepseek-chat").unwrap().prompt_counter();
        replay(
            &recording,
            "pass-through",
            policy,
            counter,
            Limits::new(100_000, 0),
            &Billing::for_model("deepseek-chat"),
            |_, _| {},
        )
        .await
        .unwrap()
    };
    let (with, plain) = (replay_of(with_tools).await, replay_of(without).await);
    assert_eq!(with.turns.len(), plain.turns.len());
    let extra: Vec<usize> = with
        .turns
        .iter()
        .zip(&plain.turns)
        .map(|(w, p)| w.prompt_tokens - p.prompt_tokens)
        .collect();
    assert!(extra[0] > 20, "the tool definition costs tokens: {extra:?}");
    // every later turn re-reads the tools from the cache, on top of what the plain replay hits
    for (w, p) in with.turns.iter().zip(&plain.turns).skip(1) {
        assert!(
            w.cache_hit_tokens >= p.cache_hit_tokens + extra[0] / 2,
            "{w:?} vs {p:?}"
        );
    }
}

fn conversation(turns: &[usize]) -> Vec<Vec<Message>> {
    // one growing history per turn; turn lengths vary
    let mut history = vec![Message::system("You are a helpful assistant.")];
    let mut out = Vec::new();
    for (turn, &len) in turns.iter().enumerate() {
        history.push(Message::user(format!("q{turn} {}", "word ".repeat(len))));
        out.push(history.clone());
        history.push(Message::assistant(format!(
            "a{turn} {}",
            "reply ".repeat(len / 2 + 1)
        )));
    }
    out
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]
    #[test]
    fn between_compactions_requests_extend_the_previous_one(
        turns in prop::collection::vec(1usize..60, 5..60),
        low in 0.2f64..0.9,
        window in 200usize..800,
    ) {
        let runtime = tokio::runtime::Builder::new_current_thread().build().unwrap();
        let counter = Arc::new(common::TestCounter);
        let policy = Compact::new(low).unwrap();
        let mut state = PolicyState::default();
        let mut previous: Option<(Vec<Message>, Option<usize>)> = None;
        for history in conversation(&turns) {
            let conversation = Conversation::new(&history);
            let input = Input::new(&history, &conversation, Limits::new(window, 0), counter.as_ref());
            let Ok(outcome) = runtime.block_on(policy.apply(input, &mut state)) else {
                // the last round alone does not fit: a typed error, nothing to compare
                previous = None;
                continue;
            };
            prop_assert!(outcome.report.tokens_after <= window);
            if let Some((sent, cut)) = &previous {
                if *cut == state.compact_from {
                    // no compaction: the new request starts with the previous one
                    prop_assert!(outcome.messages.starts_with(sent));
                }
            }
            previous = Some((outcome.messages, state.compact_from));
        }
    }
}

#[tokio::test]
async fn summarizer_calls_reuse_the_conversation_prefix_and_hit_the_cache() {
    let messages = common::fixture_messages("chitchat/long_session_1.json");
    let summary = run(&messages, "rolling-summary", 4000).await;
    assert!(summary.summarizer_calls >= 5, "{summary:?}");
    // the summarizer's request starts with the previous request's prefix: most of it is cached
    assert!(
        summary.summarizer_cache_hit_tokens * 2 > summary.summarizer_tokens,
        "{} of {} summarizer tokens hit the cache",
        summary.summarizer_cache_hit_tokens,
        summary.summarizer_tokens
    );
}
