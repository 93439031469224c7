//! A chat loop as a chat tool would write it: async-openai's client sends the requests, a
//! chatctx [`Session`] decides what history each request carries, and every response's
//! `usage` calibrates chatctx's counts.
//!
//! ```text
//! cargo run --example chat_loop --features async-openai
//! ```
//!
//! No network and no API key: the example starts its own OpenAI-compatible stub on a loopback
//! port. The stub answers deterministically (a tool call when asked about the weather, the
//! tool's result once it has it, a canned reply otherwise) and bills `usage.prompt_tokens` as
//! OpenAI documents it for plain messages (o200k tokens of each role, content and name, 3 per
//! message, 1 per name, 3 for the reply), counted independently with tiktoken-rs; for tool
//! calls and tool definitions it adds framing of its own, unknown to chatctx, as real APIs
//! do. chatctx counts those parts as estimates, so the session scales its budget by the
//! drift that `record_response` observes.
//!
//! `tests/chat_loop_example.rs` runs this same code under `cargo test --all-features`.

use std::error::Error as StdError;

use async_openai::config::OpenAIConfig;
use async_openai::types::chat::{ChatCompletionMessageToolCalls, CreateChatCompletionRequest};
use async_openai::Client;
use chatctx::calibration::Drift;
use chatctx::policy::{Limits, TokenBudget};
use chatctx::template::{Family, RequestTools};
use chatctx::tokens::Vocabulary;
use chatctx::{ChatRequest, Message, Session, Transcript};
use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// Anything that can go wrong in the loop.
pub type BoxError = Box<dyn StdError + Send + Sync>;

const MODEL: &str = "gpt-4o";

/// The user's turns; two of them make the model call the weather tool.
pub const TURNS: [&str; 7] = [
    "Hi! I'm planning a week in Portugal in May. Can you help me plan it?",
    "What's the weather in Lisbon right now?",
    "Suggest three neighbourhoods in Lisbon to stay in, one sentence each.",
    "How do I get from Lisbon to Porto, and how long does it take?",
    "What's the weather in Porto?",
    "Which day trips from Porto would you recommend?",
    "Thanks! Sum up my plan in two sentences.",
];

/// What one request cost, as chatctx counted it and as the stub billed it.
#[derive(Debug, Clone, PartialEq)]
pub struct Exchange {
    /// Messages the session sent (of the transcript's).
    pub sent: usize,
    /// Messages in the transcript when the request was prepared.
    pub history: usize,
    /// Prompt tokens chatctx counted (messages plus tool definitions).
    pub counted: usize,
    /// `usage.prompt_tokens` the stub reported.
    pub billed: usize,
    /// Whether the reply asked for tool calls.
    pub tool_call: bool,
}

/// The whole run.
#[derive(Debug, Clone)]
pub struct Summary {
    /// One entry per request sent.
    pub exchanges: Vec<Exchange>,
    /// The calibration the session ended with.
    pub drift: Option<Drift>,
    /// The stub's view: the requests it received, in order, as JSON.
    pub received: Vec<Value>,
}

/// The tool the model may call.
fn weather_tool() -> Value {
    json!({
        "type": "function",
        "function": {
            "name": "get_weather",
            "description": "Current weather in a city.",
            "parameters": {
                "type": "object",
                "properties": {"city": {"type": "string", "description": "City name"}},
                "required": ["city"]
            }
        }
    })
}

/// Runs the tool (a fixed table: the example needs no network).
fn get_weather(arguments: &str) -> String {
    let city = serde_json::from_str::<Value>(arguments)
        .ok()
        .and_then(|args| args["city"].as_str().map(str::to_string))
        .unwrap_or_default();
    let (sky, celsius) = match city.as_str() {
        "Lisbon" => ("sunny", 22),
        "Porto" => ("light rain", 17),
        _ => ("unknown", 0),
    };
    json!({"city": city, "sky": sky, "celsius": celsius}).to_string()
}

