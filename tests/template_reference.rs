//! Our prompt counts against the official chat templates rendered by
//! `scripts/gen_template_fixtures.py` (`fixtures/templates/renders.json`).
// Needs every vocabulary (the default feature `all-vocabularies`).
#![cfg(feature = "all-vocabularies")]
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::fs;

use chatctx::template::{render_with, Family, RequestTools};
use chatctx::tokens::Vocabulary;
use chatctx::Message;
use serde_json::Value;

fn family(name: &str) -> Family {
    name.parse().expect("family")
}

fn messages(record: &Value) -> Vec<Message> {
    let value = match record.get("messages") {
        Some(messages) => messages.clone(),
        None => {
            let fixture = seed(record);
            let path = format!("fixtures/seeds/{fixture}.json");
            let request: Value = serde_json::from_str(&fs::read_to_string(path).unwrap()).unwrap();
            request["messages"].clone()
        }
    };
    Message::list_from_value(value).unwrap()
}

/// The seed a record was rendered from (`tool_loop+tools` is `tool_loop` with its tools).
fn seed(record: &Value) -> &str {
    let fixture = record["fixture"].as_str().unwrap();
    fixture.strip_suffix("+tools").unwrap_or(fixture)
}

/// The request-level fields a record was rendered with: the seed's `tools` for `+tools`
/// records, none otherwise.
fn tools(record: &Value) -> RequestTools {
    if record.get("tools_tokens").is_none() {
        return RequestTools::new();
    }
    let path = format!("fixtures/seeds/{}.json", seed(record));
    let request = chatctx::ChatRequest::from_json(&fs::read_to_string(path).unwrap()).unwrap();
    let tools = RequestTools::from_fields(&request.fields);
    assert!(!tools.is_empty());
    tools
}

fn records() -> Vec<Value> {
    let text = fs::read_to_string("fixtures/templates/renders.json").unwrap();
    serde_json::from_str(&text).unwrap()
}

/// The framing: our render is the official template's render, character for character.
#[test]
fn renders_match_official_templates() {
    let mut checked = 0;
    for record in records() {
        let Some(expected) = record["rendered"].as_str() else {
            continue;
        };
        let family = family(record["family"].as_str().unwrap());
        let ours = render_with(family, &messages(&record), &tools(&record)).unwrap();
        assert_eq!(ours, expected, "{} / {family}", record["fixture"]);
        checked += 1;
    }
    // 7 inputs (6 seeds, tool_loop with its tools) × 4: Qwen2.5, Qwen3, Qwen3.5, DeepSeek
    assert!(checked >= 28, "only {checked} renders checked");
}

/// The counts, for every vocabulary whose counter is exact here.
#[test]
fn counts_match_reference_tokenizers() {
    let (mut checked, mut skipped) = (0, 0);
    let mut per_vocabulary = std::collections::HashSet::new();
    for record in records() {
        let vocabulary: Vocabulary = record["vocabulary"].as_str().unwrap().parse().unwrap();
        let counter = vocabulary.counter();
        if !counter.is_exact() {
            skipped += 1;
            continue;
        }
        let family = family(record["family"].as_str().unwrap());
        let prompt = family.prompt_counter(counter);
        let messages = messages(&record);
        let mut expected = record["tokens"].as_u64().unwrap() as usize;
        if let Some(tools_tokens) = record.get("tools_tokens").and_then(Value::as_u64) {
            let request = prompt.request_tokens(&messages, &tools(&record));
            assert_eq!(
                request.tokens, tools_tokens as usize,
                "tools / {family} / {vocabulary}"
            );
            // OpenAI's and DeepSeek's tool renderings are not published: estimates.
            assert_eq!(request.exact, family.name().starts_with("qwen"), "{family}");
            if family != Family::OpenAi {
                // The record's count is of the prompt with the tools rendered in.
                expected -= request.tokens;
            }
        }
        assert_eq!(
            prompt.count(&messages),
            expected,
            "{} / {family} / {vocabulary}",
            record["fixture"]
        );
        // Additivity: overhead plus the messages' own tokens is the count.
        let start = messages
            .iter()
            .rposition(|m| m.role == chatctx::Role::User)
            .unwrap_or(0);
        let own: usize = messages
            .iter()
            .enumerate()
            .map(|(i, m)| prompt.message_tokens(m, i >= start))
            .sum();
        assert_eq!(
            own + prompt.overhead(&messages),
            expected,
            "additive {}",
            record["fixture"]
        );
        checked += 1;
        per_vocabulary.insert(vocabulary);
    }
    // every built-in vocabulary is exact: nothing may be skipped
    assert_eq!(skipped, 0, "{skipped} records skipped");
    assert!(checked >= 44, "only {checked} counts checked");
    // every vocabulary has reference records, Qwen3.5's prompt counter included
    for vocabulary in Vocabulary::ALL {
        assert!(
            per_vocabulary.contains(&vocabulary),
            "no record for {vocabulary}"
        );
    }
}
