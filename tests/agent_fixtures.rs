//! The agent-loop recordings of `fixtures/agent/` (`scripts/gen_agent_fixtures.py`): each is a
//! valid request, with the shape its README entry promises (steps, parallel calls, reasoning,
//! result sizes), counted with chatctx's exact DeepSeek-V3 counter.
// Needs every vocabulary (the default feature `all-vocabularies`).
#![cfg(feature = "all-vocabularies")]

mod common;

use std::collections::HashSet;

use chatctx::message::{validate, Message, Role};
use chatctx::tokens::{TokenCounter, Vocabulary};
use chatctx::ChatRequest;

fn load(name: &str) -> ChatRequest {
    let request = ChatRequest::from_json(&common::read(&format!("agent/{name}"))).unwrap();
    validate(&request.messages).unwrap();
    // Every call names a declared tool and has JSON arguments; ids are unique.
    let tools: HashSet<String> = request.fields["tools"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["function"]["name"].as_str().unwrap().to_string())
        .collect();
    let mut ids = HashSet::new();
    for call in request
        .messages
        .iter()
        .flat_map(|m| m.tool_calls.iter().flatten())
    {
        assert!(
            tools.contains(&call.function.name),
            "{name}: {}",
            call.function.name
        );
        serde_json::from_str::<serde_json::Value>(&call.function.arguments).unwrap();
        assert!(
            ids.insert(call.id.clone()),
            "{name}: duplicate id {}",
            call.id
        );
    }
    request
}

fn count(messages: &[Message], role: Role) -> usize {
    messages.iter().filter(|m| m.role == role).count()
}

/// Calls per tool-calling assistant message, in order.
fn calls_per_step(messages: &[Message]) -> Vec<usize> {
    messages
        .iter()
        .filter_map(|m| m.tool_calls.as_ref().map(Vec::len))
        .collect()
}

/// DeepSeek-V3 tokens of every tool result, in order.
fn result_tokens(messages: &[Message]) -> Vec<usize> {
    let counter = Vocabulary::DeepseekV3.counter();
    messages
        .iter()
        .filter(|m| m.role == Role::Tool)
        .map(|m| counter.count(&m.content.text()))
        .collect()
}

#[test]
fn coding_agent_reads_twelve_large_files() {
    let request = load("coding_agent.json");
    let m = &request.messages;
    assert_eq!(request.model(), Some("deepseek-chat"));
    assert_eq!(m.len(), 27);
    assert_eq!(m[0].role, Role::System);
    assert_eq!(count(m, Role::User), 1);
    assert_eq!(count(m, Role::Assistant), 13);
    assert_eq!(calls_per_step(m), vec![1; 12]);
    assert!(m
        .iter()
        .filter_map(|m| m.tool_calls.as_ref())
        .all(|calls| calls[0].function.name == "read_file"));
    let results = result_tokens(m);
    assert_eq!(
        results,
        [8956, 8972, 8954, 8928, 8900, 8528, 8935, 8996, 8925, 8929, 8892, 8927]
    );
    assert!(results.iter().all(|&n| (8000..=9000).contains(&n)));
    assert_eq!(results.iter().sum::<usize>(), 106_842);
    let prompt = chatctx::Model::resolve("deepseek-chat")
        .unwrap()
        .prompt_counter()
        .count(m);
    // The whole recording as one DeepSeek V4 prompt (without the tool definitions).
    assert_eq!(prompt, 108_615);
    // Ends with the final answer: text, no calls.
    let last = m.last().unwrap();
    assert_eq!(last.role, Role::Assistant);
    assert!(last.tool_calls.is_none() && !last.content.text().is_empty());
}

#[test]
fn thinking_loop_has_parallel_calls_and_reasoning() {
    let request = load("thinking_parallel.json");
    let m = &request.messages;
    assert_eq!(request.model(), Some("deepseek-v4-flash"));
    assert_eq!(request.fields["thinking"]["type"], "enabled");
    assert_eq!(m.len(), 20);
    assert_eq!(count(m, Role::User), 2);
    assert_eq!(count(m, Role::Assistant), 6);
    assert_eq!(calls_per_step(m), [3, 2, 2, 4]);
    // Reasoning on every assistant message, tool-calling or not.
    assert!(m.iter().filter(|m| m.role == Role::Assistant).all(|m| m
        .reasoning_content
        .as_deref()
        .is_some_and(|r| !r.is_empty())));
    // The first user turn's loop is finished (its last message is an answer) before the second.
    let second_user = m.iter().rposition(|m| m.role == Role::User).unwrap();
    assert_eq!(m[second_user - 1].role, Role::Assistant);
    assert!(m[second_user - 1].tool_calls.is_none());
    assert_eq!(
        result_tokens(m),
        [163, 52, 1572, 3612, 6264, 314, 3719, 4229, 1368, 55, 820]
    );
}

#[test]
fn oversized_result_is_larger_than_a_32k_window() {
    let request = load("oversized_result.json");
    let m = &request.messages;
    assert_eq!(request.model(), Some("deepseek-chat"));
    assert_eq!(m.len(), 11);
    assert_eq!(count(m, Role::Assistant), 5);
    assert_eq!(calls_per_step(m), [1, 1, 1, 1]);
    let results = result_tokens(m);
    assert_eq!(results, [1521, 141, 45009, 300]);
    assert!(results.iter().max().unwrap() > &32_000);
    // Also larger than 32k under o200k.
    let big = &m.iter().filter(|m| m.role == Role::Tool).nth(2).unwrap();
    let o200k = Vocabulary::O200kBase.counter().count(&big.content.text());
    assert_eq!(o200k, 47_426);
}

#[test]
fn agent_fixtures_stay_small() {
    let dir = common::fixture("agent");
    let total: u64 = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().metadata().unwrap().len())
        .sum();
    assert!(total < 1_500_000, "{total} bytes");
}
