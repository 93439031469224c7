//! The async-openai adapter on every committed fixture that holds messages: each message and
//! each request either converts to async-openai's type and back unchanged, or the conversion
//! is a typed `NotRepresentable` error naming a field that is really there. Both counts are
//! pinned, so the test cannot pass by refusing (or accepting) everything.
#![cfg(feature = "async-openai")]
#![allow(clippy::unwrap_used)]

mod common;

use std::collections::BTreeMap;

use async_openai::types::chat::{ChatCompletionRequestMessage, CreateChatCompletionRequest};
use chatctx::adapters::async_openai::{from_async_openai, to_async_openai};
use chatctx::{ChatRequest, Error, Message};
use serde_json::Value;

/// Every fixture holding messages, as (name, request). Bare message lists (the DeepSeek-V4
/// template records) are requests without a body.
fn fixtures() -> Vec<(String, ChatRequest)> {
    let mut out = Vec::new();
    for (name, text) in common::seed_requests() {
        out.push((
            format!("seeds/{name}"),
            ChatRequest::from_json(&text).unwrap(),
        ));
    }
    for (index, text) in common::chitchat_requests().iter().enumerate() {
        out.push((
            format!("chitchat #{index}"),
            ChatRequest::from_json(text).unwrap(),
        ));
    }
    for name in [
        "coding_agent.json",
        "oversized_result.json",
        "thinking_parallel.json",
    ] {
        let text = common::read(&format!("agent/{name}"));
        out.push((
            format!("agent/{name}"),
            ChatRequest::from_json(&text).unwrap(),
        ));
    }
    // The response fixture's reply message, and the V4 template records' own conversations.
    let response: Value =
        serde_json::from_str(&common::read("seeds/thinking_response.json")).unwrap();
    let reply = Message::from_value(response["choices"][0]["message"].clone(), 0).unwrap();
    out.push((
        "seeds/thinking_response.json choices[0].message".to_string(),
        ChatRequest::from_value(Value::Array(vec![reply.to_value()])).unwrap(),
    ));
    let v4: Value = serde_json::from_str(&common::read("templates/deepseek-v4.json")).unwrap();
    let mut seen = Vec::new();
    for record in v4["records"].as_array().unwrap() {
        let name = record["fixture"].as_str().unwrap().to_string();
        if let Some(messages) = record.get("messages") {
            if !seen.contains(&name) {
                seen.push(name.clone());
                out.push((
                    format!("templates/deepseek-v4.json {name}"),
                    ChatRequest::from_value(messages.clone()).unwrap(),
                ));
            }
        }
    }
    out
}

/// JSON equality as the adapter promises it: object keys in any order, numbers by value.
fn same_json(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Object(a), Value::Object(b)) => {
            a.len() == b.len()
                && a.iter()
                    .all(|(key, value)| b.get(key).is_some_and(|other| same_json(value, other)))
        }
        (Value::Array(a), Value::Array(b)) => {
            a.len() == b.len() && a.iter().zip(b).all(|(x, y)| same_json(x, y))
        }
        (Value::Number(a), Value::Number(b)) => a.as_f64() == b.as_f64(),
        _ => a == b,
    }
}

/// The value at a field path such as `messages[3].content[0]` or `[2].prefix`.
fn at<'a>(value: &'a Value, path: &str) -> Option<&'a Value> {
    let mut current = value;
    for segment in path.split('.') {
        let (key, indices) = match segment.find('[') {
            Some(at) => (&segment[..at], &segment[at..]),
            None => (segment, ""),
        };
        if !key.is_empty() {
            current = current.get(key)?;
        }
        for index in indices.split('[').filter(|s| !s.is_empty()) {
            current = current.get(index.trim_end_matches(']').parse::<usize>().ok()?)?;
        }
    }
    Some(current)
}

/// The last name in a field path (`messages[3].content[0]` -> `content`).
fn leaf(field: &str) -> String {
    let last = field.rsplit('.').next().unwrap_or(field);
    last.split('[').next().unwrap_or(last).to_string()
}

#[derive(Debug, Default)]
struct Tally {
    identical: usize,
    refused: usize,
    /// Refusals by the last name of the field they name.
    by_field: BTreeMap<String, usize>,
}

impl Tally {
    fn refuse(&mut self, context: &str, original: &Value, error: Error) {
        let Error::NotRepresentable { field, reason, .. } = &error else {
            panic!("{context}: expected NotRepresentable, got {error:?}");
        };
        assert!(
            field.is_empty() || at(original, field).is_some(),
            "{context}: the error names `{field}`, which is not in the input ({reason})"
        );
        assert!(!reason.is_empty(), "{context}: an error without a reason");
        eprintln!("refused: {context}: {error}");
        self.refused += 1;
        *self.by_field.entry(leaf(field)).or_default() += 1;
    }
}

