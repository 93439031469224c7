//! The CLI built without some vocabularies: a tokenizer or model name whose vocabulary is left
//! out exits 2 with one line naming the cargo feature to enable; the vocabularies compiled in
//! still count. Runs in CI as
//! `cargo test --no-default-features --features vocab-o200k,cli --test cli_vocab`.
#![cfg(all(
    feature = "cli",
    feature = "vocab-o200k",
    not(feature = "vocab-qwen2_5")
))]
#![allow(clippy::unwrap_used)]

mod common;

use common::run_chatctx;

/// stderr of a failed run: one line, exit code 2.
fn one_line_exit_2(args: &[&str], stdin: &[u8]) -> String {
    let out = run_chatctx(args, stdin);
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
    assert_eq!(stderr.lines().count(), 1, "{args:?}: {stderr}");
    assert!(out.stdout.is_empty(), "{args:?}");
    stderr
}

#[test]
fn a_left_out_vocabulary_is_one_line_naming_its_feature() {
    let err = one_line_exit_2(&["count-text", "--tokenizer", "qwen2.5"], b"hello");
    assert!(
        err.contains("qwen2.5") && err.contains("`vocab-qwen2_5`"),
        "{err}"
    );
    // a model name where a tokenizer is expected, and as --model
    let err = one_line_exit_2(&["count-text", "--tokenizer", "qwen-max"], b"hello");
    assert!(
        err.contains("\"qwen-max\"") && err.contains("`vocab-qwen2_5`"),
        "{err}"
    );
    let request = br#"{"model": "qwen-max", "messages": [{"role": "user", "content": "hi"}]}"#;
    let err = one_line_exit_2(&["count", "--model", "qwen-max"], request);
    assert!(err.contains("`vocab-qwen2_5`"), "{err}");
    // the request's own model field
    let err = one_line_exit_2(&["count"], request);
    assert!(err.contains("`vocab-qwen2_5`"), "{err}");
    let request =
        br#"{"model": "deepseek-v4-flash", "messages": [{"role": "user", "content": "hi"}]}"#;
    let err = one_line_exit_2(&["count"], request);
    assert!(err.contains("`vocab-deepseek-v3`"), "{err}");
}

#[test]
fn the_compiled_vocabulary_counts() {
    let out = run_chatctx(&["count-text", "--tokenizer", "o200k_base"], b"hello world");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(String::from_utf8(out.stdout).unwrap().trim(), "2");
    let request = br#"{"model": "gpt-4o", "messages": [{"role": "user", "content": "hi"}]}"#;
    let out = run_chatctx(&["count"], request);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
