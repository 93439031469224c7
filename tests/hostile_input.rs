//! Hostile input, through the library and the `chatctx` command: deep nesting, huge strings,
//! invalid UTF-8, lone surrogates, NaN-like and out-of-range numbers. Every case is a typed
//! error (exit code 2 for the command), never a panic or a stack overflow.
// Needs the CLI and every vocabulary (the default features).
#![cfg(all(feature = "cli", feature = "all-vocabularies"))]
#![allow(clippy::unwrap_used)]

mod common;
#[path = "../benches/support/peers.rs"]
mod peers;

use std::process::Output;
use std::sync::Arc;

use chatctx::conversation::Conversation;
use chatctx::policy::{Input, Limits, PolicySpec, PolicyState, RollingSummary};
use chatctx::summarizer::Extractive;
use chatctx::tokens::{TokenCounter, Vocabulary};
use chatctx::{ChatRequest, Error, Message, Model};

fn chatctx(args: &[&str], stdin: &[u8]) -> Output {
    common::run_chatctx(args, stdin)
}

/// Exit code 2, nothing on stdout, one stderr line mentioning `mentions`.
fn assert_exit_2(args: &[&str], stdin: &[u8], mentions: &str) {
    let out = chatctx(args, stdin);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
    assert!(out.stdout.is_empty(), "{args:?} printed to stdout");
    assert!(
        stderr.contains(mentions),
        "{args:?}: {stderr:?} lacks {mentions:?}"
    );
}

const HI: &[u8] = br#"[{"role":"user","content":"hi"}]"#;

