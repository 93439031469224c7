//! Calibration to billed usage, and request-level fields in the budget, through `Session`.
// Needs every vocabulary (the default feature `all-vocabularies`).
#![cfg(feature = "all-vocabularies")]
#![allow(clippy::unwrap_used)]

use std::sync::Arc;

use chatctx::conversation::Transcript;
use chatctx::message::{Content, Message};
use chatctx::policy::{Limits, TokenBudget};
use chatctx::template::RequestTools;
use chatctx::{PromptCounter, Session};

/// 4 tokens a message, one per CJK character, one per 4 other bytes; 3 of priming.
/// `cjk` is the tokens counted per CJK character: 1.0 is the truth the "provider" bills,
/// 0.6 a biased estimator that undercounts Chinese by 40%.
#[derive(Debug)]
struct Cjk {
    cjk: f64,
}

impl PromptCounter for Cjk {
    fn message_tokens(&self, message: &Message, _: bool) -> usize {
        let text = match &message.content {
            Content::Text(text) => text.clone(),
            other => other.text(),
        };
        let cjk = text
            .chars()
            .filter(|c| ('\u{4e00}'..='\u{9fff}').contains(c))
            .count();
        let other = text.len() - 3 * cjk;
        4 + (cjk as f64 * self.cjk).ceil() as usize + other.div_ceil(4)
    }

    fn overhead(&self, _: &[Message]) -> usize {
        3
    }

    fn is_exact(&self) -> bool {
        self.cjk == 1.0
    }
}

const TRUTH: Cjk = Cjk { cjk: 1.0 };
const LIMITS: Limits = Limits::new(1000, 100); // 900 usable

fn turn(k: usize) -> String {
    format!("第{k}轮：我们继续讨论杭州的天气和明天的旅行计划，请详细回答。")
}

/// Play 40 turns; the billed prompt tokens of every request.
async fn play(report_usage: bool) -> (Vec<usize>, Session) {
    let transcript = Transcript::new(vec![Message::system("你是一个乐于助人的助手。")]);
    let mut session = Session::new(
        transcript,
        TokenBudget::new(),
        Arc::new(Cjk { cjk: 0.6 }),
        LIMITS,
    )
    .with_model_name("qwen-plus");
    let mut billed = Vec::new();
    for k in 0..40 {
        session.push_user(turn(k));
        let (sent, _) = session.prepare().await.unwrap();
        let tokens = TRUTH.count(&sent);
        billed.push(tokens);
        if report_usage {
            let drift = session.record_usage(tokens).unwrap();
            assert!(!drift.exact);
        }
        session.record_reply(Message::assistant(turn(k + 100)));
    }
    (billed, session)
}

#[tokio::test]
async fn calibration_keeps_a_biased_estimator_under_the_window() {
    let (uncalibrated, _) = play(false).await;
    assert!(
        uncalibrated.iter().any(|&t| t > 900),
        "the biased estimator alone overflows: {uncalibrated:?}"
    );
    let (billed, session) = play(true).await;
    // After a few turns of observation every request fits.
    for (k, &tokens) in billed.iter().enumerate().skip(3) {
        assert!(tokens <= 900, "turn {k}: {tokens} billed > 900 usable");
    }
    // ...without wasting the window.
    assert!(billed.iter().max().unwrap() > &700, "{billed:?}");
    let drift = session.calibration().drift("qwen-plus").unwrap();
    assert_eq!(drift.samples, 40);
    assert!(drift.ratio > 1.3 && drift.ratio < 1.7, "{drift:?}");
    // No request prepared since the last report: nothing to compare.
    let mut session = session;
    assert!(session.record_usage(10).is_none());
}

#[tokio::test]
async fn exact_counters_report_drift_without_scaling() {
    let mut session = Session::new(
        Transcript::new(vec![Message::system("Be brief.")]),
        TokenBudget::new(),
        Arc::new(TRUTH),
        LIMITS,
    );
    session.push_user("hello");
    let (sent, report) = session.prepare().await.unwrap();
    let counted = TRUTH.count(&sent);
    // The provider bills 2 more: its template changed.
    let response = serde_json::json!({
        "choices": [{"message": {"role": "assistant", "content": "hi"}}],
        "usage": {"prompt_tokens": counted + 2}
    });
    session.record_response(&response).unwrap();
    let drift = *session.calibration().drift("").unwrap();
    assert_eq!((drift.max_error, drift.exact), (2, true));
    session.push_user("again");
    let (_, next) = session.prepare().await.unwrap();
    assert_eq!(next.usable, report.usable, "exact counts are not rescaled");
    assert_eq!(session.calibration().scale("", 900), 900);
}

#[tokio::test]
async fn tool_definitions_are_taken_from_the_budget() {
    let tools: serde_json::Value = serde_json::json!([{"type": "function", "function": {
        "name": "get_weather", "description": "Get the current weather of a location.",
        "parameters": {"type": "object", "properties": {"location": {"type": "string"}}}}}]);
    let serde_json::Value::Array(tools) = tools else {
        unreachable!()
    };
    let request = RequestTools::new().with_tools(tools);
    let expected = TRUTH.request_tokens(&[], &request).tokens;
    assert!(expected > 0);
    let mut session = Session::new(
        Transcript::new(vec![Message::system("Be brief.")]),
        TokenBudget::new(),
        Arc::new(TRUTH),
        LIMITS,
    )
    .with_request_tools(request);
    session.push_user("hello");
    let (_, report) = session.prepare().await.unwrap();
    assert_eq!(report.request_tokens, expected);
    assert_eq!(report.usable, 900 - expected);
}
