//! `replay` bills one request per model call: per recorded assistant message of an agent loop
//! (with the tool results before it), and for chat one per round, as before.
// Needs every vocabulary (the default feature `all-vocabularies`).
#![cfg(feature = "all-vocabularies")]

mod common;

use chatctx::message::{Message, Role};
use chatctx::policy::{Limits, PolicySpec};
use chatctx::replay::{replay, Billing, Replay};
use chatctx::template::RequestTools;
use chatctx::{ChatRequest, Model};

async fn run(request: &ChatRequest, spec: &str, window: usize) -> Replay {
    let policy = spec.parse::<PolicySpec>().unwrap().build().unwrap();
    let counter = Model::resolve("deepseek-chat").unwrap().prompt_counter();
    replay(
        request,
        spec,
        policy,
        counter,
        Limits::new(window, 0),
        &Billing::for_model("deepseek-chat"),
        |_, _| {},
    )
    .await
    .unwrap()
}

fn load(relative: &str) -> ChatRequest {
    ChatRequest::from_json(&common::read(relative)).unwrap()
}

/// The history a transcript holds before message `end` of `recording`: the messages as
/// recorded, but reasoning only on tool-call messages (the default reasoning rule, applied
/// when a reply is recorded).
fn history_before(recording: &[Message], end: usize) -> Vec<Message> {
    recording[..end]
        .iter()
        .cloned()
        .map(|mut m| {
            if m.role == Role::Assistant && !m.has_tool_calls() {
                m.reasoning_content = None;
            }
            m
        })
        .collect()
}

/// With `pass-through` and a window larger than the whole recording, request `i` is exactly
/// the recording up to its `i`-th assistant message, and bills that message as output.
#[tokio::test]
async fn pass_through_bills_every_model_call_with_its_exact_prefix() {
    let counter = Model::resolve("deepseek-chat").unwrap().prompt_counter();
    for (name, calls, rounds, steps) in [
        (
            "coding_agent.json",
            13,
            vec![1; 13],
            (1..=13).collect::<Vec<_>>(),
        ),
        (
            "thinking_parallel.json",
            6,
            vec![1, 1, 1, 2, 2, 2],
            vec![1, 2, 3, 1, 2, 3],
        ),
        ("oversized_result.json", 5, vec![1; 5], (1..=5).collect()),
    ] {
        let request = load(&format!("agent/{name}"));
        let tools = RequestTools::from_fields(&request.fields);
        let messages = &request.messages;
        let replayed = run(&request, "pass-through", 1_000_000).await;
        let assistants: Vec<usize> = messages
            .iter()
            .enumerate()
            .filter(|(_, m)| m.role == Role::Assistant)
            .map(|(i, _)| i)
            .collect();
        assert_eq!(assistants.len(), calls, "{name}");
        assert_eq!(replayed.turns.len(), calls, "{name}");
        assert_eq!(replayed.totals.turns, calls, "{name}");
        for (turn, &at) in replayed.turns.iter().zip(&assistants) {
            let prefix = history_before(messages, at);
            let tools_tokens = counter.request_tokens(&prefix, &tools).tokens;
            assert_eq!(
                turn.prompt_tokens,
                counter.count(&prefix) + tools_tokens,
                "{name}: request {} (before message {at})",
                turn.turn
            );
            assert_eq!(
                turn.output_tokens,
                counter.message_tokens(&messages[at], true),
                "{name}: request {}",
                turn.turn
            );
            assert_eq!(turn.dropped, 0);
        }
        let got: Vec<(usize, usize)> = replayed.turns.iter().map(|t| (t.round, t.step)).collect();
        let want: Vec<(usize, usize)> = rounds.into_iter().zip(steps).collect();
        assert_eq!(got, want, "{name}");
        // Each call's prompt is the previous one plus what came in between, so the previous
        // prompt is a cache hit, up to DeepSeek's 64-token units and the few tokens after the
        // messages (the reply priming and, in V4, the framing that closes a block of tool
        // results, which the next call renders differently).
        for w in replayed.turns.windows(2) {
            let (before, after) = (&w[0], &w[1]);
            assert!(
                after.cache_hit_tokens + 64 + 32 > before.prompt_tokens
                    && after.cache_hit_tokens <= before.prompt_tokens,
                "{name}: request {}: {} cached after a {}-token prompt",
                after.turn,
                after.cache_hit_tokens,
                before.prompt_tokens
            );
        }
    }
}

/// The coding-agent loop's last call sends the whole loop: twelve 8,000-9,000-token results.
#[tokio::test]
async fn coding_agent_prompts_grow_step_by_step() {
    let replayed = run(&load("agent/coding_agent.json"), "pass-through", 1_000_000).await;
    let prompts: Vec<usize> = replayed.turns.iter().map(|t| t.prompt_tokens).collect();
    assert!(
        prompts.windows(2).all(|w| w[1] > w[0] + 8_000),
        "{prompts:?}"
    );
    assert!(*prompts.last().unwrap() > 100_000, "{prompts:?}");
    assert_eq!(replayed.totals.max_prompt_tokens, *prompts.last().unwrap());
    // The figures of the README ("One request per model call").
    assert_eq!((prompts[0], prompts[12]), (651, 108_650));
    assert_eq!(replayed.totals.prompt_tokens, 710_739);
    assert_eq!(replayed.totals.cache_hit_tokens, 601_472);
}

/// A chat recording: one request per round, one step each, the reply as output.
#[tokio::test]
async fn chat_rounds_are_one_request_each() {
    let request = load("chitchat/recall_fact.json");
    let replayed = run(&request, "pass-through", 1_000_000).await;
    let rounds = chatctx::Conversation::new(&request.messages).rounds().len();
    assert_eq!(replayed.turns.len(), rounds);
    for (i, turn) in replayed.turns.iter().enumerate() {
        assert_eq!((turn.turn, turn.round, turn.step), (i + 1, i + 1, 1));
    }
    // The recording ends with the user's question: the last request has no reply.
    assert_eq!(replayed.turns.last().unwrap().output_tokens, 0);
}

/// A recording that ends inside a tool loop (tool results after the last call) ends with the
/// open call: one request more than it has assistant messages, with no output.
#[tokio::test]
async fn an_open_tool_loop_ends_with_the_pending_call() {
    let request = load("seeds/tool_loop_reasoning.json");
    let assistants = request
        .messages
        .iter()
        .filter(|m| m.role == Role::Assistant)
        .count();
    let replayed = run(&request, "pass-through", 1_000_000).await;
    assert_eq!(replayed.turns.len(), assistants + 1);
    let last = replayed.turns.last().unwrap();
    assert_eq!((last.round, last.step, last.output_tokens), (2, 2, 0));
    let counter = Model::resolve("deepseek-chat").unwrap().prompt_counter();
    let tools = RequestTools::from_fields(&request.fields);
    let all = history_before(&request.messages, request.messages.len());
    assert_eq!(
        last.prompt_tokens,
        counter.count(&all) + counter.request_tokens(&all, &tools).tokens
    );
}