/// Runs the chat loop against a fresh stub.
pub async fn run() -> Result<Summary, BoxError> {
    let (base, stub) = start_stub().await?;
    let client = Client::with_config(
        OpenAIConfig::new()
            .with_api_base(base)
            .with_api_key("no-key-needed"),
    );

    // The session: the whole transcript, a token budget policy, exact o200k counting with
    // OpenAI's framing, and a window small enough that old rounds must go.
    let tools = vec![weather_tool()];
    let counter = Family::OpenAi.prompt_counter(Vocabulary::O200kBase.counter());
    let transcript = Transcript::new(vec![Message::system(
        "You are a concise travel assistant. Use get_weather for current weather.",
    )]);
    let mut session = Session::new(
        transcript,
        TokenBudget::new(),
        counter,
        Limits::new(750, 300),
    )
    .with_request_tools(RequestTools::new().with_tools(tools.clone()))
    .with_model_name(MODEL);

    let mut exchanges = Vec::new();
    for turn in TURNS {
        session.push_user(turn);
        // One model call, plus one more after each round of tool calls.
        loop {
            let (messages, report) = session.prepare().await?;
            let sent = messages.len();
            let mut body = ChatRequest::new(messages);
            body.fields.insert("model".into(), MODEL.into());
            body.fields
                .insert("tools".into(), Value::Array(tools.clone()));
            let request = CreateChatCompletionRequest::try_from(&body)?;

            let response = client.chat().create(request).await?;
            let billed = response.usage.as_ref().map_or(0, |u| u.prompt_tokens) as usize;
            // The reply goes into the transcript, and its usage into the calibration.
            session.record_response(&serde_json::to_value(&response)?)?;

            let calls = response
                .choices
                .first()
                .and_then(|choice| choice.message.tool_calls.clone())
                .unwrap_or_default();
            let exchange = Exchange {
                sent,
                history: report.kept.len() + report.dropped.len() + report.summarized.len(),
                counted: report.tokens_after + report.request_tokens,
                billed,
                tool_call: !calls.is_empty(),
            };
            exchanges.push(exchange);
            if calls.is_empty() {
                break;
            }
            for call in calls {
                if let ChatCompletionMessageToolCalls::Function(call) = call {
                    let result = get_weather(&call.function.arguments);
                    session.push_message(Message::tool(call.id, result));
                }
            }
        }
    }
    let drift = session.calibration().drift(MODEL).copied();
    let received = stub.await??;
    Ok(Summary {
        exchanges,
        drift,
        received,
    })
}

/// What the example prints: one line per request, then the totals and the calibration.
pub fn render(summary: &Summary) -> String {
    let mut out = String::new();
    for (number, e) in summary.exchanges.iter().enumerate() {
        out += &format!(
            "request {:>2}: sent {:>2} of {:>2} messages, counted {:>4} tokens, billed {:>4}{}\n",
            number + 1,
            e.sent,
            e.history,
            e.counted,
            e.billed,
            if e.tool_call { "  -> tool call" } else { "" },
        );
    }
    let counted: usize = summary.exchanges.iter().map(|e| e.counted).sum();
    let billed: usize = summary.exchanges.iter().map(|e| e.billed).sum();
    out += &format!(
        "{} requests, {} turns; prompt tokens counted {counted}, billed {billed}\n",
        summary.exchanges.len(),
        TURNS.len()
    );
    if let Some(drift) = summary.drift {
        out += &format!(
            "calibration: billed/counted {:.3} (latest {:.3}, largest error {:+} tokens); \
             the budget is scaled by it because tool framing is an estimate\n",
            drift.ratio, drift.last_ratio, drift.max_error
        );
    }
    out
}

#[tokio::main]
async fn main() -> Result<(), BoxError> {
    print!("{}", render(&run().await?));
    Ok(())
}

// ---- The stub: an OpenAI-compatible `/chat/completions` on 127.0.0.1 -----------------------

/// Starts the stub; returns its API base and a handle giving the requests it received once
/// the requests stop (after one per exchange of a full run).
async fn start_stub() -> Result<
    (
        String,
        tokio::task::JoinHandle<Result<Vec<Value>, BoxError>>,
    ),
    BoxError,
> {
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let base = format!("http://{}/v1", listener.local_addr()?);
    let handle = tokio::spawn(async move {
        let mut received = Vec::new();
        let expected = TURNS.len() + TURNS.iter().filter(|t| t.contains("weather")).count();
        while received.len() < expected {
            let (mut socket, _) = listener.accept().await?;
            let Some(body) = read_body(&mut socket).await? else {
                continue;
            };
            let request: Value = serde_json::from_slice(&body)?;
            let reply = answer(&request, received.len());
            let text = reply.to_string();
            let head = format!(
                "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
                text.len()
            );
            socket.write_all(head.as_bytes()).await?;
            socket.write_all(text.as_bytes()).await?;
            socket.shutdown().await?;
            received.push(request);
        }
        Ok(received)
    });
    Ok((base, handle))
}

