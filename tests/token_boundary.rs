//! `TokenCounter::token_boundary`: the byte offset where the first k tokens end.
//!
//! (a) Every chunk of the token corpus, every built-in vocabulary, several k each, against the
//!     reference offsets of `fixtures/tokens/boundaries.jsonl` (tiktoken for cl100k / o200k /
//!     Qwen, Hugging Face `tokenizers` for DeepSeek-V3; `scripts/gen_boundary_fixtures.py`).
//! (b) Proptests on arbitrary Unicode against tiktoken-rs and the `tokenizers` crate: the sum
//!     of the byte lengths of the first k reference tokens, rounded down to a char start.
//! (c) The trait default (binary search) on estimate and user counters.
// Needs every vocabulary (the default feature `all-vocabularies`).
#![cfg(feature = "all-vocabularies")]

#[path = "../benches/support/peers.rs"]
mod peers;

use std::collections::BTreeMap;
use std::sync::{Arc, LazyLock};

use chatctx::tokens::{CachedCounter, EstimateCounter, TokenCounter, Vocabulary};
use proptest::prelude::*;
use serde_json::Value;
use unicode_normalization::UnicodeNormalization;

const DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/tokens");

/// The reference offset: the first `k` token lengths summed, rounded down to a char start;
/// the whole text when it has at most `k` tokens.
fn reference_boundary(text: &str, lengths: &[usize], k: usize) -> usize {
    if k >= lengths.len() {
        return text.len();
    }
    let mut at: usize = lengths[..k].iter().sum();
    while !text.is_char_boundary(at) {
        at -= 1;
    }
    at
}

fn corpus() -> BTreeMap<String, Vec<String>> {
    let mut out = BTreeMap::new();
    for entry in std::fs::read_dir(format!("{DIR}/corpus")).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().to_string();
        let texts = std::fs::read_to_string(&path)
            .unwrap()
            .lines()
            .map(|l| serde_json::from_str::<String>(l).unwrap())
            .collect();
        out.insert(name, texts);
    }
    out
}

/// Whether the vocabulary's tokenizer NFC-normalizes first (Qwen).
fn normalizes(v: Vocabulary) -> bool {
    matches!(v, Vocabulary::Qwen25 | Vocabulary::Qwen35)
}

fn check_fixtures(v: Vocabulary) {
    let counter = v.counter();
    let corpus = corpus();
    let lines = std::fs::read_to_string(format!("{DIR}/boundaries.jsonl")).unwrap();
    let (mut checked, mut fallbacks, mut inside_char) = (0, 0, 0);
    let mut failures = Vec::new();
    for line in lines.lines() {
        let rec: Value = serde_json::from_str(line).unwrap();
        let file = rec["file"].as_str().unwrap();
        let n = rec["line"].as_u64().unwrap() as usize;
        let original = &corpus[file][n];
        let entry = &rec[v.name()];
        let tokens = entry["n"].as_u64().unwrap() as usize;
        assert_eq!(counter.count(original), tokens, "{file}:{n}");
        // Qwen normalizes to NFC: the reference offsets are into the NFC text.
        let nfc_changed = normalizes(v) && rec["nfc"].as_bool().unwrap();
        let nfc: String = original.nfc().collect();
        let text = if nfc_changed { &nfc } else { original };
        let ks = entry["k"].as_array().unwrap();
        let ats = entry["at"].as_array().unwrap();
        assert!(!ks.is_empty() || tokens == 0);
        for (k, at) in ks.iter().zip(ats) {
            let (k, want) = (k.as_u64().unwrap() as usize, at.as_u64().unwrap() as usize);
            let got = counter.token_boundary(text, k);
            if got != want {
                failures.push(format!("{file}:{n} k={k}: got {got}, reference {want}"));
            }
            let (_, rest) = text.split_at(want);
            if k < tokens && rest.chars().next().is_some_and(|c| c.len_utf8() > 1) {
                inside_char += usize::from(!text.is_char_boundary(want + 1));
            }
            checked += 1;
            if nfc_changed {
                // The fallback on the original text: a char boundary whose prefix fits.
                let safe = counter.token_boundary(original, k);
                assert!(original.is_char_boundary(safe), "{file}:{n} k={k}");
                assert!(
                    counter.count(&original[..safe]) <= k,
                    "{file}:{n} k={k}: fallback prefix over k"
                );
                fallbacks += 1;
            }
        }
        assert_eq!(counter.token_boundary(text, 0), 0);
        assert_eq!(counter.token_boundary(text, tokens + 1), text.len());
    }
    assert!(
        failures.is_empty(),
        "{v}: {} boundaries differ:\n{}",
        failures.len(),
        failures
            .iter()
            .take(30)
            .cloned()
            .collect::<Vec<_>>()
            .join("\n")
    );
    assert!(checked > 3500, "{v}: only {checked} boundaries");
    assert!(inside_char > 0);
    if normalizes(v) {
        assert!(fallbacks > 0, "{v}: the NFC fallback was never exercised");
    }
}

