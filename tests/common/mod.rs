//! Helpers shared by the integration tests: fixture loading.
#![allow(dead_code, unreachable_pub)]

pub mod stores;

use std::path::{Path, PathBuf};

/// Path of a file under `fixtures/`.
pub fn fixture(relative: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures")
        .join(relative)
}

/// Text of a file under `fixtures/`.
pub fn read(relative: &str) -> String {
    std::fs::read_to_string(fixture(relative)).expect("fixture is readable")
}

/// All seed request fixtures (name, JSON text); the response fixture is left out.
pub fn seed_requests() -> Vec<(String, String)> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(fixture("seeds")).expect("seeds dir") {
        let path = entry.expect("dir entry").path();
        let name = path.file_name().unwrap().to_string_lossy().to_string();
        if name.ends_with(".json") && !name.contains("response") {
            out.push((name, std::fs::read_to_string(&path).expect("readable")));
        }
    }
    out.sort();
    out
}

/// Every real conversation fixture as JSON text (chitchat lines and sessions).
pub fn chitchat_requests() -> Vec<String> {
    let mut out: Vec<String> = read("chitchat/conversations.jsonl")
        .lines()
        .filter(|line| !line.trim().is_empty())
        .map(str::to_string)
        .collect();
    for name in [
        "long_session_1.json",
        "long_session_2.json",
        "long_session_3.json",
        "recall_fact.json",
    ] {
        out.push(read(&format!("chitchat/{name}")));
    }
    out
}

use chatctx::message::{Content, Message, Role};
use chatctx::template::PromptCounter;

/// The histories before each recorded assistant message (each model call), as a chat tool
/// holds them: replies recorded through a transcript (reasoning only on tool-call messages).
pub fn model_calls(messages: &[Message]) -> Vec<Vec<Message>> {
    let mut transcript = chatctx::Transcript::new(Vec::new());
    let mut out = Vec::new();
    for message in messages {
        if message.role == Role::Assistant {
            out.push(transcript.messages().to_vec());
            transcript.record_reply(message.clone());
        } else {
            transcript.push_message(message.clone());
        }
    }
    out
}

/// The messages of a fixture request.
pub fn fixture_messages(relative: &str) -> Vec<Message> {
    chatctx::ChatRequest::from_json(&read(relative))
        .expect("fixture parses")
        .messages
}

/// 4 tokens of framing per message plus one per 4 bytes of text (rounded up), 3 tokens of
/// reply priming per prompt; tool calls cost their arguments' bytes too.
#[derive(Debug, Clone, Copy, Default)]
pub struct TestCounter;

impl PromptCounter for TestCounter {
    fn message_tokens(&self, message: &Message, _in_last_round: bool) -> usize {
        let text = match &message.content {
            Content::Text(text) => text.len(),
            other => other.text().len(),
        };
        let calls: usize = message
            .tool_calls
            .iter()
            .flatten()
            .map(|call| call.function.arguments.len() + call.function.name.len())
            .sum();
        4 + (text + calls).div_ceil(4)
    }

    fn overhead(&self, _messages: &[Message]) -> usize {
        3
    }
}

/// Run the built `chatctx` binary (built with the `cli` feature only) from the crate root with `stdin` as its input. The input is
/// written from a thread: the command may answer (or fail) before reading all of it.
#[cfg(feature = "cli")]
pub fn run_chatctx(args: &[&str], stdin: &[u8]) -> std::process::Output {
    use std::io::Write;
    use std::process::{Command, Stdio};
    let mut child = Command::new(env!("CARGO_BIN_EXE_chatctx"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the binary runs");
    let mut pipe = child.stdin.take().expect("stdin is piped");
    let input = stdin.to_vec();
    let writer = std::thread::spawn(move || {
        let _ = pipe.write_all(&input);
    });
    let out = child.wait_with_output().expect("the binary finishes");
    let _ = writer.join();
    out
}
