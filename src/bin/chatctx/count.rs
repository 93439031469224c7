//! `chatctx count` and `chatctx count-text`.

use clap::Args;
use serde_json::{json, Value};

use crate::input::{read_input, read_text};
use crate::setup::{text_counter, Counting};
use crate::Failure;
use chatctx::message::Role;
use chatctx::template::RequestTools;
use chatctx::{ChatRequest, Error};

/// Arguments of `chatctx count`.
#[derive(Debug, Args)]
pub(crate) struct CountArgs {
    /// Model whose tokenizer and chat template to count with (default: the request's `model`);
    /// the request's `thinking` field sets DeepSeek's thinking mode.
    #[arg(long, conflicts_with = "tokenizer")]
    model: Option<String>,
    /// Tokenizer (cl100k_base, o200k_base, qwen2.5, qwen3.5, deepseek-v3) or a model name;
    /// the template of its family is used.
    #[arg(long)]
    tokenizer: Option<String>,
    /// A chat request body or a bare messages array; `-` or nothing for standard input.
    file: Option<String>,
}

/// Arguments of `chatctx count-text`.
#[derive(Debug, Args)]
pub(crate) struct CountTextArgs {
    /// Tokenizer (cl100k_base, o200k_base, qwen2.5, qwen3.5, deepseek-v3) or a model name.
    #[arg(long)]
    tokenizer: String,
    /// Read JSON lines with a `text` field; write each line back with `tokens` added.
    #[arg(long)]
    jsonl: bool,
    /// Text input; `-` or nothing for standard input. Counted exactly as given (a trailing
    /// newline is text too; an empty input is 0 tokens).
    file: Option<String>,
}

pub(crate) fn run_count(args: CountArgs) -> Result<(), Failure> {
    let text = read_input(args.file.as_deref())?;
    let request = ChatRequest::from_json(&text)?;
    let counting = Counting::resolve(
        args.model.as_deref(),
        args.tokenizer.as_deref(),
        request.model(),
    )?
    .with_request(&request)?;
    let counter = counting.prompt_counter();
    let messages = &request.messages;
    let last_user = messages
        .iter()
        .rposition(|message| message.role == Role::User)
        .unwrap_or(0);
    let per_message: Vec<Value> = messages
        .iter()
        .enumerate()
        .map(|(index, message)| {
            json!({
                "index": index,
                "role": message.role.as_str(),
                "tokens": counter.message_tokens(message, index >= last_user),
            })
        })
        .collect();
    let estimate = counter.estimate(messages);
    // tool definitions and response_format schemas are billed too
    let tools = counter.request_tokens(messages, &RequestTools::from_fields(&request.fields));
    let out = json!({
        "model": counting.model,
        "tokenizer": counting.spec.vocabulary_name(),
        "prompt_tokens": estimate.tokens + tools.tokens,
        "exact": estimate.exact && tools.exact,
        "request_tokens": tools.tokens,
        "messages": per_message,
    });
    println!("{out}");
    Ok(())
}

pub(crate) fn run_count_text(args: CountTextArgs) -> Result<(), Failure> {
    let counter = text_counter(&args.tokenizer)?;
    // Whitespace is text with tokens, and an empty text has 0 of them: no emptiness check.
    let text = read_text(args.file.as_deref())?;
    if !args.jsonl {
        println!("{}", counter.count(&text));
        return Ok(());
    }
    let mut out = String::new();
    for (number, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let bad = |message: String| Error::Json {
            line: number + 1,
            column: 0,
            message,
        };
        let mut value: Value = serde_json::from_str(line).map_err(|err| Error::Json {
            line: number + 1,
            column: err.column(),
            message: err.to_string(),
        })?;
        let Some(object) = value.as_object_mut() else {
            return Err(bad("each line must be a JSON object".to_string()).into());
        };
        let tokens = match object.get("text") {
            Some(Value::String(text)) => counter.count(text),
            Some(_) => return Err(bad("`text` must be a string".to_string()).into()),
            None => return Err(bad("the object has no `text` field".to_string()).into()),
        };
        object.insert("tokens".to_string(), json!(tokens));
        out.push_str(&value.to_string());
        out.push('\n');
    }
    print!("{out}");
    Ok(())
}