#[test]
fn cl100k_fixture_boundaries_match_tiktoken() {
    check_fixtures(Vocabulary::Cl100kBase);
}

#[test]
fn o200k_fixture_boundaries_match_tiktoken() {
    check_fixtures(Vocabulary::O200kBase);
}

#[test]
fn qwen25_fixture_boundaries_match_tiktoken() {
    check_fixtures(Vocabulary::Qwen25);
}

#[test]
fn qwen35_fixture_boundaries_match_tiktoken() {
    check_fixtures(Vocabulary::Qwen35);
}

#[test]
fn deepseek_fixture_boundaries_match_hf_tokenizers() {
    check_fixtures(Vocabulary::DeepseekV3);
}

/// Wrappers forward to the exact boundary, not the binary search.
#[test]
fn wrappers_forward_the_exact_boundary() {
    let inner = Vocabulary::O200kBase.counter();
    let text = "Ünïcödé text with 👍🏽 emoji, 中文字符 and numbers 1234567 ".repeat(20);
    let cached = CachedCounter::new(inner.clone());
    let arc: Arc<dyn TokenCounter> = Arc::new(CachedCounter::new(inner.clone()));
    for k in 0..inner.count(&text) + 2 {
        let want = inner.token_boundary(&text, k);
        assert_eq!(cached.token_boundary(&text, k), want, "k={k}");
        assert_eq!(arc.token_boundary(&text, k), want, "k={k}");
    }
}

/// A long text: the boundary is found near its start, and equals the reference.
#[test]
fn long_text_boundary() {
    let text = "The quick brown fox jumps over the lazy dog. 敏捷的棕色狐狸。\n".repeat(20_000);
    let reference = tiktoken_rs::o200k_base_singleton();
    let tokens = reference.encode_ordinary(&text);
    let lengths: Vec<usize> = tokens
        .iter()
        .map(|t| reference.decode_bytes(&[*t]).unwrap().len())
        .collect();
    let counter = Vocabulary::O200kBase.counter();
    for k in [1, 10, 1000, tokens.len() / 2, tokens.len() - 1] {
        assert_eq!(
            counter.token_boundary(&text, k),
            reference_boundary(&text, &lengths, k),
            "k={k}"
        );
    }
}

/// One word per token, to test the default binary search on a counter with known boundaries.
#[derive(Debug)]
struct Words;

impl TokenCounter for Words {
    fn name(&self) -> &str {
        "words"
    }
    fn count(&self, text: &str) -> usize {
        text.split_whitespace().count()
    }
    fn is_exact(&self) -> bool {
        false
    }
}

#[test]
fn default_boundary_is_the_longest_fitting_prefix() {
    let text = "alpha beta  gamma\tdelta épsilon 中文";
    // The longest prefix with at most k words stops just before word k + 1 starts.
    assert_eq!(Words.token_boundary(text, 0), 0);
    assert_eq!(Words.token_boundary(text, 1), "alpha beta".len() - 4);
    assert_eq!(Words.token_boundary(text, 2), "alpha beta  ".len());
    assert_eq!(
        Words.token_boundary(text, 4),
        "alpha beta  gamma\tdelta ".len()
    );
    assert_eq!(Words.token_boundary(text, 6), text.len());
    assert_eq!(Words.token_boundary(text, 60), text.len());
    let estimate = EstimateCounter::for_vocabulary(Vocabulary::O200kBase);
    let long = "Ünïcödé 中文字符 text ".repeat(300);
    for k in [0, 1, 5, 100, 1000, 5000] {
        let at = estimate.token_boundary(&long, k);
        assert!(long.is_char_boundary(at));
        assert!(estimate.count(&long[..at]) <= k, "k={k}");
        if at < long.len() {
            let next = at + long[at..].chars().next().unwrap().len_utf8();
            assert!(estimate.count(&long[..next]) > k, "k={k}: not the longest");
        }
    }
}