#[test]
fn every_fixture_message_round_trips_or_is_refused_by_name() {
    let mut tally = Tally::default();
    for (name, request) in fixtures() {
        for (index, message) in request.messages.iter().enumerate() {
            let context = format!("{name} message {index}");
            let original = message.to_value();
            match ChatCompletionRequestMessage::try_from(message) {
                Ok(openai) => {
                    let back = Message::try_from(&openai).unwrap();
                    assert_eq!(&back, message, "{context}: changed by the round trip");
                    assert!(same_json(&back.to_value(), &original), "{context}");
                    tally.identical += 1;
                }
                Err(error) => tally.refuse(&context, &original, error),
            }
        }
        // The list conversion agrees with the message-by-message one.
        match to_async_openai(&request.messages) {
            Ok(list) => assert_eq!(from_async_openai(&list).unwrap(), request.messages),
            Err(Error::NotRepresentable { field, .. }) => {
                assert!(field.starts_with('['), "{name}: {field}")
            }
            Err(other) => panic!("{name}: {other:?}"),
        }
    }
    let refused: Vec<(&str, usize)> = tally
        .by_field
        .iter()
        .map(|(field, count)| (field.as_str(), *count))
        .collect();
    println!("messages: {tally:?}");
    assert_eq!(
        (tally.identical, tally.refused),
        (EXPECTED_MESSAGES_IDENTICAL, EXPECTED_MESSAGES_REFUSED),
        "{refused:?}"
    );
    assert_eq!(refused.as_slice(), EXPECTED_MESSAGE_REFUSALS);
}

#[test]
fn every_fixture_request_round_trips_or_is_refused_by_name() {
    // A request refused for a request-level field is tried again without that field (it is a
    // vendor field such as DeepSeek's `thinking`), so that its messages, model, tools and
    // other fields are checked too; the stripped fields are pinned below.
    let mut tally = Tally::default();
    let mut stripped: BTreeMap<String, usize> = BTreeMap::new();
    let mut requests = 0;
    for (name, mut request) in fixtures() {
        if request.is_bare() {
            let error = CreateChatCompletionRequest::try_from(&request).unwrap_err();
            assert!(
                matches!(&error, Error::NotRepresentable { field, .. } if field == "model"),
                "{name}: {error:?}"
            );
            continue;
        }
        requests += 1;
        loop {
            let original = request.to_value();
            match CreateChatCompletionRequest::try_from(&request) {
                Ok(openai) => {
                    let back = ChatRequest::try_from(&openai).unwrap();
                    assert_eq!(back.messages, request.messages, "{name}");
                    assert!(
                        same_json(&Value::Object(back.fields), &Value::Object(request.fields)),
                        "{name}: request fields changed by the round trip"
                    );
                    tally.identical += 1;
                    break;
                }
                Err(Error::NotRepresentable { field, .. })
                    if !field.is_empty()
                        && !field.starts_with("messages")
                        && request.fields.contains_key(&field) =>
                {
                    *stripped.entry(field.clone()).or_default() += 1;
                    request.fields.shift_remove(&field);
                }
                Err(error) => {
                    tally.refuse(&name, &original, error);
                    break;
                }
            }
        }
    }
    println!("requests: {requests}, {tally:?}, stripped {stripped:?}");
    assert_eq!(requests, tally.identical + tally.refused);
    assert_eq!(
        (tally.identical, tally.refused),
        (EXPECTED_REQUESTS_IDENTICAL, EXPECTED_REQUESTS_REFUSED),
        "{:?}",
        tally.by_field
    );
    let stripped: Vec<(&str, usize)> = stripped.iter().map(|(k, v)| (k.as_str(), *v)).collect();
    assert_eq!(stripped.as_slice(), EXPECTED_STRIPPED);
}

#[test]
fn refusals_name_the_field_and_say_why() {
    let request = ChatRequest::from_json(&common::read("seeds/tool_loop_reasoning.json")).unwrap();
    let error = CreateChatCompletionRequest::try_from(&request).unwrap_err();
    let text = error.to_string();
    assert!(
        matches!(&error, Error::NotRepresentable { field, .. } if field.ends_with(".reasoning_content")),
        "{text}"
    );
    assert!(
        text.contains("reasoning_content") && text.contains("no place"),
        "{text}"
    );

    let mut message = Message::assistant("");
    message.content = chatctx::Content::Null;
    let error = ChatCompletionRequestMessage::try_from(&message).unwrap_err();
    assert!(error.to_string().contains("explicit null"), "{error}");

    let precise = ChatRequest::from_json(
        r#"{"model":"gpt-4o","messages":[{"role":"user","content":"hi"}],"temperature":0.123456789}"#,
    )
    .unwrap();
    let error = CreateChatCompletionRequest::try_from(&precise).unwrap_err();
    assert!(
        matches!(&error, Error::NotRepresentable { field, .. } if field == "temperature"),
        "{error}"
    );
}

// What the fixtures hold, pinned (the README's adapter section quotes these numbers).
const EXPECTED_MESSAGES_IDENTICAL: usize = 13_377;
const EXPECTED_MESSAGES_REFUSED: usize = 23;
/// `content`: three explicit nulls and a `video_url` part; the rest are fields async-openai's
/// message types lack.
const EXPECTED_MESSAGE_REFUSALS: &[(&str, usize)] = &[
    ("cache_control", 1),
    ("content", 4),
    ("partial", 1),
    ("prefix", 1),
    ("reasoning_content", 14),
    ("x_flags", 1),
    ("x_priority", 1),
];
/// 215 request bodies (8 seeds, 204 chitchat, 3 agent loops); the 5 bare message lists are
/// refused for lack of a `model`, checked apart.
const EXPECTED_REQUESTS_IDENTICAL: usize = 210;
const EXPECTED_REQUESTS_REFUSED: usize = 5;
/// DeepSeek's `thinking` switch and Qwen's `enable_thinking`: vendor fields async-openai's
/// request lacks, refused by name and then stripped to check the rest of the request.
const EXPECTED_STRIPPED: &[(&str, usize)] = &[("enable_thinking", 1), ("thinking", 205)];
