//! Prompt counting of parsed messages under every template family: never panics, and the count
//! is the exact expectation computed another way. For the families with a published template
//! (Qwen2.5, Qwen3, DeepSeek V3 and V4, in the model's thinking mode) it is the tokens of the
//! rendered prompt, special tokens one each;
//! for OpenAI it is the cookbook formula: 3 per message, its role, content and name (1 + the
//! name), tool-call names and arguments, and 3 of reply priming.
#![no_main]

use chatctx::message::{Content, ContentPart, Message};
use chatctx::template::deepseek_v4::DeepSeekV4;
use chatctx::template::{render, Family, RequestTools};
use chatctx::{Model, TokenCounter};
use libfuzzer_sys::fuzz_target;

/// One model per template family (and the Qwen vision variants).
const MODELS: [&str; 7] = [
    "gpt-4o",
    "gpt-4",
    "qwen-plus",
    "qwen3.5-plus",
    "qwen-vl-max",
    "deepseek-chat",
    "deepseek-v4-flash",
];

/// Added tokens of the official tokenizer_config.json files that the vocabulary's own specials
/// lack (as `scripts/gen_template_fixtures.py` counts): Qwen2.5-7B-Instruct's tool-call tags,
/// and Qwen3-8B's 151657..151668.
const QWEN25_ADDED: [&str; 2] = ["<tool_call>", "</tool_call>"];
const QWEN3_ADDED: [&str; 6] = [
    "<tool_call>",
    "</tool_call>",
    "<tool_response>",
    "</tool_response>",
    "<think>",
    "</think>",
];

fuzz_target!(|data: &[u8]| {
    let Some(messages) = chatctx_fuzz::messages(data) else {
        return;
    };
    // Images and other media are counted from their size, not from any text: text only.
    let text_only = messages.iter().all(|message| match &message.content {
        Content::Parts(parts) => parts.iter().all(|part| part.as_text().is_some()),
        _ => true,
    });
    if !text_only {
        return;
    }
    for name in MODELS {
        let Ok(model) = Model::resolve(name) else {
            continue;
        };
        let counter = model.prompt_counter();
        let count = counter.count(&messages);
        let text = model.spec.vocabulary.counter();
        let expected = match model.spec.template {
            Family::OpenAi => cookbook(text.as_ref(), &messages),
            family => {
                // Special-token spellings inside messages are ordinary text to chatctx, but
                // would be special tokens in the rendered string: nothing to compare then.
                let extra: &[&str] = match family {
                    Family::Qwen3 => &QWEN3_ADDED,
                    Family::Qwen25 => &QWEN25_ADDED,
                    _ => &[],
                };
                let special_text = messages.iter().any(|message| {
                    let json = message.to_value().to_string();
                    chatctx_fuzz::has_special(text.as_ref(), extra, &json)
                });
                if special_text {
                    continue;
                }
                let rendered = match family {
                    // V4's mode comes from the model (deepseek-chat: non-thinking)
                    Family::DeepSeekV4 => DeepSeekV4::new(model.spec.vocabulary.counter())
                        .thinking(model.spec.thinking.unwrap_or(true))
                        .render_text(&messages, &RequestTools::new()),
                    _ => render(family, &messages).expect("a published template"),
                };
                chatctx_fuzz::rendered_tokens(text.as_ref(), extra, &rendered)
            }
        };
        assert_eq!(count, expected, "{name}");
    }
});

/// The OpenAI cookbook's count ("How to count tokens with tiktoken").
fn cookbook(text: &dyn TokenCounter, messages: &[Message]) -> usize {
    let mut total = 3;
    for message in messages {
        total += 3 + text.count(message.role.as_str());
        total += match &message.content {
            Content::Text(content) => text.count(content),
            Content::Parts(parts) => parts
                .iter()
                .map(|part| match part {
                    ContentPart::Text { text: part, .. } => text.count(part),
                    _ => 0,
                })
                .sum(),
            _ => 0,
        };
        if let Some(name) = &message.name {
            total += 1 + text.count(name);
        }
        for call in message.tool_calls.iter().flatten() {
            total += text.count(&call.function.name) + text.count(&call.function.arguments);
        }
    }
    total
}