static QWEN25: LazyLock<tiktoken_rs::CoreBPE> =
    LazyLock::new(|| peers::tiktoken(Vocabulary::Qwen25).expect("qwen.tiktoken"));
static DEEPSEEK: LazyLock<tokenizers::Tokenizer> =
    LazyLock::new(|| peers::hf(Vocabulary::DeepseekV3).expect("deepseek tokenizer"));

fn tiktoken_lengths(bpe: &tiktoken_rs::CoreBPE, text: &str) -> Vec<usize> {
    bpe.encode_ordinary(text)
        .iter()
        .map(|t| bpe.decode_bytes(&[*t]).unwrap().len())
        .collect()
}

fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<String>(),
        "(\\PC|\\s|\\p{M}){0,150}",
        "[a-zA-Z0-9 '.,!?\n\t]{0,200}",
        "[\\p{Han}\\p{Hiragana}\\p{Hangul}，。 a-z0-9]{0,100}",
        "([a-z]{1,12}|[ 😀👍🏽éß\u{301}中한\n]){0,40}",
    ]
}

/// Checks `v`'s boundaries against reference token lengths at `k` (0..=n+1, scaled by `frac`)
/// and at every k for short texts.
fn check_against(
    v: Vocabulary,
    text: &str,
    lengths: &[usize],
    frac: f64,
) -> Result<(), TestCaseError> {
    let counter = v.counter();
    let n = lengths.len();
    prop_assert_eq!(lengths.iter().sum::<usize>(), text.len());
    let ks: Vec<usize> = if n <= 40 {
        (0..=n + 1).collect()
    } else {
        vec![0, 1, (frac * n as f64) as usize, n - 1, n]
    };
    for k in ks {
        prop_assert_eq!(
            counter.token_boundary(text, k),
            reference_boundary(text, lengths, k),
            "k={}",
            k
        );
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn cl100k_boundaries_match_tiktoken_rs(s in text(), frac in 0.0..1.0f64) {
        let lengths = tiktoken_lengths(tiktoken_rs::cl100k_base_singleton(), &s);
        check_against(Vocabulary::Cl100kBase, &s, &lengths, frac)?;
    }

    #[test]
    fn o200k_boundaries_match_tiktoken_rs(s in text(), frac in 0.0..1.0f64) {
        let lengths = tiktoken_lengths(tiktoken_rs::o200k_base_singleton(), &s);
        check_against(Vocabulary::O200kBase, &s, &lengths, frac)?;
    }

    #[test]
    fn qwen25_boundaries_match_tiktoken_rs(s in text(), frac in 0.0..1.0f64) {
        // The exact path needs NFC text; others take the documented fallback.
        let nfc: String = s.nfc().collect();
        let lengths = tiktoken_lengths(&QWEN25, &nfc);
        check_against(Vocabulary::Qwen25, &nfc, &lengths, frac)?;
        let counter = Vocabulary::Qwen25.counter();
        let k = (frac * lengths.len() as f64) as usize;
        let at = counter.token_boundary(&s, k);
        prop_assert!(s.is_char_boundary(at));
        prop_assert!(counter.count(&s[..at]) <= k);
    }

    #[test]
    fn deepseek_boundaries_match_hf_tokenizers(s in text(), frac in 0.0..1.0f64) {
        let encoding = DEEPSEEK.encode(s.as_str(), false).unwrap();
        // Byte-level tokens: one character of the token string per byte.
        let lengths: Vec<usize> = encoding
            .get_tokens()
            .iter()
            .map(|t| t.chars().count())
            .collect();
        check_against(Vocabulary::DeepseekV3, &s, &lengths, frac)?;
    }
}
