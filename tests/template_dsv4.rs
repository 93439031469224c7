//! The DeepSeek-V4 prompt encoding against DeepSeek's own encoder: renders and token counts
//! made by `scripts/gen_dsv4_fixtures.py` (`fixtures/templates/deepseek-v4.json`).
// Needs every vocabulary (the default feature `all-vocabularies`).
#![cfg(feature = "all-vocabularies")]
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::fs;

use chatctx::template::deepseek_v4::{DeepSeekV4, SPECIAL_TOKENS};
use chatctx::template::RequestTools;
use chatctx::tokens::Vocabulary;
use chatctx::{Message, PromptCounter, Role};
use serde_json::Value;

fn document() -> Value {
    serde_json::from_str(&fs::read_to_string("fixtures/templates/deepseek-v4.json").unwrap())
        .unwrap()
}

fn messages(record: &Value) -> Vec<Message> {
    let value = match record.get("messages") {
        Some(messages) => messages.clone(),
        None => {
            let fixture = record["fixture"].as_str().unwrap();
            let seed = fixture.strip_suffix("+tools").unwrap_or(fixture);
            let path = format!("fixtures/seeds/{seed}.json");
            let request: Value = serde_json::from_str(&fs::read_to_string(path).unwrap()).unwrap();
            request["messages"].clone()
        }
    };
    Message::list_from_value(value).unwrap()
}

fn tools(record: &Value) -> RequestTools {
    match record.get("tools") {
        Some(Value::Array(tools)) => RequestTools::new().with_tools(tools.clone()),
        _ => RequestTools::new(),
    }
}

fn counter(record: &Value) -> DeepSeekV4 {
    let thinking = match record["mode"].as_str().unwrap() {
        "thinking" => true,
        "chat" => false,
        other => panic!("mode {other}"),
    };
    DeepSeekV4::new(Vocabulary::DeepseekV3.counter()).thinking(thinking)
}

fn records() -> Vec<Value> {
    let document = document();
    // the renders were made by an encoder that reproduced DeepSeek's golden outputs
    assert_eq!(document["encoder"]["golden_pairs_checked"], 4);
    document["records"].as_array().unwrap().clone()
}

/// Our render is the encoder's, character for character: chat and thinking, tool calls in
/// DSML, tool results, prefix completion, tools in the system prompt.
#[test]
fn renders_match_the_reference_encoder() {
    let mut checked = 0;
    for record in records() {
        let ours = counter(&record).render_text(&messages(&record), &tools(&record));
        assert_eq!(
            ours,
            record["rendered"].as_str().unwrap(),
            "{} / {}",
            record["fixture"],
            record["mode"]
        );
        checked += 1;
    }
    assert!(checked >= 26, "only {checked} renders checked");
}

/// Our token counts are the reference tokenizer's on the encoder's renders, and they add up.
#[test]
fn counts_match_the_reference_tokenizer() {
    let mut checked = 0;
    for record in records() {
        let counter = counter(&record);
        let messages = messages(&record);
        let name = format!("{} / {}", record["fixture"], record["mode"]);
        let mut expected = record["tokens"].as_u64().unwrap() as usize;
        if let Some(tools_tokens) = record.get("tools_tokens").and_then(Value::as_u64) {
            let request = counter.request_tokens(&messages, &tools(&record));
            assert_eq!(request.tokens, tools_tokens as usize, "tools {name}");
            assert!(request.exact, "{name}");
            expected -= request.tokens;
        }
        assert_eq!(counter.count(&messages), expected, "{name}");
        let start = messages
            .iter()
            .rposition(|m| m.role == Role::User)
            .unwrap_or(0);
        let own: usize = messages
            .iter()
            .enumerate()
            .map(|(i, m)| counter.message_tokens(m, i >= start))
            .sum();
        assert_eq!(
            own + counter.overhead(&messages),
            expected,
            "additive {name}"
        );
        checked += 1;
    }
    assert!(checked >= 26, "only {checked} counts checked");
}

/// The thinking mode changes the prompt where the encoder says it does: the generation prompt
/// opens `<think>`, and a finished reply keeps its reasoning only in thinking mode.
#[test]
fn thinking_mode_decides_the_generation_prompt() {
    let vocabulary = Vocabulary::DeepseekV3;
    let chat = DeepSeekV4::new(vocabulary.counter()).thinking(false);
    let thinking = DeepSeekV4::new(vocabulary.counter());
    assert!(thinking.is_thinking(), "thinking is the default");
    let messages = [Message::user("1+1=?")];
    let none = RequestTools::new();
    assert!(chat
        .render_text(&messages, &none)
        .ends_with("<｜Assistant｜></think>"));
    assert!(thinking
        .render_text(&messages, &none)
        .ends_with("<｜Assistant｜><think>"));
}

/// The special tokens the encoding writes are single added tokens of the embedded
/// DeepSeek-V4 table, with the ids the V4 tokenizer gives them.
#[test]
fn special_tokens_are_in_the_v4_added_token_table() {
    let counter = Vocabulary::DeepseekV3.counter();
    for (token, id) in SPECIAL_TOKENS {
        assert_eq!(counter.special_token(token), Some(id), "{token}");
    }
    // V4-only added tokens
    assert_eq!(
        counter.special_token("<｜latest_reminder｜>"),
        Some(128_828)
    );
    assert_eq!(counter.special_token("<｜action｜>"), Some(128_829));
}
