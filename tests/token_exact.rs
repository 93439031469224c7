//! Exactness against the reference tokenizers: every chunk of the fixture corpus, every
//! built-in vocabulary. The reference counts come from `scripts/gen_token_fixtures.py`
//! (tiktoken for cl100k/o200k/Qwen, Hugging Face `tokenizers` for DeepSeek-V3).
// Needs every vocabulary (the default feature `all-vocabularies`).
#![cfg(feature = "all-vocabularies")]

use std::collections::BTreeMap;

use chatctx::tokens::{BpeCounter, TokenCounter, Vocabulary};
use serde_json::Value;

const DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/tokens");

/// (file, line, text, reference counts by vocabulary name).
fn fixtures() -> Vec<(String, usize, String, BTreeMap<String, usize>)> {
    let mut corpus: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let counts = std::fs::read_to_string(format!("{DIR}/counts.jsonl")).unwrap();
    let mut out = Vec::new();
    for line in counts.lines() {
        let v: Value = serde_json::from_str(line).unwrap();
        let file = v["file"].as_str().unwrap().to_string();
        let n = v["line"].as_u64().unwrap() as usize;
        let texts = corpus.entry(file.clone()).or_insert_with(|| {
            std::fs::read_to_string(format!("{DIR}/corpus/{file}"))
                .unwrap()
                .lines()
                .map(|l| serde_json::from_str::<String>(l).unwrap())
                .collect()
        });
        let expected = Vocabulary::ALL
            .iter()
            .map(|voc| {
                let name = voc.name().to_string();
                let c = v[&name].as_u64().unwrap() as usize;
                (name, c)
            })
            .collect();
        out.push((file, n, texts[n].clone(), expected));
    }
    assert!(out.len() > 400, "fixture corpus is missing");
    out
}

fn check(counter: &dyn TokenCounter, key: &str) {
    let mut failures = Vec::new();
    let mut total = 0;
    for (file, line, text, expected) in fixtures() {
        let want = expected[key];
        let got = counter.count(&text);
        total += got;
        if got != want {
            failures.push(format!("{file}:{line}: got {got}, reference {want}"));
        }
    }
    assert!(
        failures.is_empty(),
        "{key}: {} chunks differ:\n{}",
        failures.len(),
        failures.join("\n")
    );
    assert!(total > 300_000);
}

#[test]
fn cl100k_base_is_exact() {
    check(&*Vocabulary::Cl100kBase.counter(), "cl100k_base");
}

#[test]
fn o200k_base_is_exact() {
    check(&*Vocabulary::O200kBase.counter(), "o200k_base");
}

#[test]
fn qwen25_is_exact() {
    check(&*Vocabulary::Qwen25.counter(), "qwen2.5");
}

#[test]
fn qwen35_is_exact() {
    check(&*Vocabulary::Qwen35.counter(), "qwen3.5");
}

#[test]
fn deepseek_v3_is_exact() {
    check(&*Vocabulary::DeepseekV3.counter(), "deepseek-v3");
}

#[test]
fn deepseek_v3_from_tokenizer_json_is_exact() {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/vocab/deepseek-v3.tokenizer.json"
    );
    let counter = BpeCounter::from_tokenizer_json(path).unwrap();
    assert_eq!(
        counter.special_token("<｜begin▁of▁sentence｜>"),
        Some(0),
        "added tokens are the specials"
    );
    check(&counter, "deepseek-v3");
}

#[test]
fn qwen25_from_tiktoken_file_is_exact() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/vocab/qwen.tiktoken");
    let pattern = r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+";
    let counter = BpeCounter::from_tiktoken_file(path, pattern, true).unwrap();
    check(&counter, "qwen2.5");
}

/// The `tiktoken` crate (goliajp/rust-tiktoken), a peer of the benches, gives the reference
/// counts on the whole fixture corpus where it embeds the vocabulary (Qwen2.5 as its `qwen2`,
/// fed NFC text), so that the benches compare counters that agree.
#[test]
fn tiktoken_crate_agrees_with_the_references() {
    use unicode_normalization::UnicodeNormalization;
    let mut failures = Vec::new();
    for v in [
        Vocabulary::Cl100kBase,
        Vocabulary::O200kBase,
        Vocabulary::DeepseekV3,
        Vocabulary::Qwen25,
    ] {
        let name = match v {
            Vocabulary::Cl100kBase => "cl100k_base",
            Vocabulary::O200kBase => "o200k_base",
            Vocabulary::DeepseekV3 => "deepseek_v3",
            _ => "qwen2",
        };
        let peer = tiktoken::get_encoding(name).unwrap();
        for (file, line, text, expected) in fixtures() {
            let want = expected[v.name()];
            let got = if v == Vocabulary::Qwen25 {
                peer.count(&text.nfc().collect::<String>())
            } else {
                peer.count(&text)
            };
            if got != want {
                failures.push(format!(
                    "{v} {file}:{line}: tiktoken crate {got}, reference {want}"
                ));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