fn nested(depth: usize) -> String {
    let mut text = String::from(r#"[{"role":"user","content":"hi","extra":"#);
    text.push_str(&"[".repeat(depth));
    text.push_str(&"]".repeat(depth));
    text.push_str("}]");
    text
}

#[test]
fn deep_nesting_is_a_json_error_not_a_stack_overflow() {
    for depth in [10_000, 1_000_000] {
        let text = nested(depth);
        let error = ChatRequest::from_json(&text).unwrap_err();
        let Error::Json { message, .. } = &error else {
            panic!("expected Error::Json, got {error:?}");
        };
        assert!(message.contains("recursion limit"), "{message}");
        // and as a whole body: the top-level value itself nested
        let error = ChatRequest::from_json(&"[".repeat(depth)).unwrap_err();
        assert!(matches!(error, Error::Json { .. }), "{error:?}");
    }
    // nesting under the limit passes through untouched
    let fine = nested(100);
    assert_eq!(
        ChatRequest::from_json(&fine).unwrap().to_json(),
        fine.replace(' ', "")
    );
    assert_exit_2(
        &["count", "--model", "gpt-4o"],
        nested(10_000).as_bytes(),
        "recursion limit",
    );
}

#[test]
fn twenty_megabytes_of_content_work() {
    let content = "lorem ipsum dolor sit amet, 你好世界 ".repeat(20 * 1024 * 1024 / 40);
    let text =
        format!(r#"{{"model":"gpt-4o","messages":[{{"role":"user","content":"{content}"}}]}}"#);
    assert!(text.len() > 20_000_000);
    let request = ChatRequest::from_json(&text).unwrap();
    assert_eq!(request.to_json(), text);
    // the estimate counter is linear and fast even in a debug build: 29 ASCII bytes at 4.2 per
    // token and 4 CJK characters at 1.1 per token, per repetition
    let estimate = chatctx::tokens::EstimateCounter::for_vocabulary(Vocabulary::O200kBase);
    let repetitions = (20 * 1024 * 1024 / 40) as f64;
    let expected = (29.0 * repetitions / 4.2 + 4.0 * repetitions / 1.1).round() as usize;
    assert_eq!(expected, 5_526_586);
    assert_eq!(estimate.count(&content), expected);
}

#[test]
fn one_long_piece_counts_without_blowing_up() {
    // A 200 KB run with no whitespace or punctuation is a single pre-tokenizer piece: the
    // byte-pair merge must stay near-linear on it, and exact (counts from the references:
    // bpe-openai, Hugging Face tokenizers, tiktoken-rs with the Qwen ranks).
    let started = std::time::Instant::now();
    let a = "a".repeat(200_000);
    let ab = "ab".repeat(100_000);
    let e = "é".repeat(100_000);
    let counts = [
        Vocabulary::Cl100kBase.counter().count(&a),
        Vocabulary::DeepseekV3.counter().count(&ab),
        Vocabulary::Qwen25.counter().count(&e),
    ];
    assert!(started.elapsed().as_secs() < 60, "{:?}", started.elapsed());
    let deepseek = peers::hf(Vocabulary::DeepseekV3).unwrap();
    let qwen = peers::tiktoken(Vocabulary::Qwen25).unwrap();
    let references = [
        bpe_openai::cl100k_base().count(&a),
        peers::hf_count(&deepseek, &ab),
        qwen.encode_ordinary(&e).len(),
    ];
    assert_eq!(counts, references);
    assert_eq!(counts, [25_000, 100_000, 100_000]);
}

#[test]
fn invalid_utf8_names_the_byte_offset() {
    let mut bytes = br#"[{"role":"user","content":"caf"#.to_vec();
    let offset = bytes.len();
    bytes.extend_from_slice(b"\xe9\"}]");
    let path = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("latin1.json");
    std::fs::write(&path, &bytes).unwrap();
    let path = path.to_str().unwrap();
    let expected = format!("first bad byte at offset {offset}");
    assert_exit_2(&["count", "--model", "gpt-4o", path], b"", &expected);
    assert_exit_2(&["count", "--model", "gpt-4o"], &bytes, &expected);
    assert_exit_2(
        &["count-text", "--tokenizer", "qwen2.5", path],
        b"",
        &expected,
    );
}

#[test]
fn lone_surrogates_are_json_errors() {
    for text in [
        r#"[{"role":"user","content":"\ud800"}]"#,
        r#"[{"role":"user","content":"a\udc00b"}]"#,
        r#"[{"role":"user","content":"\ud800\u0041"}]"#,
    ] {
        let error = ChatRequest::from_json(text).unwrap_err();
        assert!(matches!(error, Error::Json { .. }), "{text}: {error:?}");
        assert_exit_2(
            &["count", "--model", "gpt-4o"],
            text.as_bytes(),
            "invalid JSON",
        );
    }
    // a proper pair is fine
    let pair = ChatRequest::from_json(r#"[{"role":"user","content":"\ud83d\ude00"}]"#).unwrap();
    assert_eq!(pair.messages[0].content.text(), "😀");
}

#[test]
fn nan_like_and_out_of_range_settings_are_config_errors() {
    for spec in [
        "rolling-summary:NaN",
        "rolling-summary:inf",
        "rolling-summary:-0.5",
        "rolling-summary:0",
        "compact:inf",
        "compact:NaN",
        "compact:-1",
        "compact:0",
        "compact:1e309",
        "last-rounds:0",
        "last-rounds:-3",
        "last-rounds:99999999999999999999999",
        "token-budget+compact:NaN",
    ] {
        let error = spec.parse::<PolicySpec>().unwrap_err();
        assert!(
            matches!(error, Error::InvalidConfig { .. }),
            "{spec}: {error:?}"
        );
    }
    // values that bypass the parser are refused when built or applied
    for spec in [
        PolicySpec::RollingSummary {
            threshold: f64::NAN,
        },
        PolicySpec::Compact { low: f64::INFINITY },
        PolicySpec::Compact { low: f64::NAN },
    ] {
        let error = spec.build().unwrap_err();
        assert!(matches!(error, Error::InvalidConfig { .. }), "{spec:?}");
    }
    let messages = [Message::user("hi")];
    let conversation = Conversation::new(&messages);
    let counter = Model::resolve("gpt-4o").unwrap().prompt_counter();
    for policy in [
        RollingSummary::new(Arc::new(Extractive::new())).with_threshold(f64::NAN),
        RollingSummary::new(Arc::new(Extractive::new())).with_fraction(f64::INFINITY),
    ] {
        let input = Input::new(
            &messages,
            &conversation,
            Limits::new(100, 0),
            counter.as_ref(),
        );
        let result = futures_lite_block_on(chatctx::ContextPolicy::apply(
            &policy,
            input,
            &mut PolicyState::default(),
        ));
        assert!(
            matches!(result, Err(Error::InvalidConfig { .. })),
            "{result:?}"
        );
    }
}

#[test]
fn zero_negative_and_overreserved_windows() {
    for (window, reserved) in [
        (0, 0),
        (0, 10),
        (10, 10),
        (10, 11),
        (usize::MAX, usize::MAX),
    ] {
        let error = Limits::new(window, reserved).usable().unwrap_err();
        assert!(
            matches!(error, Error::InvalidConfig { .. }),
            "{window}/{reserved}"
        );
    }
    assert_eq!(Limits::new(usize::MAX, 0).usable().unwrap(), usize::MAX);
    let fit = |extra: &[&'static str]| -> Vec<&'static str> {
        let mut args = vec!["fit", "--policy", "token-budget", "--model", "gpt-4o"];
        args.extend_from_slice(extra);
        args
    };
    assert_exit_2(&fit(&["--window", "0"]), HI, "window");
    assert_exit_2(
        &fit(&["--window", "-5"]),
        HI,
        "unexpected argument '-5' found",
    );
    assert_exit_2(&fit(&["--window=-5"]), HI, "-5");
    assert_exit_2(&fit(&["--window", "NaN"]), HI, "NaN");
    assert_exit_2(&fit(&["--window", "1e9"]), HI, "1e9");
    assert_exit_2(
        &fit(&["--window", "100", "--reserve", "100"]),
        HI,
        "reserved",
    );
    assert_exit_2(
        &fit(&["--window", "100", "--reserve", "1000"]),
        HI,
        "reserved",
    );
    assert_exit_2(
        &fit(&["--reserve", "-1"]),
        HI,
        "unexpected argument '-1' found",
    );
    assert_exit_2(
        &fit(&["--window", "99999999999999999999999"]),
        HI,
        "invalid value '99999999999999999999999' for '--window <WINDOW>': number too large",
    );
    for spec in ["rolling-summary:NaN", "compact:inf", "compact:0"] {
        assert_exit_2(&["fit", "--policy", spec, "--model", "gpt-4o"], HI, spec);
    }
    // a window too small for the last round is a DoesNotFit error, exit 2
    assert_exit_2(&fit(&["--window", "5", "--reserve", "1"]), HI, "need");
}

/// A minimal executor: policies need no runtime.
fn futures_lite_block_on<F: std::future::Future>(future: F) -> F::Output {
    use std::task::{Context, Poll, Wake, Waker};
    struct Unpark(std::thread::Thread);
    impl Wake for Unpark {
        fn wake(self: Arc<Self>) {
            self.0.unpark();
        }
    }
    let waker = Waker::from(Arc::new(Unpark(std::thread::current())));
    let mut cx = Context::from_waker(&waker);
    let mut future = std::pin::pin!(future);
    loop {
        if let Poll::Ready(output) = future.as_mut().poll(&mut cx) {
            return output;
        }
        std::thread::park();
    }
}