/// Reads one HTTP request; its body, or `None` when the connection closed early.
async fn read_body(socket: &mut TcpStream) -> Result<Option<Vec<u8>>, BoxError> {
    let mut data = Vec::new();
    let mut buffer = [0u8; 8192];
    loop {
        let read = socket.read(&mut buffer).await?;
        if read == 0 {
            return Ok(None);
        }
        data.extend_from_slice(&buffer[..read]);
        let Some(end) = data.windows(4).position(|w| w == b"\r\n\r\n") else {
            continue;
        };
        let head = String::from_utf8_lossy(&data[..end]).to_ascii_lowercase();
        let length = head
            .lines()
            .find_map(|line| line.strip_prefix("content-length:"))
            .and_then(|value| value.trim().parse::<usize>().ok())
            .unwrap_or(0);
        if data.len() >= end + 4 + length {
            return Ok(Some(data[end + 4..end + 4 + length].to_vec()));
        }
    }
}

/// The stub's reply to `request` (the `number`th it received).
fn answer(request: &Value, number: usize) -> Value {
    let messages = request["messages"].as_array().cloned().unwrap_or_default();
    let last = messages.last().cloned().unwrap_or(Value::Null);
    let text = last["content"].as_str().unwrap_or_default();
    let message = if last["role"] == "tool" {
        let result: Value = serde_json::from_str(text).unwrap_or(Value::Null);
        json!({
            "role": "assistant",
            "content": format!(
                "Right now it is {} and {} °C in {}.",
                result["sky"].as_str().unwrap_or("?"),
                result["celsius"],
                result["city"].as_str().unwrap_or("?")
            )
        })
    } else if let Some(city) = ["Lisbon", "Porto"]
        .into_iter()
        .find(|city| text.contains("weather") && text.contains(city))
    {
        json!({
            "role": "assistant",
            "content": null,
            "tool_calls": [{
                "id": format!("call_{number}"),
                "type": "function",
                "function": {"name": "get_weather", "arguments": json!({"city": city}).to_string()}
            }]
        })
    } else {
        json!({"role": "assistant", "content": canned_reply(text)})
    };
    json!({
        "id": format!("chatcmpl-stub-{number}"),
        "object": "chat.completion",
        "created": 1_764_000_000 + number,
        "model": MODEL,
        "choices": [{"index": 0, "message": message, "finish_reason": "stop"}],
        "usage": {
            "prompt_tokens": bill(request),
            "completion_tokens": 40,
            "total_tokens": bill(request) + 40
        }
    })
}

/// A plausible reply of a few sentences.
fn canned_reply(question: &str) -> String {
    format!(
        "Happy to help with that. You asked: \"{question}\" In May Portugal is warm and dry \
         enough for walking; book trains a few days ahead, keep one slow day for the coast, \
         and try the local pastries. Tell me what you enjoy most and I will refine the plan."
    )
}

/// What the stub bills: OpenAI's documented formula for plain messages, counted with
/// tiktoken-rs's o200k (not chatctx), plus its own framing for tool calls and definitions.
fn bill(request: &Value) -> u64 {
    let bpe = tiktoken_rs::o200k_base_singleton();
    let tokens = |text: &str| bpe.encode_ordinary(text).len() as u64;
    let mut total = 3; // the reply priming
    for message in request["messages"].as_array().into_iter().flatten() {
        total += 3 + tokens(message["role"].as_str().unwrap_or_default());
        total += tokens(message["content"].as_str().unwrap_or_default());
        if let Some(name) = message["name"].as_str() {
            total += 1 + tokens(name);
        }
        for call in message["tool_calls"].as_array().into_iter().flatten() {
            let function = &call["function"];
            total += 7
                + tokens(function["name"].as_str().unwrap_or_default())
                + tokens(function["arguments"].as_str().unwrap_or_default());
        }
    }
    for tool in request["tools"].as_array().into_iter().flatten() {
        total += 10 + tokens(&tool["function"].to_string());
    }
    total
}
