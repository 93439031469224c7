//! Runs `examples/chat_loop.rs` (async-openai's client, a chatctx `Session`, the example's own
//! loopback stub) and checks what it did, so the example stays working in CI.
#![cfg(feature = "async-openai")]
#![allow(clippy::unwrap_used)]

#[allow(dead_code, unreachable_pub)]
#[path = "../examples/chat_loop.rs"]
mod chat_loop;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_chat_loop_example_runs_against_its_stub() {
    let summary = chat_loop::run().await.unwrap();
    let exchanges = &summary.exchanges;
    // One request per user turn, plus one after each of the two tool calls.
    assert_eq!(
        exchanges.len(),
        chat_loop::TURNS.len() + 2,
        "{exchanges:#?}"
    );
    assert_eq!(exchanges.iter().filter(|e| e.tool_call).count(), 2);
    assert_eq!(summary.received.len(), exchanges.len());

    // The stub saw exactly the messages the session chose, and the tool result answered the
    // call that asked for it.
    for (exchange, request) in exchanges.iter().zip(&summary.received) {
        assert_eq!(request["messages"].as_array().unwrap().len(), exchange.sent);
        assert_eq!(request["model"], "gpt-4o");
        assert_eq!(request["tools"][0]["function"]["name"], "get_weather");
    }
    let after_call = &summary.received[2]["messages"];
    let last = after_call.as_array().unwrap().last().unwrap();
    assert_eq!(last["role"], "tool");
    assert_eq!(last["tool_call_id"], "call_1");
    assert!(last["content"].as_str().unwrap().contains("Lisbon"));

    // The window is small: the session had to leave old messages out.
    assert!(
        exchanges.iter().any(|e| e.sent < e.history),
        "nothing was ever dropped: {exchanges:#?}"
    );
    // Every response's usage reached the calibration.
    let drift = summary.drift.unwrap();
    assert_eq!(drift.samples, exchanges.len() as u64);
    // chatctx counts the text exactly (the stub counts it independently, with tiktoken-rs);
    // the only difference is the stub's own framing of tools, which chatctx estimates: a
    // constant for the tool definition plus 7 tokens per tool call sent in the history.
    let definitions = exchanges[0].billed as i64 - exchanges[0].counted as i64;
    assert!((1..=40).contains(&definitions), "{definitions}");
    for (exchange, request) in exchanges.iter().zip(&summary.received) {
        let calls = request["messages"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["tool_calls"].as_array().map_or(0, Vec::len))
            .sum::<usize>() as i64;
        let error = exchange.billed as i64 - exchange.counted as i64;
        assert_eq!(error, definitions + 7 * calls, "{exchange:?}");
        // Calibrated, every request fits the 450 usable tokens as billed.
        assert!(exchange.billed <= 750 - 300, "{exchange:?}");
    }
    assert!(drift.ratio > 1.0 && !drift.exact, "{drift:?}");

    // The README shows this run's output; it must stay what the example prints.
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
    let start = readme
        .find("cargo run --example chat_loop --features async-openai\n```\n\n```text\n")
        .expect("the README shows the example's output");
    let block = &readme[start..];
    let block = &block[block.find("```text\n").unwrap() + 8..];
    let block = &block[..block.find("```").unwrap()];
    assert_eq!(
        block,
        chat_loop::render(&summary),
        "README.md's chat_loop output is stale"
    );
}
